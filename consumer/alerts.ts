/**
 * The alert rules of the stream, one reading at a time (design-12.md, step 4): pure functions from
 * an alert as stored and one reading to the alert after it. monitoring.ts applies them in fold
 * order; the chaos checker may replay them from these same rules written out again.
 *
 * An alert is an *episode*: it opens when its rule *holds*, counts and tracks its peak while the
 * rule keeps holding, and clears after ALERT_CLEAR_READINGS consecutive *calm* readings (outside
 * a hysteresis band). A reading neither holding nor calm is inside the band and resets the streak.
 * - `temperature_high`: holds when temperatura > T; calm when temperatura <= T − hysteresis; the
 *   peak is the highest temperature.
 * - `battery_low`: holds when bateria < B; calm when bateria >= B + hysteresis; the peak is the
 *   lowest battery.
 * - `anomaly`: holds when the score is above the threshold; calm when it is at most the clearing
 *   score; a missing score (warm-up) is neither, so it is treated as inside the band. The peak is
 *   the highest score.
 * - `drift`: the same with the reading's drift (anomaly.ts) and its own threshold and clearing
 *   value; the peak is the highest drift.
 * - `offline` is opened by the offline job; the device's next folded reading not ahead clears it.
 *
 * @module
 */

import { epochMicros } from "./device_state.ts";

/** Every alert type of `tb_alerta.tipo`. */
export const ALERT_TYPES = [
  "temperature_high",
  "battery_low",
  "anomaly",
  "drift",
  "offline",
] as const;

/** One of {@linkcode ALERT_TYPES}. */
export type AlertType = typeof ALERT_TYPES[number];

/** The types whose rule a reading decides, in the order they are applied. */
export const READING_ALERT_TYPES = ["temperature_high", "battery_low", "anomaly", "drift"] as const;

/** One of {@linkcode READING_ALERT_TYPES}. */
export type ReadingAlertType = typeof READING_ALERT_TYPES[number];

/** Thresholds and hysteresis of the rules. */
export interface AlertSettings {
  /** ALERT_TEMPERATURE_MAX: temperature_high holds above it, in °C. */
  temperatureMax: number;
  /** ALERT_BATTERY_MIN: battery_low holds below it, in %. */
  batteryMin: number;
  /** ALERT_CLEAR_READINGS: consecutive calm readings that clear an alert (integer >= 1). */
  clearReadings: number;
  /** ALERT_TEMPERATURE_HYSTERESIS_C: calm at or below the maximum minus this. */
  temperatureHysteresisC: number;
  /** ALERT_BATTERY_HYSTERESIS: calm at or above the minimum plus this. */
  batteryHysteresis: number;
  /** ANOMALY_Z_THRESHOLD: anomaly holds above this score. */
  anomalyZThreshold: number;
  /** ANOMALY_CLEAR_Z: anomaly is calm at or below this score (at most the threshold). */
  anomalyClearZ: number;
  /** ANOMALY_DRIFT_THRESHOLD: drift holds above this drift. */
  driftThreshold: number;
  /** ANOMALY_DRIFT_CLEAR: drift is calm at or below this drift (at most the threshold). */
  driftClear: number;
}

/** An alert's lifecycle, as the columns of `tb_alerta` name it; times are ISO 8601 event times. */
export interface Alert {
  /** `tb_alerta.id` once stored; `null` for one opened by a fold and not written yet. */
  id: string | null;
  /** Its type. */
  tipo: AlertType;
  /** Event time of the reading that opened it. */
  opened_at: string;
  /** Latest event time at which its rule held. */
  last_triggered_at: string;
  /** Event time of the reading that cleared it; `null` while open. */
  cleared_at: string | null;
  /** Worst value while open (highest °C, lowest %, highest score, longest silence). */
  peak_value: number;
  /** Readings (or checks) at which its rule held. */
  trigger_count: number;
  /** Consecutive calm readings so far. */
  clear_streak: number;
  /** The reading that opened it (`null` for offline). */
  opened_event: string | null;
  /** The reading that cleared it. */
  cleared_event: string | null;
}

/** The fields of a reading the rules read. */
export interface AlertReading {
  /** Event id. */
  id: string;
  /** Event time, ISO 8601. */
  timestamp_ts: string;
  /** °C. */
  temperatura: number;
  /** %. */
  bateria: number;
}

/** What a reading says of one rule: it holds, it is calm, or it is inside the band. */
export type Verdict = "holds" | "calm" | "band";

/**
 * Judges one rule on one reading.
 *
 * @param tipo The rule.
 * @param reading The reading.
 * @param scores The reading's anomaly score and drift (`null` in warm-up).
 * @param settings Thresholds.
 * @returns The verdict and the value the alert's peak is made of (`NaN` for a missing score).
 */
export function judge(
  tipo: ReadingAlertType,
  reading: AlertReading,
  scores: { score: number | null; drift: number | null },
  settings: AlertSettings,
): { verdict: Verdict; value: number } {
  switch (tipo) {
    case "temperature_high": {
      const t = reading.temperatura;
      const verdict = t > settings.temperatureMax
        ? "holds"
        : t <= settings.temperatureMax - settings.temperatureHysteresisC
        ? "calm"
        : "band";
      return { verdict, value: t };
    }
    case "battery_low": {
      const b = reading.bateria;
      const verdict = b < settings.batteryMin
        ? "holds"
        : b >= settings.batteryMin + settings.batteryHysteresis
        ? "calm"
        : "band";
      return { verdict, value: b };
    }
    case "anomaly":
      return byScore(scores.score, settings.anomalyZThreshold, settings.anomalyClearZ);
    case "drift":
      return byScore(scores.drift, settings.driftThreshold, settings.driftClear);
  }
}

/** A score's verdict: holds above `threshold`, calm at or below `clear`; none is in the band. */
function byScore(
  score: number | null,
  threshold: number,
  clear: number,
): { verdict: Verdict; value: number } {
  if (score === null) return { verdict: "band", value: NaN };
  const verdict = score > threshold ? "holds" : score <= clear ? "calm" : "band";
  return { verdict, value: score };
}

/** Whether a greater value is worse for the type (its peak is a maximum), or a smaller one. */
function worse(tipo: AlertType, a: number, b: number): number {
  return tipo === "battery_low" ? Math.min(a, b) : Math.max(a, b);
}

/** The later of two ISO 8601 event times (the first when equal). */
export function laterOf(a: string, b: string): string {
  return epochMicros(b) > epochMicros(a) ? b : a;
}

/**
 * One reading applied to one rule's alert.
 *
 * @param tipo The rule.
 * @param open Its open alert, if any.
 * @param verdict What {@linkcode judge} said, with the value.
 * @param reading The reading.
 * @param clearReadings ALERT_CLEAR_READINGS.
 * @returns The alert still open after the reading (`open` itself when nothing changed), and the
 *   one it cleared, if it did.
 */
export function stepAlert(
  tipo: ReadingAlertType,
  open: Alert | undefined,
  verdict: { verdict: Verdict; value: number },
  reading: AlertReading,
  clearReadings: number,
): { open: Alert | undefined; cleared?: Alert } {
  if (open === undefined) {
    if (verdict.verdict !== "holds") return { open };
    return {
      open: {
        id: null,
        tipo,
        opened_at: reading.timestamp_ts,
        last_triggered_at: reading.timestamp_ts,
        cleared_at: null,
        peak_value: verdict.value,
        trigger_count: 1,
        clear_streak: 0,
        opened_event: reading.id,
        cleared_event: null,
      },
    };
  }
  switch (verdict.verdict) {
    case "holds":
      return {
        open: {
          ...open,
          trigger_count: open.trigger_count + 1,
          last_triggered_at: laterOf(open.last_triggered_at, reading.timestamp_ts),
          peak_value: worse(tipo, open.peak_value, verdict.value),
          clear_streak: 0,
        },
      };
    case "calm": {
      const streak = open.clear_streak + 1;
      if (streak < clearReadings) return { open: { ...open, clear_streak: streak } };
      return { open: undefined, cleared: clearedBy({ ...open, clear_streak: streak }, reading) };
    }
    case "band":
      return { open: open.clear_streak === 0 ? open : { ...open, clear_streak: 0 } };
  }
}

/**
 * An alert cleared by a reading: `cleared_at` is the later of its opening and the reading's time
 * (an out-of-order reading may be older than the opening). Used for offline by any reading.
 */
export function clearedBy(open: Alert, reading: AlertReading): Alert {
  return {
    ...open,
    cleared_at: laterOf(open.opened_at, reading.timestamp_ts),
    cleared_event: reading.id,
  };
}
