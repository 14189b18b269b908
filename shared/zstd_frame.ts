/**
 * A structure check for Zstandard data, run before decompressing it: the runtime's
 * `node:zlib` (Deno 2.9.6) returns what it decoded so far for a truncated frame instead of
 * failing, so a cut batch would lose records silently. Walking the frame and block headers
 * (RFC 8878, sections 3.1.1 and 3.1.1.2) finds a cut without decoding anything.
 *
 * @module
 */

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames have magics 0x184D2A50..0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/**
 * Checks that `input` is a sequence of complete Zstandard frames.
 *
 * @param input Compressed bytes.
 * @throws {SyntaxError} Naming the first thing that is missing or malformed.
 */
export function checkZstdFrames(input: Uint8Array): void {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const need = (at: number, bytes: number, what: string) => {
    if (at + bytes > input.length) {
      throw new SyntaxError(`zstd data is truncated: ${what} at byte ${at} is missing`);
    }
  };
  if (input.length === 0) throw new SyntaxError("zstd data is empty");
  let at = 0;
  while (at < input.length) {
    need(at, 4, "a frame magic");
    const magic = view.getUint32(at, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(at + 4, 4, "a skippable frame size");
      const size = view.getUint32(at + 4, true);
      need(at + 8, size, `a ${size}-byte skippable frame`);
      at += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) {
      throw new SyntaxError(`zstd frame at byte ${at} has magic 0x${magic.toString(16)}`);
    }
    need(at + 4, 1, "a frame header");
    const descriptor = input[at + 4];
    const singleSegment = (descriptor & 0x20) !== 0;
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
    const dictBytes = [0, 1, 2, 4][descriptor & 3];
    const headerBytes = 1 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
    need(at + 4, headerBytes, "a frame header");
    at += 4 + headerBytes;
    for (let last = false; !last;) {
      need(at, 3, "a block header");
      const header = input[at] | (input[at + 1] << 8) | (input[at + 2] << 16);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw new SyntaxError(`zstd block at byte ${at} has the reserved type`);
      const size = type === 1 ? 1 : header >>> 3; // an RLE block stores one byte
      need(at + 3, size, `a ${size}-byte block`);
      at += 3 + size;
    }
    if (descriptor & 0x04) {
      need(at, 4, "the content checksum");
      at += 4;
    }
  }
}
