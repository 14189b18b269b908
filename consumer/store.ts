/**
 * Storing one planned batch: the single fenced statement, and what to do when PostgreSQL refuses
 * part of it — an id already stored with other values (refused as `duplicate_id_conflict`) or a
 * row the database itself refuses (isolated, refused as `database_refused`). Every message of the
 * batch ends up stored or rejected, never dropped.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { Logger, Reason } from "@iot/shared";
import type { PlantedBug } from "./planted.ts";
import { type BatchWrite, writeBatch, writeRowFenced } from "./sink.ts";
import { conflictReason, type PlannedRow, rejectOf, type RejectRow } from "./transform.ts";

/**
 * Runs a database operation until it succeeds, as the pipeline does (back-off, heartbeats).
 * `undefined`: the batch is no longer current; `"data_error"` (with `dataErrors`): the data
 * itself is refused.
 */
export type Retry = <T>(
  operation: () => Promise<T>,
  dataErrors?: boolean,
) => Promise<T | "data_error" | undefined>;

/** What storing needs. */
export interface StoreDeps {
  /** Connection pool. */
  sql: Sql;
  /** Logger. */
  log: Logger;
  /** The pipeline's retry loop, bound to the batch. */
  retry: Retry;
  /** The message of the last data error `retry` reported. */
  lastDataError: () => string;
  /** TEST-ONLY planted bug (see planted.ts). */
  plantedBug?: PlantedBug;
}

/** What storing a batch did. */
export type StoreOutcome =
  | { kind: "fenced" }
  | {
    kind: "written";
    /** Rows inserted. */
    inserted: number;
    /** Rows already stored with the same values (re-sends across batches). */
    duplicates: number;
    /** Inserted rows with alerta. */
    alerts: number;
    /** Every reject written, including those the database caused. */
    rejects: RejectRow[];
    /** In-batch re-sends rejected along with the row they repeat. */
    twinsRejected: number;
    /** In-batch re-sends of a rival reading that turned out to be the stored one. */
    rivalTwinsAccepted: number;
  };

/**
 * Writes the batch, moving refused rows into the rejects until the database accepts the rest.
 * Returns `undefined` when the batch stopped being current before it could be written.
 */
export async function storeBatch(
  deps: StoreDeps,
  write: BatchWrite,
  planned: PlannedRow[],
): Promise<StoreOutcome | undefined> {
  let rows = planned;
  let rejects: RejectRow[] = [...write.rejects];
  let isolated = false;
  let twinsRejected = 0;
  let rivalTwinsAccepted = 0;
  for (;;) {
    const attempt = { ...write, rows: rows.map((p) => p.row), rejects };
    const outcome = await deps.retry(() => writeBatch(deps.sql, attempt, deps.plantedBug), true);
    if (outcome === undefined) return undefined;
    if (outcome === "data_error") {
      if (isolated) {
        // Every row was accepted alone, so the fault is not in one event: a bug, not bad data.
        // Throwing makes kafkajs retry the batch; nothing is skipped.
        throw new Error(`PostgreSQL refuses the batch as a whole: ${deps.lastDataError()}`);
      }
      isolated = true;
      const result = await isolate(deps, write, rows);
      if (result === undefined) return undefined;
      if (result === "fenced") return { kind: "fenced" };
      rows = result.rows;
      rejects = [...rejects, ...result.rejects];
      twinsRejected += result.twinsRejected;
      continue;
    }
    if (outcome.kind === "fenced") return outcome;
    if (outcome.kind === "conflict") {
      const index = rows.findIndex((p) => p.row.id === outcome.id);
      if (index < 0) throw new Error(`conflict reported for unknown id ${outcome.id}`);
      const refused = rows[index];
      rejects = [...rejects, ...refuse(refused, [conflictReason(outcome.id)])];
      twinsRejected += refused.twins?.length ?? 0;
      const [next, ...later] = refused.rivals ?? [];
      if (next === undefined) {
        rows = rows.filter((_, i) => i !== index);
        continue;
      }
      // The stored reading is a third one; the next different reading of the batch takes the
      // refused row's place and its own conflict rejects are withdrawn. If it is the stored
      // reading re-sent, it is a duplicate; if not, the database refuses it in turn.
      const withdrawn = new Set([next.record, ...(next.twins ?? [])].map((r) => r.offset));
      rejects = rejects.filter((r) => !withdrawn.has(r.offset));
      rows = rows.map((p, i) => (i === index ? { ...next, rivals: later } : p));
      rivalTwinsAccepted += next.twins?.length ?? 0;
      continue;
    }
    const alerts = rows.filter((p) => p.row.alerta).length;
    return {
      kind: "written",
      inserted: outcome.inserted,
      duplicates: rows.length - outcome.inserted,
      alerts: outcome.inserted === rows.length ? alerts : Math.min(alerts, outcome.inserted),
      rejects,
      twinsRejected,
      rivalTwinsAccepted,
    };
  }
}

/**
 * The rejects of a refused row: its own, and one for each exact re-send of it in the same batch.
 * Those re-sends were set aside as duplicates of a row that is now not stored, so without their
 * own reject row they would vanish (found by the chaos suite: a conflicting reading sent twice).
 */
function refuse(planned: PlannedRow, reasons: Reason[]): RejectRow[] {
  return [planned.record, ...(planned.twins ?? [])].map((record) => rejectOf(record, reasons));
}

/**
 * Writes rows one at a time (fenced, offset unmoved) to find those the database refuses because
 * of their data; they become rejects with the database's own words. Rare path: only a data
 * error makes it run.
 */
async function isolate(deps: StoreDeps, write: BatchWrite, rows: PlannedRow[]) {
  const kept: PlannedRow[] = [];
  const rejects: RejectRow[] = [];
  let twinsRejected = 0;
  for (const planned of rows) {
    const result = await deps.retry(
      () => writeRowFenced(deps.sql, write, planned.row, deps.plantedBug),
      true,
    );
    if (result === undefined) return undefined;
    if (result === "fenced") return "fenced" as const;
    if (result === "conflict" || result === "data_error") {
      twinsRejected += planned.twins?.length ?? 0;
    }
    if (result === "conflict") {
      rejects.push(...refuse(planned, [conflictReason(planned.row.id)]));
    } else if (result === "data_error") {
      rejects.push(...refuse(planned, [{
        field: "payload",
        code: "database_refused",
        message: `PostgreSQL refused the row: ${deps.lastDataError()}`,
      }]));
    } else {
      kept.push(planned);
    }
  }
  deps.log.warn("database refused a batch; its refused rows go to the reject table", {
    partition: write.partition,
    refused: rejects.length,
    error: deps.lastDataError(),
  });
  return { rows: kept, rejects, twinsRejected };
}
