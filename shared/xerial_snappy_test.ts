import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import snappy from "snappyjs";
import { xerialSnappyDecode, xerialSnappyEncode } from "./xerial_snappy.ts";

const MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("xerialSnappyEncode() writes snappy-java's header and 32 KiB chunks", () => {
  const input = new Uint8Array(70_000).map((_, i) => i % 251);
  const framed = xerialSnappyEncode(input);
  assert.deepEqual([...framed.subarray(0, 16)], [...MAGIC, 0, 0, 0, 1, 0, 0, 0, 1]);
  const chunks: number[] = [];
  for (let at = 16; at < framed.length; at += 4 + framed.readInt32BE(at)) {
    chunks.push(snappy.uncompress(framed.subarray(at + 4, at + 4 + framed.readInt32BE(at))).length);
  }
  assert.deepEqual(chunks, [32_768, 32_768, 4_464]);
  assert.ok(Buffer.from(input).equals(xerialSnappyDecode(framed)));
});

Deno.test("xerialSnappyDecode() joins chunks framed by hand", () => {
  const parts = ["first chunk, ", "second chunk, ", "third"].map((s) => snappy.compress(text(s)));
  const framed = Buffer.concat([
    Uint8Array.from([...MAGIC, 0, 0, 0, 1, 0, 0, 0, 1]),
    ...parts.flatMap((p: Uint8Array) => [Uint8Array.of(0, 0, 0, p.length), p]),
  ]);
  assert.equal(xerialSnappyDecode(framed).toString(), "first chunk, second chunk, third");
});

Deno.test("xerialSnappyDecode() reads one raw Snappy block without framing", () => {
  assert.equal(xerialSnappyDecode(snappy.compress(text("raw block"))).toString(), "raw block");
});

Deno.test("xerialSnappyDecode() names what is wrong with a bad frame", () => {
  const framed = xerialSnappyEncode(text("x".repeat(1000)));
  assert.throws(
    () => xerialSnappyDecode(framed.subarray(0, 12)),
    new SyntaxError("xerial Snappy header is truncated: 12 of 16 bytes"),
  );
  assert.throws(
    () => xerialSnappyDecode(framed.subarray(0, 18)),
    new SyntaxError("xerial Snappy chunk length at byte 16 is truncated"),
  );
  const claimed = framed.readInt32BE(16);
  assert.throws(
    () => xerialSnappyDecode(framed.subarray(0, framed.length - 1)),
    new SyntaxError(
      `xerial Snappy chunk at byte 16 claims ${claimed} bytes; ${claimed - 1} remain`,
    ),
  );
  // A copy that reaches back before the first byte.
  const corrupt = Buffer.from([
    ...MAGIC,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    4,
    0x05,
    0x0d,
    0x09,
    0x00,
  ]);
  assert.throws(
    () => xerialSnappyDecode(corrupt),
    new SyntaxError("the chunk at byte 16 is not valid Snappy: Invalid Snappy bitstream"),
  );
});
