/**
 * A device's state (`tb_dispositivo`) as a pure fold: the previous state and the readings a batch
 * stored for the device in, the new state out. monitoring.ts runs it in each write, and
 * postgres_store.ts stores the result in the statement that writes the readings.
 *
 * The rules:
 * - Only readings the batch actually inserted are folded (a replay or a re-send is not).
 * - Every such reading is counted. A reading "ahead" (its timestamp more than
 *   DEVICE_FUTURE_TOLERANCE_S past its Kafka record's timestamp; see `isAhead` in transform.ts) is only
 *   counted: it never becomes the latest and takes no part in first seen or the interval, so one
 *   wrong clock cannot pin the device's "latest" in the future.
 * - The latest reading is the greatest by (event time, id): a late or replayed reading never
 *   replaces a newer one, and equal event times are decided by the id, whatever the order.
 * - The usual interval is an exponentially weighted mean of the gaps between a reading and the
 *   newest event time before it (in batch order), counted only when positive: a reading older than
 *   or as old as the newest one seen is out of order and is not a gap. Each gap is first clamped to
 *   [DEVICE_INTERVAL_MIN_S, DEVICE_INTERVAL_MAX_S], so the mean stays in those bounds; the first
 *   gap sets it, each later one moves it by {@linkcode INTERVAL_ALPHA}.
 *
 * @module
 */

import type { SensorRow } from "@iot/shared";

/** Weight of a new gap in the interval's mean: about the last ten gaps matter (1 / α). */
export const INTERVAL_ALPHA = 0.1;

/** The bounds of the learned interval and the future tolerance, in seconds. */
export interface DeviceStateSettings {
  /** DEVICE_FUTURE_TOLERANCE_S: how far past its record's timestamp a reading may be latest. */
  futureToleranceS: number;
  /** DEVICE_INTERVAL_MIN_S: the least interval (and gap) learned. */
  intervalMinS: number;
  /** DEVICE_INTERVAL_MAX_S: the greatest interval (and gap) learned. */
  intervalMaxS: number;
}

/** A stored reading as the fold needs it: the row without the sent `TIMESTAMP` text, plus `ahead`. */
export interface DeviceReading extends Omit<SensorRow, "timestamp"> {
  /** Too far ahead of its record's timestamp to be the latest (`isAhead` in transform.ts). */
  ahead: boolean;
}

/** A device's state, without the load times (the database's clock sets those). */
export interface DeviceState {
  /** Device id. */
  id_dispositivo: string;
  /** The latest reading (see the module documentation); `null` while every reading was ahead. */
  latest: Omit<DeviceReading, "ahead" | "id_dispositivo"> | null;
  /** Earliest event time of a reading not ahead (first seen); `null` like `latest`. */
  primeiro_timestamp_ts: string | null;
  /** Readings stored, ahead ones included. */
  qt_leituras: number;
  /** The usual interval in seconds; `null` until a first gap. */
  intervalo_s: number | null;
}

/**
 * Folds the readings one batch stored for a device into its state.
 *
 * @param previous The state before the batch, or `undefined` for a device not seen yet.
 * @param readings The readings the batch inserted for this device, in batch (offset) order.
 * @param settings Interval bounds.
 * @returns The new state; `previous` itself when `readings` is empty.
 * @throws {RangeError} when a reading belongs to another device.
 */
export function foldDevice(
  previous: DeviceState | undefined,
  readings: readonly DeviceReading[],
  settings: Pick<DeviceStateSettings, "intervalMinS" | "intervalMaxS">,
): DeviceState {
  if (readings.length === 0 && previous !== undefined) return previous;
  const device = previous?.id_dispositivo ?? readings[0]?.id_dispositivo;
  if (device === undefined) throw new RangeError("Cannot fold no readings into no state");
  const clamp = (s: number) => Math.min(Math.max(s, settings.intervalMinS), settings.intervalMaxS);
  const state: DeviceState = {
    ...(previous ?? emptyState(device)),
    // A bound changed since the interval was learned: the mean restarts from inside the bounds.
    intervalo_s: previous?.intervalo_s == null ? null : clamp(previous.intervalo_s),
  };
  // The newest event time seen, which is the latest reading's (ties do not move it), and the
  // earliest: kept as numbers, so each reading's time is parsed once (the consumer's hot path).
  let newest = state.latest === null ? null : epochMicros(state.latest.timestamp_ts);
  let first = state.primeiro_timestamp_ts === null
    ? null
    : epochMicros(state.primeiro_timestamp_ts);
  // The reading that becomes the latest, copied once after the loop: a copy per newer reading
  // was an object spread per row on the hot path.
  let latest: DeviceReading | undefined;
  for (const reading of readings) {
    if (reading.id_dispositivo !== device) {
      throw new RangeError(
        `Cannot fold a reading of ${reading.id_dispositivo} into the state of ${device}`,
      );
    }
    state.qt_leituras++;
    if (reading.ahead) continue;
    const at = epochMicros(reading.timestamp_ts);
    if (first === null || at < first) {
      state.primeiro_timestamp_ts = reading.timestamp_ts;
      first = at;
    }
    // isNewer(reading, state.latest), with the latest's time already known as `newest`.
    const current = latest ?? state.latest;
    if (
      current === null || newest === null || at > newest ||
      (at === newest && reading.id.toLowerCase() > current.id.toLowerCase())
    ) latest = reading;
    if (newest !== null && at > newest) {
      const gap = clamp((at - newest) / 1_000_000);
      state.intervalo_s = state.intervalo_s === null
        ? gap
        : INTERVAL_ALPHA * gap + (1 - INTERVAL_ALPHA) * state.intervalo_s;
    }
    if (newest === null || at > newest) newest = at;
  }
  if (latest !== undefined) {
    const { ahead: _, id_dispositivo: __, ...values } = latest;
    state.latest = values;
  }
  return state;
}

/** Whether `a` is newer than `b`: later event time, or the same and a greater id. */
export function isNewer(
  a: { timestamp_ts: string; id: string },
  b: { timestamp_ts: string; id: string },
): boolean {
  const ta = epochMicros(a.timestamp_ts);
  const tb = epochMicros(b.timestamp_ts);
  return ta > tb || (ta === tb && a.id.toLowerCase() > b.id.toLowerCase());
}

/**
 * Microseconds since the epoch of an ISO 8601 instant, exact to the microsecond (a `Date` keeps
 * milliseconds only). Exact as a number until the year 2255.
 *
 * @throws {SyntaxError} when the text is not an instant.
 */
export function epochMicros(iso: string): number {
  const fast = canonicalMicros(iso);
  if (fast !== undefined) return fast;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6})\d*)?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  const ms = m === null ? NaN : Date.parse(`${m[1]}${m[3]}`);
  if (m === null || Number.isNaN(ms)) {
    throw new SyntaxError(`Cannot parse an event time as ISO 8601: current value is '${iso}'`);
  }
  return ms * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
}

/** Days in each month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * {@linkcode epochMicros} of the one form the consumer makes (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, as
 * shared/timestamp.ts and PostgreSQL's to_char give it), from its digits: the general parse costs
 * a regular expression and `Date.parse` per call, several times per reading. `undefined` for any
 * other text, and for what the general parse treats apart (years before 100, which `Date.UTC`
 * would move to the 1900s, hour 24, a leap second, a day past its month's end).
 */
function canonicalMicros(iso: string): number | undefined {
  if (
    iso.length !== 27 || iso[4] !== "-" || iso[7] !== "-" || iso[10] !== "T" ||
    iso[13] !== ":" || iso[16] !== ":" || iso[19] !== "." || iso[26] !== "Z"
  ) return undefined;
  const y = digits(iso, 0, 4);
  const mo = digits(iso, 5, 7);
  const d = digits(iso, 8, 10);
  const h = digits(iso, 11, 13);
  const mi = digits(iso, 14, 16);
  const s = digits(iso, 17, 19);
  const us = digits(iso, 20, 26);
  // NaN fails every comparison below, so a non-digit falls through to the general parse.
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (
    !(y >= 100 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && s <= 59 && us >= 0) ||
    d > MONTH_DAYS[mo - 1] + (mo === 2 && leap ? 1 : 0)
  ) return undefined;
  // Days since 1970-01-01 in the proleptic Gregorian calendar, by integer arithmetic (what
  // Date.UTC gives, at a fraction of its cost): years counted from March, in 400-year eras.
  const ym = mo <= 2 ? y - 1 : y;
  const era = Math.floor(ym / 400);
  const yoe = ym - era * 400;
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy -
    719468;
  return (days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000 + us;
}

/** The number written in `iso` from `from` to `to` (decimal digits only), else NaN. */
function digits(iso: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = iso.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

function emptyState(device: string): DeviceState {
  return {
    id_dispositivo: device,
    latest: null,
    primeiro_timestamp_ts: null,
    qt_leituras: 0,
    intervalo_s: null,
  };
}
