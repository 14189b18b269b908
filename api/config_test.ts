import assert from "node:assert/strict";
import { ConfigError } from "@iot/shared/runtime";
import { loadApiConfig } from "./config.ts";

Deno.test("loadApiConfig() defaults: read-only role, acknowledging off, notify", () => {
  const config = loadApiConfig({});
  assert.equal(config.databaseUrl, "postgres://iot_api:iot_api@localhost:5432/iot");
  assert.equal(config.ackToken, undefined);
  assert.equal(config.streamWake, "notify");
  assert.equal(config.httpPort, 8080);
});

Deno.test("loadApiConfig() reports every problem at once", () => {
  assert.throws(
    () =>
      loadApiConfig({
        API_ACK_TOKEN: "short",
        STREAM_WAKE: "push",
        STREAM_INTERVAL_MS: "500",
        STREAM_POLL_INTERVAL_MS: "100",
        DATABASE_URL: "mysql://x",
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /API_ACK_TOKEN must be 16 or more printable ASCII/);
      assert.match(e.message, /STREAM_WAKE must be one of notify, poll/);
      assert.match(
        e.message,
        /STREAM_POLL_INTERVAL_MS \(100\) must be at least STREAM_INTERVAL_MS \(500\)/,
      );
      assert.match(e.message, /DATABASE_URL must be a postgres/);
      return true;
    },
  );
  assert.equal(loadApiConfig({ API_ACK_TOKEN: "0123456789abcdef" }).ackToken, "0123456789abcdef");
});
