import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import lz4 from "lz4js";
import xxh32 from "lz4js/xxh32.js";
import { lz4BlockEndRulesHold, lz4FrameDecode, lz4FrameEncode } from "./lz4_frame.ts";

const input = new Uint8Array(150_000).map((_, i) => (i % 3 === 0 ? (i * 7919) >>> 5 : i % 13));

/** A frame built by hand with every optional field: content size, block and content checksums. */
function fullFrame(content: Uint8Array): Buffer {
  const header = Buffer.alloc(15);
  header.writeUInt32LE(0x184d2204, 0);
  header[4] = 0x40 | 0x20 | 0x10 | 0x08 | 0x04;
  header[5] = 0x40;
  header.writeBigUInt64LE(BigInt(content.length), 6);
  header[14] = (xxh32.hash(0, header, 4, 10) >>> 8) & 0xff;
  const parts: Uint8Array[] = [header];
  for (let at = 0; at < content.length; at += 65_536) {
    const block = content.subarray(at, at + 65_536);
    const out = new Uint8Array(lz4.compressBound(block.length));
    const size = lz4.compressBlock(block, out, 0, block.length, new Uint32Array(65_536));
    const size32 = Buffer.alloc(4);
    size32.writeUInt32LE(size);
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(xxh32.hash(0, out, 0, size) >>> 0);
    parts.push(size32, out.subarray(0, size), sum);
  }
  const end = Buffer.alloc(8);
  end.writeUInt32LE(xxh32.hash(0, content, 0, content.length) >>> 0, 4);
  parts.push(end);
  return Buffer.concat(parts);
}

Deno.test("lz4FrameEncode() writes Kafka's frame: 64 KiB independent blocks, no checksums", () => {
  const frame = lz4FrameEncode(input);
  assert.deepEqual([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
  let blocks = 0;
  for (let at = 7; frame.readUInt32LE(at) !== 0; at += 4 + (frame.readUInt32LE(at) & 0x7fffffff)) {
    blocks++;
  }
  assert.equal(blocks, 3);
  assert.ok(Buffer.from(input).equals(lz4FrameDecode(frame)));
});

Deno.test("lz4FrameDecode() checks content size, block and content checksums", () => {
  const frame = fullFrame(input);
  assert.ok(Buffer.from(input).equals(lz4FrameDecode(frame)));
  const badBlock = Buffer.from(frame);
  badBlock[30] ^= 0x01;
  assert.throws(
    () => lz4FrameDecode(badBlock),
    new SyntaxError("LZ4 block at byte 15 fails its checksum"),
  );
  const badContent = Buffer.from(frame);
  badContent[badContent.length - 1] ^= 0x01;
  assert.throws(
    () => lz4FrameDecode(badContent),
    new SyntaxError("LZ4 frame fails its content checksum"),
  );
});

Deno.test("lz4FrameDecode() stores incompressible blocks as they are", () => {
  const random = crypto.getRandomValues(new Uint8Array(40_000));
  const frame = lz4FrameEncode(random);
  assert.equal(frame.readUInt32LE(7), (0x80000000 | 40_000) >>> 0);
  assert.ok(Buffer.from(random).equals(lz4FrameDecode(frame)));
});

Deno.test("lz4FrameDecode() names what is wrong with a bad frame", () => {
  const frame = lz4FrameEncode(input);
  const cases: [Uint8Array, string][] = [
    [frame.subarray(0, 5), "LZ4 frame is truncated: the header at byte 0 is missing"],
    [Buffer.from("nope, not lz4"), "LZ4 frame has magic 0x65706f6e"],
    [
      frame.subarray(0, frame.length - 4),
      `LZ4 frame is truncated: a block size at byte ${frame.length - 4} is missing`,
    ],
    [
      frame.subarray(0, 20),
      `LZ4 frame is truncated: a ${
        frame.readUInt32LE(7) & 0x7fffffff
      }-byte block at byte 11 is missing`,
    ],
    [
      Buffer.concat([frame, Uint8Array.of(0)]),
      `LZ4 frame ends at byte ${frame.length}, followed by unread bytes`,
    ],
  ];
  const badSum = Buffer.from(frame);
  badSum[6] ^= 0xff;
  cases.push([
    badSum,
    `LZ4 frame header checksum is 0x${badSum[6].toString(16)}, expected 0x${frame[6].toString(16)}`,
  ]);
  const badVersion = Buffer.from(frame);
  badVersion[4] = 0x80 | 0x20;
  cases.push([badVersion, "LZ4 frame version 2 is not 1"]);
  const tooBig = Buffer.from(frame);
  tooBig.writeUInt32LE(70_000, 7);
  cases.push([tooBig, "LZ4 block at byte 7 claims 70000 bytes; max is 65536"]);
  for (const [bytes, message] of cases) {
    assert.throws(() => lz4FrameDecode(bytes), new SyntaxError(message));
  }
});

Deno.test("lz4FrameEncode() stores a block whose lz4js encoding breaks the end-of-block rules", () => {
  // Compressible text, then 20 bytes without repeats, their first 8 again (a match 10 bytes
  // before the end) and 2 more: lz4js starts that match inside the last 12 bytes, and Kafka's
  // decoder refused such a batch ("LZ4Exception: Error decoding offset ...", the chaos sender's
  // batches stuck).
  const tail = new Uint8Array(30);
  for (let i = 0; i < 20; i++) tail[i] = (i * 197 + 89) % 251;
  tail.set(tail.subarray(0, 8), 20);
  tail.set([7, 9], 28);
  const input = new Uint8Array([...new TextEncoder().encode("temperature ".repeat(10)), ...tail]);
  const raw = new Uint8Array(lz4.compressBound(input.length));
  const size = lz4.compressBlock(input, raw, 0, input.length, new Uint32Array(1 << 16));
  assert.ok(size > 0 && size < input.length, "lz4js compresses it");
  assert.equal(lz4BlockEndRulesHold(raw.subarray(0, size), input.length), false);

  const frame = lz4FrameEncode(input);
  const blockSize = new DataView(frame.buffer, frame.byteOffset + 7, 4).getUint32(0, true);
  assert.equal(blockSize, (input.length | 0x80000000) >>> 0, "stored uncompressed");
  assert.deepEqual(new Uint8Array(lz4FrameDecode(frame)), input);
});

Deno.test("lz4BlockEndRulesHold() accepts what lz4js makes of ordinary text", () => {
  const input = new TextEncoder().encode('{"ID_DISPOSITIVO":"dev-0001","STATUS":"OK"}'.repeat(50));
  const raw = new Uint8Array(lz4.compressBound(input.length));
  const size = lz4.compressBlock(input, raw, 0, input.length, new Uint32Array(1 << 16));
  assert.ok(size < input.length / 5);
  assert.equal(lz4BlockEndRulesHold(raw.subarray(0, size), input.length), true);
});
