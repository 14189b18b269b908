/**
 * Kafka's key partitioning: murmur2 of the key's bytes, as Java's `Utils.murmur2` computes it, made
 * positive the way Java's and kafkajs's default partitioners do. Pure, so the mapping that keeps a
 * device on its partition is tested without a client.
 *
 * @module
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Java's `Utils.murmur2` of `data`: a signed 32-bit hash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(murmur2(new TextEncoder().encode("foobar")), -790332482);
 * ```
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length % 4;
  if (rest > 0) {
    // The trailing bytes, little-endian, as Java's switch falls through them.
    if (rest === 3) h ^= data[whole + 2] << 16;
    if (rest >= 2) h ^= data[whole + 1] << 8;
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The non-negative number a key's partition is taken from (modulo the partition count): murmur2
 * masked to 31 bits, Java's `Utils.toPositive`. Not `>>> 0`: that differs for negative hashes
 * whenever the count is not a power of two.
 */
export function keyPartitionHash(key: Uint8Array): number {
  return murmur2(key) & 0x7fffffff;
}
