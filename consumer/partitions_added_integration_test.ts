/**
 * [integration] Partitions added to the topic while the consumer runs (an operator scaling out):
 * the consumer finds them within KAFKA_METADATA_MAX_AGE_MS, not kafkajs's default 5 minutes, and
 * reads each from its first offset.
 */

import { validEvents } from "../testing/payloads.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import postgres from "postgres";
import { eventually, startConsumer, waitForDrain } from "../testing/processes.ts";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";

const GROUP = "iot-consumer";

Deno.test({
  name:
    "[integration] partitions added mid-stream are read from their first offset within KAFKA_METADATA_MAX_AGE_MS",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { kafkaBrokers } = await startServices();
    const topic = uniqueName("it_grow");
    await createTopic(topic, 2);
    const databaseUrl = await freshDatabase(topic);
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    const kafka = await kafkaClient("it-grow");
    const consumer = await startConsumer({
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC: topic,
      DATABASE_URL: databaseUrl,
      KAFKA_METADATA_MAX_AGE_MS: "2000",
    });
    const send = async (partitions: number[], batch: { key: string; value: string }[]) => {
      // A new producer per call: kafkajs's producer drops a partition its metadata predates.
      // Idempotent: kafkajs retries a whole request when one partition of it fails (a new
      // partition without its leader yet), which wrote the other partition's messages twice.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: batch.map((m, i) => ({
            ...m,
            value: Buffer.from(m.value),
            partition: partitions[i % partitions.length],
          })),
        });
      } finally {
        await producer.disconnect();
      }
    };
    try {
      await send([0, 1], validEvents(0, 200, 20));
      await waitForDrain(sql, GROUP, topic, 30_000);

      const admin = kafka.admin();
      await admin.connect();
      await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
      await eventually(async () => {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        return meta.topics[0].partitions.filter((p) => p.leader >= 0).length === 4;
      }, "a leader for each of the four partitions");
      await admin.disconnect();
      const grownAt = Date.now();
      await send([2, 3], validEvents(200, 200, 20));
      // kafkajs's default metadataMaxAge (300 s) would leave partitions 2 and 3 unread past this.
      await waitForDrain(sql, GROUP, topic, 30_000);
      const tookMs = Date.now() - grownAt;

      const joined = consumer.logs.findLast((l) => l.msg === "joined consumer group");
      assert.deepEqual(joined?.partitions, [0, 1, 2, 3], `rejoined with all four (${tookMs} ms)`);
      const offsets = await sql<{ partition: number; next_offset: string }[]>`
        SELECT partition, next_offset::text FROM tb_kafka_offset
        WHERE group_id = ${GROUP} AND topic = ${topic} ORDER BY partition`;
      assert.deepEqual(
        offsets.map((o) => [o.partition, o.next_offset]),
        [[0, "100"], [1, "100"], [2, "100"], [3, "100"]],
      );
      const [{ rows, ids }] = await sql<{ rows: number; ids: number }[]>`
        SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM tb_sensor_evento`;
      assert.deepEqual({ rows, ids }, { rows: 400, ids: 400 }, "every event once, none skipped");
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await sql.end();
    }
  },
});
