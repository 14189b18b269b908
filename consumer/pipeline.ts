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
 *
 * @module
 */

import type { Sql } from "postgres";
import type { AlertRule, Logger } from "@iot/shared";
import type { ConsumerMetrics } from "./metrics.ts";
import type { PlantedBug } from "./planted.ts";
import type { PartitionBatch } from "./source.ts";
import { type BatchWrite, claimOffset, isDataError, type PartitionKey } from "./sink.ts";
import { storeBatch } from "./store.ts";
import { planBatch } from "./transform.ts";

/** What the pipeline needs. */
export interface PipelineDeps {
  /** Connection pool. */
  sql: Sql;
  /** Consumer group (part of the offset key). */
  groupId: string;
  /** Alert thresholds. */
  alertRule: AlertRule;
  /** Metrics to update. */
  metrics: ConsumerMetrics;
  /** Logger. */
  log: Logger;
  /** The clock (tests pin it). */
  now?: () => number;
  /** TEST-ONLY planted bug (see planted.ts); `undefined` in every real deployment. */
  plantedBug?: PlantedBug;
}

interface Ownership {
  /** The offset stored in PostgreSQL for this partition, as this member last saw it. */
  next: bigint;
  /** Whether this member already moved Kafka back to `next` once in this generation. */
  sought: boolean;
}

const MAX_BACKOFF_MS = 5_000;

/** Processes partition batches; one instance per consumer process. */
export class Pipeline {
  readonly #deps: PipelineDeps;
  readonly #owned = new Map<number, Ownership>();
  #databaseError: string | undefined;
  #lastDataError = "";

  /** @param deps Database, settings, metrics, logger. */
  constructor(deps: PipelineDeps) {
    this.#deps = deps;
  }

  /** Why the database is not usable now, or `undefined` when the last operation succeeded. */
  databaseProblem(): string | undefined {
    return this.#databaseError;
  }

  /** Forgets what this member owned: after a rebalance, every partition is checked again. */
  onRebalance(): void {
    this.#owned.clear();
    this.#deps.metrics.lag.clear();
  }

  /** Validates and stores one partition batch. */
  async handle(batch: PartitionBatch): Promise<void> {
    const { metrics } = this.#deps;
    const started = performance.now();
    const key: PartitionKey = {
      groupId: this.#deps.groupId,
      topic: batch.topic,
      partition: batch.partition,
    };
    if (batch.records.length === 0) return;
    let owned = this.#owned.get(batch.partition);
    if (owned === undefined) {
      const stored = await this.#retry(
        batch,
        () => claimOffset(this.#deps.sql, key, batch.records[0].offset),
      );
      if (stored === undefined) return;
      owned = { next: BigInt(stored), sought: false };
      this.#owned.set(batch.partition, owned);
    }
    const lastOffset = batch.records[batch.records.length - 1].offset;
    const records = batch.records.filter((r) => BigInt(r.offset) >= owned.next);
    if (records.length === 0) {
      // All of it is stored already (Kafka's committed offset was behind PostgreSQL's).
      batch.resolveOffset(lastOffset);
      return;
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
      return;
    }
    const bug = this.#deps.plantedBug;
    const plan = planBatch(
      batch.topic,
      batch.partition,
      records,
      this.#deps.alertRule,
      this.#now(),
      {
        conflictCheck: bug !== "no-conflict-check",
      },
    );
    const write: BatchWrite = {
      ...key,
      expectedOffset: owned.next.toString(),
      nextOffset: (BigInt(lastOffset) + 1n).toString(),
      rows: plan.rows.map((p) => p.row),
      rejects: bug === "swallow-invalid" ? [] : plan.rejects,
    };
    const outcome = await storeBatch(
      {
        sql: this.#deps.sql,
        log: this.#deps.log,
        retry: (operation, dataErrors) => this.#retry(batch, operation, dataErrors),
        lastDataError: () => this.#lastDataError,
        plantedBug: bug,
      },
      write,
      plan.rows,
    );
    if (outcome === undefined) return; // stopping or outdated: nothing stored, nothing resolved
    if (outcome.kind === "fenced") {
      metrics.fenced.inc();
      this.#owned.delete(batch.partition);
      const stored = await this.#retry(
        batch,
        () => claimOffset(this.#deps.sql, key, write.nextOffset),
      );
      // Either another member owns the partition now, or an earlier attempt of this very batch
      // committed and only its reply was lost with the connection: both ways the batch is stored
      // up to the offset found, and reading resumes there.
      this.#deps.log.warn("stored offset moved past this batch's start; batch not written again", {
        partition: batch.partition,
        expectedOffset: write.expectedOffset,
        storedOffset: stored,
      });
      if (stored !== undefined && batch.isCurrent()) batch.seek(stored);
      return;
    }
    owned.next = BigInt(write.nextOffset);
    batch.resolveOffset(lastOffset);
    metrics.consumed.inc(records.length);
    metrics.written.inc(outcome.inserted);
    metrics.duplicates.inc(
      plan.duplicates - outcome.twinsRejected + outcome.rivalTwinsAccepted + outcome.duplicates,
    );
    metrics.alerts.inc(outcome.alerts);
    for (const reject of outcome.rejects) {
      metrics.rejected.inc(1, { reason: reject.reasons[0].code });
    }
    metrics.lag.set(Math.max(0, Number(BigInt(batch.highWatermark) - owned.next)), {
      partition: String(batch.partition),
    });
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    this.#deps.log.debug("batch stored", {
      partition: batch.partition,
      from: write.expectedOffset,
      to: write.nextOffset,
      rows: outcome.inserted,
      rejects: outcome.rejects.length,
    });
    await batch.commit();
    await batch.heartbeat();
  }

  /**
   * Runs `operation` until it succeeds, backing off on infrastructure errors (connection lost,
   * server restarting) and heartbeating so the group keeps this member. Returns `undefined` when
   * the batch is no longer current (stopping, or outdated by a rebalance); with `dataErrors`,
   * returns `"data_error"` for errors caused by the data, which no retry can fix.
   */
  async #retry<T>(
    batch: PartitionBatch,
    operation: () => Promise<T>,
    dataErrors = false,
  ): Promise<T | "data_error" | undefined> {
    for (let attempt = 0;; attempt++) {
      if (!batch.isCurrent()) return undefined;
      try {
        const result = await operation();
        this.#databaseError = undefined;
        return result;
      } catch (error) {
        if (dataErrors && isDataError(error)) {
          this.#lastDataError = `${(error as Error).message} (SQLSTATE ${
            (error as { code: string }).code
          })`;
          return "data_error";
        }
        this.#databaseError = (error as Error).message;
        this.#deps.metrics.retries.inc();
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.#deps.log.warn("database operation failed; retrying", {
          partition: batch.partition,
          attempt: attempt + 1,
          retryInMs: Math.round(delay),
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
