/**
 * [integration] A database that refuses writes, for real: the consumer says so in `/readyz` and in
 * `iot_consumer_database_state`, keeps retrying, and stores everything once writes are allowed
 * again. (A real full disk is not reproduced; its classification is unit-tested.)
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { eventually, startConsumer, waitForDrain } from "../testing/processes.ts";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";

Deno.test({
  name:
    "[integration] a read-only database (25006) is named in /readyz and the state metric; once lifted, everything is stored",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { kafkaBrokers } = await startServices();
    const topic = uniqueName("it_read_only");
    await createTopic(topic, 2);
    const databaseUrl = await freshDatabase(topic);
    const database = new URL(databaseUrl).pathname.slice(1);
    // This session stays writable whatever the database's default becomes.
    const sql = postgres(databaseUrl, {
      max: 1,
      onnotice: () => {},
      connection: { default_transaction_read_only: false },
    });
    const producer = (await kafkaClient("it-read-only")).producer();
    await producer.connect();
    const consumer = await startConsumer({
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC: topic,
      DATABASE_URL: databaseUrl,
      KAFKA_CLIENT_ID: "it-read-only-consumer",
    });
    /** Sessions started from now on get the new default; the consumer's are closed to reconnect. */
    const readOnly = async (on: boolean) => {
      await sql.unsafe(
        `ALTER DATABASE "${database}" SET default_transaction_read_only = ${on ? "on" : "off"}`,
      );
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${database} AND application_name = 'it-read-only-consumer'`;
    };
    const state = (name: string) => consumer.metric(`iot_consumer_database_state{state="${name}"}`);
    const send = (from: number, count: number) =>
      producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: count }, (_, i) => ({
          key: `d-${i % 5}`,
          value: i % 4 === 3 ? `junk ${from + i}` : JSON.stringify({
            ID: crypto.randomUUID(),
            ID_DISPOSITIVO: `d-${i % 5}`,
            TIMESTAMP: new Date(Date.UTC(2026, 10, 26) + (from + i) * 1000).toISOString(),
            TEMPERATURA: 20,
            UMIDADE: 50,
            LATITUDE: 1,
            LONGITUDE: 2,
            STATUS: "OK",
            BATERIA: 80,
          }),
        })),
      });
    try {
      await send(0, 20);
      await waitForDrain(sql, "iot-consumer", topic);
      assert.equal(await state("ok"), 1);

      await readOnly(true);
      await send(20, 40);
      let reason = "";
      await eventually(async () => {
        const response = await consumer.get("/readyz");
        reason = await response.text();
        return response.status === 503 && reason.includes("read-only (25006)");
      }, "/readyz naming the read-only database");
      assert.match(reason, /database: read-only \(25006\) — the server refuses writes/);
      assert.equal(await state("read_only"), 1);
      assert.equal(await state("ok"), 0);
      const errors = consumer.logs.filter((l) => l.level === "error" && l.sqlstate === "25006");
      assert.ok(errors.length >= 1, "an error-level line names the condition");
      const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tb_sensor_evento`;
      assert.equal(n, 15, "nothing written while read-only");

      await readOnly(false);
      await waitForDrain(sql, "iot-consumer", topic);
      await eventually(async () => (await consumer.get("/readyz")).status === 200, "ready again");
      assert.equal(await state("ok"), 1);
      assert.equal(await state("read_only"), 0);
      const [counts] = await sql<{ rows: number; rejects: number }[]>`
        SELECT (SELECT count(*) FROM tb_sensor_evento)::int AS rows,
          (SELECT count(*) FROM tb_sensor_evento_rejeitado)::int AS rejects`;
      assert.deepEqual(counts, { rows: 45, rejects: 15 }, "every message stored once, none lost");
      assert.ok(
        consumer.logs.some((l) =>
          l.msg === "database accepts writes again" && l.was === "read_only"
        ),
      );
      assert.ok(
        errors.length < 20,
        `not one error line per retry of every partition (${errors.length})`,
      );
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await producer.disconnect();
      await sql.end();
    }
  },
});
