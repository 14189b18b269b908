/**
 * The checker's invariant about `tb_dispositivo` (private to chaos/; see checker.ts): each device's
 * state is its newest stored reading by event time, and its count is the number of its stored
 * readings. Written from the contract, not from the consumer's code.
 *
 * A reading whose timestamp is more than the tolerance past its Kafka record's timestamp must
 * never be the latest. Which message stored a reading is not known when several carried it (a
 * re-send), so a reading is "ahead" when all of them are, "not ahead" when none is, and either
 * when they disagree or a record has no timestamp: such a reading may be the latest, or not.
 *
 * @module
 */

import type { Expected } from "./_checker_expect.ts";
import { COLUMNS, readingOf } from "./_checker_expect.ts";
import {
  type CheckInput,
  type Finding,
  judgeEach,
  type Problem,
  type StoredRow,
} from "./_checker_types.ts";

/** The latest reading's columns, as `tb_dispositivo` and `tb_sensor_evento` both name them. */
const LATEST = COLUMNS.filter((c): c is Exclude<typeof c, "id_dispositivo" | "timestamp"> =>
  c !== "id_dispositivo" && c !== "timestamp"
);

/** Whether a stored reading was ahead of its record: surely, surely not, or either. */
export type Ahead = "yes" | "no" | "either";

/** Every device's state is its newest reading not ahead, and counts its stored readings. */
export function deviceStateMatches(input: CheckInput, expected: Expected): Finding {
  const ahead = aheadById(input, expected);
  const byDevice = Map.groupBy(input.rows, (r) => r.id_dispositivo);
  const states = new Map(input.devices.map((d) => [d.id_dispositivo, d]));
  const names = new Set([...byDevice.keys(), ...states.keys()]);
  return judgeEach("device-state", [...names].sort(), (device): Problem | undefined => {
    const rows = byDevice.get(device) ?? [];
    const state = states.get(device);
    if (state === undefined) return { message: `${device}: ${rows.length} readings, no state` };
    if (state.qt_leituras !== rows.length) {
      return {
        message: `${device}: qt_leituras ${state.qt_leituras}, ${rows.length} readings stored`,
      };
    }
    const sure = rows.filter((r) => ahead.get(r.id) === "no").reduce<StoredRow | undefined>(
      (a, b) => (a === undefined || newer(b, a) ? b : a),
      undefined,
    );
    if (state.id_evento === null) {
      return sure === undefined
        ? undefined
        : { message: `${device}: no latest, but ${sure.id} (${sure.timestamp_ts}) is stored` };
    }
    const latest = rows.find((r) => r.id === state.id_evento);
    if (latest === undefined) {
      return { message: `${device}: latest ${state.id_evento} is not one of its stored readings` };
    }
    if (ahead.get(latest.id) === "yes") {
      return { message: `${device}: latest ${latest.id} (${latest.timestamp_ts}) is ahead` };
    }
    if (sure !== undefined && newer(sure, latest)) {
      return {
        message: `${device}: latest ${latest.id} (${latest.timestamp_ts}) is stale: ${sure.id} ` +
          `(${sure.timestamp_ts}) is newer`,
      };
    }
    const wrong = LATEST.filter((c) => state[c] !== latest[c]);
    if (wrong.length > 0) {
      return {
        message: `${device}: latest ${latest.id} differs in ${wrong.join(", ")}`,
        tally: "wrongValue",
      };
    }
    return undefined;
  });
}

/**
 * Whether each stored reading is ahead of the record that carried it, over every message of its
 * id that carried the stored reading.
 */
export function aheadById(input: CheckInput, expected: Expected): Map<string, Ahead> {
  const out = new Map<string, Ahead>();
  const toleranceMs = input.deviceFutureToleranceS * 1000;
  for (const g of expected.groups) {
    if (g.stored === undefined) continue;
    const carried = g.members.filter((x) => readingOf(x.row) === readingOf(g.stored!));
    const verdicts = new Set(
      carried.map(({ m }): Ahead =>
        m.timestampMs === undefined || m.timestampMs < 0
          ? "either"
          // Whole milliseconds, as the contract bounds a reading.
          : Math.floor(micros(g.stored!.timestamp_ts) / 1000) > m.timestampMs + toleranceMs
          ? "yes"
          : "no"
      ),
    );
    out.set(g.id, verdicts.size === 1 ? [...verdicts][0] : "either");
  }
  return out;
}

/** Later event time, or the same and a greater id (ids are lower-case text). */
function newer(a: StoredRow, b: StoredRow): boolean {
  const ta = micros(a.timestamp_ts);
  const tb = micros(b.timestamp_ts);
  return ta > tb || (ta === tb && a.id > b.id);
}

/** Microseconds of a `YYYY-MM-DDTHH:MM:SS.ffffffZ` instant. */
function micros(ts: string): number {
  return Date.parse(`${ts.slice(0, 19)}Z`) * 1000 + Number(ts.slice(20, 26));
}
