/**
 * [integration] A topic deleted and created again under its name while PostgreSQL keeps the old
 * topic's offsets, on the real Kafka and PostgreSQL: the consumer must never skip the new log's
 * messages silently. With the default policy it stops the partition (503, error log, metric)
 * until the README's command fixes the offset row; with `restart-from-beginning` it reads the
 * new log from its start and stores every event once.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { fetchTopicId } from "@iot/shared/kafka";
import { eventually, startConsumer, waitForDrain } from "../testing/processes.ts";
import type { ServiceProcess } from "../testing/processes.ts";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";

const GROUP = "iot-consumer";

/** `count` events without ID (their ids are derived), device `label`. */
function legacy(count: number, label: string) {
  return Array.from({ length: count }, (_, i) => ({
    key: label,
    value: JSON.stringify({
      device_id: label,
      timestamp: new Date(Date.UTC(2026, 10, 26) + i * 1000).toISOString(),
      temperature: 20,
      humidity: 50,
      latitude: 1,
      longitude: 2,
      status: "OK",
      battery: 80,
    }),
  }));
}

/** A topic of one partition holding 10 events, all stored by a consumer that has stopped. */
async function stored(prefix: string) {
  const { kafkaBrokers } = await startServices();
  const topic = uniqueName(prefix);
  await createTopic(topic, 1);
  const databaseUrl = await freshDatabase(topic);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const kafka = await kafkaClient("it-identity");
  const producer = kafka.producer();
  await producer.connect();
  const env = { KAFKA_BROKERS: kafkaBrokers, KAFKA_TOPIC: topic, DATABASE_URL: databaseUrl };
  await producer.send({ topic, acks: -1, messages: legacy(10, "old") });
  const first = await startConsumer(env);
  await waitForDrain(sql, GROUP, topic);
  first.signal("SIGTERM");
  assert.equal((await first.exited()).code, 0);
  const oldTopicId = await fetchTopicId(kafka, topic);
  const rows = async (device?: string) =>
    (await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM tb_sensor_evento
    WHERE ${device ?? null}::text IS NULL OR id_dispositivo = ${device ?? null}`)[0].n;
  return { topic, sql, kafka, producer, env, oldTopicId, rows };
}

/** Deletes the topic and creates it again under its name; returns Kafka's committed offset. */
async function recreate(it: Awaited<ReturnType<typeof stored>>) {
  const admin = it.kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [it.topic], timeout: 30_000 });
  await eventually(
    async () => !(await admin.listTopics()).includes(it.topic),
    "the topic deleted",
  );
  await eventually(async () => {
    try {
      await createTopic(it.topic, 1);
      return true;
    } catch {
      return false; // still being deleted
    }
  }, "the topic created again");
  const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [it.topic] });
  await admin.disconnect();
  const newTopicId = await fetchTopicId(it.kafka, it.topic);
  assert.notEqual(newTopicId, it.oldTopicId, "Kafka gave the new topic another ID");
  return { newTopicId, committedAfterDelete: committed.partitions[0].offset };
}

/** A topic of one partition holding 10 stored events, then deleted and created again. */
async function recreated(prefix: string, newEvents: number) {
  const it = await stored(prefix);
  const { newTopicId, committedAfterDelete } = await recreate(it);
  await it.producer.send({ topic: it.topic, acks: -1, messages: legacy(newEvents, "new") });
  await it.producer.disconnect();
  return { ...it, newTopicId, committedAfterDelete };
}

/** The value of `iot_consumer_partition_blocked{partition="0",reason=...}`, or undefined. */
async function blocked(consumer: ServiceProcess, reason: string): Promise<number | undefined> {
  const text = await (await consumer.get("/metrics")).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("iot_consumer_partition_blocked{") && l.includes(`reason="${reason}"`) &&
    l.includes('partition="0"')
  );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

Deno.test({
  name:
    "[integration] a re-created topic shorter than the stored offset stops its partition until the README's command fixes it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const it = await recreated("it_recreated_stop", 3);
    const consumer = await startConsumer(it.env);
    try {
      let body: { status: string; reasons?: string[] } = { status: "" };
      await eventually(async () => {
        const response = await consumer.get("/readyz");
        body = await response.json();
        return response.status === 503 && (body.reasons ?? []).some((r) => r.includes("stopped"));
      }, "/readyz 503 naming the stopped partition");
      assert.deepEqual(body.reasons, [
        `partition ${it.topic}/0 stopped: topic ID changed (stored ${it.oldTopicId}, Kafka ` +
        `${it.newTopicId}; stored offset 10, log end 3); the topic was re-created (README: a ` +
        "stored offset that does not fit the log)",
      ]);
      assert.equal(await blocked(consumer, "topic_id_changed"), 1);
      const error = await consumer.waitForLog((l) =>
        l.level === "error" && l.msg === "partition stopped: its stored offset does not fit the log"
      );
      assert.equal(error.storedOffset, "10");
      assert.equal(error.logEndOffset, "3");
      assert.equal(await it.rows(), 10, "nothing of the new topic stored against old offsets");

      // README, "A stored offset that does not fit the log": read the new topic from its start.
      await it.sql.unsafe(`
        UPDATE tb_kafka_offset SET next_offset = 0, topic_id = NULL
        WHERE group_id = '${GROUP}' AND topic = '${it.topic}' AND partition = 0`);
      await eventually(async () => (await it.rows()) === 13, "the new topic's 3 events", 60_000);
      await eventually(
        async () => (await consumer.get("/readyz")).status === 200,
        "ready again",
      );
      assert.equal(await blocked(consumer, "topic_id_changed"), undefined);
      const [row] = await it.sql`SELECT next_offset::int, topic_id::text FROM tb_kafka_offset`;
      assert.deepEqual({ ...row }, { next_offset: 3, topic_id: it.newTopicId });
      console.log(
        `kafka's committed offset after the topic was deleted: ${it.committedAfterDelete}`,
      );
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await it.sql.end();
    }
  },
});

Deno.test({
  name:
    "[integration] restart-from-beginning reads a re-created topic grown past the stored offset from its start, every event once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const it = await recreated("it_recreated_restart", 15);
    const consumer = await startConsumer({
      ...it.env,
      OFFSET_MISMATCH_POLICY: "restart-from-beginning",
    });
    try {
      await waitForDrain(it.sql, GROUP, it.topic);
      const [census] = await it.sql<{ rows: number; ids: number; new: number }[]>`
        SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids,
          count(*) FILTER (WHERE id_dispositivo = 'new')::int AS new FROM tb_sensor_evento`;
      assert.deepEqual(census, { rows: 25, ids: 25, new: 15 });
      const warned = await consumer.waitForLog((l) =>
        l.msg === "topic was re-created; reading the new log from its beginning"
      );
      assert.equal(warned.level, "warn");
      assert.equal(warned.storedTopicId, it.oldTopicId);
      assert.equal(warned.topicId, it.newTopicId);
      assert.equal(warned.storedOffset, "10");
      assert.equal(warned.nextOffset, "0");
      assert.equal((await consumer.get("/readyz")).status, 200);
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await it.sql.end();
    }
  },
});

Deno.test({
  name:
    "[integration] a topic re-created and grown past the stored offset while a member holds a batch is read from its start, every event once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // The member is running and has just asked Kafka the topic's ID; the topic is deleted,
    // created again and filled past the old offset before it fetches again. Its next fetch, at
    // the old offset, returns the new log's records from there: nothing in the batch looks like
    // a re-created topic, only its ID tells.
    const it = await stored("it_recreated_running");
    await it.producer.send({ topic: it.topic, acks: -1, messages: legacy(1, "old") });
    const clientId = `it-running-${it.topic.slice(-8)}`;
    const held = Promise.withResolvers<void>();
    const locked = Promise.withResolvers<void>();
    // Holds the offset row, so the member's write of that one event waits with its batch in hand.
    const lock = it.sql.begin(async (tx) => {
      await tx`SELECT 1 FROM tb_kafka_offset WHERE topic = ${it.topic} FOR UPDATE`;
      locked.resolve();
      await held.promise;
    });
    await locked.promise;
    const consumer = await startConsumer({
      ...it.env,
      KAFKA_CLIENT_ID: clientId,
      OFFSET_MISMATCH_POLICY: "restart-from-beginning",
    });
    try {
      await eventually(async () => {
        const [w] = await it.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = ${clientId} AND wait_event_type = 'Lock'`;
        return w.n > 0;
      }, "the member waiting on the offset row");
      const started = performance.now();
      const { newTopicId } = await recreate(it);
      await it.producer.send({ topic: it.topic, acks: -1, messages: legacy(15, "new") });
      const tookMs = performance.now() - started;
      held.resolve();
      await lock;
      // Within the 15 s the member used to trust a topic ID it had asked for.
      assert.ok(tookMs < 15_000, `re-created and filled in ${tookMs} ms: too slow to prove it`);
      await eventually(async () => {
        const [row] = await it.sql<{ next_offset: string; topic_id: string }[]>`
          SELECT next_offset::text, topic_id::text FROM tb_kafka_offset`;
        return row.next_offset === "15";
      }, "the stored offset at the new log's end");
      const [census] = await it.sql<{ rows: number; ids: number; new: number }[]>`
        SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids,
          count(*) FILTER (WHERE id_dispositivo = 'new')::int AS new FROM tb_sensor_evento`;
      assert.deepEqual(census, { rows: 26, ids: 26, new: 15 });
      const [row] = await it.sql`SELECT next_offset::int, topic_id::text FROM tb_kafka_offset`;
      assert.deepEqual({ ...row }, { next_offset: 15, topic_id: newTopicId });
    } finally {
      held.resolve();
      await lock.catch(() => {});
      await it.producer.disconnect();
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await it.sql.end();
    }
  },
});
