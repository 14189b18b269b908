/**
 * Integration: the producer's sink (@platformatic/kafka) against the fixture's real Kafka. What
 * the topic holds is read back with kafkajs, and the broker's own producer state with
 * DescribeProducers: the guarantees are checked where they live, not in the client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Connection, describeProducersV0 } from "@platformatic/kafka";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { createLogger } from "@iot/shared/runtime";
import { createTopic, kafkaClient, startServices, uniqueName } from "../testing/services.ts";
import type { OutgoingMessage } from "./emitter.ts";
import { Fleet } from "./fleet.ts";
import { createProducerMetrics } from "./metrics.ts";
import { keyPartitionHash } from "./murmur2.ts";
import { connectSink, type KafkaSink } from "./sink.ts";

const PARTITIONS = 6;
const NEVER = { stopped: false, promise: new Promise<void>(() => {}) };

interface Stored {
  partition: number;
  key: string;
  value: string;
}

function messages(count: number, seed: number): OutgoingMessage[] {
  const fleet = new Fleet(300, seed);
  return Array.from({ length: count }, (_, i) => {
    const reading = fleet.nextReading(Date.UTC(2026, 0, 1) + i * 10);
    return { key: reading.key, value: JSON.stringify(reading.payload) };
  });
}

/** kafkajs 2.2.4's default partitioner: where producer/sink.ts put a key before the move. */
function kafkajsPartition(key: string, partitions = PARTITIONS): number {
  const partitionMetadata = Array.from(
    { length: partitions },
    (_, partitionId) => ({ partitionId, leader: 1 }) as PartitionMetadata,
  );
  return Partitioners.DefaultPartitioner()({
    topic: "t",
    partitionMetadata,
    message: { key, value: "" },
  });
}

/** Every record of `topic`, in log order per partition. */
async function readTopic(topic: string, count: number): Promise<Stored[]> {
  const kafka = await kafkaClient("iot-test-reader");
  const consumer = kafka.consumer({ groupId: uniqueName("sink_reader") });
  const stored: Stored[] = [];
  const done = Promise.withResolvers<void>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        stored.push({
          partition,
          key: message.key?.toString() ?? "",
          value: message.value?.toString() ?? "",
        });
        if (stored.length >= count) done.resolve();
        return Promise.resolve();
      },
    });
    await Promise.race([
      done.promise,
      new Promise((_, reject) => setTimeout(() => reject(new Error("read timed out")), 60_000)),
    ]);
    // Anything written twice would arrive after the expected count: give it time to show.
    await new Promise((r) => setTimeout(r, 2_000));
  } finally {
    await consumer.disconnect();
  }
  return stored;
}

/** The broker's producer state per partition: id, epoch and last sequence number. */
async function describeProducers(topic: string) {
  const [host, port] = (await startServices()).kafkaBrokers.split(",")[0].split(":");
  const connection = new Connection("iot-test-describe");
  await connection.connect(host, Number(port));
  try {
    const partitionIndexes = Array.from({ length: PARTITIONS }, (_, i) => i);
    const response = await describeProducersV0.api.async(connection, [
      { name: topic, partitionIndexes },
    ]);
    return response.topics[0].partitions;
  } finally {
    await connection.close();
  }
}

async function sendAll(sink: KafkaSink, all: OutgoingMessage[], batch: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let i = 0; i < all.length; i += batch) {
    await sink.send(all.slice(i, i + batch));
    const id = sink.producerIdentity()?.producerId;
    assert.ok(id !== undefined, "an idempotent producer has an id from the broker");
    if (ids.at(-1) !== id) ids.push(id);
  }
  return ids;
}

/** Checks: every message once, on kafkajs's partition, in the order sent per key. */
function assertDelivered(sent: OutgoingMessage[], stored: Stored[]): void {
  assert.equal(stored.length, sent.length, "every message once, none twice");
  const byKey = new Map<string, string[]>();
  for (const s of stored) {
    assert.equal(s.partition, kafkajsPartition(s.key), `key ${s.key}: kafkajs's partition`);
    byKey.set(s.key, [...(byKey.get(s.key) ?? []), s.value]);
  }
  const sentByKey = new Map<string, string[]>();
  for (const m of sent) sentByKey.set(m.key, [...(sentByKey.get(m.key) ?? []), m.value]);
  assert.equal(byKey.size, sentByKey.size);
  for (const [key, values] of sentByKey) {
    assert.deepEqual(byKey.get(key), values, `order of ${key}`);
  }
}

function countByPartition(stored: Stored[]): number[] {
  const counts = new Array(PARTITIONS).fill(0);
  for (const s of stored) counts[s.partition]++;
  return counts;
}

Deno.test({
  name: "[integration] the sink writes each message once, on kafkajs's partition, in order per " +
    "key, under one producer id whose sequence numbers the broker tracked",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { kafkaBrokers } = await startServices();
    const topic = uniqueName("sink_idem");
    await createTopic(topic, PARTITIONS);
    const metrics = createProducerMetrics();
    const log = createLogger("sink-test", { level: "error", format: "json" });
    const target = {
      brokers: kafkaBrokers.split(","),
      clientId: "iot-test-sink",
      topic,
      security: { protocol: "PLAINTEXT" as const },
    };
    const sink = await connectSink(target, metrics, NEVER, log);
    try {
      const sent = messages(3_000, 5);
      const ids = await sendAll(sink, sent, 500);
      assert.equal(ids.length, 1, "one producer id for the whole run");
      assert.ok(sink.healthy());
      const stored = await readTopic(topic, sent.length);
      assertDelivered(sent, stored);
      const counts = countByPartition(stored);
      for (const p of await describeProducers(topic)) {
        assert.equal(p.errorCode, 0);
        assert.equal(p.activeProducers.length, 1, `partition ${p.partitionIndex}`);
        const [active] = p.activeProducers;
        assert.equal(active.producerId, ids[0]);
        assert.equal(active.producerEpoch, sink.producerIdentity()?.producerEpoch);
        // Sequences start at 0 and count every record: the last is the count less one.
        assert.equal(active.lastSequence, counts[p.partitionIndex] - 1);
      }
    } finally {
      await sink.close();
      metrics.close();
    }
  },
});

Deno.test({
  name: "[integration] the sink takes a new producer id before the sequence limit, between " +
    "acknowledged batches, and loses or repeats nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { kafkaBrokers } = await startServices();
    const topic = uniqueName("sink_rotate");
    await createTopic(topic, PARTITIONS);
    const metrics = createProducerMetrics();
    const log = createLogger("sink-test", { level: "error", format: "json" });
    const target = {
      brokers: kafkaBrokers.split(","),
      clientId: "iot-test-sink",
      topic,
      security: { protocol: "PLAINTEXT" as const },
    };
    const sink = await connectSink(target, metrics, NEVER, log, { sequenceLimit: 1_000 });
    try {
      const sent = messages(3_000, 6);
      const ids = await sendAll(sink, sent, 400);
      // 400 + 400 fit under 1,000; the third batch starts a new id: 8 batches, 4 ids.
      assert.equal(ids.length, 4, ids.join(","));
      assert.equal(new Set(ids).size, 4);
      const stored = await readTopic(topic, sent.length);
      assertDelivered(sent, stored);
      const counts = countByPartition(stored);
      for (const p of await describeProducers(topic)) {
        const sequenced = p.activeProducers.reduce((sum, a) => sum + a.lastSequence + 1, 0);
        assert.equal(sequenced, counts[p.partitionIndex], `partition ${p.partitionIndex}`);
        for (const a of p.activeProducers) assert.ok(ids.includes(a.producerId));
      }
    } finally {
      await sink.close();
      metrics.close();
    }
  },
});

// Here rather than in murmur2_test.ts: kafkajs needs --allow-env to be imported.
Deno.test(
  "[integration] keyPartitionHash() keeps every fleet device on kafkajs's partition, at " +
    "10 partition counts",
  () => {
    const fleet = new Fleet(2000, 42);
    // Every tail length (0-3 trailing bytes) and bytes above 0x7f, besides the fleet's keys.
    const keys = new Set<string>(["", "a", "ab", "abc", "abcd", "é°✓"]);
    for (let i = 0; i < 20_000; i++) keys.add(fleet.nextReading(Date.UTC(2026, 0, 1) + i).key);
    assert.ok(keys.size > 1000, String(keys.size));
    for (const n of [1, 2, 3, 5, 6, 7, 12, 24, 50, 100]) {
      const moved = [...keys].filter((k) =>
        keyPartitionHash(new TextEncoder().encode(k)) % n !== kafkajsPartition(k, n)
      );
      assert.deepEqual(moved, [], `${n} partitions`);
    }
  },
);
