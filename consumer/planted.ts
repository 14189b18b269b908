/**
 * TEST-ONLY: deliberately broken variants of the consumer, switched on by `IOT_PLANTED_BUG`.
 *
 * The fault-injection suite (`chaos/`) must prove that its checker catches the mistakes that
 * break exactly-once delivery; the only convincing proof is to run the real consumer with such a
 * mistake planted and watch the run fail. Each variant removes one safeguard:
 *
 * - `commit-before-write`: the stored offset moves in its own statement, before the rows are
 *   written; a failure in between loses the batch (the classic "commit, then process").
 * - `no-fence`: the offset update no longer checks the offset this member expects, so a member
 *   that lost its partitions (paused past its session) writes anyway and moves the offset back.
 * - `no-conflict-check`: an id that comes back with other values is silently ignored instead of
 *   being refused into the reject table.
 * - `swallow-invalid`: invalid messages are skipped without a reject row.
 *
 * Unset (the default) nothing changes. The consumer logs a warning at start when one is set.
 *
 * @module
 */

/** The planted bugs, by name. */
export const PLANTED_BUGS = [
  "commit-before-write",
  "no-fence",
  "no-conflict-check",
  "swallow-invalid",
] as const;

/** One planted bug. */
export type PlantedBug = typeof PLANTED_BUGS[number];
