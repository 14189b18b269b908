/**
 * One guarded write of rows and their monitoring (design-12.md, "Writing it"): the devices of the
 * rows as stored (from the cache, or read), the fold of monitoring.ts over the rows planned as
 * new, and one statement (store_write_sql.ts) that writes it all or nothing. When the statement
 * finds its plan wrong it raises, nothing is written, and the write is planned again:
 * - SQLSTATE IOT02, rows planned as new were stored already (re-sends): without them;
 * - class 40 (40001 from a guard, or a deadlock): with the devices read again, not cached.
 * A few such turns in a row are thrown to the caller, whose retry loop backs off.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { Alert, AlertType } from "./alerts.ts";
import type { DeviceCache } from "./device_cache.ts";
import type { BatchRow, Fence } from "./event_store.ts";
import { PLANNED_ROWS_STORED_SQLSTATE } from "./migrations.ts";
import {
  type DeviceSnapshot,
  type MonitoringSettings,
  NEW_DEVICE,
  planWrite,
  type WritePlan,
} from "./monitoring.ts";
import { type DeviceRow, snapshotOf } from "./store_read.ts";
import { READ_DEVICES, RESENT_IDS, writeStatement } from "./store_write_sql.ts";

/** Turns of a write whose devices changed under it before the error goes to the caller. */
export const RACE_TURNS = 3;

/** Turns of a write that found re-sent rows before the error goes to the caller. */
const RESENT_TURNS = 5;

/**
 * Why a write was planned again: `version`, a device or alert changed under it (40001 from a
 * guard); `deadlock`, another class 40 error (40P01); `resent`, rows planned as new were stored
 * already (IOT02). Only turns actually planned again count, not the last one thrown.
 */
export type ReplanReason = "version" | "deadlock" | "resent";

/** Told each time a write is planned again, e.g. to count it in a metric. */
export type OnReplan = (reason: ReplanReason) => void;

/** A write: the rows (unique by id, in fold order) under a fence. */
export interface GatedWrite {
  /** The partition and the offset expected. */
  fence: Fence;
  /** The rows, unique by id, in offset order. */
  rows: readonly BatchRow[];
  /** A batch: move the offset here and insert these rejects (a JSON document). */
  batch?: { nextOffset: string; rejects: string };
}

/** What a write did: whether the fence held, and how many rows it inserted. */
export interface WriteOutcome {
  /** The stored offset was the expected one (else nothing was written). */
  gated: boolean;
  /** Rows inserted. */
  inserted: number;
}

/** Writes rows with their devices' monitoring; keeps the device cache. */
export class StoreWriter {
  readonly #sql: () => Sql;
  readonly #settings: MonitoringSettings;
  readonly #cache: DeviceCache;
  readonly #onReplan: OnReplan;

  /**
   * @param sql The pool to use at each query.
   * @param settings The fold's settings.
   * @param cache Devices as last stored by this process.
   * @param onReplan Told each time a write is planned again.
   */
  constructor(
    sql: () => Sql,
    settings: MonitoringSettings,
    cache: DeviceCache,
    onReplan: OnReplan = () => {},
  ) {
    this.#sql = sql;
    this.#settings = settings;
    this.#cache = cache;
    this.#onReplan = onReplan;
  }

  /**
   * Writes the rows, their marks and their devices' state and alerts; for a batch, the offset and
   * the rejects too. Errors other than the two it plans again after (IOT01 among them) are thrown.
   */
  async write(write: GatedWrite): Promise<WriteOutcome> {
    let rows = write.rows;
    let fresh = false;
    for (let races = 0, resent = 0;;) {
      const snapshots = await this.#snapshots(rows, fresh);
      const plan = planWrite(rows, (d) => snapshots.get(d) ?? NEW_DEVICE, this.#settings);
      try {
        const [result] = await this.#sql().unsafe<
          { gated: number; inserted: number; opened: string }[]
        >(statement(write), parameters(write, rows, plan), { prepare: true });
        if (result.gated === 0) return { gated: false, inserted: 0 };
        this.#remember(plan, JSON.parse(result.opened));
        return { gated: true, inserted: result.inserted };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === PLANNED_ROWS_STORED_SQLSTATE && ++resent < RESENT_TURNS) {
          const resends = await this.#resent(rows);
          if (resends.size === 0) throw error;
          this.#onReplan("resent");
          rows = rows.filter((r) => !resends.has(r.id));
          continue;
        }
        if (typeof code === "string" && code.startsWith("40")) {
          for (const device of snapshots.keys()) this.#cache.delete(device);
          for (const r of rows) this.#cache.delete(r.id_dispositivo);
          if (++races < RACE_TURNS) {
            this.#onReplan(code === "40001" ? "version" : "deadlock");
            fresh = true;
            continue;
          }
        }
        throw error;
      }
    }
  }

  /** The devices of the rows as stored: cached, or read (all read when `fresh`). */
  async #snapshots(
    rows: readonly BatchRow[],
    fresh: boolean,
  ): Promise<Map<string, DeviceSnapshot>> {
    const found = new Map<string, DeviceSnapshot>();
    const missing = new Set<string>();
    for (const row of rows) {
      const device = row.id_dispositivo;
      if (found.has(device) || missing.has(device)) continue;
      const cached = fresh ? undefined : this.#cache.get(device);
      if (cached === undefined) missing.add(device);
      else found.set(device, cached);
    }
    if (missing.size === 0) return found;
    const read = await this.#sql().unsafe<DeviceRow[]>(
      READ_DEVICES,
      [JSON.stringify([...missing])],
      {
        prepare: true,
      },
    );
    for (const row of read) {
      const snapshot = snapshotOf(row);
      found.set(row.id_dispositivo, snapshot);
      this.#cache.set(row.id_dispositivo, snapshot);
    }
    return found;
  }

  /** The rows' ids stored with the same reading (re-sends; see {@linkcode RESENT_IDS}). */
  async #resent(rows: readonly BatchRow[]): Promise<Set<string>> {
    const found = await this.#sql().unsafe<{ id: string }[]>(RESENT_IDS, [JSON.stringify(rows)]);
    return new Set(found.map((r) => r.id));
  }

  /** Caches each device as the write stored it, with the ids of the alerts it opened. */
  #remember(plan: WritePlan, opened: [string, string, AlertType][]): void {
    const ids = new Map(opened.map(([id, device, tipo]) => [`${device}\u0000${tipo}`, id]));
    for (const { device, after } of plan.devices) {
      const open: Partial<Record<AlertType, Alert>> = {};
      for (const alert of Object.values(after.open)) {
        const id = alert.id ?? ids.get(`${device}\u0000${alert.tipo}`);
        if (id === undefined) throw new Error(`the write returned no id for ${device}'s alert`);
        open[alert.tipo] = { ...alert, id };
      }
      this.#cache.set(device, { ...after, open });
    }
  }
}

/** The two statements' texts, made once. */
const STATEMENTS = { fence: writeStatement("fence"), owner: writeStatement("owner") };

function statement(write: GatedWrite): string {
  return write.batch === undefined ? STATEMENTS.owner : STATEMENTS.fence;
}

/** The statement's parameters (see `WriteParameters` in store_write_sql.ts). */
function parameters(write: GatedWrite, rows: readonly BatchRow[], plan: WritePlan) {
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
