/**
 * A hand-worked history for the monitoring checks' tests (`_checker_alerts_test.ts`): three
 * devices' readings and what a correct consumer stores for them, every score and model worked out
 * by hand (test code of chaos/, not a test itself).
 *
 * @module
 */

import { alertEpisodes, anomalyReplay, judgeDevices, oneOpenAlert } from "./_checker_alerts.ts";
import { expect } from "./_checker_expect.ts";
import type { MonitoringSettings } from "./_checker_fold.ts";
import type { StoredAlert, StoredFold, StoredModel } from "./_checker_monitoring.ts";
import type { CheckInput, Invariant, StoredRow } from "./_checker_types.ts";
import { accepted, digestOf, expectedRowOf, type LedgerEntry, type Reading } from "./ledger.ts";

/**
 * Settings whose arithmetic is exact in binary (α = 1/2), so every score and model below is worked
 * out by hand, not by the replay under test.
 */
const SETTINGS: MonitoringSettings = {
  temperatureMax: 35,
  batteryMin: 15,
  clearReadings: 2,
  temperatureHysteresisC: 1,
  batteryHysteresis: 5,
  alpha: 0.5,
  warmup: 2,
  minStddev: 1,
  zThreshold: 3,
  clearZ: 1,
  driftStep: 0.1,
  driftThreshold: 1000,
  driftClear: 999,
};
const RECORD_MS = Date.UTC(2026, 10, 26, 12, 0, 0);
const DEVICES = ["hot", "low", "odd"] as const;

/** Reading `n` of a device: `at` is seconds past 10:00 (10800: an hour past the record, ahead). */
export function r(device: string, n: number, at: number, t: number, b = 80): Reading {
  return {
    ID: `00000000-0000-4000-8000-${
      String(DEVICES.indexOf(device as "hot") * 100 + n).padStart(12, "0")
    }`,
    ID_DISPOSITIVO: device,
    TIMESTAMP: new Date(Date.UTC(2026, 10, 26, 10, 0, 0) + at * 1000).toISOString(),
    TEMPERATURA: t,
    UMIDADE: 50,
    LATITUDE: 0,
    LONGITUDE: 0,
    STATUS: "OK",
    BATERIA: b,
  };
}

// hot: 36 opens; 34.5 is inside the band; 37 (an older event time) holds; 34 and 33 (older than
// the opening) clear it at the opening's time; 36 opens again.
const HOT = [[1, 30], [3, 36], [4, 34.5], [2, 37], [5, 34], [0, 33], [6, 36]] as const;
// low: 14 opens, 16 and 19 are inside the band, 20 and 21 clear; 10 opens, 12 holds, 25 is calm.
const LOW = [80, 14, 16, 19, 20, 21, 10, 12, 25];
// odd: z = 2, then 4 opens the anomaly alert, 0 calm, a reading 2 h ahead (ignored), 2 in the
// band, 0, 0 clear it.
const ODD: [number, number][] = [
  [1, 20],
  [2, 20],
  [3, 22],
  [4, 25],
  [5, 23],
  [10_800, 90],
  [6, 26],
  [
    7,
    24.5,
  ],
  [8, 24.5],
];

const readings = (): Reading[] => [
  ...HOT.map(([at, t], i) => r("hot", i + 1, at, t)),
  ...LOW.map((b, i) => r("low", i + 1, i, 20, b)),
  ...ODD.map(([at, t], i) => r("odd", i + 1, at, t)),
];

/** A reading's instant as the checker reads it back (`…ffffffZ`). */
export const ts = (x: Reading) => `${x.TIMESTAMP.slice(0, 23)}000Z`;
/** Reading `n` (from 1) of a device. */
export const id = (device: string, n: number) =>
  readings().find((x) =>
    x.ID_DISPOSITIVO === device &&
    x.ID.endsWith(String(DEVICES.indexOf(device as "hot") * 100 + n).padStart(12, "0"))
  )!;

/** A `tb_alerta` row: opened and cleared by readings `opened` and `cleared` of `device`. */
export function alert(
  n: number,
  device: string,
  tipo: string,
  opened: number | null,
  cleared: number | null,
  fields: Partial<StoredAlert>,
): StoredAlert {
  const o = opened === null ? undefined : id(device, opened);
  const c = cleared === null ? undefined : id(device, cleared);
  return {
    id: n,
    id_dispositivo: device,
    tipo,
    opened_event: o?.ID ?? null,
    cleared_event: c?.ID ?? null,
    opened_at: o === undefined ? "" : ts(o),
    cleared_at: c === undefined ? null : ts(c),
    last_triggered_at: o === undefined ? "" : ts(o),
    trigger_count: 1,
    peak_value: 0,
    clear_streak: 0,
    qt_leituras_abertura: null,
    ...fields,
  };
}

/** What a correct consumer stores for these readings, worked out by hand. */
export function history(): CheckInput {
  const all = readings();
  const ledger: LedgerEntry[] = [];
  const log = all.map((x, seq) => {
    const value = JSON.stringify(x);
    const digest = digestOf(new TextEncoder().encode(value));
    ledger.push({
      seq,
      key: x.ID_DISPOSITIVO,
      digest,
      size: value.length,
      class: "reading",
      intent: "valid",
      expect: accepted(x),
    });
    const partition = DEVICES.indexOf(x.ID_DISPOSITIVO as "hot");
    const offset = all.slice(0, seq).filter((y) => y.ID_DISPOSITIVO === x.ID_DISPOSITIVO).length;
    return { partition, offset: String(offset), seq, digest, timestampMs: RECORD_MS };
  });
  const rows: StoredRow[] = all.map((x) => ({ ...expectedRowOf(x), id: x.ID }));
  const scores: Record<string, (number | null)[]> = {
    hot: [
      null,
      null,
      1.5 / 3,
      3.25 / 2.25,
      1.375 / Math.sqrt(5.171875),
      1.6875 / Math.sqrt(3.05859375),
      2.15625 / Math.sqrt(2.2412109375),
    ],
    low: [null, null, 0, 0, 0, 0, 0, 0, 0],
    odd: [null, null, 2, 4, 0, null, 2, 0, 0],
  };
  const folds: StoredFold[] = DEVICES.flatMap((d) =>
    all.filter((x) => x.ID_DISPOSITIVO === d).map((x, i) => ({
      id: x.ID,
      seq_dispositivo: i + 1,
      escore_anomalia: scores[d][i],
    }))
  );
  // The medians and spread (drift step 0.1) as consumer/anomaly.ts computes them over the same
  // readings: a second implementation of the rules, to judge the checker's.
  const model = (d: string, n: number, t: number[], medians: number[]): StoredModel => ({
    id_dispositivo: d,
    anomalia_n: n,
    temperatura_media: t[0],
    temperatura_var: t[1],
    umidade_media: 50,
    umidade_var: 0,
    temperatura_nivel: medians[0],
    temperatura_base: medians[1],
    temperatura_dispersao: medians[2],
    umidade_nivel: 50,
    umidade_base: 50,
    umidade_dispersao: 1,
  });
  const models = [
    model("hot", 7, [34.921875, 2.282958984375], [
      33.606018040546054,
      33.06060180405461,
      2.013281832133363,
    ]),
    model("low", 9, [20, 0], [20, 20, 1]),
    model("odd", 8, [24.5, 0.84375], [20.61058793881469, 20.061058793881468, 1.0303775093937648]),
  ];
  const hot = (n: number) => ts(id("hot", n));
  const alerts: StoredAlert[] = [
    alert(1, "hot", "temperature_high", 2, 6, {
      cleared_at: hot(2),
      trigger_count: 2,
      peak_value: 37,
      clear_streak: 2,
    }),
    alert(2, "hot", "temperature_high", 7, null, { peak_value: 36 }),
    alert(3, "low", "battery_low", 2, 6, { peak_value: 14, clear_streak: 2 }),
    alert(4, "low", "battery_low", 7, null, {
      last_triggered_at: ts(id("low", 8)),
      trigger_count: 2,
      peak_value: 10,
      clear_streak: 1,
    }),
    alert(5, "odd", "anomaly", 4, 9, { peak_value: 4, clear_streak: 2 }),
    // Offline: cleared by low's third reading (after it opened: cleared at its opening), and one
    // still open on odd.
    alert(6, "low", "offline", null, 3, {
      opened_at: "2026-11-26T10:00:30.000000Z",
      cleared_at: "2026-11-26T10:00:30.000000Z",
      last_triggered_at: "2026-11-26T10:01:00.000000Z",
      peak_value: 90,
    }),
    alert(7, "odd", "offline", null, null, {
      opened_at: "2026-11-26T10:05:00.000000Z",
      last_triggered_at: "2026-11-26T10:06:00.000000Z",
      peak_value: 60,
    }),
  ];
  // Only what the monitoring checks read (events, offsets and the rest are other tests' business).
  return {
    topicIds: ["5bdfec01-1a90-4b30-8c2f-7fe3937582ee"],
    idKey: "k",
    ledger,
    log,
    rows,
    deviceFutureToleranceS: 300,
    monitoring: { folds, models, alerts, settings: SETTINGS },
  } as unknown as CheckInput;
}

/** The invariants these tests judge. */
export type Monitored = "alert-episodes" | "one-open-alert" | "anomaly-replay";

/** Each monitoring invariant's violation messages. */
export function verdicts(input: CheckInput): Record<Monitored, string[]> {
  const judged = judgeDevices(input, expect(input));
  const msgs = (f: { violations: { message: string }[] }) => f.violations.map((v) => v.message);
  return {
    "alert-episodes": msgs(alertEpisodes(judged)),
    "one-open-alert": msgs(oneOpenAlert(input.monitoring.alerts)),
    "anomaly-replay": msgs(anomalyReplay(judged)),
  };
}

/** The monitoring invariants that fail. */
export const failing = (input: CheckInput): Invariant[] =>
  Object.entries(verdicts(input)).filter(([, v]) => v.length > 0).map(([k]) => k as Invariant);

/** The hand-worked history with its monitoring changed by `f`. */
export const mutate = (
  f: (
    m: CheckInput["monitoring"] & {
      alerts: StoredAlert[];
      folds: StoredFold[];
      models: StoredModel[];
    },
  ) => void,
) => {
  const input = history();
  f(input.monitoring as never);
  return input;
};
