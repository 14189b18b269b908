/**
 * The per-device anomaly model: an exponentially weighted mean and variance of each metric,
 * learned reading by reading, and the score of a reading against the model as it stood before it.
 * Pure and deterministic: folding the same readings in the same order gives the same numbers to
 * the last bit, so a replay from scratch can check every stored score.
 *
 * For each metric x (temperature and humidity), with α = ANOMALY_ALPHA:
 * - score: z = |x − mean| / max(√variance, ANOMALY_MIN_STDDEV), once the model has learned from
 *   ANOMALY_WARMUP readings (before that, no score); the reading's score is the larger z;
 * - learning: d = x − mean, mean ← mean + α·d, variance ← (1 − α)·(variance + α·d²); the first
 *   reading sets mean = x and variance = 0.
 *
 * Every reading is learned from, anomalous or not: a sensor that drifts is flagged at first, and
 * becomes its new normal after about 1/α readings. The floor on the deviation keeps a device whose
 * readings never change from scoring a tiny wobble as infinitely unusual.
 *
 * @module
 */

/** The metrics the model learns, by their column names. */
export const ANOMALY_METRICS = ["temperatura", "umidade"] as const;

/** One of {@linkcode ANOMALY_METRICS}. */
export type AnomalyMetric = typeof ANOMALY_METRICS[number];

/** The model's settings. */
export interface AnomalySettings {
  /** ANOMALY_ALPHA: weight of a new reading in the mean and variance, in (0, 1). */
  alpha: number;
  /** ANOMALY_WARMUP: readings learned before a reading gets a score. */
  warmup: number;
  /** ANOMALY_MIN_STDDEV: the least standard deviation a score divides by. */
  minStddev: number;
}

/** One metric's learned mean and variance. */
export interface MetricModel {
  /** Exponentially weighted mean. */
  mean: number;
  /** Exponentially weighted variance. */
  variance: number;
}

/** A device's model: how many readings it learned from, and each metric's mean and variance. */
export interface AnomalyModel {
  /** Readings learned from. */
  n: number;
  /** Per metric; `null` until the first reading. */
  metrics: Record<AnomalyMetric, MetricModel> | null;
}

/** The model of a device not seen yet. */
export const EMPTY_MODEL: Readonly<AnomalyModel> = Object.freeze({ n: 0, metrics: null });

/**
 * Scores a reading against the model, then learns from it.
 *
 * @param model The model before the reading (not changed).
 * @param reading The reading's metrics.
 * @param settings Weight, warm-up and deviation floor.
 * @returns The score (`null` during warm-up) and the model after the reading.
 */
export function scoreAndLearn(
  model: Readonly<AnomalyModel>,
  reading: Readonly<Record<AnomalyMetric, number>>,
  settings: Readonly<AnomalySettings>,
): { score: number | null; model: AnomalyModel } {
  const { alpha, warmup, minStddev } = settings;
  if (model.metrics === null) {
    const first = (x: number): MetricModel => ({ mean: x, variance: 0 });
    return {
      score: warmup <= 0 ? 0 : null,
      model: {
        n: 1,
        metrics: { temperatura: first(reading.temperatura), umidade: first(reading.umidade) },
      },
    };
  }
  let score: number | null = model.n >= warmup ? 0 : null;
  const metrics = {} as Record<AnomalyMetric, MetricModel>;
  for (const name of ANOMALY_METRICS) {
    const { mean, variance } = model.metrics[name];
    const d = reading[name] - mean;
    if (score !== null) {
      score = Math.max(score, Math.abs(d) / Math.max(Math.sqrt(variance), minStddev));
    }
    metrics[name] = { mean: mean + alpha * d, variance: (1 - alpha) * (variance + alpha * d * d) };
  }
  return { score, model: { n: model.n + 1, metrics } };
}
