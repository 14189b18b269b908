import assert from "node:assert/strict";
import { keyPartitionHash, murmur2 } from "./murmur2.ts";

/** Kafka's own test vectors for murmur2 (Java's UtilsTest.testMurmur2). */
const JAVA_MURMUR2: [string, number][] = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ["abc", 479470107],
];

// kafkajs cannot be imported without --allow-env: the comparison with its partitioner on the
// fleet's keys is in sink_integration_test.ts.
const PARTITION_COUNTS = [1, 2, 3, 5, 6, 7, 12, 24, 50, 100];
const utf8 = (text: string) => new TextEncoder().encode(text);

Deno.test("murmur2() gives Kafka's own test vectors", () => {
  for (const [key, hash] of JAVA_MURMUR2) assert.equal(murmur2(utf8(key)), hash, key);
});

Deno.test("keyPartitionHash() takes Java's partition for Kafka's test keys", () => {
  // Java's DefaultPartitioner: Utils.toPositive(Utils.murmur2(key)) % numPartitions.
  for (const [key, hash] of JAVA_MURMUR2) {
    for (const n of PARTITION_COUNTS) {
      assert.equal(keyPartitionHash(utf8(key)) % n, (hash & 0x7fffffff) % n, `${key} / ${n}`);
    }
  }
});

Deno.test("keyPartitionHash() masks to 31 bits: negative hashes do not move", () => {
  // "21" hashes negative: masking and `>>> 0` disagree for 6 partitions, and Java masks.
  const hash = murmur2(utf8("21"));
  assert.ok(hash < 0);
  assert.equal(keyPartitionHash(utf8("21")) % 6, (hash & 0x7fffffff) % 6);
  assert.notEqual((hash >>> 0) % 6, (hash & 0x7fffffff) % 6);
});
