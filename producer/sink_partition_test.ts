import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { defaultPartitioner, type MessageToProduce, murmur2 } from "@platformatic/kafka";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { Fleet } from "./fleet.ts";
import { PARTITIONER } from "./sink.ts";

/** Kafka's own test vectors for murmur2 (Java's UtilsTest.testMurmur2). */
const JAVA_MURMUR2: [string, number][] = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ["abc", 479470107],
];

const PARTITION_COUNTS = [1, 2, 3, 5, 6, 7, 12, 24, 50, 100];

/** What the sink's client does with the partitioner's answer (producer.js: `%= partitionsCount`). */
function sinkPartition(key: string, partitions: number): number {
  const message = { key, value: "" } as unknown as MessageToProduce<string, string>;
  return PARTITIONER(message as never, Buffer.from(key)) % partitions;
}

/** kafkajs 2.2.4's default partitioner, as producer/sink.ts used it before the move. */
function kafkajsPartition(key: string, partitions: number): number {
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

function fleetKeys(): string[] {
  const fleet = new Fleet(2000, 42);
  const keys = new Set<string>();
  for (let i = 0; i < 20_000; i++) keys.add(fleet.nextReading(Date.UTC(2026, 0, 1) + i).key);
  return [...keys];
}

Deno.test("murmur2 of the sink's client gives Kafka's own test vectors", () => {
  for (const [key, hash] of JAVA_MURMUR2) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

Deno.test("the sink's partitioner picks Java's partition for Kafka's test keys", () => {
  for (const [key, hash] of JAVA_MURMUR2) {
    for (const n of PARTITION_COUNTS) assert.equal(sinkPartition(key, n), (hash & 0x7fffffff) % n);
  }
});

Deno.test("every fleet device keeps the partition kafkajs gave it, at every partition count", () => {
  const keys = fleetKeys();
  assert.ok(keys.length > 1000, String(keys.length));
  for (const n of PARTITION_COUNTS) {
    const moved = keys.filter((k) => sinkPartition(k, n) !== kafkajsPartition(k, n));
    assert.deepEqual(moved, [], `${n} partitions`);
  }
});

Deno.test("the client's default partitioner would move devices: the choice matters", () => {
  const keys = fleetKeys();
  const moved = keys.filter((k) =>
    defaultPartitioner({} as never, Buffer.from(k)) % 6 !== kafkajsPartition(k, 6)
  );
  // Negative hashes (about half) land elsewhere when the count is not a power of two.
  assert.ok(moved.length > keys.length / 3, `${moved.length} of ${keys.length}`);
});
