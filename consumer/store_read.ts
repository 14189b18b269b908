/**
 * A device as the consumer's write reads it back (`READ_DEVICES` of store_write_sql.ts): the row's
 * columns, and the snapshot the fold plans from.
 *
 * @module
 */

import type { Alert, AlertType } from "./alerts.ts";
import type { MetricModel } from "./anomaly.ts";
import type { DeviceSnapshot } from "./monitoring.ts";

/** A row of `READ_DEVICES`. */
export interface DeviceRow {
  id_dispositivo: string;
  versao: number;
  id_evento: string | null;
  timestamp_ts: string | null;
  temperatura: number;
  umidade: number;
  latitude: number;
  longitude: number;
  status: string;
  bateria: number;
  alerta: boolean;
  primeiro_timestamp_ts: string | null;
  qt_leituras: number;
  intervalo_s: number | null;
  anomalia_n: number;
  temperatura_media: number | null;
  temperatura_var: number | null;
  umidade_media: number | null;
  umidade_var: number | null;
  temperatura_nivel: number | null;
  temperatura_base: number | null;
  temperatura_dispersao: number | null;
  umidade_nivel: number | null;
  umidade_base: number | null;
  umidade_dispersao: number | null;
  open: string;
}

/**
 * One metric's model as read back. A model stored before the drift columns existed starts its
 * medians at its mean and its spread at 0, which anomaly.ts raises to the floor at once.
 */
function metricOf(row: DeviceRow, metric: "temperatura" | "umidade"): MetricModel {
  const mean = row[`${metric}_media`]!;
  return {
    mean,
    variance: row[`${metric}_var`] ?? 0,
    level: row[`${metric}_nivel`] ?? mean,
    baseline: row[`${metric}_base`] ?? mean,
    spread: row[`${metric}_dispersao`] ?? 0,
  };
}

/** A device as read back: its snapshot. */
export function snapshotOf(row: DeviceRow): DeviceSnapshot {
  const open: Partial<Record<AlertType, Alert>> = {};
  for (const alert of JSON.parse(row.open) as Omit<Alert, "cleared_at" | "cleared_event">[]) {
    open[alert.tipo] = { ...alert, cleared_at: null, cleared_event: null };
  }
  const hasModel = row.temperatura_media !== null && row.umidade_media !== null;
  return {
    versao: row.versao,
    state: {
      id_dispositivo: row.id_dispositivo,
      latest: row.id_evento === null || row.timestamp_ts === null ? null : {
        id: row.id_evento,
        timestamp_ts: row.timestamp_ts,
        temperatura: row.temperatura,
        umidade: row.umidade,
        latitude: row.latitude,
        longitude: row.longitude,
        status: row.status,
        bateria: row.bateria,
        alerta: row.alerta,
      },
      primeiro_timestamp_ts: row.primeiro_timestamp_ts,
      qt_leituras: row.qt_leituras,
      intervalo_s: row.intervalo_s,
    },
    model: {
      n: row.anomalia_n,
      metrics: hasModel
        ? { temperatura: metricOf(row, "temperatura"), umidade: metricOf(row, "umidade") }
        : null,
    },
    open,
  };
}
