/**
 * The monitoring settings of a chaos run (issue 12): given to every consumer as its environment
 * and to the checker as the rules its replay follows. One source, so the two cannot disagree.
 *
 * @module
 */

import type { MonitoringSettings } from "./_checker_fold.ts";
import { ALERT } from "./ledger.ts";

/**
 * The run's settings. The contract's alert thresholds (the ledger's `alerta` follows them too);
 * a warm-up short enough for the devices of a one-fault run (about 20 readings each) to get
 * scores; a drift step and threshold that let the workload's short ramps (and some heat spikes)
 * open `drift` episodes within those few readings; the other values are the documented defaults,
 * set explicitly so a change of a default does not change what the checker expects.
 */
export const RUN_MONITORING: Readonly<MonitoringSettings> = Object.freeze({
  temperatureMax: ALERT.temperatureMax,
  batteryMin: ALERT.batteryMin,
  clearReadings: 3,
  temperatureHysteresisC: 1,
  batteryHysteresis: 5,
  alpha: 0.05,
  warmup: 5,
  minStddev: 0.1,
  zThreshold: 4,
  clearZ: 3,
  driftStep: 0.5,
  driftThreshold: 3,
  driftClear: 1.5,
});

/** The consumer environment that gives it {@linkcode RUN_MONITORING}. */
export function monitoringEnv(
  s: Readonly<MonitoringSettings> = RUN_MONITORING,
): Record<string, string> {
  return {
    ALERT_TEMPERATURE_MAX: String(s.temperatureMax),
    ALERT_BATTERY_MIN: String(s.batteryMin),
    ALERT_CLEAR_READINGS: String(s.clearReadings),
    ALERT_TEMPERATURE_HYSTERESIS_C: String(s.temperatureHysteresisC),
    ALERT_BATTERY_HYSTERESIS: String(s.batteryHysteresis),
    ANOMALY_ALPHA: String(s.alpha),
    ANOMALY_WARMUP: String(s.warmup),
    ANOMALY_MIN_STDDEV: String(s.minStddev),
    ANOMALY_Z_THRESHOLD: String(s.zThreshold),
    ANOMALY_CLEAR_Z: String(s.clearZ),
    ANOMALY_DRIFT_STEP: String(s.driftStep),
    ANOMALY_DRIFT_THRESHOLD: String(s.driftThreshold),
    ANOMALY_DRIFT_CLEAR: String(s.driftClear),
  };
}
