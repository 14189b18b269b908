/**
 * LZ4 as Kafka writes it: the LZ4 frame format around LZ4 blocks. The block algorithm and the
 * xxHash32 checksum are the lz4js library's; the frame parsing is ours, because lz4js's own
 * reads a truncated frame without complaint and misplaces block checksums.
 *
 * Frame: magic `0x184D2204` (LE), a descriptor (FLG, BD, optional content size, header checksum),
 * blocks of `size` (u32 LE, high bit = stored uncompressed) + data (+ optional checksum), an
 * end mark (0), an optional content checksum. Kafka's producer writes 64 KiB independent blocks
 * without checksums.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import lz4 from "lz4js";
import xxh32 from "lz4js/xxh32.js";

const MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES: Record<number, number> = {
  4: 64 << 10,
  5: 256 << 10,
  6: 1 << 20,
  7: 4 << 20,
};
/** What Kafka's Java producer uses: 64 KiB blocks. */
const ENCODE_BLOCK_BYTES = 64 << 10;
const UNCOMPRESSED_BIT = 0x80000000;

/**
 * Decodes one LZ4 frame, checking its structure and every checksum it carries.
 *
 * @param input The frame.
 * @returns The uncompressed bytes.
 * @throws {SyntaxError} When the frame is truncated, malformed or fails a checksum.
 */
export function lz4FrameDecode(input: Uint8Array): Buffer {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const need = (at: number, bytes: number, what: string) => {
    if (at + bytes > input.length) {
      throw new SyntaxError(`LZ4 frame is truncated: ${what} at byte ${at} is missing`);
    }
  };
  need(0, 7, "the header");
  if (view.getUint32(0, true) !== MAGIC) {
    throw new SyntaxError(`LZ4 frame has magic 0x${view.getUint32(0, true).toString(16)}`);
  }
  const flg = input[4];
  const bd = input[5];
  if (flg >> 6 !== 1) throw new SyntaxError(`LZ4 frame version ${flg >> 6} is not 1`);
  if (flg & 0x01) throw new SyntaxError("LZ4 frame uses a dictionary, which Kafka never does");
  const blockMax = BLOCK_MAX_BYTES[(bd >> 4) & 7];
  if (blockMax === undefined || (flg & 0x02) || (bd & 0x8f)) {
    throw new SyntaxError(`LZ4 frame descriptor is invalid (FLG 0x${hex(flg)}, BD 0x${hex(bd)})`);
  }
  const hasBlockSum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const hasContentSum = (flg & 0x04) !== 0;
  const descriptorEnd = hasContentSize ? 14 : 6;
  need(descriptorEnd, 1, "the header checksum");
  checkHeaderSum(input, descriptorEnd);

  const blocks: { at: number; size: number; stored: boolean }[] = [];
  let at = descriptorEnd + 1;
  let bound = 0;
  for (;;) {
    need(at, 4, "a block size");
    const word = view.getUint32(at, true);
    at += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BIT;
    const stored = (word & UNCOMPRESSED_BIT) !== 0;
    if (size > blockMax) {
      throw new SyntaxError(`LZ4 block at byte ${at - 4} claims ${size} bytes; max is ${blockMax}`);
    }
    need(at, size + (hasBlockSum ? 4 : 0), `a ${size}-byte block`);
    if (hasBlockSum && xxh32.hash(0, input, at, size) >>> 0 !== view.getUint32(at + size, true)) {
      throw new SyntaxError(`LZ4 block at byte ${at - 4} fails its checksum`);
    }
    blocks.push({ at, size, stored });
    bound += stored ? size : blockMax;
    at += size + (hasBlockSum ? 4 : 0);
  }
  if (hasContentSum) need(at, 4, "the content checksum");
  const frameEnd = at + (hasContentSum ? 4 : 0);
  if (frameEnd !== input.length) {
    throw new SyntaxError(`LZ4 frame ends at byte ${frameEnd}, followed by unread bytes`);
  }

  // One output buffer, so blocks that refer back to earlier ones (not Kafka's) decode too.
  const out = new Uint8Array(bound);
  let length = 0;
  for (const block of blocks) {
    if (block.stored) {
      out.set(input.subarray(block.at, block.at + block.size), length);
      length += block.size;
      continue;
    }
    const before = length;
    length = lz4.decompressBlock(
      input.subarray(0, block.at + block.size),
      out,
      block.at,
      block.size,
      length,
    );
    if (!(length - before <= blockMax)) {
      throw new SyntaxError(`LZ4 block at byte ${block.at - 4} is corrupt`);
    }
  }
  const content = out.subarray(0, length);
  if (hasContentSize) {
    const declared = view.getBigUint64(6, true);
    if (declared !== BigInt(length)) {
      throw new SyntaxError(`LZ4 frame declares ${declared} bytes but holds ${length}`);
    }
  }
  if (hasContentSum && xxh32.hash(0, content, 0, length) >>> 0 !== view.getUint32(at, true)) {
    throw new SyntaxError("LZ4 frame fails its content checksum");
  }
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

/**
 * Encodes bytes as one LZ4 frame with 64 KiB independent blocks and no checksums, like Kafka's
 * Java producer.
 *
 * @param input The bytes to compress.
 * @returns The frame.
 */
export function lz4FrameEncode(input: Uint8Array): Buffer {
  const parts: Uint8Array[] = [];
  const header = Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0);
  header[6] = (xxh32.hash(0, header, 4, 2) >>> 8) & 0xff;
  parts.push(header);
  const scratch = new Uint8Array(lz4.compressBound(ENCODE_BLOCK_BYTES));
  const table = new Uint32Array(1 << 16);
  for (let at = 0; at < input.length; at += ENCODE_BLOCK_BYTES) {
    const block = input.subarray(at, at + ENCODE_BLOCK_BYTES);
    table.fill(0);
    const size: number = lz4.compressBlock(block, scratch, 0, block.length, table);
    // lz4js starts matches up to 10 bytes before a block's end; the format wants 12 (MFLIMIT),
    // and Kafka's decoder refuses such a block ("Error decoding offset ..."): store it instead.
    const stored = size === 0 || size >= block.length ||
      !lz4BlockEndRulesHold(scratch.subarray(0, size), block.length);
    parts.push(u32le(stored ? (block.length | UNCOMPRESSED_BIT) >>> 0 : size));
    parts.push(stored ? block : scratch.slice(0, size));
  }
  parts.push(u32le(0));
  return Buffer.concat(parts);
}

/**
 * Whether a compressed LZ4 block keeps the format's end-of-block rules, which the reference
 * decoder (and Kafka's, lz4-java) enforce: the last sequence is literals only, no match starts
 * within the last 12 bytes of the output (MFLIMIT), and the last 5 bytes are literals.
 *
 * @param block The compressed block.
 * @param outputLength The length it decodes to.
 */
export function lz4BlockEndRulesHold(block: Uint8Array, outputLength: number): boolean {
  let i = 0;
  let out = 0;
  const length = (nibble: number) => {
    let n = nibble;
    if (nibble === 15) {
      for (let b = 255; b === 255 && i < block.length; n += b) b = block[i++];
    }
    return n;
  };
  while (i < block.length) {
    const token = block[i++];
    const literals = length(token >> 4);
    i += literals;
    out += literals;
    if (i >= block.length) return i === block.length && out === outputLength;
    if (out > outputLength - 12) return false;
    i += 2;
    out += length(token & 15) + 4;
    if (out > outputLength - 5) return false;
  }
  return false;
}

/**
 * Checks the descriptor checksum: xxHash32 of FLG..content size, second byte. Kafka before 0.10
 * hashed the magic too (KAFKA-3160); that variant is accepted as well.
 */
function checkHeaderSum(input: Uint8Array, descriptorEnd: number): void {
  const sum = input[descriptorEnd];
  const correct = (xxh32.hash(0, input, 4, descriptorEnd - 4) >>> 8) & 0xff;
  const legacy = (xxh32.hash(0, input, 0, descriptorEnd) >>> 8) & 0xff;
  if (sum !== correct && sum !== legacy) {
    throw new SyntaxError(`LZ4 frame header checksum is 0x${hex(sum)}, expected 0x${hex(correct)}`);
  }
}

function u32le(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
