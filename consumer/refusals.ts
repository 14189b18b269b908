/**
 * Storing one planned batch, and what to do when the database refuses part of it: an id already
 * stored with other values (refused as `duplicate_id_conflict`) or a row the database itself
 * refuses (isolated, refused as `database_refused`). Every message of the batch ends up stored or
 * rejected, never dropped. Only the {@link EventStore} seam is used, so this is tested with an
 * in-memory store (refusals_test.ts).
 *
 * @module
 */

import type { Reason } from "@iot/shared";
import type { Logger } from "@iot/shared/runtime";
import type { BatchResult, EventStore, Fence } from "./event_store.ts";
import {
  type BatchPlan,
  conflictReason,
  type PlannedRow,
  rejectOf,
  type RejectRow,
} from "./transform.ts";

/**
 * Runs a store operation until it stops throwing (the infrastructure failed), as the pipeline
 * does (back-off, heartbeats). `undefined`: the batch is no longer current; give up quietly.
 */
export type Retry = <T>(operation: () => Promise<T>) => Promise<T | undefined>;

/** What storing a batch did. */
export type Stored =
  | { kind: "fenced" }
  | {
    kind: "written";
    /** Rows inserted. */
    inserted: number;
    /** Messages not inserted because the same reading is stored (in this batch or before). */
    duplicates: number;
    /** Inserted rows with alerta. */
    alerts: number;
    /** Every reject written: the plan's, and those the database caused. */
    rejects: RejectRow[];
  };

/**
 * Writes the batch, moving refused rows into the rejects until the database accepts the rest.
 * Returns `undefined` when the batch stopped being current before it could be written.
 *
 * @param store The database.
 * @param fence Partition and the offset this member expects.
 * @param nextOffset The offset after the batch.
 * @param plan Rows and rejects from `planBatch`.
 * @param retry The pipeline's retry loop, bound to the batch.
 * @param log Logger.
 */
export async function storeBatch(
  store: EventStore,
  fence: Fence,
  nextOffset: string,
  plan: BatchPlan,
  retry: Retry,
  log: Logger,
): Promise<Stored | undefined> {
  let rows = plan.rows;
  let rejects: RejectRow[] = [...plan.rejects];
  // Re-sends within the batch start as duplicates; a refusal of the row they repeat turns them
  // into rejects, and a rival that turns out to be the stored reading turns its own into duplicates.
  let twins = plan.duplicates;
  // Rows isolation wrote one by one: the batch write then finds them stored already.
  let insertedAlone = 0;
  let isolatedBecause: string | undefined;
  for (;;) {
    const write = { ...fence, nextOffset, rows: rows.map((p) => p.row), rejects };
    const result: BatchResult | undefined = await retry(() => store.writeBatch(write));
    if (result === undefined) return undefined;
    switch (result.kind) {
      case "fenced":
        return result;
      case "written": {
        const inserted = result.inserted + insertedAlone;
        const alerts = rows.filter((p) => p.row.alerta).length;
        return {
          kind: "written",
          inserted,
          duplicates: twins + rows.length - inserted,
          // Rows stored before carry no new alert; which ones they were is not reported.
          alerts: inserted === rows.length ? alerts : Math.min(alerts, inserted),
          rejects,
        };
      }
      case "refused": {
        if (isolatedBecause !== undefined) {
          // Every row was accepted alone, so the fault is not in one event: a bug, not bad data.
          // Throwing makes kafkajs retry the batch; nothing is skipped.
          throw new Error(
            `PostgreSQL refuses the batch as a whole: ${describe(result)} ` +
              `(after isolating ${isolatedBecause})`,
          );
        }
        isolatedBecause = describe(result);
        const isolated = await isolate(store, fence, rows, retry, plan.rejectMaxStoredBytes);
        if (isolated === undefined) return undefined;
        if (isolated === "fenced") return { kind: "fenced" };
        log.warn("database refused a batch; its refused rows go to the reject table", {
          partition: fence.partition,
          refused: isolated.rejects.length,
          error: isolatedBecause,
        });
        rows = isolated.rows;
        rejects = [...rejects, ...isolated.rejects];
        twins -= isolated.twinsRejected;
        insertedAlone += isolated.inserted;
        continue;
      }
      case "conflict": {
        // Every id stored with other values is resolved before the next write: K conflicts cost
        // two writes, not K + 1 (each a full statement, with no heartbeat in between).
        for (const id of result.ids) {
          const index = rows.findIndex((p) => p.row.id === id);
          if (index < 0) throw new Error(`conflict reported for unknown id ${id}`);
          const refused = rows[index];
          rejects = [
            ...rejects,
            ...refuse(refused, [conflictReason(id)], plan.rejectMaxStoredBytes),
          ];
          twins -= refused.twins?.length ?? 0;
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
          twins += next.twins?.length ?? 0;
        }
        continue;
      }
    }
  }
}

/**
 * The rejects of a refused row: its own, and one for each exact re-send of it in the same batch.
 * Those re-sends were set aside as duplicates of a row that is now not stored, so without their
 * own reject row they would vanish (found by the chaos suite: a conflicting reading sent twice).
 */
function refuse(planned: PlannedRow, reasons: Reason[], maxStoredBytes: number): RejectRow[] {
  return [planned.record, ...(planned.twins ?? [])].map((record) =>
    rejectOf(record, reasons, maxStoredBytes)
  );
}

/**
 * Writes rows one at a time (fenced, offset unmoved) to find those the database refuses because
 * of their data; they become rejects with the database's own words. Rare path: only a refused
 * batch makes it run.
 */
async function isolate(
  store: EventStore,
  fence: Fence,
  rows: PlannedRow[],
  retry: Retry,
  maxStoredBytes: number,
) {
  const kept: PlannedRow[] = [];
  const rejects: RejectRow[] = [];
  let twinsRejected = 0;
  let inserted = 0;
  for (const planned of rows) {
    const result = await retry(() => store.writeRow(fence, planned.row));
    if (result === undefined) return undefined;
    if (result.kind === "fenced") return "fenced" as const;
    if (result.kind === "written") {
      kept.push(planned);
      if (result.inserted) inserted++;
      continue;
    }
    twinsRejected += planned.twins?.length ?? 0;
    rejects.push(...refuse(
      planned,
      result.kind === "conflict" ? [conflictReason(planned.row.id)] : [{
        field: "payload",
        code: "database_refused",
        message: `PostgreSQL refused the row: ${describe(result)}`,
      }],
      maxStoredBytes,
    ));
  }
  return { rows: kept, rejects, twinsRejected, inserted };
}

function describe(refusal: { message: string; sqlstate: string }): string {
  return `${refusal.message} (SQLSTATE ${refusal.sqlstate})`;
}
