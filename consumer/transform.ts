/**
 * The consumer's pure step: one partition's messages in, rows and rejects out. No I/O.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  type AlertRule,
  deriveEventId,
  type Reason,
  type SensorRow,
  toRow,
  validateEvent,
} from "@iot/shared";
import type { BatchRow } from "./event_store.ts";

/** A Kafka message as the transform needs it. */
export interface KafkaRecord {
  /** Offset, as kafkajs gives it (64-bit, as text). */
  offset: string;
  /** Message key bytes, if any. */
  key: Uint8Array | null;
  /** Message value bytes, exactly as received. */
  value: Uint8Array | null;
  /**
   * The record's timestamp in epoch ms, as Kafka keeps it: the producer's CreateTime, or the
   * broker's LogAppendTime on a topic configured so; negative or NaN when the record has none.
   */
  timestampMs: number;
}

/**
 * One row of `tb_sensor_evento_rejeitado`. Key and value are kept whole up to a bound and cut to
 * their first bytes beyond it, so a flood of large junk cannot fill the database; the length and
 * SHA-256 of the whole are always kept, so a cut one is still identified (and told from a whole
 * one: its stored bytes are fewer than its length).
 */
export interface RejectRow {
  /** Offset of the refused message. */
  offset: string;
  /** Its key as received, or the key's first bytes when longer than the bound. */
  key: Uint8Array | null;
  /** Length of the whole key in bytes (`null` without a key). */
  keyBytes: number | null;
  /** SHA-256 of the whole key (`null` without a key). */
  keySha256: Uint8Array | null;
  /** Its value as received (empty for a tombstone), or its first bytes beyond the bound. */
  payload: Uint8Array;
  /** Length of the whole value in bytes. */
  payloadBytes: number;
  /** SHA-256 of the whole value. */
  payloadSha256: Uint8Array;
  /** Every reason it was refused. */
  reasons: Reason[];
}

/** A valid row with the offset it came from (the offset is not stored, it places errors). */
export interface PlannedRow {
  /** Offset of the message. */
  offset: string;
  /** The row to write, with whether it is too far ahead to be its device's latest. */
  row: BatchRow;
  /** The raw message, kept in case the database refuses the row and it must be rejected. */
  record: KafkaRecord;
  /**
   * Exact re-sends of this event later in the same batch (present only when there are some): if
   * the database refuses the row, they must be rejected with it, not silently dropped.
   */
  twins?: KafkaRecord[];
  /**
   * Later events of the batch with this id but other values, in offset order (present only when
   * there are some). They are rejected as conflicts with this row; but if the database already
   * holds a third reading under the id and refuses this row, one of them may be that stored
   * reading re-sent, which is a duplicate, not a conflict (see refusals.ts).
   */
  rivals?: PlannedRow[];
}

/** What the id of an event without `ID` is derived from, besides its partition and offset. */
export interface IdOrigin {
  /** The secret derivation key (see `deriveEventId`). */
  idKey: string;
  /** Kafka's ID of the topic the batch came from. */
  topicId: string;
}

/** What to write for one batch of one partition. */
export interface BatchPlan {
  /** Valid events, at most one per id. */
  rows: PlannedRow[];
  /** Refused messages. */
  rejects: RejectRow[];
  /** Exact re-sends of an event already in this batch (dropped: the first copy is written). */
  duplicates: number;
  /** The bound its rejects were cut to; rejects made later from its rows use it too. */
  rejectMaxStoredBytes: number;
}

/**
 * Validates and maps one partition's messages.
 *
 * An event re-sent within the batch is written once; a second event that reuses an id with
 * different values is refused as `duplicate_id_conflict` (the first one wins, as it would across
 * batches, where the database decides).
 *
 * @param origin The topic's ID and the derivation key, for events without `ID`.
 * @param partition Partition number.
 * @param records Messages in offset order.
 * @param rule Alert thresholds.
 * @param clockMs The consumer's clock, used only for a record without a timestamp: the future bound
 *   of a reading's timestamp counts from its record's timestamp ({@linkcode referenceInstant}).
 * @param rejectMaxStoredBytes Most bytes of a refused message's value (and key) stored
 *   (REJECT_MAX_STORED_BYTES; see {@linkcode rejectOf}).
 * @param futureToleranceS DEVICE_FUTURE_TOLERANCE_S: a row whose timestamp is further past the
 *   same reference instant is marked `ahead` (see device_state.ts).
 */
export function planBatch(
  origin: IdOrigin,
  partition: number,
  records: readonly KafkaRecord[],
  rule: AlertRule,
  clockMs: number,
  rejectMaxStoredBytes: number,
  futureToleranceS: number,
): BatchPlan {
  const rows: PlannedRow[] = [];
  const rejects: RejectRow[] = [];
  const byId = new Map<string, PlannedRow>();
  let duplicates = 0;
  for (const record of records) {
    const reference = referenceInstant(record, clockMs);
    const result = validateEvent(record.value, reference);
    if (!result.ok) {
      rejects.push(rejectOf(record, result.reasons, rejectMaxStoredBytes));
      continue;
    }
    const id = result.event.id ??
      deriveEventId(origin.idKey, origin.topicId, partition, record.offset);
    // Completed in place, not copied: this runs for every event.
    const row = toRow(result.event, id, rule) as BatchRow;
    row.ahead = isAhead(result.event.timestamp.epochMs, reference, futureToleranceS);
    const earlier = byId.get(id);
    if (earlier === undefined) {
      const planned: PlannedRow = { offset: record.offset, row, record };
      byId.set(id, planned);
      rows.push(planned);
    } else if (sameReading(earlier.row, row)) {
      duplicates++;
      (earlier.twins ??= []).push(record);
    } else {
      rejects.push(rejectOf(record, [conflictReason(id)], rejectMaxStoredBytes));
      const rival = earlier.rivals?.find((r) => sameReading(r.row, row));
      if (rival !== undefined) (rival.twins ??= []).push(record);
      else (earlier.rivals ??= []).push({ offset: record.offset, row, record });
    }
  }
  return { rows, rejects, duplicates, rejectMaxStoredBytes };
}

/**
 * The instant a reading's future bound counts from: its Kafka record's timestamp, which travels
 * with the message, so the verdict is the same on every read (a replay, another member, a pod whose
 * clock is wrong). Only a record without one (older message formats) falls back to the clock.
 *
 * @param record The message.
 * @param clockMs The consumer's clock.
 */
export function referenceInstant(record: KafkaRecord, clockMs: number): number {
  return record.timestampMs >= 0 ? record.timestampMs : clockMs;
}

/**
 * Whether a reading is too far ahead of its reference instant (its Kafka record's timestamp) to
 * become its device's latest: deterministic, like the validator's 24 h bound it tightens.
 *
 * @param eventMs The reading's event time in epoch ms, whole (microseconds dropped).
 * @param referenceMs {@linkcode referenceInstant} of its record.
 * @param toleranceS DEVICE_FUTURE_TOLERANCE_S.
 */
export function isAhead(eventMs: number, referenceMs: number, toleranceS: number): boolean {
  return eventMs > referenceMs + toleranceS * 1000;
}

/** The reason given to an event whose id is taken by a different reading. */
export function conflictReason(id: string): Reason {
  return {
    field: "ID",
    code: "duplicate_id_conflict",
    message: `ID ${id} was already stored with different values; the first reading is kept`,
  };
}

/**
 * Builds the reject row of a message. Value and key longer than `maxStoredBytes` keep only their
 * first `maxStoredBytes` bytes; the length and SHA-256 of the whole are always recorded. Reason
 * texts are made storable: they may quote the payload (a JSON parser's message does, raw), and
 * PostgreSQL's jsonb refuses U+0000 and unpaired UTF-16 surrogates, which would make the whole
 * batch fail on every retry and stall the partition.
 *
 * @param record The refused message.
 * @param reasons Why it was refused.
 * @param maxStoredBytes Most bytes of value and of key kept (REJECT_MAX_STORED_BYTES).
 */
export function rejectOf(
  record: KafkaRecord,
  reasons: Reason[],
  maxStoredBytes: number,
): RejectRow {
  const payload = record.value ?? new Uint8Array();
  const key = record.key;
  return {
    offset: record.offset,
    key: key === null ? null : key.subarray(0, maxStoredBytes),
    keyBytes: key === null ? null : key.byteLength,
    keySha256: key === null ? null : sha256(key),
    payload: payload.subarray(0, maxStoredBytes),
    payloadBytes: payload.byteLength,
    payloadSha256: sha256(payload),
    reasons: reasons.map((r) => ({ ...r, field: storable(r.field), message: storable(r.message) })),
  };
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/**
 * Replaces what jsonb cannot hold (U+0000, lone surrogates) with U+FFFD; any other text is kept.
 */
export function storable(text: string): string {
  return text.replace(UNSTORABLE, "\uFFFD");
}

// deno-lint-ignore no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Whether two rows carry the same reading (what the sender sent; derived columns aside). */
export function sameReading(a: SensorRow, b: SensorRow): boolean {
  return a.id_dispositivo === b.id_dispositivo && a.timestamp === b.timestamp &&
    a.temperatura === b.temperatura && a.umidade === b.umidade && a.latitude === b.latitude &&
    a.longitude === b.longitude && a.status === b.status && a.bateria === b.bateria;
}
