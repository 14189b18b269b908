/**
 * HMAC-SHA-256 (RFC 2104 over FIPS 180-4's SHA-256) with one key used for many short messages,
 * in plain TypeScript. The consumer derives the id of every event sent without `ID` this way
 * (row.ts), and Deno's `node:crypto` `createHmac` took 13-39 µs per call there (a hasher object
 * made, the key imported and two ops crossed each time): more than the rest of the event's work.
 * Here the key's two padded blocks are compressed once, so a message of up to 55 bytes costs two
 * compressions and no allocation but the result.
 *
 * @module
 */

/** SHA-256's round constants (FIPS 180-4 §4.2.2). */
// deno-fmt-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256's initial state (FIPS 180-4 §5.3.3). */
// deno-fmt-ignore
const INITIAL = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const BLOCK = 64;

/** The message schedule, shared: nothing here is re-entered. */
const W = new Int32Array(64);

/** Folds the 64-byte block of `bytes` at `at` into `state` (FIPS 180-4 §6.2.2). */
function compress(state: Int32Array, bytes: Uint8Array, at: number): void {
  for (let t = 0; t < 16; t++) {
    const i = at + t * 4;
    W[t] = (bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15];
    const w2 = W[t - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t] + W[t]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/**
 * Ends a hash whose `state` has taken `prefixBytes` bytes already (whole blocks): compresses
 * `tail[0, length)` with the padding and the total length, and writes the digest into `out`.
 * `tail` must have room for the padding (length rounded up past the next 64-byte boundary + 8).
 */
function finish(
  state: Int32Array,
  prefixBytes: number,
  tail: Uint8Array,
  length: number,
  out: Uint8Array,
): void {
  const end = Math.ceil((length + 9) / BLOCK) * BLOCK;
  tail[length] = 0x80;
  tail.fill(0, length + 1, end - 8);
  // The length in bits, big-endian in 64 bits; two 32-bit halves since messages stay far below
  // 2^53 bits.
  const bits = (prefixBytes + length) * 8;
  putWord(tail, end - 8, Math.floor(bits / 0x1_0000_0000));
  putWord(tail, end - 4, bits);
  for (let at = 0; at < end; at += BLOCK) compress(state, tail, at);
  for (let i = 0; i < 8; i++) putWord(out, i * 4, state[i]);
}

/** Writes the low 32 bits of `word` big-endian at `at` (no DataView made per call). */
function putWord(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = word >>> 24;
  bytes[at + 1] = word >>> 16;
  bytes[at + 2] = word >>> 8;
  bytes[at + 3] = word;
}

/** SHA-256 of `bytes` (used for keys longer than a block, and by the tests). */
export function sha256(bytes: Uint8Array): Uint8Array {
  const state = INITIAL.slice();
  const whole = bytes.length - (bytes.length % BLOCK);
  for (let at = 0; at < whole; at += BLOCK) compress(state, bytes, at);
  const rest = bytes.length - whole;
  const tail = new Uint8Array(2 * BLOCK);
  tail.set(bytes.subarray(whole));
  const out = new Uint8Array(32);
  finish(state, whole, tail, rest, out);
  return out;
}

const UTF8 = new TextEncoder();

/**
 * HMAC-SHA-256 under one key. {@link HmacSha256.digest} gives the same bytes as
 * `createHmac("sha256", key).update(message).digest()`, at a fraction of its cost for short
 * messages. Not constant-time in the message's length; the key is not exposed by timing.
 *
 * @example
 * ```ts
 * import { HmacSha256 } from "./hmac_sha256.ts";
 * import { createHmac } from "node:crypto";
 * import assert from "node:assert/strict";
 * const mac = new HmacSha256("secret");
 * assert.deepEqual(mac.digest("topic/0/42"), new Uint8Array(createHmac("sha256", "secret").update("topic/0/42").digest()));
 * ```
 */
export class HmacSha256 {
  readonly #inner = new Int32Array(8);
  readonly #outer = new Int32Array(8);
  readonly #state = new Int32Array(8);
  /** The message, then its padding; grown for long messages. */
  #buffer = new Uint8Array(4 * BLOCK);
  readonly #innerDigest = new Uint8Array(2 * BLOCK);

  /** @param key The key: text is taken as its UTF-8 bytes, as `createHmac` does. */
  constructor(key: Uint8Array | string) {
    let bytes = typeof key === "string" ? UTF8.encode(key) : key;
    if (bytes.length > BLOCK) bytes = sha256(bytes);
    const pad = new Uint8Array(BLOCK);
    pad.set(bytes);
    for (let i = 0; i < BLOCK; i++) pad[i] ^= 0x36;
    this.#inner.set(INITIAL);
    compress(this.#inner, pad, 0);
    for (let i = 0; i < BLOCK; i++) pad[i] ^= 0x36 ^ 0x5c;
    this.#outer.set(INITIAL);
    compress(this.#outer, pad, 0);
  }

  /** The 32-byte MAC of `message` (text is taken as its UTF-8 bytes). */
  digest(message: string | Uint8Array): Uint8Array {
    const length = this.#load(message);
    const state = this.#state;
    state.set(this.#inner);
    const innerDigest = this.#innerDigest;
    finish(state, BLOCK, this.#buffer, length, innerDigest);
    state.set(this.#outer);
    const out = new Uint8Array(32);
    finish(state, BLOCK, innerDigest, 32, out);
    return out;
  }

  /** Copies `message`'s bytes to the start of the buffer; returns their count. */
  #load(message: string | Uint8Array): number {
    if (typeof message !== "string") {
      this.#reserve(message.length);
      this.#buffer.set(message);
      return message.length;
    }
    // At most 3 bytes per UTF-16 unit; ASCII, the usual case, is copied by hand.
    this.#reserve(message.length * 3);
    const buffer = this.#buffer;
    for (let i = 0; i < message.length; i++) {
      const code = message.charCodeAt(i);
      if (code > 0x7f) return UTF8.encodeInto(message, buffer).written;
      buffer[i] = code;
    }
    return message.length;
  }

  /** Makes room for `length` bytes of message and their padding. */
  #reserve(length: number): void {
    const needed = Math.ceil((length + 9) / BLOCK) * BLOCK;
    if (this.#buffer.length < needed) this.#buffer = new Uint8Array(needed);
  }
}
