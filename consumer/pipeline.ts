/**
 * The consumer's core: for each partition batch, check ownership against the offset stored in
 * PostgreSQL, validate, and write rows, rejects and the new offset in one statement; retry
 * infrastructure failures without ever skipping; isolate rows the database itself refuses.
 *
 * Why this gives an exactly-once effect:
 * - The offset in `tb_kafka_offset` moves only in the statement that writes the batch's rows, so
 *   a batch is either fully stored with its offset or not at all.
 * - The move is conditional on the offset this member expects. A member that lost the partition
 *   (paused past its session, then woke up) expects an old offset and writes nothing.
 * - After a crash the stored offset says where to resume; messages Kafka re-delivers below it
 *   are skipped, and row inserts are idempotent on `id` in any case.
 * - Skipping below the stored offset is right only while that offset belongs to the log Kafka
 *   has: log_guard.ts checks the topic's ID and the log's end, and stops the partition (or, for
 *   a re-created topic and when so configured, reads the new log from its beginning).
 *
 * @module
 */

import type { AlertRule } from "@iot/shared";
import { backoffDelay, type BackoffPolicy, type Logger } from "@iot/shared/runtime";
import { DatabaseState } from "./database_state.ts";
import type { EventStore, Fence, PartitionKey } from "./event_store.ts";
import { LogGuard, mismatchOf, type OffsetMismatchPolicy, type TopicLog } from "./log_guard.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import { storeBatch, type Stored } from "./refusals.ts";
import type { PartitionBatch } from "./source.ts";
import { type KafkaRecord, planBatch } from "./transform.ts";

/** What the pipeline needs. */
export interface PipelineDeps {
  /** The database. */
  store: EventStore;
  /** Consumer group (part of the offset key). */
  groupId: string;
  /** Alert thresholds. */
  alertRule: AlertRule;
  /** Most bytes of a refused message's value and key stored (REJECT_MAX_STORED_BYTES). */
  rejectMaxStoredBytes: number;
  /** Metrics to update. */
  metrics: ConsumerMetrics;
  /** Logger. */
  log: Logger;
  /** The clock (tests pin it). */
  now?: () => number;
  /** Kafka's topic IDs and log starts. */
  topicLog: TopicLog;
  /** What to do when the topic's ID changed (OFFSET_MISMATCH_POLICY). */
  offsetMismatch: OffsetMismatchPolicy;
  /** DEVICE_FUTURE_TOLERANCE_S: a reading further past its record is never a device's latest. */
  deviceFutureToleranceS: number;
}

interface Ownership {
  /** The offset stored in PostgreSQL for this partition, as this member last saw it. */
  next: bigint;
  /** The topic ID stored with it. */
  topicId: string;
  /** Whether this member already moved Kafka back to `next` once in this generation. */
  sought: boolean;
}

/** Database retries of a batch: quicker than connecting, since the batch holds its partition. */
const BATCH_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

/**
 * Processes partition batches; one instance per consumer process. A batch goes one way:
 * ownership (which of its records are new to PostgreSQL) → plan (transform.ts) → store
 * (refusals.ts) → accounting (metrics, Kafka's offset).
 */
export class Pipeline {
  readonly #deps: PipelineDeps;
  readonly #owned = new Map<number, Ownership>();
  readonly #database: DatabaseState;
  readonly #guard: LogGuard;
  #idKey: string | undefined;

  /** @param deps Database, Kafka, settings, metrics, logger. */
  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#database = new DatabaseState(deps.metrics.databaseState, deps.log);
    this.#guard = new LogGuard(deps);
  }

  /**
   * Why the database is not usable now, or `undefined` when the last operation succeeded. A full
   * disk and a read-only server are named as such (database_state.ts).
   */
  databaseProblem(): string | undefined {
    return this.#database.problem();
  }

  /** Partitions stopped because their stored offset does not fit the log, one line each. */
  stoppedPartitions(): string[] {
    return this.#guard.reasons();
  }

  /**
   * Forgets what this member owned: after a rebalance, every partition is checked again.
   *
   * @param partitions This member's partitions now (stopped ones it still has stay reported).
   */
  onRebalance(partitions: readonly number[] = []): void {
    this.#owned.clear();
    this.#guard.retain(partitions);
    this.#deps.metrics.lag.reset();
  }

  /** Validates and stores one partition batch. */
  async handle(batch: PartitionBatch): Promise<void> {
    const started = performance.now();
    if (batch.records.length === 0) return;
    const key: PartitionKey = {
      groupId: this.#deps.groupId,
      topic: batch.topic,
      partition: batch.partition,
    };
    const owned = await this.#ownership(batch, key);
    if (owned === undefined) return;
    const lastOffset = batch.records[batch.records.length - 1].offset;
    const records = this.#newRecords(batch, owned);
    if (records === undefined) return;
    this.#idKey ??= await this.#retry(batch, () => this.#deps.store.idKey());
    if (this.#idKey === undefined) return;
    const fence = { ...key, expectedOffset: owned.next.toString(), topicId: owned.topicId };
    const nextOffset = (BigInt(lastOffset) + 1n).toString();
    const plan = planBatch(
      { idKey: this.#idKey, topicId: owned.topicId },
      batch.partition,
      records,
      this.#deps.alertRule,
      this.#now(),
      this.#deps.rejectMaxStoredBytes,
      this.#deps.deviceFutureToleranceS,
    );
    const retry = <T>(operation: () => Promise<T>) => this.#retry(batch, operation);
    const stored = await storeBatch(
      this.#deps.store,
      fence,
      nextOffset,
      plan,
      retry,
      this.#deps.log,
    );
    if (stored === undefined) return; // stopping or outdated: nothing stored, nothing resolved
    if (stored.kind === "fenced") {
      return await this.#fenced(batch, key, fence);
    }
    owned.next = BigInt(nextOffset);
    batch.resolveOffset(lastOffset);
    this.#account(batch, records, stored, owned, started);
    this.#deps.log.debug("batch stored", {
      partition: batch.partition,
      from: fence.expectedOffset,
      to: nextOffset,
      rows: stored.inserted,
      rejects: stored.rejects.length,
    });
    await batch.commit();
    await batch.heartbeat();
  }

  /**
   * This member's view of the partition's stored offset, read once per generation, and checked
   * against the log on every batch: Kafka's topic ID, asked after the batch was fetched (once per
   * fetch, log_guard.ts), and the log end. `undefined` when the batch must not be processed.
   */
  async #ownership(batch: PartitionBatch, key: PartitionKey): Promise<Ownership | undefined> {
    let owned = this.#owned.get(batch.partition);
    const topicId = await this.#retry(
      batch,
      () => this.#guard.topicId(batch.topic, batch.fetchedAt),
    );
    if (topicId === undefined) return undefined;
    if (owned === undefined) {
      // A partition PostgreSQL has no row for starts at its log's start, not where Kafka's
      // committed offset put this batch: PostgreSQL holds none of it, so nothing before is
      // stored (Kafka's offsets moved to the end, a group older than the database). When the
      // batch starts further on, #newRecords seeks back once. An existing row wins the claim.
      const start = await this.#retry(
        batch,
        () => this.#deps.topicLog.logStart(batch.topic, batch.partition),
      );
      if (start === undefined) return undefined;
      const first = batch.records[0].offset;
      const initial = { nextOffset: BigInt(start) < BigInt(first) ? start : first, topicId };
      const stored = await this.#retry(batch, () => this.#deps.store.claimOffset(key, initial));
      if (stored === undefined) return undefined;
      owned = { next: BigInt(stored.nextOffset), topicId: stored.topicId, sought: false };
    }
    const stored = { nextOffset: owned.next.toString(), topicId: owned.topicId };
    const mismatch = mismatchOf(batch.topic, batch.partition, stored, topicId, batch.highWatermark);
    if (mismatch === undefined) {
      this.#owned.set(batch.partition, owned);
      this.#guard.clear(batch.partition);
      return owned;
    }
    this.#owned.delete(batch.partition);
    await this.#guard.act(mismatch, batch, key, (operation) => this.#retry(batch, operation));
    return undefined;
  }

  /**
   * The records PostgreSQL does not hold yet, or `undefined` when there are none to write now:
   * all stored already (resolved), or Kafka ahead of PostgreSQL (sought back once).
   */
  #newRecords(batch: PartitionBatch, owned: Ownership): KafkaRecord[] | undefined {
    const records = batch.records.filter((r) => BigInt(r.offset) >= owned.next);
    if (records.length === 0) {
      // All of it is stored already (Kafka's committed offset was behind PostgreSQL's).
      batch.resolveOffset(batch.records[batch.records.length - 1].offset);
      return undefined;
    }
    if (BigInt(records[0].offset) > owned.next && !owned.sought) {
      // Kafka is ahead of PostgreSQL (e.g. its offsets were reset): go back once. If the log
      // really has a gap there (retention, compaction), the next batch starts past it and is taken.
      owned.sought = true;
      this.#deps.log.warn("kafka offset ahead of stored offset; seeking back", {
        partition: batch.partition,
        kafkaOffset: records[0].offset,
        storedOffset: owned.next.toString(),
      });
      batch.seek(owned.next.toString());
      return undefined;
    }
    return records;
  }

  /**
   * The fence refused the write: forget the partition and resume where its stored offset stands
   * now. The claim uses the offset this batch expected, never the one after it: if the offset row
   * is gone (deleted by hand, a point-in-time restore, a failover that lost a commit), it comes
   * back where this member last saw it and the batch is read again, instead of being skipped.
   */
  async #fenced(batch: PartitionBatch, key: PartitionKey, fence: Fence): Promise<void> {
    this.#deps.metrics.fenced.inc();
    this.#owned.delete(batch.partition);
    const { expectedOffset } = fence;
    const initial = { nextOffset: expectedOffset, topicId: fence.topicId };
    const claimed = await this.#retry(batch, () => this.#deps.store.claimOffset(key, initial));
    if (claimed === undefined) return;
    // Another topic ID stored: the next batch's ownership check says what to do about it.
    if (claimed.topicId !== fence.topicId) return;
    const stored = claimed.nextOffset;
    if (stored === expectedOffset) {
      // The fence failed, yet the offset is the expected one: the row was missing, and the claim
      // has just stored it again. Rows written before it are idempotent on their id.
      this.#deps.log.error("stored offset row was missing; stored again, batch read again", {
        partition: batch.partition,
        storedOffset: stored,
      });
    } else if (BigInt(stored) < BigInt(expectedOffset)) {
      // The database undid this member's newest commits, rows and offset together: a crash with
      // asynchronous commit (DATABASE_SYNCHRONOUS_COMMIT=off), a failover to a standby that had
      // not received them. Those batches are read from Kafka again.
      this.#deps.log.warn(
        "stored offset is behind this batch's start: the database lost its " +
          "newest commits; reading again from the stored offset",
        {
          partition: batch.partition,
          expectedOffset,
          storedOffset: stored,
        },
      );
    } else {
      // Another member owns the partition now, or an earlier attempt of this very batch committed
      // and only its reply was lost with the connection: either way the stored offset says where
      // reading resumes.
      this.#deps.log.warn("stored offset moved past this batch's start; batch not written again", {
        partition: batch.partition,
        expectedOffset,
        storedOffset: stored,
      });
    }
    if (batch.isCurrent()) batch.seek(stored);
  }

  #account(
    batch: PartitionBatch,
    records: KafkaRecord[],
    stored: Extract<Stored, { kind: "written" }>,
    owned: Ownership,
    started: number,
  ): void {
    const { metrics } = this.#deps;
    metrics.consumed.inc(records.length);
    metrics.written.inc(stored.inserted);
    metrics.duplicates.inc(stored.duplicates);
    metrics.alerts.inc(stored.alerts);
    for (const reject of stored.rejects) {
      metrics.rejected.inc({ reason: reject.reasons[0].code });
    }
    metrics.lag.set(
      { partition: String(batch.partition) },
      Math.max(0, Number(BigInt(batch.highWatermark) - owned.next)),
    );
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
  }

  /**
   * Runs `operation` until it succeeds, backing off on infrastructure errors (connection lost,
   * server restarting) and heartbeating so the group keeps this member. Returns `undefined` when
   * the batch is no longer current (stopping, or outdated by a rebalance).
   */
  async #retry<T>(batch: PartitionBatch, operation: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0;; attempt++) {
      if (!batch.isCurrent()) return undefined;
      try {
        const result = await operation();
        this.#database.succeeded();
        return result;
      } catch (error) {
        // A full disk or a read-only server is logged by the state, on change and periodically:
        // every partition's every retry would flood the log with the same line.
        const named = this.#database.failed(error);
        this.#deps.metrics.retries.inc();
        const delay = backoffDelay(BATCH_BACKOFF, attempt);
        this.#deps.log[named ? "debug" : "warn"]("database operation failed; retrying", {
          partition: batch.partition,
          attempt: attempt + 1,
          retryInMs: delay,
          error,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        // A failed heartbeat means a rebalance is under way: isCurrent() turns false next turn.
        await batch.heartbeat().catch(() => {});
      }
    }
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}
