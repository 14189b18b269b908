/**
 * Test double of the consumer's database seam (event_store.ts), for unit tests of the logic
 * around it: refusals.ts and pipeline.ts. Never imported by the consumer itself.
 *
 * @module
 */

import type {
  BatchResult,
  BatchRow,
  BatchWrite,
  EventStore,
  Fence,
  PartitionKey,
  RowResult,
  StoredOffset,
} from "../event_store.ts";
import type { Alert } from "../alerts.ts";
import type { DeviceState } from "../device_state.ts";
import {
  type DeviceSnapshot,
  type MonitoringSettings,
  NEW_DEVICE,
  planWrite,
  type ReadingMark,
} from "../monitoring.ts";
import { DEFAULT_MONITORING } from "../postgres_store.ts";
import { sameReading } from "../transform.ts";

/**
 * An in-memory store with PostgreSQL's answers: the fence, idempotent inserts, a conflict for an
 * id stored with other values, and refusals for the ids listed in `refuse` (a data error the
 * database finds in those rows; `wholeBatch` refuses any batch even when every row goes alone).
 * Monitoring is the real store's pure plan (monitoring.ts) over the rows each write inserted:
 * device state and model, each row's place and score, and the alerts, which get ids in creation
 * order as `tb_alerta` gives them.
 */
export class MemoryStore implements EventStore {
  /** Next offset by `topic/partition`. */
  readonly offsets = new Map<string, string>();
  /** Topic ID of the offsets by `topic/partition` (absent: a row stored before topic IDs). */
  readonly topicIds = new Map<string, string>();
  readonly rows = new Map<string, BatchRow>();
  /** Each device as written: version, state, model, open alerts. */
  readonly snapshots = new Map<string, DeviceSnapshot>();
  /** Every alert as last written (open, updated or cleared), by id. */
  readonly alerts = new Map<string, Alert>();
  /** Each inserted row's place in its device's fold and its anomaly score, by id. */
  readonly marks = new Map<string, ReadingMark>();
  readonly rejects: BatchWrite["rejects"][number][] = [];
  readonly calls: string[] = [];
  #alertIds = 0;

  /**
   * @param refuse Ids of rows the "database" refuses (SQLSTATE 22003).
   * @param wholeBatch Refuse every batch, even when each row would pass alone.
   * @param monitoring The fold's settings (the settings table's defaults if omitted).
   */
  constructor(
    readonly refuse = new Set<string>(),
    readonly wholeBatch = false,
    readonly monitoring: MonitoringSettings = DEFAULT_MONITORING,
  ) {}

  /** Device state by device id. */
  get devices(): Map<string, DeviceState> {
    return new Map([...this.snapshots].map(([device, s]) => [device, s.state!]));
  }

  /** The derivation key of derived ids. */
  key = "memory-store-key";

  claimOffset(key: PartitionKey, initial: StoredOffset): Promise<StoredOffset> {
    const k = `${key.topic}/${key.partition}`;
    if (!this.offsets.has(k)) this.offsets.set(k, initial.nextOffset);
    if (!this.topicIds.has(k)) this.topicIds.set(k, initial.topicId);
    return Promise.resolve({ nextOffset: this.offsets.get(k)!, topicId: this.topicIds.get(k)! });
  }

  resetOffset(fence: Fence, to: StoredOffset): Promise<boolean> {
    this.calls.push(`reset ${to.topicId} ${to.nextOffset}`);
    if (!this.#fenceHolds(fence)) return Promise.resolve(false);
    this.offsets.set(`${fence.topic}/${fence.partition}`, to.nextOffset);
    this.topicIds.set(`${fence.topic}/${fence.partition}`, to.topicId);
    return Promise.resolve(true);
  }

  idKey(): Promise<string> {
    return Promise.resolve(this.key);
  }

  writeBatch(batch: BatchWrite): Promise<BatchResult> {
    this.calls.push(`batch ${batch.rows.length} rows, ${batch.rejects.length} rejects`);
    if (!this.#fenceHolds(batch)) return Promise.resolve({ kind: "fenced" });
    const conflicts = batch.rows.filter((row) => {
      const stored = this.rows.get(row.id);
      return stored !== undefined && !sameReading(stored, row);
    });
    if (conflicts.length > 0) {
      return Promise.resolve({ kind: "conflict", ids: conflicts.map((row) => row.id) });
    }
    if (this.wholeBatch || batch.rows.some((r) => this.refuse.has(r.id))) {
      return Promise.resolve({ kind: "refused", sqlstate: "22003", message: "value out of range" });
    }
    const fresh = batch.rows.filter((row) => !this.rows.has(row.id));
    for (const row of fresh) this.rows.set(row.id, row);
    this.#fold(fresh);
    const inserted = fresh.length;
    this.rejects.push(...batch.rejects);
    this.offsets.set(`${batch.topic}/${batch.partition}`, batch.nextOffset);
    return Promise.resolve({ kind: "written", inserted });
  }

  writeRow(fence: Fence, row: BatchRow): Promise<RowResult> {
    this.calls.push(`row ${row.id}`);
    if (!this.#fenceHolds(fence)) return Promise.resolve({ kind: "fenced" });
    const stored = this.rows.get(row.id);
    if (stored !== undefined && !sameReading(stored, row)) {
      return Promise.resolve({ kind: "conflict" });
    }
    if (this.refuse.has(row.id)) {
      return Promise.resolve({ kind: "refused", sqlstate: "22003", message: "value out of range" });
    }
    if (stored === undefined) {
      this.rows.set(row.id, row);
      this.#fold([row]);
    }
    return Promise.resolve({ kind: "written", inserted: stored === undefined });
  }

  #fold(rows: readonly BatchRow[]): void {
    const plan = planWrite(rows, (d) => this.snapshots.get(d) ?? NEW_DEVICE, this.monitoring);
    for (const [id, mark] of plan.marks) this.marks.set(id, mark);
    for (const { device, after, updates, inserts } of plan.devices) {
      for (const alert of updates) this.alerts.set(alert.id!, alert);
      const open = { ...after.open };
      for (const alert of inserts) {
        const stored = { ...alert, id: String(++this.#alertIds) };
        this.alerts.set(stored.id, stored);
        if (open[alert.tipo] === alert) open[alert.tipo] = stored;
      }
      this.snapshots.set(device, { ...after, open });
    }
  }

  #fenceHolds(fence: Fence): boolean {
    const k = `${fence.topic}/${fence.partition}`;
    return this.offsets.get(k) === fence.expectedOffset && this.topicIds.get(k) === fence.topicId;
  }
}
