/**
 * Corpus classes about the message as a whole: encoding, JSON syntax, size, shape, nesting.
 *
 * @module
 */

import { type CorpusClass, rawJson, utf8, withFields } from "./_corpus_kit.ts";
import { accepted, rejected } from "./ledger.ts";

const LIMIT = 8192; // MAX_PAYLOAD_BYTES of the contract

/** Pads a valid reading with an unknown field until it is `bytes` long. */
function padded(fields: Record<string, unknown>, bytes: number): Uint8Array {
  const bare = rawJson({ ...fields, PAD: "" });
  return utf8(rawJson({ ...fields, PAD: "x".repeat(Math.max(0, bytes - bare.length)) }));
}

/**
 * `length` characters of seeded noise (letters and digits): junk as large messages carry it (blobs,
 * dumps), which compression barely shrinks. A run of one letter would compress a thousandfold and
 * make these classes decompression bombs instead, a different fault (see the notes).
 */
function noise(seed: number, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const chars = new Uint8Array(length);
  let x = (seed | 0) || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chars[i] = alphabet.charCodeAt((x >>> 0) % alphabet.length);
  }
  return new TextDecoder().decode(chars);
}

/** A valid reading padded with `bytes` of noise in an unknown field. */
function paddedWithNoise(fields: Record<string, unknown>, bytes: number, seed: number): Uint8Array {
  const bare = rawJson({ ...fields, PAD: "" });
  return utf8(rawJson({ ...fields, PAD: noise(seed, Math.max(0, bytes - bare.length)) }));
}

/** Message-level classes. */
export const PAYLOAD_CLASSES: CorpusClass[] = [
  {
    name: "not-json",
    spec: "rejected: not_json",
    make: ({ base }) => [{
      value: utf8(`ID_DISPOSITIVO=${base.ID_DISPOSITIVO};TEMPERATURA=${base.TEMPERATURA}`),
      expect: rejected("not_json"),
    }],
  },
  {
    name: "truncated-json",
    spec: "rejected: not_json",
    make: ({ base, rng }) => {
      const json = JSON.stringify(base);
      return [{
        value: utf8(json.slice(0, rng.int(1, json.length - 1))),
        expect: rejected("not_json"),
      }];
    },
  },
  {
    name: "binary-garbage",
    spec: "rejected: not_utf8",
    make: ({ rng }) => {
      const bytes = rng.bytes(rng.int(8, 200));
      bytes[0] = 0xff; // never valid in UTF-8
      return [{ value: bytes, expect: rejected("not_utf8") }];
    },
  },
  {
    name: "empty-value",
    spec: "rejected: payload_empty",
    make: () => [{ value: new Uint8Array(), expect: rejected("payload_empty") }],
  },
  {
    name: "tombstone",
    spec: "rejected: payload_empty",
    make: () => [{ value: null, expect: rejected("payload_empty") }],
  },
  {
    name: "json-null",
    spec: "rejected: not_object",
    make: () => [{ value: utf8("null"), expect: rejected("not_object") }],
  },
  {
    name: "json-array",
    spec: "rejected: not_object",
    make: ({ base }) => [{ value: utf8(JSON.stringify([base])), expect: rejected("not_object") }],
  },
  {
    name: "json-string",
    spec: "rejected: not_object",
    make: () => [{ value: utf8('"OK"'), expect: rejected("not_object") }],
  },
  {
    name: "json-number",
    spec: "rejected: not_object",
    make: () => [{ value: utf8("42"), expect: rejected("not_object") }],
  },
  {
    name: "just-over-size-limit",
    spec: "rejected: payload_too_large",
    make: (
      { base },
    ) => [{ value: padded({ ...base }, LIMIT + 1), expect: rejected("payload_too_large") }],
  },
  {
    name: "exactly-at-size-limit",
    spec: "accepted (unknown padding field ignored)",
    make: ({ base }) => [{ value: padded({ ...base }, LIMIT), expect: accepted(base) }],
  },
  {
    name: "far-over-size-limit",
    spec: "rejected: payload_too_large",
    make: ({ base, rng, hugeBytes }) => [{
      value: padded({ ...base }, rng.int(Math.min(hugeBytes, 16 * LIMIT), hugeBytes)),
      expect: rejected("payload_too_large"),
    }],
  },
  {
    name: "one-mib-key-on-invalid-message",
    spec:
      "rejected: not_json (the key is kept as its first REJECT_MAX_STORED_BYTES, length, SHA-256)",
    make: ({ rng }) => [{
      key: noise(rng.int(1, 2 ** 30), 1 << 20),
      value: utf8("not json"),
      expect: rejected("not_json"),
    }],
  },
  {
    name: "one-mib-value",
    spec: "rejected: payload_too_large (the topic's max.message.bytes raised to 12 MiB)",
    make: ({ base, rng }) => [{
      value: paddedWithNoise({ ...base }, 1 << 20, rng.int(1, 2 ** 30)),
      expect: rejected("payload_too_large"),
    }],
  },
  {
    name: "ten-mib-value",
    spec: "rejected: payload_too_large (the topic's max.message.bytes raised to 12 MiB)",
    make: ({ base, rng }) => [{
      value: paddedWithNoise({ ...base }, 10 << 20, rng.int(1, 2 ** 30)),
      expect: rejected("payload_too_large"),
    }],
  },
  {
    name: "deep-nesting-only",
    spec: "rejected: missing_field",
    make: () => [{
      value: utf8('{"a":'.repeat(1000) + "1" + "}".repeat(1000)),
      expect: rejected("missing_field"),
    }],
  },
  {
    name: "deep-nesting-in-extra-field",
    spec: "accepted (unknown field ignored)",
    make: ({ base }) => [{
      value: utf8(rawJson({ ...base }, { X: "[".repeat(3000) + "]".repeat(3000) })),
      expect: accepted(base),
    }],
  },
  {
    name: "too-many-keys",
    spec: "rejected: too_many_keys",
    make: ({ base }) => {
      const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
      return [{ value: withFields(base, extra), expect: rejected("too_many_keys") }];
    },
  },
  {
    name: "utf8-bom-before-json",
    spec: "rejected: not_json",
    make: (
      { base },
    ) => [{ value: utf8("\uFEFF" + JSON.stringify(base)), expect: rejected("not_json") }],
  },
  {
    name: "nul-byte-payload",
    spec: "rejected: not_json (reason text made storable)",
    make: () => [{ value: new Uint8Array([0]), expect: rejected("not_json") }],
  },
  {
    name: "nul-after-json",
    spec: "rejected: not_json",
    make: (
      { base },
    ) => [{ value: utf8(JSON.stringify(base) + "\u0000"), expect: rejected("not_json") }],
  },
  {
    name: "emoji-cut-in-error-snippet",
    spec: "rejected: not_json (reason text made storable)",
    make: () => [{ value: utf8("x" + "\u{1F600}".repeat(40)), expect: rejected("not_json") }],
  },
  {
    name: "invalid-utf8-in-string",
    spec: "rejected: not_utf8",
    make: ({ base }) => {
      const text = JSON.stringify({ ...base, ID_DISPOSITIVO: "dev-@x" });
      const bytes = utf8(text);
      bytes[text.indexOf("@")] = 0xc3; // a lead byte followed by "x", not a continuation byte
      return [{ value: bytes, expect: rejected("not_utf8") }];
    },
  },
  {
    name: "overlong-utf8",
    spec: "rejected: not_utf8",
    make: ({ base }) => {
      const bytes = utf8(JSON.stringify({ ...base, STATUS: "O#" }));
      const at = bytes.indexOf(0x23); // '#' -> 0xC0 0xAF is an overlong '/'
      return [{
        value: new Uint8Array([...bytes.subarray(0, at), 0xc0, 0xaf, ...bytes.subarray(at + 1)]),
        expect: rejected("not_utf8"),
      }];
    },
  },
  {
    name: "utf16-encoded-json",
    spec: "rejected: not_json",
    make: ({ base }) => {
      const text = JSON.stringify(base);
      const bytes = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) bytes[i * 2] = text.charCodeAt(i);
      return [{ value: bytes, expect: rejected("not_json") }];
    },
  },
  {
    name: "nan-literal",
    spec: "rejected: not_json",
    make: (
      { base },
    ) => [{
      value: utf8(rawJson({ ...base }, { TEMPERATURA: "NaN" })),
      expect: rejected("not_json"),
    }],
  },
  {
    name: "duplicate-json-keys",
    spec: "accepted (the last value of a repeated key counts)",
    make: ({ base }) => [{
      value: utf8(JSON.stringify(base).slice(0, -1) + ',"UMIDADE":77.25}'),
      expect: accepted(base, { umidade: 77.25 }),
    }],
  },
  {
    name: "proto-key",
    spec: "accepted (__proto__ is an unknown field)",
    make: (
      { base },
    ) => [{
      value: utf8(rawJson({ ...base }, { __proto__: '{"STATUS":"ERROR"}' })),
      expect: accepted(base),
    }],
  },
  {
    name: "whitespace-around-json",
    spec: "accepted",
    make: (
      { base },
    ) => [{ value: utf8(` \n\t${JSON.stringify(base, null, 2)}\r\n `), expect: accepted(base) }],
  },
  {
    name: "unknown-extra-fields",
    spec: "accepted (unknown fields ignored)",
    make: ({ base }) => [{
      value: withFields(base, { firmware: "2.4.1", extra: { nested: [1, 2, 3] }, note: null }),
      expect: accepted(base),
    }],
  },
];
