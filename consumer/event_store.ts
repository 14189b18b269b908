/**
 * The consumer's one seam to its database: claim a partition's offset, write a batch with its
 * offset in one fenced step, write one row under the same fence. `PostgresStore` is the real one;
 * tests use an in-memory one, and the fault-injection suite wraps the real one to plant bugs.
 *
 * Results are values, never exceptions, for everything the data or the fence decides: `fenced`
 * (another writer moved the offset), `conflict` (an id already stored with other values) and
 * `refused` (the database refuses the data, with its SQLSTATE). A thrown error always means the
 * infrastructure failed (connection lost, server restarting), and the caller retries.
 *
 * @module
 */

import type { SensorRow } from "@iot/shared";
import type { RejectRow } from "./transform.ts";

/** Where a partition's offsets are kept. */
export interface PartitionKey {
  /** Consumer group. */
  groupId: string;
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
}

/** Where a partition's log stands in PostgreSQL: which incarnation of the topic, and how far. */
export interface StoredOffset {
  /** The next offset to process. */
  nextOffset: string;
  /** Kafka's ID of the topic those offsets belong to (see `fetchTopicId`). */
  topicId: string;
}

/**
 * The fence of a write: it happens only while the stored offset is `expectedOffset` of the topic
 * `topicId`, so neither a member that lost the partition nor one reading a re-created topic
 * against the old one's offsets can write.
 */
export interface Fence extends PartitionKey {
  /** The offset this consumer believes is stored. */
  expectedOffset: string;
  /** The topic ID this consumer believes is stored. */
  topicId: string;
}

/** A valid row to write, and how it may change its device's state (see device_state.ts). */
export interface BatchRow extends SensorRow {
  /**
   * Its timestamp is more than DEVICE_FUTURE_TOLERANCE_S past its Kafka record's timestamp: it is
   * stored and counted, but never becomes its device's latest reading.
   */
  ahead: boolean;
}

/** One batch's write: move the partition from `expectedOffset` to `nextOffset`, with its data. */
export interface BatchWrite extends Fence {
  /** The offset after the batch's last message. */
  nextOffset: string;
  /** Valid rows, unique by id, in offset order (the order device state folds them in). */
  rows: readonly BatchRow[];
  /** Refused messages. */
  rejects: readonly RejectRow[];
}

/** The database refused the data itself: no retry can change its answer. */
export interface Refusal {
  /** Tells a refusal from the other results. */
  kind: "refused";
  /** SQLSTATE (class 22, data exception, or 23, integrity constraint). */
  sqlstate: string;
  /** The database's message. */
  message: string;
}

/** What a batch write did. */
export type BatchResult =
  | { kind: "written"; inserted: number }
  | { kind: "fenced" }
  | { kind: "conflict"; ids: string[] }
  | Refusal;

/** What a one-row write did; `inserted` is false when the same reading was stored already. */
export type RowResult =
  | { kind: "written"; inserted: boolean }
  | { kind: "fenced" }
  | { kind: "conflict" }
  | Refusal;

/** The consumer's database. */
export interface EventStore {
  /**
   * The stored offset of a partition, storing `initial` first when there is none (a new group
   * starts where Kafka first delivered). A row stored before topic IDs were kept has none: it is
   * given `initial.topicId` (nothing else is known of it) and returned with it.
   */
  claimOffset(key: PartitionKey, initial: StoredOffset): Promise<StoredOffset>;
  /**
   * Moves a partition to another topic incarnation and offset, only if the stored offset is
   * still the fence's. Returns whether it moved.
   */
  resetOffset(fence: Fence, to: StoredOffset): Promise<boolean>;
  /** The secret key of derived event ids, created once per database (see `deriveEventId`). */
  idKey(): Promise<string>;
  /**
   * Writes the rows and rejects and moves the offset, all or nothing, only if the stored offset
   * is still `expectedOffset`. Inserts are idempotent on the row id; an id stored with other
   * values makes the whole write a `conflict` that lists every such id of the batch at once, so
   * the caller refuses them all and retries once (not once per id). The same write folds the
   * rows it inserted (not those stored already) into their devices' state (`tb_dispositivo`),
   * anomaly models and alerts (`tb_alerta`), and gives each its place and score (monitoring.ts).
   */
  writeBatch(batch: BatchWrite): Promise<BatchResult>;
  /**
   * Writes one row under the fence without moving the offset (to find a refused row); a row it
   * inserts is folded into its device's state in the same write.
   */
  writeRow(fence: Fence, row: BatchRow): Promise<RowResult>;
}
