/**
 * Retention of refused messages: rows of `tb_sensor_evento_rejeitado` older than
 * REJECT_RETENTION_DAYS are deleted by a periodic job, in small batches so that no statement
 * holds many locks or writes much WAL at once. Every replica runs the job; an advisory lock taken
 * per batch lets one of them delete at a time, and the database's clock decides what is old, so
 * replicas with skewed clocks agree. Readings (`tb_sensor_evento`) are never deleted here.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { Sql } from "postgres";
import type { Counter } from "prom-client";
import { describeDatabaseError } from "./database_state.ts";
import { startPeriodic } from "./periodic.ts";

/** Key of the advisory lock that lets one replica delete at a time ("iot-rete" in ASCII). */
export const RETENTION_LOCK_KEY = 0x696f742d72657465n;

/** Rows deleted per statement. */
export const RETENTION_BATCH_ROWS = 1000;

/** Time between two runs of the job, in milliseconds. */
export const RETENTION_INTERVAL_MS = 10 * 60_000;

/** What one batch did: whether this replica held the lock, and how many rows it deleted. */
export interface RetentionBatch {
  /** False when another replica was deleting: nothing was done. */
  held: boolean;
  /** Rows deleted. */
  deleted: number;
}

/**
 * Deletes at most `limit` rejects stored more than `days` days ago, if no other session holds
 * {@linkcode RETENTION_LOCK_KEY}. The lock is transaction-scoped: it cannot outlive the
 * transaction, even when the connection is lost.
 *
 * The lock and the delete are two statements of one transaction, not one: a statement reads the
 * rows as they were when it began, so a delete that took the lock inside its own statement could
 * start before the previous holder committed, pick the rows that holder had just deleted, delete
 * none of them and report "held, nothing left" while a backlog remained (seen in CI: two
 * replicas purged 1,000 of 2,500). Here the delete begins after the lock is held, so it sees
 * every earlier holder's deletes.
 */
export async function deleteOldRejects(
  sql: Sql,
  days: number,
  limit: number = RETENTION_BATCH_ROWS,
): Promise<RetentionBatch> {
  return await sql.begin(async (tx): Promise<RetentionBatch> => {
    const [{ held }] = await tx<{ held: boolean }[]>`
      SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY.toString()}::bigint) AS held`;
    if (!held) return { held: false, deleted: 0 };
    const [{ deleted }] = await tx<{ deleted: number }[]>`
      WITH deleted AS (
        DELETE FROM tb_sensor_evento_rejeitado
        WHERE id = ANY(ARRAY(
          SELECT id FROM tb_sensor_evento_rejeitado
          WHERE dt_carga < now() - make_interval(days => ${days}::int)
          LIMIT ${limit}::int
        ))
        RETURNING 1
      )
      SELECT count(*)::int AS deleted FROM deleted`;
    return { held: true, deleted };
  });
}

/**
 * Deletes old rejects batch after batch until none is left, another replica takes over, or
 * `stopping()` says so. Returns the rows deleted.
 */
export async function purgeOldRejects(
  run: RunStatement,
  days: number,
  onBatch: (deleted: number) => void,
  stopping: () => boolean = () => false,
  limit: number = RETENTION_BATCH_ROWS,
): Promise<number> {
  let total = 0;
  while (!stopping()) {
    const { held, deleted } = await run((sql) => deleteOldRejects(sql, days, limit));
    total += deleted;
    if (deleted > 0) onBatch(deleted);
    if (!held || deleted < limit) break;
  }
  return total;
}

/**
 * Runs one statement on the database: the consumer's bounded pool (database_pool.ts), which
 * replaces a stuck connection, or a plain pool in tests.
 */
export type RunStatement = <T>(statement: (sql: Sql) => Promise<T>) => Promise<T>;

/** What the retention job needs. */
export interface RetentionOptions {
  /** How each statement reaches the database. */
  run: RunStatement;
  /** REJECT_RETENTION_DAYS; 0 keeps rejects forever (the job does not start). */
  days: number;
  /** `iot_consumer_rejects_deleted_total`. */
  deleted: Counter;
  /** Logger. */
  log: Logger;
  /**
   * Time between runs. The first run is at once: a consumer restarted more often than this must
   * still purge.
   */
  intervalMs?: number;
}

/**
 * Starts the periodic job. A failed run (database down, read-only) is logged and tried again at
 * the next interval. Returns a function that stops it and waits for a run in progress to end.
 */
export function startRetention(options: RetentionOptions): () => Promise<void> {
  const { run: runStatement, days, deleted, log, intervalMs = RETENTION_INTERVAL_MS } = options;
  if (days === 0) {
    log.info("rejects are kept forever (REJECT_RETENTION_DAYS=0)");
    return () => Promise.resolve();
  }
  let stopped = false;
  const run = async () => {
    try {
      const total = await purgeOldRejects(
        runStatement,
        days,
        (n) => deleted.inc(n),
        () => stopped,
      );
      if (total > 0) log.info("old rejects deleted", { rows: total, olderThanDays: days });
    } catch (error) {
      log.warn("deleting old rejects failed; trying again later", {
        retryInMs: intervalMs,
        error: describeDatabaseError(error),
      });
    }
  };
  const stop = startPeriodic(run, intervalMs);
  return async () => {
    stopped = true;
    await stop();
  };
}
