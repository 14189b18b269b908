/**
 * Snappy as Kafka's Java clients write it: snappy-java's "xerial" stream framing around raw
 * Snappy blocks. The Snappy algorithm itself is the snappyjs library's; the framing is ours.
 *
 * Framing: an 8-byte magic (`\x82SNAPPY\0`), a version and a compatible version (int32 BE each),
 * then chunks of `length` (int32 BE) + one raw Snappy block. Some clients (librdkafka, older
 * kafkajs codecs) send one raw Snappy block without framing; it is read as such.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import snappy from "snappyjs";

const MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const HEADER_BYTES = MAGIC.length + 8;
/** snappy-java's default block size, which Kafka's producer keeps. */
const CHUNK_BYTES = 32 * 1024;
/** Refuses a block that claims more than this, instead of allocating it. */
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

/**
 * Decodes xerial-framed Snappy (or one raw Snappy block).
 *
 * @param input The compressed bytes.
 * @returns The uncompressed bytes.
 * @throws {SyntaxError} When the framing is truncated or a block is not valid Snappy.
 */
export function xerialSnappyDecode(input: Uint8Array): Buffer {
  if (!hasMagic(input)) return rawBlock(input, "the raw Snappy block");
  if (input.length < HEADER_BYTES) {
    throw new SyntaxError(`xerial Snappy header is truncated: ${input.length} of 16 bytes`);
  }
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const chunks: Buffer[] = [];
  let at = HEADER_BYTES;
  while (at < input.length) {
    if (at + 4 > input.length) {
      throw new SyntaxError(`xerial Snappy chunk length at byte ${at} is truncated`);
    }
    const length = view.getInt32(at);
    const end = at + 4 + length;
    if (length < 0 || end > input.length) {
      throw new SyntaxError(
        `xerial Snappy chunk at byte ${at} claims ${length} bytes; ${input.length - at - 4} remain`,
      );
    }
    chunks.push(rawBlock(input.subarray(at + 4, end), `the chunk at byte ${at}`));
    at = end;
  }
  return Buffer.concat(chunks);
}

/**
 * Encodes bytes as xerial-framed Snappy in 32 KiB chunks, as Kafka's Java producer does.
 *
 * @param input The bytes to compress.
 * @returns The framed, compressed bytes.
 */
export function xerialSnappyEncode(input: Uint8Array): Buffer {
  const parts: Uint8Array[] = [MAGIC, Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1)];
  for (let at = 0; at < input.length; at += CHUNK_BYTES) {
    const block: Uint8Array = snappy.compress(input.subarray(at, at + CHUNK_BYTES));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setInt32(0, block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function hasMagic(input: Uint8Array): boolean {
  return input.length >= MAGIC.length && MAGIC.every((byte, i) => input[i] === byte);
}

function rawBlock(block: Uint8Array, what: string): Buffer {
  try {
    const out: Uint8Array = snappy.uncompress(block, MAX_BLOCK_BYTES);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`${what} is not valid Snappy: ${reason}`);
  }
}
