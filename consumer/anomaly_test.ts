import assert from "node:assert/strict";
import { type AnomalyModel, EMPTY_MODEL, scoreAndLearn } from "./anomaly.ts";

const SETTINGS = { alpha: 0.5, warmup: 3, minStddev: 0.1, driftStep: 0.1 };

function feed(readings: [number, number][], settings = SETTINGS) {
  let model: AnomalyModel = EMPTY_MODEL;
  const scores: (number | null)[] = [];
  const drifts: (number | null)[] = [];
  for (const [temperatura, umidade] of readings) {
    const next = scoreAndLearn(model, { temperatura, umidade }, settings);
    scores.push(next.score);
    drifts.push(next.drift);
    model = next.model;
  }
  return { model, scores, drifts };
}

Deno.test("no score until the model has learned from the warm-up's readings", () => {
  const { scores } = feed([[20, 50], [20, 50], [20, 50], [20, 50]]);
  assert.deepEqual(scores, [null, null, null, 0]);
});

Deno.test("the mean and variance follow the exponentially weighted recurrences", () => {
  const { model } = feed([[20, 50], [22, 50]]);
  // d = 2: mean 20 + 0.5·2 = 21; variance (1 − 0.5)·(0 + 0.5·4) = 1.
  assert.deepEqual(model, {
    n: 2,
    // In warm-up the medians follow the mean; the spread is 0.6745·√variance, at least 0.1.
    metrics: {
      temperatura: { mean: 21, variance: 1, level: 21, baseline: 21, spread: 0.6745 },
      umidade: { mean: 50, variance: 0, level: 50, baseline: 50, spread: 0.1 },
    },
  });
});

Deno.test("a score is the larger |z| of the metrics against the model before the reading", () => {
  // After [20,50],[22,50],[20,50]: temperature mean 20.5, variance 0.5·(1 + 0.5·1) = 0.75; humidity 50, 0.
  const { scores } = feed([[20, 50], [22, 50], [20, 50], [20.5, 50.2]]);
  // Temperature z = 0; humidity's deviation is floored at 0.1: z = 0.2 / 0.1 = 2.
  assert.ok(Math.abs(scores[3]! - 2) < 1e-12, `score ${scores[3]}`);
  const hot = feed([[20, 50], [22, 50], [20, 50], [26.5, 50]]).scores[3]!;
  assert.ok(Math.abs(hot - 6 / Math.sqrt(0.75)) < 1e-12, `score ${hot}`);
});

Deno.test("a jump is scored high, then learned as the new normal", () => {
  const steady = Array.from({ length: 40 }, (_, i): [number, number] => [20 + (i % 2) * 0.2, 50]);
  const drifted = Array.from({ length: 40 }, (): [number, number] => [25, 50]);
  const { scores } = feed([...steady, ...drifted], { ...SETTINGS, alpha: 0.1, warmup: 30 });
  assert.ok(scores[40]! > 4, `first drifted reading scores ${scores[40]}`);
  assert.ok(scores[79]! < 1, `fortieth drifted reading scores ${scores[79]}`);
});

Deno.test("a zero warm-up scores from the second reading on, the first against nothing", () => {
  assert.deepEqual(feed([[20, 50], [20, 50]], { ...SETTINGS, warmup: 0 }).scores, [0, 0]);
});

/** A steady temperature with a small repeating wobble (±0.3 °C), humidity constant. */
const wobble = (
  i: number,
  at = 20,
): [number, number] => [at + [0, 0.3, -0.2, 0.1, -0.3][i % 5], 50];
const DRIFT = { alpha: 0.05, warmup: 30, minStddev: 0.1, driftStep: 0.1 };

Deno.test("drift: none until warm-up, and a steady sensor stays far below the threshold", () => {
  const { drifts } = feed(Array.from({ length: 2000 }, (_, i) => wobble(i)), DRIFT);
  assert.deepEqual(drifts.slice(0, 31), [...Array(30).fill(null), drifts[30]]);
  assert.ok(drifts[30] !== null);
  const worst = Math.max(...drifts.slice(30) as number[]);
  assert.ok(worst < 2, `steady: drift up to ${worst}`);
});

Deno.test("drift: a ramp of 0.1 °C a reading passes 6 within 100 readings, however it started", () => {
  const steady = Array.from({ length: 200 }, (_, i) => wobble(i));
  const ramp = Array.from({ length: 150 }, (_, i) => wobble(i, 20 + 0.1 * (i + 1)));
  const { drifts, scores } = feed([...steady, ...ramp], DRIFT);
  const flagged = drifts.findIndex((d, i) => i >= 200 && d! > 6) - 200;
  assert.ok(flagged > 0 && flagged < 100, `flagged after ${flagged} ramp readings`);
  // The z-score alone does not see it: the variance grows with the ramp.
  assert.ok(Math.max(...scores.slice(200) as number[]) < 4);
});

Deno.test("drift: a heat spike of 20 readings at +15 °C moves the fast median 2 spreads at most", () => {
  const before = Array.from({ length: 200 }, (_, i) => wobble(i));
  const spike = Array.from({ length: 20 }, (_, i) => wobble(i, 35));
  const after = Array.from({ length: 100 }, (_, i) => wobble(i));
  const { drifts, scores } = feed([...before, ...spike, ...after], DRIFT);
  assert.ok(scores[200]! > 4, "the z-score flags the spike");
  const worst = Math.max(...drifts.slice(200) as number[]);
  assert.ok(worst < 2.5, `spike: drift up to ${worst}`);
});

Deno.test("drift: once a ramp stops, the new level becomes normal and the drift falls to calm", () => {
  const steady = Array.from({ length: 200 }, (_, i) => wobble(i));
  const ramp = Array.from({ length: 100 }, (_, i) => wobble(i, 20 + 0.1 * (i + 1)));
  const held = Array.from({ length: 3000 }, (_, i) => wobble(i, 30));
  const { drifts } = feed([...steady, ...ramp, ...held], DRIFT);
  const peak = Math.max(...drifts.slice(200, 400) as number[]);
  assert.ok(peak > 6, `peak ${peak}`);
  const settled = drifts.findIndex((d, i) => i >= 300 && d! <= 3);
  assert.ok(settled > 300, "calm again at the new level");
  assert.ok(drifts.at(-1)! < 1, `last drift ${drifts.at(-1)}`);
});
