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
import { type DeviceState, foldDevice } from "../device_state.ts";
import { sameReading } from "../transform.ts";

/**
 * An in-memory store with PostgreSQL's answers: the fence, idempotent inserts, a conflict for an
 * id stored with other values, and refusals for the ids listed in `refuse` (a data error the
 * database finds in those rows; `wholeBatch` refuses any batch even when every row goes alone).
 * Device state is the pure fold of device_state.ts over the rows each write inserted (default
 * interval bounds: 1 s to 1 h).
 */
export class MemoryStore implements EventStore {
  /** Next offset by `topic/partition`. */
  readonly offsets = new Map<string, string>();
  /** Topic ID of the offsets by `topic/partition` (absent: a row stored before topic IDs). */
  readonly topicIds = new Map<string, string>();
  readonly rows = new Map<string, BatchRow>();
  /** Device state by device id. */
  readonly devices = new Map<string, DeviceState>();
  readonly rejects: BatchWrite["rejects"][number][] = [];
  readonly calls: string[] = [];

  constructor(readonly refuse = new Set<string>(), readonly wholeBatch = false) {}

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
    const byDevice = Map.groupBy(rows, (row) => row.id_dispositivo);
    for (const [device, readings] of byDevice) {
      const bounds = { intervalMinS: 1, intervalMaxS: 3600 };
      this.devices.set(device, foldDevice(this.devices.get(device), readings, bounds));
    }
  }

  #fenceHolds(fence: Fence): boolean {
    const k = `${fence.topic}/${fence.partition}`;
    return this.offsets.get(k) === fence.expectedOffset && this.topicIds.get(k) === fence.topicId;
  }
}
