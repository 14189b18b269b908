/**
 * Corpus classes about TIMESTAMP (zones, offsets, calendars, leap seconds, ranges, epochs) and
 * about ids sent twice.
 *
 * @module
 */

import {
  type CorpusClass,
  type CorpusContext,
  wholeSeconds,
  withFields,
  zoned,
} from "./_corpus_kit.ts";
import { accepted, isoMicros, rejected } from "./ledger.ts";

const HOUR = 3_600_000;

/** A class that sends `text(ctx)` as TIMESTAMP and expects the instant `instant(ctx)` (or a code). */
function stamp(
  name: string,
  spec: string,
  text: (ctx: CorpusContext) => string | number,
  outcome: ((ctx: CorpusContext) => string) | { code: string },
): CorpusClass {
  return {
    name,
    spec,
    make: (ctx) => {
      const value = text(ctx);
      return [{
        value: withFields(ctx.base, { TIMESTAMP: value }),
        expect: typeof outcome === "function"
          ? accepted(ctx.base, { timestamp: String(value), timestamp_ts: outcome(ctx) })
          : rejected(outcome.code),
      }];
    },
  };
}

const whole = (ctx: CorpusContext) => isoMicros(wholeSeconds(ctx.baseMs));

/** Timestamp and duplicate classes. */
export const TIME_CLASSES: CorpusClass[] = [
  stamp("timestamp-without-zone", "accepted (read as UTC)", (c) => zoned(c.baseMs, null), whole),
  stamp(
    "timestamp-offset-plus-05-45",
    "accepted (converted to UTC)",
    (c) => zoned(c.baseMs, 345),
    whole,
  ),
  stamp(
    "timestamp-offset-minus-09-30",
    "accepted (converted to UTC)",
    (c) => zoned(c.baseMs, -570),
    whole,
  ),
  stamp(
    "timestamp-offset-plus-14-00",
    "accepted (converted to UTC)",
    (c) => zoned(c.baseMs, 840),
    whole,
  ),
  stamp(
    "timestamp-offset-minus-00-00",
    "accepted (same as Z)",
    (c) => zoned(c.baseMs, null) + "-00:00",
    whole,
  ),
  stamp(
    "timestamp-impossible-offset",
    "rejected: invalid_format",
    (c) => zoned(c.baseMs, null) + "+24:00",
    { code: "invalid_format" },
  ),
  stamp(
    "timestamp-lowercase-and-space",
    "accepted (RFC 3339 §5.6 spellings)",
    (c) => zoned(c.baseMs, 0, "", { sep: " ", z: "z" }),
    whole,
  ),
  stamp(
    "timestamp-nanoseconds",
    "accepted (cut to microseconds)",
    (c) => zoned(c.baseMs, 0, "123456789"),
    (c) => isoMicros(wholeSeconds(c.baseMs) + 123, 456),
  ),
  stamp(
    "timestamp-ten-fraction-digits",
    "rejected: invalid_format",
    (c) => zoned(c.baseMs, 0, "1234567891"),
    { code: "invalid_format" },
  ),
  stamp("timestamp-february-30", "rejected: invalid_date", () => "2024-02-30T12:00:00Z", {
    code: "invalid_date",
  }),
  stamp(
    "timestamp-february-29-common-year",
    "rejected: invalid_date",
    () => "2025-02-29T12:00:00Z",
    {
      code: "invalid_date",
    },
  ),
  stamp(
    "timestamp-february-29-leap-year",
    "accepted",
    () => "2024-02-29T12:00:00Z",
    () => "2024-02-29T12:00:00.000000Z",
  ),
  stamp(
    "timestamp-hour-24",
    "rejected: invalid_date",
    (c) => zoned(c.baseMs, 0).slice(0, 11) + "24:00:00Z",
    {
      code: "invalid_date",
    },
  ),
  stamp("timestamp-month-13", "rejected: invalid_date", () => "2025-13-01T00:00:00Z", {
    code: "invalid_date",
  }),
  stamp(
    "timestamp-leap-second",
    "accepted (23:59:60 kept in order as 23:59:59.999999)",
    () => "2016-12-31T23:59:60Z",
    () => "2016-12-31T23:59:59.999999Z",
  ),
  stamp(
    "timestamp-leap-second-with-offset",
    "accepted (clamped within its minute, then converted)",
    () => "2017-01-01T08:59:60+09:00",
    () => "2016-12-31T23:59:59.999999Z",
  ),
  stamp("timestamp-before-2000", "rejected: out_of_range", () => "1999-12-31T23:59:59.999Z", {
    code: "out_of_range",
  }),
  stamp(
    "timestamp-earliest-accepted",
    "accepted (2000-01-01T00:00:00Z is the bound)",
    () => "2000-01-01T00:00:00Z",
    () => "2000-01-01T00:00:00.000000Z",
  ),
  stamp("timestamp-far-future", "rejected: out_of_range", () => "2999-01-01T00:00:00Z", {
    code: "out_of_range",
  }),
  stamp("timestamp-25h-ahead", "rejected: out_of_range", (c) => zoned(c.nowMs + 25 * HOUR, 0), {
    code: "out_of_range",
  }),
  stamp(
    "timestamp-23h-ahead",
    "accepted (within the 24 h clock skew)",
    (c) => zoned(c.nowMs + 23 * HOUR, 0),
    (c) => isoMicros(wholeSeconds(c.nowMs + 23 * HOUR)),
  ),
  stamp("timestamp-epoch-milliseconds", "accepted", (c) => c.baseMs, (c) => isoMicros(c.baseMs)),
  stamp(
    "timestamp-epoch-seconds",
    "rejected: out_of_range (seconds, not ms)",
    (c) => Math.floor(c.baseMs / 1000),
    {
      code: "out_of_range",
    },
  ),
  stamp("timestamp-epoch-ms-as-string", "rejected: invalid_format", (c) => String(c.baseMs), {
    code: "invalid_format",
  }),
  stamp("timestamp-epoch-zero", "rejected: out_of_range", () => 0, { code: "out_of_range" }),
  stamp("timestamp-epoch-fractional-ms", "rejected: invalid_type", (c) => c.baseMs + 0.5, {
    code: "invalid_type",
  }),
  stamp("timestamp-words", "rejected: invalid_format", () => "yesterday at noon", {
    code: "invalid_format",
  }),
  stamp("timestamp-date-only", "rejected: invalid_format", (c) => zoned(c.baseMs, 0).slice(0, 10), {
    code: "invalid_format",
  }),
  {
    name: "exact-duplicate",
    spec: "accepted once (the re-send writes nothing and is not rejected)",
    make: ({ base }) => {
      const value = withFields(base, {});
      return [{ value, expect: accepted(base) }, { value, expect: accepted(base) }];
    },
  },
  {
    name: "conflicting-duplicate",
    spec: "first accepted, second rejected: duplicate_id_conflict",
    make: ({ base }) => {
      const other = { ...base, TEMPERATURA: base.TEMPERATURA + 1 };
      return [
        { value: withFields(base, {}), expect: accepted(base) },
        { value: withFields(other, {}), expect: accepted(other) },
      ];
    },
  },
  {
    name: "conflicting-duplicate-across-partitions",
    spec: "one accepted, the other rejected: duplicate_id_conflict",
    make: ({ base }) => {
      const other = { ...base, ID_DISPOSITIVO: `${base.ID_DISPOSITIVO}-twin`, BATERIA: 50 };
      return [
        { value: withFields(base, {}), expect: accepted(base) },
        { value: withFields(other, {}), expect: accepted(other), key: other.ID_DISPOSITIVO },
      ];
    },
  },
];
