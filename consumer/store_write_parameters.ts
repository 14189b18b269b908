/**
 * What the write statement (store_write_sql.ts) is given: its text for a write and its
 * parameters, built from the write plan of monitoring.ts. Pure: no I/O.
 *
 * @module
 */

import type { BatchRow, Fence } from "./event_store.ts";
import type { WritePlan } from "./monitoring.ts";
import { writeStatement } from "./store_write_sql.ts";

/** A write: the rows (unique by id, in fold order) under a fence. */
export interface GatedWrite {
  /** The partition and the offset expected. */
  fence: Fence;
  /** The rows, unique by id, in offset order. */
  rows: readonly BatchRow[];
  /** A batch: move the offset here and insert these rejects (a JSON document). */
  batch?: { nextOffset: string; rejects: string };
}

/** The two statements' texts, made once. */
const STATEMENTS = { fence: writeStatement("fence"), owner: writeStatement("owner") };

/** The statement text for a write: a batch's (fence) or one row's (owner). */
export function statementOf(write: GatedWrite): string {
  return write.batch === undefined ? STATEMENTS.owner : STATEMENTS.fence;
}

/**
 * The statement's parameters (see `WriteParameters` in store_write_sql.ts) for the rows given:
 * the write's own, or none when they go by COPY.
 */
export function writeParameters(write: GatedWrite, rows: readonly BatchRow[], plan: WritePlan) {
  const { fence } = write;
  // Written out by hand: an array per row for JSON.stringify was a measurable share of the
  // write's CPU. A number's JSON text is String(n) when finite, else null, as JSON.stringify.
  let marks = "[";
  for (let i = 0; i < rows.length; i++) {
    const { seq, score } = plan.marks.get(rows[i].id)!;
    marks += `${i === 0 ? "" : ","}[${seq},${
      score !== null && Number.isFinite(score) ? score : "null"
    }]`;
  }
  marks += "]";
  const devices = plan.devices.map(({ device, before, after }) => {
    const latest = after.state!.latest;
    const metrics = after.model.metrics;
    return {
      id_dispositivo: device,
      versao: before.versao,
      id_evento: latest?.id ?? null,
      timestamp_ts: latest?.timestamp_ts ?? null,
      temperatura: latest?.temperatura ?? null,
      umidade: latest?.umidade ?? null,
      latitude: latest?.latitude ?? null,
      longitude: latest?.longitude ?? null,
      status: latest?.status ?? null,
      bateria: latest?.bateria ?? null,
      alerta: latest?.alerta ?? null,
      primeiro_timestamp_ts: after.state!.primeiro_timestamp_ts,
      qt_leituras: after.state!.qt_leituras,
      intervalo_s: after.state!.intervalo_s,
      anomalia_n: after.model.n,
      temperatura_media: metrics?.temperatura.mean ?? null,
      temperatura_var: metrics?.temperatura.variance ?? null,
      umidade_media: metrics?.umidade.mean ?? null,
      umidade_var: metrics?.umidade.variance ?? null,
      temperatura_nivel: metrics?.temperatura.level ?? null,
      temperatura_base: metrics?.temperatura.baseline ?? null,
      temperatura_dispersao: metrics?.temperatura.spread ?? null,
      umidade_nivel: metrics?.umidade.level ?? null,
      umidade_base: metrics?.umidade.baseline ?? null,
      umidade_dispersao: metrics?.umidade.spread ?? null,
    };
  });
  const updates = plan.devices.flatMap((d) => d.updates);
  const inserts = plan.devices.flatMap((d) =>
    d.inserts.map((alert) => ({ ...alert, id_dispositivo: d.device }))
  );
  const params: (string | number)[] = [
    fence.groupId,
    fence.topic,
    fence.partition,
    fence.expectedOffset,
    fence.topicId,
    JSON.stringify(rows),
    JSON.stringify(devices),
    JSON.stringify(updates),
    JSON.stringify(inserts),
    rows.length,
    devices.length,
    updates.length,
    inserts.length,
    marks,
  ];
  if (write.batch !== undefined) params.push(write.batch.nextOffset, write.batch.rejects);
  return params;
}
