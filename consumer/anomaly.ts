/**
 * The per-device anomaly model: for each metric, an exponentially weighted mean and variance that
 * score single unusual readings, and two rate-limited medians that catch a slow drift. Learned
 * reading by reading. Pure and deterministic: folding the same readings in the same order gives the
 * same numbers to the last bit, so a replay from scratch can check every stored score and model.
 *
 * For each metric x (temperature and humidity), with α = ANOMALY_ALPHA:
 * - score: z = |x − mean| / max(√variance, ANOMALY_MIN_STDDEV), once the model has learned from
 *   ANOMALY_WARMUP readings (before that, no score); the reading's score is the larger z;
 * - learning: d = x − mean, mean ← mean + α·d, variance ← (1 − α)·(variance + α·d²); the first
 *   reading sets mean = x and variance = 0.
 *
 * Every reading is learned from, so a sensor that jumps is flagged at first and becomes its new
 * normal after about 1/α readings. A sensor that drifts slowly is never flagged by z: the variance
 * grows with the ramp. Hence the drift part, with s = ANOMALY_DRIFT_STEP:
 * - `spread` tracks the median of |x − baseline| (× (1 + s/20) when above it, × (1 − s/20) when
 *   not, never below ANOMALY_MIN_STDDEV);
 * - `level` and `baseline` track the median of x, moving s·spread and s/10·spread towards each
 *   reading: the level follows a drift, the baseline follows it ten times slower;
 * - drift = |level − baseline| / spread, the reading's drift the larger of the two metrics.
 *
 * The steps are bounded, so an outlier moves the medians no more than any reading does: a heat
 * spike of k readings moves the level by at most k·s spreads, and ANOMALY_DRIFT_THRESHOLD sits
 * above what the simulated fleet's longest spikes (40 readings) reach. A drift moves the level
 * every reading, so its distance from the baseline grows until the threshold is passed, within
 * about threshold / (0.9·s) readings whatever the slope. When a drift stops, the baseline and the
 * spread catch up and the drift falls: the new level becomes normal. During warm-up the level and
 * the baseline are the mean, and the spread 0.6745·√variance (the median |deviation| of a normal).
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
  /** ANOMALY_MIN_STDDEV: the least standard deviation (and spread) a score divides by. */
  minStddev: number;
  /** ANOMALY_DRIFT_STEP: the level's step, in spreads per reading, in (0, 1]. */
  driftStep: number;
}

/** One metric's learned state. */
export interface MetricModel {
  /** Exponentially weighted mean. */
  mean: number;
  /** Exponentially weighted variance. */
  variance: number;
  /** Fast median (moves ANOMALY_DRIFT_STEP spreads a reading). */
  level: number;
  /** Slow median (moves a tenth of that). */
  baseline: number;
  /** Median of |x − baseline|, at least ANOMALY_MIN_STDDEV. */
  spread: number;
}

/** Median absolute deviation of a normal distribution, in standard deviations. */
const MAD_PER_SD = 0.6745;

/** A device's model: how many readings it learned from, and each metric's mean and variance. */
export interface AnomalyModel {
  /** Readings learned from. */
  n: number;
  /** Per metric; `null` until the first reading. */
  metrics: Record<AnomalyMetric, MetricModel> | null;
}

/** The model of a device not seen yet. */
export const EMPTY_MODEL: Readonly<AnomalyModel> = Object.freeze({ n: 0, metrics: null });

/** What a reading gets from the model. */
export interface Scored {
  /** Its z-score (`null` during warm-up). */
  score: number | null;
  /** Its drift (`null` during warm-up). */
  drift: number | null;
  /** The model after it. */
  model: AnomalyModel;
}

/**
 * Scores a reading against the model, then learns from it.
 *
 * @param model The model before the reading (not changed).
 * @param reading The reading's metrics.
 * @param settings Weight, warm-up, deviation floor and drift step.
 * @returns The score and drift (`null` during warm-up) and the model after the reading.
 */
export function scoreAndLearn(
  model: Readonly<AnomalyModel>,
  reading: Readonly<Record<AnomalyMetric, number>>,
  settings: Readonly<AnomalySettings>,
): Scored {
  const { alpha, warmup, minStddev, driftStep } = settings;
  if (model.metrics === null) {
    const first = (x: number): MetricModel => ({
      mean: x,
      variance: 0,
      level: x,
      baseline: x,
      spread: minStddev,
    });
    return {
      score: warmup <= 0 ? 0 : null,
      drift: warmup <= 0 ? 0 : null,
      model: {
        n: 1,
        metrics: { temperatura: first(reading.temperatura), umidade: first(reading.umidade) },
      },
    };
  }
  const warm = model.n >= warmup;
  let score = 0;
  let drift = 0;
  const metrics = {} as Record<AnomalyMetric, MetricModel>;
  for (const name of ANOMALY_METRICS) {
    const m = model.metrics[name];
    const x = reading[name];
    const d = x - m.mean;
    const mean = m.mean + alpha * d;
    const variance = (1 - alpha) * (m.variance + alpha * d * d);
    if (!warm) {
      const spread = Math.max(minStddev, MAD_PER_SD * Math.sqrt(variance));
      metrics[name] = { mean, variance, level: mean, baseline: mean, spread };
      continue;
    }
    score = Math.max(score, Math.abs(d) / Math.max(Math.sqrt(m.variance), minStddev));
    const wider = Math.abs(x - m.baseline) > m.spread;
    const spread = Math.max(
      minStddev,
      m.spread * (wider ? 1 + driftStep / 20 : 1 - driftStep / 20),
    );
    const level = m.level + driftStep * spread * Math.sign(x - m.level);
    const baseline = m.baseline + driftStep / 10 * spread * Math.sign(x - m.baseline);
    drift = Math.max(drift, Math.abs(level - baseline) / spread);
    metrics[name] = { mean, variance, level, baseline, spread };
  }
  return {
    score: warm ? score : null,
    drift: warm ? drift : null,
    model: { n: model.n + 1, metrics },
  };
}
