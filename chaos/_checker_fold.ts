/**
 * The checker's own replay of a device's monitoring (private to chaos/; see checker.ts): the
 * per-device anomaly model and the alert episodes, folded over the device's stored readings in
 * `seq_dispositivo` order from an empty state, as the rules of issue 12 say (docs in
 * `/work/design-12.md`, steps 1-4). Written from those rules, not from the consumer's code: a bug
 * in the consumer's fold cannot hide in both.
 *
 * The model is the recurrences of the rules, in the same order of operations (floating point is
 * not associative: the same operations in the same order give the same bits, so stored scores and
 * models are compared exactly).
 *
 * @module
 */

/** The thresholds and model settings the run's consumers were given (one source: monitoring.ts). */
export interface MonitoringSettings {
  /** ALERT_TEMPERATURE_MAX, °C. */
  temperatureMax: number;
  /** ALERT_BATTERY_MIN, %. */
  batteryMin: number;
  /** ALERT_CLEAR_READINGS: calm readings in a row that clear an alert. */
  clearReadings: number;
  /** ALERT_TEMPERATURE_HYSTERESIS_C. */
  temperatureHysteresisC: number;
  /** ALERT_BATTERY_HYSTERESIS, %. */
  batteryHysteresis: number;
  /** ANOMALY_ALPHA. */
  alpha: number;
  /** ANOMALY_WARMUP: readings learned before one gets a score. */
  warmup: number;
  /** ANOMALY_MIN_STDDEV. */
  minStddev: number;
  /** ANOMALY_Z_THRESHOLD: a score above it holds. */
  zThreshold: number;
  /** ANOMALY_CLEAR_Z: a score at or below it is calm. */
  clearZ: number;
  /** ANOMALY_DRIFT_STEP: the fast median's step, in spreads. */
  driftStep: number;
  /** ANOMALY_DRIFT_THRESHOLD: a drift above it holds. */
  driftThreshold: number;
  /** ANOMALY_DRIFT_CLEAR: a drift at or below it is calm. */
  driftClear: number;
}

/** The alert types a reading's fold opens and clears (offline is the periodic job's). */
export const FOLDED_TYPES = ["temperature_high", "battery_low", "anomaly", "drift"] as const;

/** One of {@linkcode FOLDED_TYPES}. */
export type FoldedType = typeof FOLDED_TYPES[number];

/** A reading as the replay needs it (`timestamp_ts` as `…ffffffZ` text, which sorts as time). */
export interface FoldReading {
  id: string;
  timestamp_ts: string;
  temperatura: number;
  umidade: number;
  bateria: number;
}

/** An alert episode as the replay leaves it: the lifecycle columns of `tb_alerta`. */
export interface Episode {
  tipo: FoldedType;
  opened_event: string;
  cleared_event: string | null;
  opened_at: string;
  cleared_at: string | null;
  last_triggered_at: string;
  trigger_count: number;
  peak_value: number;
  clear_streak: number;
}

/** The model's learned state of one metric. */
interface Moments {
  mean: number;
  variance: number;
  /** Fast median. */
  level: number;
  /** Slow median. */
  baseline: number;
  /** Median distance from the slow one. */
  spread: number;
}

/** A device's anomaly model after the replay. */
export interface ReplayedModel {
  /** Readings learned from. */
  n: number;
  /** Temperature's state; `null` before the first reading. */
  temperatura: Moments | null;
  /** Humidity's. */
  umidade: Moments | null;
}

/** What the replay of one device gives. */
export interface DeviceReplay {
  /** Each reading's score by id (`null`: warm-up or ahead). */
  scores: Map<string, number | null>;
  /** The model at the end. */
  model: ReplayedModel;
  /** Every episode, in the order opened. */
  episodes: Episode[];
}

/** How each type's rule reads a reading: its value, whether it holds, whether it is calm. */
interface Rule {
  value: (r: FoldReading, score: Scores) => number | null;
  holds: (v: number) => boolean;
  calm: (v: number) => boolean;
  /** Whether `a` is worse than the peak `b`. */
  worse: (a: number, b: number) => boolean;
}

function rules(s: MonitoringSettings): Record<FoldedType, Rule> {
  return {
    temperature_high: {
      value: (r) => r.temperatura,
      holds: (v) => v > s.temperatureMax,
      calm: (v) => v <= s.temperatureMax - s.temperatureHysteresisC,
      worse: (a, b) => a > b,
    },
    battery_low: {
      value: (r) => r.bateria,
      holds: (v) => v < s.batteryMin,
      calm: (v) => v >= s.batteryMin + s.batteryHysteresis,
      worse: (a, b) => a < b,
    },
    anomaly: {
      // A reading without a score (warm-up) neither holds nor is calm.
      value: (_, scores) => scores.z,
      holds: (v) => v > s.zThreshold,
      calm: (v) => v <= s.clearZ,
      worse: (a, b) => a > b,
    },
    drift: {
      value: (_, scores) => scores.drift,
      holds: (v) => v > s.driftThreshold,
      calm: (v) => v <= s.driftClear,
      worse: (a, b) => a > b,
    },
  };
}

/** A reading's z-score and drift; both `null` in warm-up. */
interface Scores {
  z: number | null;
  drift: number | null;
}

/**
 * Replays one device: its readings in `seq_dispositivo` order, with `ahead(id)` saying which were
 * too far past their record (no score, no learning, no alert change).
 */
export function replayDevice(
  readings: readonly FoldReading[],
  ahead: (id: string) => boolean,
  settings: MonitoringSettings,
): DeviceReplay {
  const byType = rules(settings);
  const model: ReplayedModel = { n: 0, temperatura: null, umidade: null };
  const scores = new Map<string, number | null>();
  const episodes: Episode[] = [];
  const open = new Map<FoldedType, Episode>();
  for (const r of readings) {
    if (ahead(r.id)) {
      scores.set(r.id, null);
      continue;
    }
    const scored = learn(model, r, settings);
    scores.set(r.id, scored.z);
    for (const tipo of FOLDED_TYPES) {
      const rule = byType[tipo];
      const v = rule.value(r, scored);
      const alert = open.get(tipo);
      if (alert === undefined) {
        if (v !== null && rule.holds(v)) {
          const opened: Episode = {
            tipo,
            opened_event: r.id,
            cleared_event: null,
            opened_at: r.timestamp_ts,
            cleared_at: null,
            last_triggered_at: r.timestamp_ts,
            trigger_count: 1,
            peak_value: v,
            clear_streak: 0,
          };
          episodes.push(opened);
          open.set(tipo, opened);
        }
      } else if (v !== null && rule.holds(v)) {
        alert.trigger_count++;
        alert.last_triggered_at = later(alert.last_triggered_at, r.timestamp_ts);
        if (rule.worse(v, alert.peak_value)) alert.peak_value = v;
        alert.clear_streak = 0;
      } else if (v !== null && rule.calm(v)) {
        alert.clear_streak++;
        if (alert.clear_streak >= settings.clearReadings) {
          alert.cleared_at = later(alert.opened_at, r.timestamp_ts);
          alert.cleared_event = r.id;
          open.delete(tipo);
        }
      } else {
        // Inside the band (or no score): the calm streak starts again.
        alert.clear_streak = 0;
      }
    }
  }
  return { scores, model, episodes };
}

/**
 * Scores a reading against the model as it stands, then learns from it (the rules' recurrences):
 * - z = |x − mean| / max(√variance, floor) once `warmup` readings were learned, the larger of the
 *   two metrics; d = x − mean, mean += α·d, variance = (1 − α)·(variance + α·d²);
 * - in warm-up both medians follow the new mean and spread = max(floor, 0.6745·√variance);
 * - after it, spread ×= 1 ± step/20 (+ when |x − baseline| is above it), at least the floor; then
 *   level moves step·spread and baseline step/10·spread towards x; drift = |level − baseline| /
 *   spread, the larger of the two metrics;
 * - the first reading sets mean, level and baseline to x, variance 0 and spread the floor.
 */
function learn(model: ReplayedModel, r: FoldReading, s: MonitoringSettings): Scores {
  const { alpha, warmup, minStddev, driftStep } = s;
  if (model.temperatura === null || model.umidade === null) {
    const start = (x: number): Moments => ({
      mean: x,
      variance: 0,
      level: x,
      baseline: x,
      spread: minStddev,
    });
    model.n = 1;
    model.temperatura = start(r.temperatura);
    model.umidade = start(r.umidade);
    return warmup <= 0 ? { z: 0, drift: 0 } : { z: null, drift: null };
  }
  const scored = model.n >= warmup;
  let z = 0;
  let drift = 0;
  for (const [m, x] of [[model.temperatura, r.temperatura], [model.umidade, r.umidade]] as const) {
    const d = x - m.mean;
    if (scored) z = Math.max(z, Math.abs(d) / Math.max(Math.sqrt(m.variance), minStddev));
    m.mean = m.mean + alpha * d;
    m.variance = (1 - alpha) * (m.variance + alpha * d * d);
    if (!scored) {
      m.level = m.mean;
      m.baseline = m.mean;
      m.spread = Math.max(minStddev, 0.6745 * Math.sqrt(m.variance));
      continue;
    }
    const factor = Math.abs(x - m.baseline) > m.spread ? 1 + driftStep / 20 : 1 - driftStep / 20;
    m.spread = Math.max(minStddev, m.spread * factor);
    m.level = m.level + driftStep * m.spread * Math.sign(x - m.level);
    m.baseline = m.baseline + driftStep / 10 * m.spread * Math.sign(x - m.baseline);
    drift = Math.max(drift, Math.abs(m.level - m.baseline) / m.spread);
  }
  model.n++;
  return scored ? { z, drift } : { z: null, drift: null };
}

/** The later of two `…ffffffZ` instants (fixed width: text order is time order). */
function later(a: string, b: string): string {
  return b > a ? b : a;
}
