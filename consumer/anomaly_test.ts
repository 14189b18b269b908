import assert from "node:assert/strict";
import { type AnomalyModel, EMPTY_MODEL, scoreAndLearn } from "./anomaly.ts";

const SETTINGS = { alpha: 0.5, warmup: 3, minStddev: 0.1 };

function feed(readings: [number, number][], settings = SETTINGS) {
  let model: AnomalyModel = EMPTY_MODEL;
  const scores: (number | null)[] = [];
  for (const [temperatura, umidade] of readings) {
    const next = scoreAndLearn(model, { temperatura, umidade }, settings);
    scores.push(next.score);
    model = next.model;
  }
  return { model, scores };
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
    metrics: { temperatura: { mean: 21, variance: 1 }, umidade: { mean: 50, variance: 0 } },
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

Deno.test("a drift is flagged, then learned as the new normal", () => {
  const steady = Array.from({ length: 40 }, (_, i): [number, number] => [20 + (i % 2) * 0.2, 50]);
  const drifted = Array.from({ length: 40 }, (): [number, number] => [25, 50]);
  const { scores } = feed([...steady, ...drifted], { alpha: 0.1, warmup: 30, minStddev: 0.1 });
  assert.ok(scores[40]! > 4, `first drifted reading scores ${scores[40]}`);
  assert.ok(scores[79]! < 1, `fortieth drifted reading scores ${scores[79]}`);
});

Deno.test("a zero warm-up scores from the second reading on, the first against nothing", () => {
  assert.deepEqual(feed([[20, 50], [20, 50]], { ...SETTINGS, warmup: 0 }).scores, [0, 0]);
});
