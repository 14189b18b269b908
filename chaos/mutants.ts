/**
 * Deliberately broken consumers, for the fault-injection suite's negative controls: the checker
 * must catch the mistakes that break exactly-once delivery, and the only convincing proof is to
 * run the real consumer with one planted and watch the run fail. Each mutant wraps the consumer's
 * database seam (consumer/event_store.ts) and removes one safeguard:
 *
 * - `commit-before-write`: the offset moves in its own write, before the rows; a failure in
 *   between loses the batch (the classic "commit, then process").
 * - `no-fence`: writes no longer check the offset this member expects, so a member that lost its
 *   partitions (paused past its session) writes anyway and moves the offset back.
 * - `no-conflict-check`: an id that comes back with other values is silently dropped instead of
 *   being refused into the reject table.
 * - `swallow-invalid`: invalid messages are skipped without a reject row.
 *
 * They exist only here: the product consumer has no setting that plants them; the suite starts
 * them through chaos/mutant_consumer.ts.
 *
 * @module
 */

import type { BatchWrite, EventStore, Fence, StoredOffset } from "../consumer/event_store.ts";
import type { RejectRow } from "../consumer/transform.ts";

/** The planted bugs, by name. */
export const PLANTED_BUGS = [
  "commit-before-write",
  "no-fence",
  "no-conflict-check",
  "swallow-invalid",
] as const;

/** One planted bug. */
export type PlantedBug = typeof PLANTED_BUGS[number];

/** Reason codes the consumer gives after validation passed: every other code means invalid. */
const NOT_INVALID = new Set(["duplicate_id_conflict", "database_refused"]);

const isConflict = (r: RejectRow) => r.reasons[0]?.code === "duplicate_id_conflict";

/**
 * The store with `bug` planted.
 *
 * @param bug Which safeguard to remove.
 * @param store The real store.
 */
export function plant(bug: PlantedBug, store: EventStore): EventStore {
  switch (bug) {
    case "commit-before-write":
      return {
        ...bind(store),
        async writeBatch(batch) {
          // The offset alone first, then the rows fenced at the offset just stored.
          const moved = await store.writeBatch({ ...batch, rows: [], rejects: [] });
          if (moved.kind !== "written") return moved;
          return await store.writeBatch({ ...batch, expectedOffset: batch.nextOffset });
        },
      };
    case "no-fence":
      // The write lands whatever offset is stored: read it and write at it until no one moved it
      // in between, which is what an UPDATE without the expected-offset condition does.
      return {
        ...bind(store),
        async writeBatch(batch) {
          for (;;) {
            const stored = await store.claimOffset(batch, claimed(batch));
            const result = await store.writeBatch({ ...batch, expectedOffset: stored.nextOffset });
            if (result.kind !== "fenced") return result;
          }
        },
        async writeRow(fence, row) {
          for (;;) {
            const stored = await store.claimOffset(fence, claimed(fence));
            const result = await store.writeRow(
              { ...fence, expectedOffset: stored.nextOffset },
              row,
            );
            if (result.kind !== "fenced") return result;
          }
        },
      };
    case "no-conflict-check":
      return {
        ...bind(store),
        async writeBatch(batch) {
          let write: BatchWrite = {
            ...batch,
            rejects: batch.rejects.filter((r) => !isConflict(r)),
          };
          for (;;) {
            const result = await store.writeBatch(write);
            if (result.kind !== "conflict") return result;
            write = { ...write, rows: write.rows.filter((row) => !result.ids.includes(row.id)) };
          }
        },
        async writeRow(fence, row) {
          const result = await store.writeRow(fence, row);
          return result.kind === "conflict" ? { kind: "written", inserted: false } : result;
        },
      };
    case "swallow-invalid":
      return {
        ...bind(store),
        writeBatch: (batch) =>
          store.writeBatch({
            ...batch,
            rejects: batch.rejects.filter((r) => NOT_INVALID.has(r.reasons[0]?.code)),
          }),
      };
  }
}

/** The offset a fence expects, as a claim's initial value. */
function claimed(fence: Fence): StoredOffset {
  return { nextOffset: fence.expectedOffset, topicId: fence.topicId };
}

/** The store's methods as plain functions, to spread into a mutant. */
function bind(store: EventStore): EventStore {
  return {
    claimOffset: (key, initial) => store.claimOffset(key, initial),
    resetOffset: (fence, to) => store.resetOffset(fence, to),
    idKey: () => store.idKey(),
    writeBatch: (batch) => store.writeBatch(batch),
    writeRow: (fence, row) => store.writeRow(fence, row),
  };
}
