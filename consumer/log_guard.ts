/**
 * Whether the offset PostgreSQL stores for a partition still belongs to the log Kafka has. Two
 * ways it may not, both of which would otherwise skip new messages silently (every record below
 * the stored offset counts as stored already):
 * - the topic was deleted and created again under its name: its topic ID changed, whether the new
 *   log is shorter than the stored offset or has grown past it;
 * - the stored offset is past the log's end with the same topic ID: Kafka lost data or was
 *   restored from a backup.
 *
 * The guard asks Kafka the topic's ID once per fetch: a batch is judged by an answer to a question
 * asked after the batch was fetched (batches of one fetch share it), so a topic re-created between
 * two fetches is always seen, even when its new log has grown past the stored offset and the batch
 * looks like the next one of the old log. (A cache trusted for 15 s missed exactly that: the new
 * log's records below the old offset were skipped, those above stored under the old ID.) It tells
 * the pipeline what to do, and keeps the blocked partitions for `/readyz` and the
 * `iot_consumer_partition_blocked` metric.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { EventStore, PartitionKey, StoredOffset } from "./event_store.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import type { PartitionBatch } from "./source.ts";

/** What to do when the topic's ID changed: stop the partition, or read the new log from its start. */
export type OffsetMismatchPolicy = "stop" | "restart-from-beginning";

/** The policies, in the order settings list them. */
export const OFFSET_MISMATCH_POLICIES: readonly OffsetMismatchPolicy[] = [
  "stop",
  "restart-from-beginning",
];

/** What the guard asks of Kafka. */
export interface TopicLog {
  /** Kafka's ID of the topic now. */
  topicId(topic: string): Promise<string>;
  /** The first offset still in a partition's log. */
  logStart(topic: string, partition: number): Promise<string>;
}

/** Why a partition's stored offset does not fit its log. */
export type MismatchReason = "topic_id_changed" | "offset_past_log_end";

/** A stored offset that does not fit the log. */
export interface Mismatch {
  /** Why. */
  reason: MismatchReason;
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
  /** What PostgreSQL stores. */
  stored: StoredOffset;
  /** Kafka's topic ID now. */
  topicId: string;
  /** The partition's log end (high watermark) now. */
  logEndOffset: string;
}

/** How long a blocked partition stays paused before its stored offset is read again. */
export const BLOCKED_RECHECK_MS = 10_000;

/**
 * The mismatch between a stored offset and the log, if any.
 *
 * @param topic Topic.
 * @param partition Partition.
 * @param stored What PostgreSQL stores.
 * @param topicId Kafka's topic ID now.
 * @param logEndOffset The partition's high watermark now.
 */
export function mismatchOf(
  topic: string,
  partition: number,
  stored: StoredOffset,
  topicId: string,
  logEndOffset: string,
): Mismatch | undefined {
  const found = { topic, partition, stored, topicId, logEndOffset };
  if (stored.topicId !== topicId) return { reason: "topic_id_changed", ...found };
  if (BigInt(stored.nextOffset) > BigInt(logEndOffset)) {
    return { reason: "offset_past_log_end", ...found };
  }
  return undefined;
}

/** One line for `/readyz` and the log: what is wrong and where. */
export function describeMismatch(m: Mismatch): string {
  const where = `partition ${m.topic}/${m.partition} stopped`;
  const offsets = `stored offset ${m.stored.nextOffset}, log end ${m.logEndOffset}`;
  return m.reason === "topic_id_changed"
    ? `${where}: topic ID changed (stored ${m.stored.topicId}, Kafka ${m.topicId}; ${offsets}); ` +
      "the topic was re-created (README: a stored offset that does not fit the log)"
    : `${where}: stored offset past the log end (${offsets}, topic ID ${m.topicId}); Kafka lost ` +
      "or restored data (README: a stored offset that does not fit the log)";
}

/** What the guard works with. */
export interface LogGuardDeps {
  /** Kafka. */
  topicLog: TopicLog;
  /** The database (to move a partition to a re-created topic's start). */
  store: EventStore;
  /** What to do when the topic's ID changed. */
  offsetMismatch: OffsetMismatchPolicy;
  /** Where the blocked gauge is. */
  metrics: ConsumerMetrics;
  /** Logger. */
  log: Logger;
}

/** Runs an operation until it succeeds; `undefined` when the batch is no longer current. */
export type Retry = <T>(operation: () => Promise<T>) => Promise<T | undefined>;

/** See the module documentation. */
export class LogGuard {
  readonly #deps: LogGuardDeps;
  readonly #topicLog: TopicLog;
  readonly #metrics: ConsumerMetrics;
  readonly #log: Logger;
  /** The last question per topic, and when it was asked (`performance.now()`). */
  readonly #ids = new Map<string, { id: Promise<string>; at: number }>();
  readonly #blocked = new Map<number, Mismatch>();

  /** @param deps Kafka, database, policy, metrics, logger. */
  constructor(deps: LogGuardDeps) {
    this.#deps = deps;
    this.#topicLog = deps.topicLog;
    this.#metrics = deps.metrics;
    this.#log = deps.log;
  }

  /**
   * Acts on a mismatch found on `batch`: a re-created topic is read from its start when the
   * policy says so; anything else stops the partition. Nothing of the batch is resolved, so Kafka
   * delivers it again after the pause; by then an operator may have fixed the stored offset
   * (README), which the next claim reads.
   */
  async act(m: Mismatch, batch: PartitionBatch, key: PartitionKey, retry: Retry): Promise<void> {
    if (m.reason === "topic_id_changed" && this.#deps.offsetMismatch === "restart-from-beginning") {
      return await this.#restart(m, batch, key, retry);
    }
    this.#block(m);
    batch.pause(BLOCKED_RECHECK_MS);
  }

  /** The topic was re-created: the stored offset moves to the new log's start, fenced. */
  async #restart(m: Mismatch, batch: PartitionBatch, key: PartitionKey, retry: Retry) {
    const start = await retry(() => this.#topicLog.logStart(m.topic, m.partition));
    if (start === undefined) return;
    const fence = { ...key, expectedOffset: m.stored.nextOffset, topicId: m.stored.topicId };
    const to = { nextOffset: start, topicId: m.topicId };
    const moved = await retry(() => this.#deps.store.resetOffset(fence, to));
    if (moved === undefined) return;
    if (moved) {
      this.#log.warn("topic was re-created; reading the new log from its beginning", {
        topic: m.topic,
        partition: m.partition,
        storedTopicId: m.stored.topicId,
        topicId: m.topicId,
        storedOffset: m.stored.nextOffset,
        nextOffset: start,
        logEndOffset: m.logEndOffset,
      });
    }
    // Moved by another member meanwhile otherwise: the next batch claims whatever is stored.
    if (batch.isCurrent()) batch.seek(start);
  }

  /**
   * Kafka's topic ID as it was at `fetchedAt` or later: the last answer when its question was
   * asked at or after `fetchedAt` (possibly still in flight), else a new question. IDs never come
   * back, so an answer asked after a batch was fetched names that batch's topic or a later one.
   *
   * @param topic Topic.
   * @param fetchedAt When the batch's fetch response arrived (`performance.now()`).
   */
  topicId(topic: string, fetchedAt: number): Promise<string> {
    const known = this.#ids.get(topic);
    if (known !== undefined && known.at >= fetchedAt) return known.id;
    const now = performance.now();
    const id = this.#topicLog.topicId(topic);
    this.#ids.set(topic, { id, at: now });
    id.catch(() => this.#ids.delete(topic));
    return id;
  }

  /** Records a stopped partition: error log and metric the first time, kept for `/readyz`. */
  #block(m: Mismatch): void {
    const known = this.#blocked.get(m.partition);
    if (known?.reason !== m.reason || known.logEndOffset !== m.logEndOffset) {
      this.#log.error("partition stopped: its stored offset does not fit the log", {
        topic: m.topic,
        partition: m.partition,
        reason: m.reason,
        storedTopicId: m.stored.topicId,
        topicId: m.topicId,
        storedOffset: m.stored.nextOffset,
        logEndOffset: m.logEndOffset,
      });
    }
    if (known !== undefined && known.reason !== m.reason) this.#unset(known);
    this.#blocked.set(m.partition, m);
    this.#metrics.blocked.set({ partition: String(m.partition), reason: m.reason }, 1);
  }

  /** The partition's stored offset fits its log (again). */
  clear(partition: number): void {
    const known = this.#blocked.get(partition);
    if (known === undefined) return;
    this.#blocked.delete(partition);
    this.#unset(known);
    this.#log.info("partition resumed: its stored offset fits the log", {
      topic: known.topic,
      partition,
    });
  }

  /** Forgets the partitions this member no longer has (the new owner checks them itself). */
  retain(partitions: readonly number[]): void {
    for (const m of [...this.#blocked.values()]) {
      if (!partitions.includes(m.partition)) {
        this.#blocked.delete(m.partition);
        this.#unset(m);
      }
    }
  }

  /** Why this member is not ready: one line per stopped partition. */
  reasons(): string[] {
    return [...this.#blocked.values()].map(describeMismatch);
  }

  #unset(m: Mismatch): void {
    this.#metrics.blocked.remove({ partition: String(m.partition), reason: m.reason });
  }
}
