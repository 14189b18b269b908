/**
 * Monitoring in the stream, as a pure fold (design-12.md, "Fold order"): a device as stored and
 * the readings one write inserts for it, in fold order, in; the device after them, each reading's
 * place and anomaly score, and the alert rows to write, out. postgres_store.ts writes the result
 * in the statement that inserts the readings; nothing here touches a database.
 *
 * Per reading, in order:
 * 1. it is counted, and its `seq_dispositivo` is the new count (ahead readings too);
 * 2. a reading ahead of its record gets no score and changes nothing else;
 * 3. otherwise the device state (device_state.ts), then the anomaly model (anomaly.ts): the score
 *    against the model before it, then the model learns from it;
 * 4. then the alert rules (alerts.ts), each type on its own; an open offline alert is cleared.
 *
 * @module
 */

import {
  type Alert,
  type AlertSettings,
  type AlertType,
  clearedBy,
  judge,
  READING_ALERT_TYPES,
  stepAlert,
} from "./alerts.ts";
import { type AnomalyModel, type AnomalySettings, EMPTY_MODEL, scoreAndLearn } from "./anomaly.ts";
import {
  type DeviceReading,
  type DeviceState,
  type DeviceStateSettings,
  foldDevice,
} from "./device_state.ts";

/** Every setting of the fold. */
export interface MonitoringSettings {
  /** DEVICE_INTERVAL_MIN_S and DEVICE_INTERVAL_MAX_S. */
  device: Pick<DeviceStateSettings, "intervalMinS" | "intervalMaxS">;
  /** ANOMALY_ALPHA, ANOMALY_WARMUP, ANOMALY_MIN_STDDEV, ANOMALY_DRIFT_STEP. */
  anomaly: AnomalySettings;
  /** The alert thresholds and hysteresis. */
  alerts: AlertSettings;
}

/** A device as stored at one version: what a write plans from. */
export interface DeviceSnapshot {
  /** `tb_dispositivo.versao`; `null` when the device has no row yet. */
  versao: number | null;
  /** Its state; `undefined` when it has no row yet. */
  state: DeviceState | undefined;
  /** Its anomaly model. */
  model: AnomalyModel;
  /** Its open alerts, by type (at most one each). */
  open: Partial<Record<AlertType, Alert>>;
}

/** The snapshot of a device not seen yet. */
export const NEW_DEVICE: Readonly<DeviceSnapshot> = Object.freeze({
  versao: null,
  state: undefined,
  model: EMPTY_MODEL,
  open: Object.freeze({}),
});

/** What the fold gives each inserted reading. */
export interface ReadingMark {
  /** Place in its device's fold: the device's count once it was counted. */
  seq: number;
  /** Anomaly score; `null` in warm-up and for a reading ahead. */
  score: number | null;
}

/** One device's part of a write. */
export interface DevicePlan {
  /** Device id. */
  device: string;
  /** As stored (its `versao` guards the write). */
  before: DeviceSnapshot;
  /**
   * As it will be stored: `versao` one more than before (1 for a new device); an alert opened by
   * this fold and still open has `id: null` until the write returns it.
   */
  after: DeviceSnapshot;
  /** Stored alerts whose lifecycle changed (cleared ones included), to update by id. */
  updates: Alert[];
  /** Alerts this fold opened, in the order opened (cleared ones included), to insert. */
  inserts: Alert[];
}

/** A whole write's plan. */
export interface WritePlan {
  /** Each device with readings, in the order first seen in the rows. */
  devices: DevicePlan[];
  /** Each row's mark, by event id. */
  marks: Map<string, ReadingMark>;
}

/**
 * Folds the readings one write inserts for one device.
 *
 * @param before The device as stored ({@linkcode NEW_DEVICE} when it has no row).
 * @param readings Its readings the write inserts, in fold order (at least one).
 * @param settings The fold's settings.
 * @param marks Receives each reading's mark, by id.
 * @throws {RangeError} when a reading belongs to another device (from device_state.ts).
 */
export function planDevice(
  before: DeviceSnapshot,
  readings: readonly DeviceReading[],
  settings: MonitoringSettings,
  marks: Map<string, ReadingMark>,
): DevicePlan {
  const state = foldDevice(before.state, readings, settings.device);
  const { clearReadings } = settings.alerts;
  let model = before.model;
  const open: Partial<Record<AlertType, Alert>> = { ...before.open };
  const updates = new Map<string, Alert>();
  const inserts: Alert[] = [];
  const closed = (alert: Alert) => {
    if (alert.id === null) inserts.push(alert);
    else updates.set(alert.id, alert);
  };
  let seq = before.state?.qt_leituras ?? 0;
  for (const reading of readings) {
    seq++;
    if (reading.ahead) {
      marks.set(reading.id, { seq, score: null });
      continue;
    }
    const scored = scoreAndLearn(model, reading, settings.anomaly);
    model = scored.model;
    marks.set(reading.id, { seq, score: scored.score });
    for (const tipo of READING_ALERT_TYPES) {
      const verdict = judge(tipo, reading, scored, settings.alerts);
      const step = stepAlert(tipo, open[tipo], verdict, reading, clearReadings);
      if (step.cleared !== undefined) closed(step.cleared);
      if (step.open === undefined) delete open[tipo];
      else open[tipo] = step.open;
    }
    if (open.offline !== undefined) {
      closed(clearedBy(open.offline, reading));
      delete open.offline;
    }
  }
  for (const alert of Object.values(open)) {
    if (alert.id === null) inserts.push(alert);
    else if (alert !== before.open[alert.tipo]) updates.set(alert.id, alert);
  }
  return {
    device: state.id_dispositivo,
    before,
    after: { versao: (before.versao ?? 0) + 1, state, model, open },
    updates: [...updates.values()],
    inserts,
  };
}

/**
 * Folds the rows one write inserts, device by device.
 *
 * @param rows The rows planned as inserted, in fold (offset) order.
 * @param snapshotOf The device as stored, for each device of the rows.
 * @param settings The fold's settings.
 */
export function planWrite(
  rows: readonly DeviceReading[],
  snapshotOf: (device: string) => DeviceSnapshot,
  settings: MonitoringSettings,
): WritePlan {
  const marks = new Map<string, ReadingMark>();
  const devices = [...Map.groupBy(rows, (r) => r.id_dispositivo)].map(([device, readings]) =>
    planDevice(snapshotOf(device), readings, settings, marks)
  );
  return { devices, marks };
}
