/**
 * The consumer process's start-up and stop contract: bad settings stop it with a message
 * naming the variable; an unreachable PostgreSQL keeps it alive but not ready; a stop is bounded
 * by SHUTDOWN_TIMEOUT_S from the signal on, whatever start-up step is under way.
 */

import assert from "node:assert/strict";
import { serviceRun, serviceRunArgs } from "../testing/launch.ts";
import postgres from "postgres";
import { MIGRATION_LOCK_KEY } from "./migrations.ts";
import { KAFKA_CONSUMER_CLIENTS, type KafkaConsumerClient } from "./config.ts";
import { ServiceProcess } from "../testing/processes.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

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

Deno.test({
  name: "[integration] SIGTERM during a migration that waits for a lock exits within the deadline",
  sanitizeResources: false,
  async fn() {
    const url = await freshDatabase(uniqueName("consumer_deadline"));
    // Another replica migrating: it holds the migration lock, so this one waits for it.
    const other = postgres(url, { max: 1, onnotice: () => {} });
    await other`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
    const consumer = new ServiceProcess("consumer/main.ts", {
      DATABASE_URL: url,
      KAFKA_BROKERS: "127.0.0.1:1",
      SHUTDOWN_TIMEOUT_S: "2",
    });
    try {
      await consumer.waitForLog((l) => l.msg === "consumer starting");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const signalled = performance.now();
      consumer.signal("SIGTERM");
      const status = await consumer.exited();
      const seconds = (performance.now() - signalled) / 1000;
      assert.ok(seconds < 6, `exited ${seconds.toFixed(1)} s after SIGTERM (deadline 2 s)`);
      assert.equal(status.code, 1, "a stop cut short by the deadline is not a clean exit");
      assert.ok(consumer.logs.some((l) => l.msg === "graceful shutdown timed out; exiting"));
    } finally {
      await consumer.dispose();
      await other.end();
    }
  },
});

for (const client of KAFKA_CONSUMER_CLIENTS) {
  Deno.test({
    name:
      `[integration] SIGTERM while the Kafka client (${client}) retries a refused broker stops cleanly, not by the deadline`,
    sanitizeResources: false,
    fn: () => stopWhileRefused(client),
  });
}

async function stopWhileRefused(client: KafkaConsumerClient) {
  // Migrated, then joining a broker that refuses: kafkajs retries a connection on its own for
  // about 20 s before the consumer's loop sees a failure. The stop must not wait for that.
  const url = await freshDatabase(uniqueName("consumer_stop_connecting"));
  const consumer = new ServiceProcess("consumer/main.ts", {
    DATABASE_URL: url,
    KAFKA_BROKERS: "127.0.0.1:1",
    KAFKA_CONSUMER_CLIENT: client,
    SHUTDOWN_TIMEOUT_S: "3",
  });
  try {
    // The first failed attempt: kafkajs's own log line, or @platformatic/kafka's retry.
    await consumer.waitForLog((l) =>
      String(l.msg).startsWith("kafkajs: Connection error") ||
      l.msg === "kafka request failed; retrying"
    );
    consumer.signal("SIGTERM");
    const status = await consumer.exited();
    assert.equal(
      status.code,
      0,
      consumer.logs.slice(-3).map((l) => JSON.stringify(l)).join("\n"),
    );
    assert.ok(consumer.logs.some((l) => l.msg === "consumer stopped"));
    assert.ok(!consumer.logs.some((l) => l.msg === "graceful shutdown timed out; exiting"));
  } finally {
    await consumer.dispose();
  }
}

Deno.test({
  name:
    "[integration] the consumer's sessions commit with DATABASE_SYNCHRONOUS_COMMIT (default off), as the server reports",
  sanitizeResources: false,
  async fn() {
    const url = await freshDatabase(uniqueName("consumer_sync_commit"));
    for (
      const [env, expected] of [[{}, "off"], [{ DATABASE_SYNCHRONOUS_COMMIT: "on" }, "on"]] as const
    ) {
      // Kafka unreachable: the database steps of start-up run, the group is never joined.
      const consumer = new ServiceProcess("consumer/main.ts", {
        DATABASE_URL: url,
        KAFKA_BROKERS: "127.0.0.1:1",
        ...env,
      });
      try {
        const line = await consumer.waitForLog((l) => String(l.msg).startsWith("schema "));
        assert.equal(line.synchronousCommit, expected, JSON.stringify(line));
        consumer.signal("SIGTERM");
        assert.equal((await consumer.exited()).code, 0);
      } finally {
        await consumer.dispose();
      }
    }
  },
});

Deno.test("the image runs the consumer with the V8 flags and malloc settings of `deno task consumer`", async () => {
  const root = new URL("../", import.meta.url);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const taskFlags = (tasks.consumer.command as string).match(/--v8-flags=\S+/g);
  const dockerfile = await Deno.readTextFile(new URL("consumer/Dockerfile", root));
  const imageFlags = dockerfile.match(/--v8-flags=\S+/g);
  assert.ok(taskFlags, "deno.json's consumer task sets --v8-flags");
  assert.deepEqual(imageFlags, taskFlags);
  const taskMalloc = (tasks.consumer.command as string).match(/^(MALLOC_\w+=\S+ )+/)?.[0]
    .trim().split(" ");
  const imageMalloc = dockerfile.match(/^ENV MALLOC_\w+=\S+$/gm)?.map((l) => l.slice(4));
  assert.ok(taskMalloc, "deno.json's consumer task sets glibc malloc's environment");
  assert.deepEqual(imageMalloc, taskMalloc);
  assert.deepEqual(
    serviceRun("consumer/main.ts").env,
    Object.fromEntries(taskMalloc.map((a) => a.split("="))),
    "tests, chaos and bench start the consumer with the task's environment",
  );
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
