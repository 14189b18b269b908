/**
 * Timestamp normalization for sensor events.
 *
 * Accepted inputs, and nothing else (no `Date.parse` guessing):
 * - RFC 3339 / ISO 8601 extended date-time strings: `2026-11-26T10:15:30Z`,
 *   `2026-11-26T10:15:30.123456+05:45`, `2026-11-26 10:15:30-03:00`. `T`/`Z` may be lowercase and a
 *   space may stand for `T` (RFC 3339 §5.6). Up to nine fraction digits; precision beyond the
 *   microsecond (PostgreSQL's resolution) is truncated.
 * - The same without a zone: read as UTC (documented behaviour of the original devices).
 * - A JSON number of epoch milliseconds (an integer).
 *
 * A leap second (`:60`) is valid RFC 3339 but neither JavaScript nor PostgreSQL can represent it,
 * so it is clamped to `:59.999999` of the same minute: order is kept and no event is lost. It is
 * accepted only where one can exist, after 23:59:59 UTC of a month's last day; `:60` in any other
 * minute is refused as `invalid_date`.
 *
 * @module
 */

/** Earliest instant accepted: devices of this fleet did not exist before. */
export const EARLIEST_TIMESTAMP_MS: number = Date.UTC(2000, 0, 1);

/**
 * How far a reading's timestamp may run ahead of its Kafka record's timestamp before it is refused
 * (a device clock set wrong). Measured from the record, not the consumer's clock, so the verdict
 * does not change with the consumer's clock or when the message is read again.
 */
export const MAX_CLOCK_SKEW_MS: number = 24 * 60 * 60 * 1000;

/** A timestamp converted to UTC. */
export interface NormalizedTimestamp {
  /** Milliseconds since the Unix epoch (UTC), truncated to the millisecond. */
  epochMs: number;
  /** UTC instant as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, microsecond precision, ready for timestamptz. */
  iso: string;
}

/** The outcome of {@linkcode normalizeTimestamp}: a UTC instant or why the input is refused. */
export type TimestampResult =
  | { ok: true; value: NormalizedTimestamp }
  | { ok: false; code: TimestampErrorCode; message: string };

/** Machine-readable reasons a timestamp is refused. */
export type TimestampErrorCode =
  | "invalid_type"
  | "invalid_format"
  | "invalid_date"
  | "out_of_range";

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

const MAX_TIMESTAMP_TEXT = 40;

/**
 * Converts a raw `TIMESTAMP` value to UTC.
 *
 * @param raw The value as found in the event (string or number; anything else is refused).
 * @param referenceMs The instant the future bound counts from: the Kafka record's timestamp.
 * @returns The UTC instant, or the reason the value is refused.
 *
 * @example
 * ```ts
 * import { normalizeTimestamp } from "./timestamp.ts";
 * import assert from "node:assert/strict";
 * const r = normalizeTimestamp("2026-11-26T10:15:30-03:00", Date.UTC(2026, 10, 27));
 * assert.ok(r.ok && r.value.iso === "2026-11-26T13:15:30.000000Z");
 * ```
 */
export function normalizeTimestamp(raw: unknown, referenceMs: number): TimestampResult {
  if (typeof raw === "number") return fromEpochMillis(raw, referenceMs);
  if (typeof raw !== "string") {
    return fail(
      "invalid_type",
      `must be an RFC 3339 string or epoch milliseconds: got ${kind(raw)}`,
    );
  }
  if (raw.length > MAX_TIMESTAMP_TEXT) {
    return fail(
      "invalid_format",
      `is ${raw.length} characters long; at most ${MAX_TIMESTAMP_TEXT} are accepted`,
    );
  }
  const m = RFC3339.exec(raw);
  if (m === null) {
    const hint = /^\d+$/.test(raw)
      ? " (epoch milliseconds must be a JSON number, not a string)"
      : "";
    return fail(
      "invalid_format",
      `cannot be parsed as RFC 3339 (YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]): got ${
        quote(raw)
      }${hint}`,
    );
  }
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3]);
  const hour = Number(m[4]), minute = Number(m[5]), second = Number(m[6]);
  const fraction = m[7] ?? "";
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return fail("invalid_date", `names a day that does not exist: got ${quote(raw)}`);
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return fail("invalid_date", `names a time of day that does not exist: got ${quote(raw)}`);
  }
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) {
      return fail("invalid_format", `has an impossible UTC offset ${m[9]}${m[10]}:${m[11]}`);
    }
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const leapSecond = second === 60;
  const microsText = leapSecond ? "999999" : fraction.padEnd(6, "0").slice(0, 6);
  const micros = Number(microsText);
  const wholeSecondsMs = Date.UTC(year, month - 1, day, hour, minute, leapSecond ? 59 : second) -
    offsetMinutes * 60_000;
  if (leapSecond && !endsUtcMonth(wholeSecondsMs)) {
    return fail(
      "invalid_date",
      `has a leap second (:60) outside 23:59 UTC of a month's last day: got ${quote(raw)}`,
    );
  }
  const epochMs = wholeSecondsMs + Math.floor(micros / 1000);
  const range = checkRange(epochMs, referenceMs, raw);
  if (range !== undefined) return range;
  // Already UTC (what devices send): the fields are the answer. This is the hot path of the
  // consumer, and formatting through a Date cost a tenth of its CPU.
  const iso = offsetMinutes === 0 && !leapSecond
    ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${microsText}Z`
    : isoWithMicros(wholeSecondsMs, micros);
  return { ok: true, value: { epochMs, iso } };
}

/**
 * Whether `ms` is 23:59:59 UTC of a month's last day: the only second a leap second can follow
 * (ITU-R TF.460: the end of a UTC month; so far always June or December).
 */
function endsUtcMonth(ms: number): boolean {
  const next = new Date(ms + 1000);
  return next.getUTCDate() === 1 && next.getUTCHours() === 0 && next.getUTCMinutes() === 0 &&
    next.getUTCSeconds() === 0;
}

function fromEpochMillis(raw: number, referenceMs: number): TimestampResult {
  if (!Number.isFinite(raw)) {
    return fail("invalid_type", "must be a finite number of epoch milliseconds");
  }
  if (!Number.isInteger(raw)) {
    return fail("invalid_type", `epoch milliseconds must be an integer: got ${raw}`);
  }
  // Anything below 10^11 ms is before 1973: almost surely epoch seconds sent by mistake.
  if (raw >= 0 && raw < 1e11 && raw * 1000 >= EARLIEST_TIMESTAMP_MS) {
    return fail(
      "out_of_range",
      `${raw} looks like epoch seconds; send epoch milliseconds (${raw * 1000}) or RFC 3339`,
    );
  }
  const range = checkRange(raw, referenceMs, String(raw));
  if (range !== undefined) return range;
  const wholeSecondsMs = Math.floor(raw / 1000) * 1000;
  return {
    ok: true,
    value: { epochMs: raw, iso: isoWithMicros(wholeSecondsMs, (raw - wholeSecondsMs) * 1000) },
  };
}

function checkRange(
  epochMs: number,
  referenceMs: number,
  shown: string,
): TimestampResult | undefined {
  if (epochMs < EARLIEST_TIMESTAMP_MS) {
    return fail("out_of_range", `is before 2000-01-01T00:00:00Z: got ${quote(shown)}`);
  }
  if (epochMs > referenceMs + MAX_CLOCK_SKEW_MS) {
    return fail(
      "out_of_range",
      `is more than 24 hours ahead of its Kafka record's timestamp (${
        new Date(referenceMs).toISOString()
      }): got ${quote(shown)}`,
    );
  }
  return undefined;
}

function isoWithMicros(wholeSecondsMs: number, micros: number): string {
  const base = new Date(wholeSecondsMs).toISOString().slice(0, 19);
  return `${base}.${String(micros).padStart(6, "0")}Z`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

function fail(code: TimestampErrorCode, message: string): TimestampResult {
  return { ok: false, code, message };
}

/** Describes a JSON value's type in words, for error messages. */
export function kind(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `a string ${quote(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Quotes a value for an error message, escaped and cut to a readable length. */
export function quote(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}
