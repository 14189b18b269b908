import assert from "node:assert/strict";
import zlib from "node:zlib";
import { checkZstdFrames } from "./zstd_frame.ts";

const input = new Uint8Array(300_000).map((
  _,
  i,
) => (i % 3 === 0 ? (i * 2654435761) >>> 24 : i % 11));

Deno.test("checkZstdFrames() accepts complete frames, with checksum, concatenated or skippable", () => {
  const plain = zlib.zstdCompressSync(input);
  const summed = zlib.zstdCompressSync(input, {
    params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 },
  });
  const skippable = Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 0xaa, 0xbb);
  for (const data of [plain, summed, new Uint8Array([...skippable, ...plain, ...summed])]) {
    checkZstdFrames(data);
  }
});

Deno.test("checkZstdFrames() finds a cut anywhere in a frame", () => {
  const frame = zlib.zstdCompressSync(input);
  for (let length = 0; length < frame.length; length += 97) {
    assert.throws(
      () => checkZstdFrames(frame.subarray(0, length)),
      SyntaxError,
      `cut at ${length}`,
    );
  }
  assert.throws(
    () => checkZstdFrames(frame.subarray(0, frame.length - 1)),
    /^SyntaxError: zstd data is truncated: a \d+-byte block at byte \d+ is missing$/,
  );
});

Deno.test("checkZstdFrames() rejects foreign data and reserved blocks", () => {
  assert.throws(
    () => checkZstdFrames(new TextEncoder().encode("plain text")),
    new SyntaxError("zstd frame at byte 0 has magic 0x69616c70"),
  );
  const reserved = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x07, 0x00, 0x00);
  assert.throws(
    () => checkZstdFrames(reserved),
    new SyntaxError("zstd block at byte 6 has the reserved type"),
  );
});
