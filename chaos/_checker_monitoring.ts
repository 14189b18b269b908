/**
 * What the checker reads back of the consumers' monitoring (issue 12; private to chaos/, see
 * checker.ts): each reading's place in its device's fold and its score, each device's anomaly
 * model, every alert, and the settings the consumers ran with.
 *
 * @module
 */

import type { MonitoringSettings } from "./_checker_fold.ts";

/** A reading's monitoring columns of `tb_sensor_evento`. */
export interface StoredFold {
  /** Reading id. */
  id: string;
  /** Its place in its device's fold (`null`: never folded). */
  seq_dispositivo: number | null;
  /** Its anomaly score (`null`: warm-up or ahead). */
  escore_anomalia: number | null;
}

/** A device's anomaly model columns of `tb_dispositivo`. */
export interface StoredModel {
  /** Device id. */
  id_dispositivo: string;
  /** Readings learned from. */
  anomalia_n: number;
  /** Temperature's weighted mean (`null` before the first reading). */
  temperatura_media: number | null;
  /** Temperature's weighted variance. */
  temperatura_var: number | null;
  /** Humidity's weighted mean. */
  umidade_media: number | null;
  /** Humidity's weighted variance. */
  umidade_var: number | null;
  /** Temperature's fast median (`null` before the first reading). */
  temperatura_nivel: number | null;
  /** Temperature's slow median. */
  temperatura_base: number | null;
  /** Temperature's spread. */
  temperatura_dispersao: number | null;
  /** Humidity's fast median. */
  umidade_nivel: number | null;
  /** Humidity's slow median. */
  umidade_base: number | null;
  /** Humidity's spread. */
  umidade_dispersao: number | null;
}

/** A row of `tb_alerta` (instants as `…ffffffZ` text, like `StoredRow.timestamp_ts`). */
export interface StoredAlert {
  /** Identity: creation order. */
  id: number;
  /** Device id. */
  id_dispositivo: string;
  /** temperature_high, battery_low, offline or anomaly. */
  tipo: string;
  /** Reading that opened it (`null` for offline). */
  opened_event: string | null;
  /** Reading that cleared it, `null` while open. */
  cleared_event: string | null;
  opened_at: string;
  cleared_at: string | null;
  last_triggered_at: string;
  trigger_count: number;
  peak_value: number;
  clear_streak: number;
  /**
   * offline: its device's count of folded readings when the job created it (`null` for the other
   * types, and for alerts created before the column existed).
   */
  qt_leituras_abertura: number | null;
}

/** The monitoring part of the checker's input. */
export interface Monitoring {
  /** Every reading's monitoring columns. */
  folds: readonly StoredFold[];
  /** Every device's model. */
  models: readonly StoredModel[];
  /** Every alert. */
  alerts: readonly StoredAlert[];
  /** The settings the run's consumers were given (chaos/monitoring.ts). */
  settings: MonitoringSettings;
}
