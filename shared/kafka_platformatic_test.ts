import assert from "node:assert/strict";
import { platformaticConnectionOptions } from "./kafka_platformatic.ts";

Deno.test("platformaticConnectionOptions() sends nothing extra over PLAINTEXT", () => {
  assert.deepEqual(platformaticConnectionOptions({ protocol: "PLAINTEXT" }, () => "unread"), {});
});

Deno.test("platformaticConnectionOptions() maps SASL_SSL, the CA and each mechanism", () => {
  const files: Record<string, string> = { "/ca.crt": "PEM", "/p": "secret\n" };
  const options = platformaticConnectionOptions({
    protocol: "SASL_SSL",
    sasl: { mechanism: "scram-sha-512", username: "iot-producer", passwordFile: "/p" },
    tls: { caFile: "/ca.crt" },
  }, (path) => files[path]);
  assert.deepEqual(options.tls, { ca: ["PEM"], rejectUnauthorized: true });
  assert.equal(options.sasl?.mechanism, "SCRAM-SHA-512");
  assert.equal(options.sasl?.username, "iot-producer");
  for (
    const [ours, theirs] of [["scram-sha-256", "SCRAM-SHA-256"], ["plain", "PLAIN"]] as const
  ) {
    const sasl = platformaticConnectionOptions({
      protocol: "SASL_PLAINTEXT",
      sasl: { mechanism: ours, username: "u", password: "p" },
    }).sasl;
    assert.equal(sasl?.mechanism, theirs);
    assert.equal(sasl?.password, "p");
  }
});

Deno.test("platformaticConnectionOptions() reads the password file at every connection", () => {
  const files: Record<string, string> = { "/p": "first\n" };
  const { sasl } = platformaticConnectionOptions({
    protocol: "SASL_PLAINTEXT",
    sasl: { mechanism: "scram-sha-512", username: "u", passwordFile: "/p" },
  }, (path) => files[path]);
  assert.equal(typeof sasl?.password, "function");
  const password = sasl!.password as () => string;
  assert.equal(password(), "first", "the trailing newline is not part of it");
  files["/p"] = "rotated";
  assert.equal(password(), "rotated");
});
