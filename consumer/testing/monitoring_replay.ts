/**
 * Test helper: what PostgresStore stored for every device (tb_dispositivo, tb_alerta, each
 * reading's seq_dispositivo and escore_anomalia) must equal the pure fold of monitoring.ts replayed
 * from an empty state over the device's stored readings in seq order. Never imported by the
 * consumer itself.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Sql } from "postgres";
import type { Alert } from "../alerts.ts";
import type { DeviceReading } from "../device_state.ts";
import {
  type MonitoringSettings,
  NEW_DEVICE,
  planDevice,
  type ReadingMark,
} from "../monitoring.ts";

const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface StoredReading extends Omit<DeviceReading, "ahead"> {
  seq: number | null;
  score: number | null;
}

/**
 * Replays every device's stored readings and compares. `ahead` says which readings were ahead
 * of their record (not stored, so the test that wrote them knows). Returns how many devices and
 * alerts it compared.
 */
export async function assertStoredEqualsReplay(
  sql: Sql,
  settings: MonitoringSettings,
  ahead: ReadonlySet<string>,
): Promise<{ devices: number; alerts: number }> {
  const rows = await sql.unsafe<StoredReading[]>(`
    SELECT id::text AS id, id_dispositivo, ${iso("timestamp_ts")} AS timestamp_ts, temperatura,
      umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo::float8 AS seq,
      escore_anomalia AS score
    FROM tb_sensor_evento ORDER BY id_dispositivo, seq_dispositivo`);
  const devices = new Map(
    (await sql.unsafe<Record<string, unknown>[]>(`
      SELECT id_dispositivo, id_evento::text AS id_evento, ${iso("timestamp_ts")} AS timestamp_ts,
        ${iso("primeiro_timestamp_ts")} AS primeiro_timestamp_ts, qt_leituras::float8 AS qt,
        intervalo_s, versao::float8 AS versao, anomalia_n::float8 AS anomalia_n,
        temperatura_media, temperatura_var, umidade_media, umidade_var, temperatura, bateria,
        temperatura_nivel, temperatura_base, temperatura_dispersao, umidade_nivel, umidade_base,
        umidade_dispersao
      FROM tb_dispositivo`)).map((d) => [d.id_dispositivo as string, d]),
  );
  const alerts = Map.groupBy(
    await sql.unsafe<(Alert & { id_dispositivo: string })[]>(`
      SELECT id_dispositivo, tipo, ${iso("opened_at")} AS opened_at,
        ${iso("last_triggered_at")} AS last_triggered_at, ${iso("cleared_at")} AS cleared_at,
        peak_value, trigger_count::float8 AS trigger_count, clear_streak,
        opened_event::text AS opened_event, cleared_event::text AS cleared_event
      FROM tb_alerta WHERE tipo <> 'offline' ORDER BY id`),
    (a) => a.id_dispositivo,
  );
  const byDevice = Map.groupBy(rows, (r) => r.id_dispositivo);
  assert.deepEqual([...devices.keys()].sort(), [...byDevice.keys()].sort(), "devices");
  let compared = 0;
  for (const [device, readings] of byDevice) {
    const where = `device ${device}`;
    assert.deepEqual(readings.map((r) => r.seq), readings.map((_, i) => i + 1), `${where}: seqs`);
    const marks = new Map<string, ReadingMark>();
    const folded = readings.map(({ seq: _, score: __, ...r }) => ({
      ...r,
      ahead: ahead.has(r.id),
    }));
    const plan = planDevice(NEW_DEVICE, folded, settings, marks);
    for (const r of readings) assert.equal(r.score, marks.get(r.id)!.score, `${where}: score`);
    const d = devices.get(device)!;
    const state = plan.after.state!;
    const model = plan.after.model;
    assert.deepEqual({
      id_evento: d.id_evento,
      timestamp_ts: d.timestamp_ts,
      primeiro_timestamp_ts: d.primeiro_timestamp_ts,
      qt: d.qt,
      intervalo_s: d.intervalo_s,
      anomalia_n: d.anomalia_n,
      temperatura_media: d.temperatura_media,
      temperatura_var: d.temperatura_var,
      umidade_media: d.umidade_media,
      umidade_var: d.umidade_var,
      temperatura_nivel: d.temperatura_nivel,
      temperatura_base: d.temperatura_base,
      temperatura_dispersao: d.temperatura_dispersao,
      umidade_nivel: d.umidade_nivel,
      umidade_base: d.umidade_base,
      umidade_dispersao: d.umidade_dispersao,
      temperatura: d.temperatura,
      bateria: d.bateria,
    }, {
      id_evento: state.latest?.id ?? null,
      timestamp_ts: state.latest?.timestamp_ts ?? null,
      primeiro_timestamp_ts: state.primeiro_timestamp_ts,
      qt: state.qt_leituras,
      intervalo_s: state.intervalo_s,
      anomalia_n: model.n,
      temperatura_media: model.metrics?.temperatura.mean ?? null,
      temperatura_var: model.metrics?.temperatura.variance ?? null,
      umidade_media: model.metrics?.umidade.mean ?? null,
      umidade_var: model.metrics?.umidade.variance ?? null,
      temperatura_nivel: model.metrics?.temperatura.level ?? null,
      temperatura_base: model.metrics?.temperatura.baseline ?? null,
      temperatura_dispersao: model.metrics?.temperatura.spread ?? null,
      umidade_nivel: model.metrics?.umidade.level ?? null,
      umidade_base: model.metrics?.umidade.baseline ?? null,
      umidade_dispersao: model.metrics?.umidade.spread ?? null,
      temperatura: state.latest?.temperatura ?? null,
      bateria: state.latest?.bateria ?? null,
    }, where);
    assert.ok((d.versao as number) >= 1, `${where}: versao ${d.versao}`);
    const episode = (a: Alert) => ({
      tipo: a.tipo,
      opened_at: a.opened_at,
      last_triggered_at: a.last_triggered_at,
      cleared_at: a.cleared_at,
      peak_value: a.peak_value,
      trigger_count: a.trigger_count,
      clear_streak: a.cleared_at === null ? a.clear_streak : null,
      opened_event: a.opened_event,
      cleared_event: a.cleared_event,
    });
    const key = (a: ReturnType<typeof episode>) => `${a.tipo} ${a.opened_at} ${a.opened_event}`;
    const sorted = (list: Alert[]) =>
      list.map(episode).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    assert.deepEqual(sorted(alerts.get(device) ?? []), sorted(plan.inserts), `${where}: alerts`);
    compared += plan.inserts.length;
  }
  return { devices: byDevice.size, alerts: compared };
}
