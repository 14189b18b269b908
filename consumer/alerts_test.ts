import assert from "node:assert/strict";
import {
  type Alert,
  type AlertReading,
  type AlertSettings,
  clearedBy,
  judge,
  type ReadingAlertType,
  stepAlert,
} from "./alerts.ts";

const SETTINGS: AlertSettings = {
  temperatureMax: 35,
  batteryMin: 15,
  clearReadings: 3,
  temperatureHysteresisC: 1,
  batteryHysteresis: 5,
  anomalyZThreshold: 4,
  anomalyClearZ: 3,
  driftThreshold: 6,
  driftClear: 3,
};

const NO_SCORES = { score: null, drift: null };

let serial = 0;
function reading(s: number, temperatura = 20, bateria = 80): AlertReading {
  const n = ++serial;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    timestamp_ts: new Date(Date.parse("2026-01-01T00:00:00Z") + s * 1000).toISOString()
      .replace("Z", "000Z"),
    temperatura,
    bateria,
  };
}

/** Applies readings (with their scores) to one rule from no alert; the open one and the cleared. */
function run(tipo: ReadingAlertType, inputs: [AlertReading, (number | null)?][], from?: Alert) {
  let open = from;
  const cleared: Alert[] = [];
  for (const [r, score] of inputs) {
    const step = stepAlert(
      tipo,
      open,
      judge(tipo, r, { score: score ?? null, drift: null }, SETTINGS),
      r,
      3,
    );
    if (step.cleared) cleared.push(step.cleared);
    open = step.open;
  }
  return { open, cleared };
}

Deno.test("judge() temperature: above T holds, T exactly is inside the band, T - hysteresis exactly is calm", () => {
  const v = (t: number) => judge("temperature_high", reading(0, t), NO_SCORES, SETTINGS).verdict;
  assert.equal(v(35.0001), "holds");
  assert.equal(v(35), "band");
  assert.equal(v(34.5), "band");
  assert.equal(v(34), "calm");
  assert.equal(v(-10), "calm");
});

Deno.test("judge() battery: below B holds, B exactly is inside the band, B + hysteresis exactly is calm", () => {
  const v = (b: number) => judge("battery_low", reading(0, 20, b), NO_SCORES, SETTINGS).verdict;
  assert.equal(v(14.99), "holds");
  assert.equal(v(15), "band");
  assert.equal(v(19.99), "band");
  assert.equal(v(20), "calm");
});

Deno.test("judge() anomaly: above the threshold holds, the clearing score exactly is calm, a null score is neither", () => {
  const v = (z: number | null) =>
    judge("anomaly", reading(0), { score: z, drift: null }, SETTINGS).verdict;
  assert.equal(v(4.0001), "holds");
  assert.equal(v(4), "band");
  assert.equal(v(3.0001), "band");
  assert.equal(v(3), "calm");
  assert.equal(v(0), "calm");
  assert.equal(v(null), "band");
});

Deno.test("judge() drift: above its threshold holds, its clearing value exactly is calm, a null drift is neither, the z-score is not read", () => {
  const v = (drift: number | null) => judge("drift", reading(0), { score: 100, drift }, SETTINGS);
  assert.deepEqual(v(6.0001), { verdict: "holds", value: 6.0001 });
  assert.equal(v(6).verdict, "band");
  assert.equal(v(3.0001).verdict, "band");
  assert.equal(v(3).verdict, "calm");
  assert.equal(v(null).verdict, "band");
});

Deno.test("stepAlert() opens on the first reading that holds, with its time, value and id", () => {
  const r = reading(10, 36);
  const { open } = run("temperature_high", [[reading(0, 35)], [r]]);
  assert.deepEqual(open, {
    id: null,
    tipo: "temperature_high",
    opened_at: r.timestamp_ts,
    last_triggered_at: r.timestamp_ts,
    cleared_at: null,
    peak_value: 36,
    trigger_count: 1,
    clear_streak: 0,
    opened_event: r.id,
    cleared_event: null,
  });
});

Deno.test("stepAlert() counts triggers, keeps the peak and the latest trigger time (an older reading does not move it back)", () => {
  const late = reading(5, 40);
  const { open } = run("temperature_high", [[reading(10, 36)], [reading(20, 38)], [late], [
    reading(30, 37),
  ]]);
  assert.equal(open?.trigger_count, 4);
  assert.equal(open?.peak_value, 40);
  assert.equal(open?.last_triggered_at, reading(30).timestamp_ts);
});

Deno.test("stepAlert() battery's peak is the lowest battery", () => {
  const { open } = run("battery_low", [[reading(1, 20, 10)], [reading(2, 20, 4)], [
    reading(3, 20, 12),
  ]]);
  assert.equal(open?.peak_value, 4);
  assert.equal(open?.trigger_count, 3);
});

Deno.test("stepAlert() clears on the N-th consecutive calm reading, not before", () => {
  const clearer = reading(40, 34);
  const { open, cleared } = run("temperature_high", [
    [reading(10, 36)],
    [reading(20, 34)],
    [reading(30, 33)],
    [clearer],
  ]);
  assert.equal(open, undefined);
  assert.equal(cleared.length, 1);
  assert.equal(cleared[0].cleared_at, clearer.timestamp_ts);
  assert.equal(cleared[0].cleared_event, clearer.id);
  assert.equal(cleared[0].clear_streak, 3);
  const twoCalm = run("temperature_high", [[reading(10, 36)], [reading(20, 34)], [
    reading(30, 33),
  ]]);
  assert.equal(twoCalm.open?.clear_streak, 2);
  assert.equal(twoCalm.cleared.length, 0);
});

Deno.test("stepAlert() a reading inside the band resets the streak; one that holds does too", () => {
  const band = run("temperature_high", [
    [reading(10, 36)],
    [reading(20, 34)],
    [reading(30, 34)],
    [reading(40, 34.5)],
    [reading(50, 34)],
    [reading(60, 34)],
  ]);
  assert.equal(band.open?.clear_streak, 2);
  assert.equal(band.cleared.length, 0);
  const held = run("temperature_high", [
    [reading(10, 36)],
    [reading(20, 34)],
    [reading(30, 34)],
    [reading(40, 35.5)],
  ]);
  assert.equal(held.open?.clear_streak, 0);
  assert.equal(held.open?.trigger_count, 2);
});

Deno.test("stepAlert() re-opens a new episode after a clear", () => {
  const again = reading(80, 37);
  const { open, cleared } = run("temperature_high", [
    [reading(10, 36)],
    [reading(20, 30)],
    [reading(30, 30)],
    [reading(40, 30)],
    [again],
  ]);
  assert.equal(cleared.length, 1);
  assert.equal(open?.opened_event, again.id);
  assert.equal(open?.trigger_count, 1);
  assert.equal(open?.id, null);
});

Deno.test("stepAlert() anomaly: a null score neither opens nor counts as calm", () => {
  assert.equal(run("anomaly", [[reading(1), null]]).open, undefined);
  const { open } = run("anomaly", [[reading(1), 5], [reading(2), 1], [reading(3), null], [
    reading(4),
    1,
  ]]);
  assert.equal(open?.clear_streak, 1);
  assert.equal(open?.peak_value, 5);
});

Deno.test("stepAlert() returns the same alert when nothing changes", () => {
  const { open } = run("temperature_high", [[reading(1, 36)]]);
  const step = stepAlert(
    "temperature_high",
    open,
    judge("temperature_high", reading(2, 35), NO_SCORES, SETTINGS),
    reading(2, 35),
    3,
  );
  assert.equal(step.open, open);
});

Deno.test("clearedBy() an out-of-order reading clears at the opening time, a later one at its own", () => {
  const { open } = run("temperature_high", [[reading(100, 36)]]);
  const old = reading(50);
  assert.equal(clearedBy(open!, old).cleared_at, open!.opened_at);
  assert.equal(clearedBy(open!, old).cleared_event, old.id);
  const later = reading(150);
  assert.equal(clearedBy(open!, later).cleared_at, later.timestamp_ts);
  const cleared = run("temperature_high", [[reading(30, 30)], [reading(40, 30)], [
    reading(20, 30),
  ]], open).cleared[0];
  assert.equal(cleared.cleared_at, open!.opened_at, "cleared_at = max(opened_at, ts)");
});
