/**
 * The fold's settings (monitoring.ts) from the consumer's settings by name: config.ts passes the
 * values it read, postgres_store.ts the settings table's defaults.
 *
 * @module
 */

import type { MonitoringSettings } from "./monitoring.ts";

/** The settings {@linkcode monitoringSettings} reads, by name. */
export const MONITORING_NAMES = [
  "DEVICE_INTERVAL_MIN_S",
  "DEVICE_INTERVAL_MAX_S",
  "ALERT_TEMPERATURE_MAX",
  "ALERT_BATTERY_MIN",
  "ALERT_CLEAR_READINGS",
  "ALERT_TEMPERATURE_HYSTERESIS_C",
  "ALERT_BATTERY_HYSTERESIS",
  "ANOMALY_ALPHA",
  "ANOMALY_WARMUP",
  "ANOMALY_MIN_STDDEV",
  "ANOMALY_Z_THRESHOLD",
  "ANOMALY_CLEAR_Z",
  "ANOMALY_DRIFT_STEP",
  "ANOMALY_DRIFT_THRESHOLD",
  "ANOMALY_DRIFT_CLEAR",
] as const;

/** The values of the settings the fold of monitoring.ts reads, by name. */
export type MonitoringValues = Record<typeof MONITORING_NAMES[number], number>;

/** The fold's settings from their values (`own` of the settings, or the table's defaults). */
export function monitoringSettings(own: MonitoringValues): MonitoringSettings {
  return Object.freeze({
    device: Object.freeze({
      intervalMinS: own.DEVICE_INTERVAL_MIN_S,
      intervalMaxS: own.DEVICE_INTERVAL_MAX_S,
    }),
    anomaly: Object.freeze({
      alpha: own.ANOMALY_ALPHA,
      warmup: own.ANOMALY_WARMUP,
      minStddev: own.ANOMALY_MIN_STDDEV,
      driftStep: own.ANOMALY_DRIFT_STEP,
    }),
    alerts: Object.freeze({
      temperatureMax: own.ALERT_TEMPERATURE_MAX,
      batteryMin: own.ALERT_BATTERY_MIN,
      clearReadings: own.ALERT_CLEAR_READINGS,
      temperatureHysteresisC: own.ALERT_TEMPERATURE_HYSTERESIS_C,
      batteryHysteresis: own.ALERT_BATTERY_HYSTERESIS,
      anomalyZThreshold: own.ANOMALY_Z_THRESHOLD,
      anomalyClearZ: own.ANOMALY_CLEAR_Z,
      driftThreshold: own.ANOMALY_DRIFT_THRESHOLD,
      driftClear: own.ANOMALY_DRIFT_CLEAR,
    }),
  });
}
