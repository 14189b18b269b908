/**
 * What a fetch response tells the @platformatic/kafka source (pure). That client's `fetch()`
 * returns a partition's record batches as Kafka stores them, and what a consumer must drop is
 * left to its caller:
 * - records before the offset asked for (a compressed batch comes whole, from its first offset);
 * - control batches (transaction markers), which hold no event;
 * - records of aborted transactions, which a read-committed fetch still returns, listing the
 *   producers and offsets where they start.
 *
 * @module
 */

import type { KafkaRecord } from "./transform.ts";

/** Attribute bit: the batch's timestamps are the broker's LogAppendTime (its max timestamp). */
const LOG_APPEND_TIME = 1 << 3;
/** Attribute bit: the batch belongs to a transaction. */
const TRANSACTIONAL = 1 << 4;
/** Attribute bit: a control batch (a transaction's commit or abort marker). */
const CONTROL = 1 << 5;

/** The fields of a stored record batch this module reads. */
export interface FetchedBatch {
  /** Offset of the first record. */
  firstOffset: bigint;
  /** Offset of the last record minus `firstOffset`. */
  lastOffsetDelta: number;
  /** Compression, timestamp type, transactional and control bits. */
  attributes: number;
  /** Timestamp of the first record (CreateTime). */
  firstTimestamp: bigint;
  /** Largest timestamp; the broker's append time under LogAppendTime. */
  maxTimestamp: bigint;
  /** The producer that wrote the batch. */
  producerId: bigint;
  /** Records, with offsets and timestamps relative to the batch. */
  records: {
    offsetDelta: number;
    timestampDelta: bigint;
    key: Uint8Array | null;
    value: Uint8Array | null;
  }[];
}

/** A transaction the fetch reports as aborted: its producer, and its first offset. */
export interface AbortedTransaction {
  /** Producer. */
  producerId: bigint;
  /** First offset of the transaction. */
  firstOffset: bigint;
}

/**
 * The records of `batches` from `fetchOffset` on, in offset order, without control records and
 * without the records of the aborted transactions listed.
 *
 * @param batches The partition's batches in the response, in offset order.
 * @param fetchOffset The offset the fetch asked for.
 * @param aborted The response's aborted transactions of this partition (null when none).
 */
export function recordsFrom(
  batches: readonly FetchedBatch[],
  fetchOffset: bigint,
  aborted: readonly AbortedTransaction[] | null,
): KafkaRecord[] {
  const pending = [...(aborted ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
  );
  const abortedProducers = new Set<bigint>();
  const out: KafkaRecord[] = [];
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    // A transaction listed as aborted starts at its first offset: from the batch that reaches it
    // on, its producer's transactional batches are dropped until that producer's abort marker.
    while (pending.length > 0 && pending[0].firstOffset <= lastOffset) {
      abortedProducers.add(pending.shift()!.producerId);
    }
    if ((batch.attributes & CONTROL) !== 0) {
      abortedProducers.delete(batch.producerId);
      continue;
    }
    if ((batch.attributes & TRANSACTIONAL) !== 0 && abortedProducers.has(batch.producerId)) {
      continue;
    }
    const appendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < fetchOffset) continue;
      const timestamp = appendTime
        ? batch.maxTimestamp
        : batch.firstTimestamp + record.timestampDelta;
      out.push({
        offset: offset.toString(),
        key: record.key,
        value: record.value,
        timestampMs: Number(timestamp),
      });
    }
  }
  return out;
}

/** The offset after a response's last batch of a partition: where the next fetch starts. */
export function nextOffsetAfter(
  batches: readonly FetchedBatch[],
  fetchOffset: bigint,
): bigint {
  if (batches.length === 0) return fetchOffset;
  const last = batches[batches.length - 1];
  const next = last.firstOffset + BigInt(last.lastOffsetDelta) + 1n;
  return next > fetchOffset ? next : fetchOffset;
}

/** Kafka's error code of a fetch position outside the partition's log. */
export const OFFSET_OUT_OF_RANGE = 1;

/** The parts of a fetch response the source reads. */
export interface FetchResponseLike {
  /** Per topic (by ID), its partitions. */
  responses: {
    partitions: { partitionIndex: number; errorCode: number }[];
  }[];
}

/**
 * The fetch response an error carries, if any. A partition's error fails the whole fetch with
 * the response attached; after the client's own retries the error holds each attempt's error,
 * the last one freshest.
 */
export function responseOf<R extends FetchResponseLike>(error: unknown): R | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { response, errors } = error as { response?: R; errors?: unknown[] };
  if (Array.isArray(response?.responses)) return response;
  for (const inner of [...(errors ?? [])].reverse()) {
    const found = responseOf<R>(inner);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The partitions of a response whose position was outside the log. */
export function outOfRangePartitions(response: FetchResponseLike): number[] {
  return response.responses.flatMap((t) =>
    t.partitions.filter((p) => p.errorCode === OFFSET_OUT_OF_RANGE).map((p) => p.partitionIndex)
  );
}

/** Partitions grouped by the broker that leads them (one fetch per broker). */
export function byLeader(
  partitions: readonly number[],
  leaderOf: (partition: number) => number,
): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const p of partitions) {
    const leader = leaderOf(p);
    const group = groups.get(leader);
    if (group === undefined) groups.set(leader, [p]);
    else group.push(p);
  }
  return groups;
}
