/**
 * The consumer process's start-up contract, without servers: bad settings stop it with a message
 * naming the variable; an unreachable PostgreSQL keeps it alive but not ready.
 */

import assert from "node:assert/strict";
import { serviceRunArgs } from "../testing/launch.ts";
import { ServiceProcess } from "../testing/processes.ts";

Deno.test({
  name: "consumer exits with code 2 and names every invalid variable and its value",
  sanitizeResources: false,
  async fn() {
    const consumer = new ServiceProcess("consumer/main.ts", {
      HTTP_PORT: "eighty",
      ALERT_BATTERY_MIN: "150",
      DATABASE_URL: "mysql://root:secret@db/iot",
    });
    const status = await consumer.exited();
    assert.equal(status.code, 2);
    const line = consumer.logs.find((l) => l.level === "error");
    assert.ok(line, "an error line is logged");
    const problems = line.problems as string[];
    assert.deepEqual(problems, [
      'DATABASE_URL must be a postgres:// or postgresql:// URL: got "mysql://root:***@db/iot"',
      'ALERT_BATTERY_MIN must be a number from 0 to 100: got "150"',
      'HTTP_PORT must be an integer from 0 to 65535: got "eighty"',
    ]);
    assert.ok(!JSON.stringify(consumer.logs).includes("secret"), "the password is not logged");
  },
});

Deno.test({
  name: "consumer stays alive but not ready while PostgreSQL is unreachable, and stops on SIGTERM",
  sanitizeResources: false,
  async fn() {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    const consumer = new ServiceProcess("consumer/main.ts", {
      DATABASE_URL: "postgres://iot:iot@127.0.0.1:1/iot",
      KAFKA_BROKERS: "127.0.0.1:1",
    });
    try {
      await consumer.waitForLog((l) => l.msg === "database migration failed; retrying");
      const health = await consumer.get("/healthz");
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const ready = await consumer.get("/readyz");
      assert.equal(ready.status, 503);
      const body = await ready.json();
      assert.equal(body.status, "not ready");
      assert.ok(body.reasons.some((r: string) => r.startsWith("kafka:")), JSON.stringify(body));
      consumer.signal("SIGTERM");
      const status = await consumer.exited();
      assert.equal(status.code, 0);
    } finally {
      await consumer.dispose();
    }
  },
});

Deno.test("the image compiles the consumer with the V8 flags of `deno task consumer`", async () => {
  const root = new URL("../", import.meta.url);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const taskFlags = (tasks.consumer.command as string).match(/--v8-flags=\S+/g);
  const dockerfile = await Deno.readTextFile(new URL("consumer/Dockerfile", root));
  const imageFlags = dockerfile.match(/--v8-flags=\S+/g);
  assert.ok(taskFlags, "deno.json's consumer task sets --v8-flags");
  assert.deepEqual(imageFlags, taskFlags);
  assert.deepEqual(
    serviceRunArgs("consumer/main.ts"),
    [
      "run",
      "--no-prompt",
      ...taskFlags,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "consumer/main.ts",
    ],
    "tests, chaos and bench launch the consumer as the task does",
  );
});
