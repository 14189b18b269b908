/**
 * Time-ordered event ids (UUID version 7, RFC 9562 §5.7) for the growth phase's comparison with
 * the fleet's hash-based ids: 48 bits of Unix milliseconds, then random bits. Benchmark code only;
 * the producer does not send these.
 *
 * @module
 */

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/**
 * A version 7 UUID for the instant `epochMs`: ids of later instants sort after earlier ones, so
 * a primary key of them grows at its right edge.
 *
 * @param epochMs Unix time in milliseconds (0 ≤ epochMs < 2^48).
 * @returns A lower-case version 7 UUID.
 */
export function uuidV7(epochMs: number): string {
  if (!Number.isInteger(epochMs) || epochMs < 0 || epochMs >= 2 ** 48) {
    throw new RangeError(`uuidV7: epochMs must be an integer in [0, 2^48): got ${epochMs}`);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = epochMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  let text = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += "-";
    text += HEX[bytes[i]];
  }
  return text;
}
