/**
 * One guarded write of rows and their monitoring (design-12.md, "Writing it"): the devices of the
 * rows as stored (from the cache, or read), the fold of monitoring.ts over the rows planned as
 * new, and one statement (store_write_sql.ts) that writes it all or nothing. When the statement
 * finds its plan wrong it raises, nothing is written, and the write is planned again:
 * - SQLSTATE IOT02, rows planned as new were stored already (re-sends): without them;
 * - class 40 (40001 from a guard, or a deadlock): with the devices read again, not cached.
 * A few such turns in a row are thrown to the caller, whose retry loop backs off.
 *
 * A batch's rows take a faster path first: one transaction runs the statement without them (the
 * fence, the rejects, the devices and alerts), then COPYs them in (copy_binary.ts). COPY either
 * inserts every row or fails, on the first id stored already or a value PostgreSQL refuses; then
 * the transaction rolls back and the write is made again by the statement, which tells a re-send
 * (planned again without it) from an id re-used with another reading (IOT01) and names the value.
 * So the guarantees are the statement's, and the common case, no id seen before, costs PostgreSQL
 * about 9 µs a row instead of 19 (bench/statement_cost.sql).
 *
 * @module
 */

import type { Sql } from "postgres";
import type { Alert, AlertType } from "./alerts.ts";
import type { DeviceCache } from "./device_cache.ts";
import type { BatchRow } from "./event_store.ts";
import { COPY_ROWS, copyBinary } from "./copy_binary.ts";
import { PLANNED_ROWS_STORED_SQLSTATE } from "./migrations.ts";
import {
  type DeviceSnapshot,
  type MonitoringSettings,
  NEW_DEVICE,
  planWrite,
  type WritePlan,
} from "./monitoring.ts";
import { type DeviceRow, snapshotOf } from "./store_read.ts";
import { READ_DEVICES, RESENT_IDS } from "./store_write_sql.ts";
import { type GatedWrite, statementOf, writeParameters } from "./store_write_parameters.ts";

export type { GatedWrite };

/** Turns of a write whose devices changed under it before the error goes to the caller. */
export const RACE_TURNS = 3;

/** Turns of a write that found re-sent rows before the error goes to the caller. */
const RESENT_TURNS = 5;

/**
 * Why a write was planned again: `version`, a device or alert changed under it (40001 from a
 * guard); `deadlock`, another class 40 error (40P01); `resent`, rows planned as new were stored
 * already (IOT02); `copy`, the COPY of a batch's rows was refused (an id stored already, or a
 * value PostgreSQL refuses), so the statement writes the batch instead. Only turns actually planned again count, not the last one thrown.
 */
export type ReplanReason = "version" | "deadlock" | "resent" | "copy";

/**
 * Fewest rows a batch sends by COPY; smaller batches go as the one statement. COPY saves
 * PostgreSQL CPU per row, but costs a second round trip and five more socket writes (each wakes
 * the server) per batch. `bench/copy_threshold.ts` writes batches both ways: the statement costs
 * less CPU (client and server together) up to about 50 rows, COPY less from 100 on, where it is
 * also faster. At 1,000 events/s batches hold 1-6 rows, and at 10,000 about 50: both stay on one
 * round trip.
 */
export const COPY_MIN_ROWS = 100;

/** The query after a COPY fails with this when the COPY did (see `#writeByCopy`). */
const IN_FAILED_TRANSACTION = "25P02";

/** What the write statement returns. */
interface StatementResult {
  gated: number;
  inserted: number;
  opened: string;
}

/** Told each time a write is planned again, e.g. to count it in a metric. */
export type OnReplan = (reason: ReplanReason) => void;

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
  readonly #copyMinRows: number;

  /**
   * @param sql The pool to use at each query.
   * @param settings The fold's settings.
   * @param cache Devices as last stored by this process.
   * @param onReplan Told each time a write is planned again.
   * @param copyMinRows Fewest rows of a batch sent by COPY ({@linkcode COPY_MIN_ROWS}).
   */
  constructor(
    sql: () => Sql,
    settings: MonitoringSettings,
    cache: DeviceCache,
    onReplan: OnReplan = () => {},
    copyMinRows: number = COPY_MIN_ROWS,
  ) {
    this.#sql = sql;
    this.#settings = settings;
    this.#cache = cache;
    this.#onReplan = onReplan;
    this.#copyMinRows = copyMinRows;
  }

  /**
   * Writes the rows, their marks and their devices' state and alerts; for a batch, the offset and
   * the rejects too. Errors other than the two it plans again after (IOT01 among them) are thrown.
   */
  async write(write: GatedWrite): Promise<WriteOutcome> {
    let rows = write.rows;
    let fresh = false;
    let copy = write.batch !== undefined && rows.length >= Math.max(1, this.#copyMinRows);
    for (let races = 0, resent = 0;;) {
      const snapshots = await this.#snapshots(rows, fresh);
      const plan = planWrite(rows, (d) => snapshots.get(d) ?? NEW_DEVICE, this.#settings);
      const bytes = copy ? copyBinary(rows, (id) => plan.marks.get(id)) : undefined;
      try {
        const result = bytes !== undefined
          ? await this.#writeByCopy(write, bytes, rows.length, plan)
          : await this.#writeByStatement(write, rows, plan);
        if (result.gated === 0) return { gated: false, inserted: 0 };
        this.#remember(plan, JSON.parse(result.opened));
        return { gated: true, inserted: result.inserted };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (bytes !== undefined && code === IN_FAILED_TRANSACTION) {
          this.#onReplan("copy");
          copy = false;
          continue;
        }
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

  /** The write as one statement. */
  async #writeByStatement(
    write: GatedWrite,
    rows: readonly BatchRow[],
    plan: WritePlan,
  ): Promise<StatementResult> {
    const [result] = await this.#sql().unsafe<StatementResult[]>(
      statementOf(write),
      writeParameters(write, rows, plan),
      { prepare: true },
    );
    return result;
  }

  /**
   * The write as one transaction on a connection of its own: the statement without the rows,
   * then, if the fence held, the rows by COPY. Throws 25P02 when PostgreSQL refused the COPY: an
   * id stored already, or a value it refuses (the statement then finds which, and says why).
   *
   * Two round trips, not five: postgres.js sends a reserved connection's queries without waiting
   * for the answers before, so BEGIN, the statement and the COPY's start go together, and so do
   * the rows, a probe and COMMIT. Each round trip waits for the event loop, which other
   * partitions' batches keep busy, so their number sets the drain rate more than their length.
   * The probe is there because postgres.js 3.4.9 never settles a COPY's writable when the server
   * refuses the rows (porsager/postgres#1173): the query after it fails with 25P02 instead.
   * COMMIT cannot be that query: in a failed transaction it rolls back, unreported.
   */
  async #writeByCopy(
    write: GatedWrite,
    bytes: Uint8Array,
    rows: number,
    plan: WritePlan,
  ): Promise<StatementResult> {
    const connection = await this.#sql().reserve();
    let open = true;
    try {
      const [began, planned, started] = await Promise.allSettled([
        connection.unsafe("BEGIN").execute(),
        connection.unsafe<StatementResult[]>(
          statementOf(write),
          writeParameters(write, [], plan),
          { prepare: true },
        ).execute(),
        connection.unsafe(COPY_ROWS).writable(),
      ]);
      // A COPY that started is ended by CopyFail before anything else is said: ROLLBACK follows.
      const failCopy = () => started.status === "fulfilled" && started.value.destroy();
      if (began.status === "rejected") throw (failCopy(), began.reason);
      if (planned.status === "rejected") throw (failCopy(), planned.reason);
      if (started.status === "rejected") throw started.reason;
      const [result] = planned.value;
      if (result.gated === 0) return (failCopy(), result);
      const copy = started.value;
      await new Promise<void>((resolve, reject) =>
        copy.write(bytes, (error) => error ? reject(error) : resolve())
      );
      copy.end(); // with the rows flushed, CopyDone is sent now, before the queries below
      const [probed, committed] = await Promise.allSettled([
        connection`SELECT 1`.execute(),
        connection.unsafe("COMMIT").execute(),
      ]);
      open = false; // COMMIT ended it: committed, or rolled back after the COPY failed
      if (probed.status === "rejected") throw probed.reason;
      if (committed.status === "rejected") throw committed.reason;
      return { ...result, inserted: rows };
    } finally {
      if (open) await connection.unsafe("ROLLBACK").catch(() => {});
      connection.release();
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
