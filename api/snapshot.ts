/**
 * Stream positions: a PostgreSQL snapshot (`pg_snapshot`, text form `xmin:xmax:xip,...`) names
 * exactly the transactions committed before it. Readings record the transaction that wrote them
 * (`xid_carga`), alerts the one that last changed them (`xid_alteracao`), so the rows visible in
 * snapshot B and not in snapshot A are exactly those committed between the two, whatever their
 * timestamps: a later commit with an earlier `now()` is not missed. The stream's event ids
 * (`Last-Event-ID`) are such snapshots.
 *
 * @module
 */

/** A parsed `pg_snapshot`: transaction ids as bigint (xid8 is 64-bit). */
export interface Snapshot {
  /** Every transaction below it had ended when the snapshot was taken. */
  xmin: bigint;
  /** Every transaction from it on had not started. */
  xmax: bigint;
  /** Transactions in [xmin, xmax) still in progress, ascending. */
  xip: readonly bigint[];
}

/** Longest position accepted: a snapshot lists the transactions in progress, a few usually. */
export const MAX_POSITION_LENGTH = 4096;

/**
 * Parses a snapshot's text form, as PostgreSQL writes it.
 *
 * @example
 * ```ts
 * import { parseSnapshot } from "./snapshot.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseSnapshot("10:14:10,12"), { xmin: 10n, xmax: 14n, xip: [10n, 12n] });
 * ```
 *
 * @throws {SyntaxError} when the text is not a snapshot PostgreSQL could have written.
 */
export function parseSnapshot(text: string): Snapshot {
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
  if (text.length > MAX_POSITION_LENGTH) {
    throw new SyntaxError(`Cannot parse stream position: longer than ${MAX_POSITION_LENGTH}`);
  }
  const match =
    /^([1-9][0-9]{0,19}):([1-9][0-9]{0,19}):((?:[1-9][0-9]{0,19})(?:,[1-9][0-9]{0,19})*)?$/
      .exec(text);
  if (match === null) {
    throw new SyntaxError(
      `Cannot parse stream position as xmin:xmax:xip: current value is ${shown}`,
    );
  }
  const xmin = BigInt(match[1]);
  const xmax = BigInt(match[2]);
  const xip = match[3] === undefined ? [] : match[3].split(",").map(BigInt);
  const ordered = xip.every((x, i) => x >= xmin && x < xmax && (i === 0 || x > xip[i - 1]));
  if (xmin > xmax || !ordered) {
    throw new SyntaxError(`Cannot parse stream position: inconsistent snapshot ${shown}`);
  }
  if (xmax >= 1n << 63n) throw new SyntaxError(`Cannot parse stream position: ${shown} too large`);
  return { xmin, xmax, xip };
}

/** A snapshot's text form (what {@linkcode parseSnapshot} reads). */
export function formatSnapshot(snapshot: Snapshot): string {
  return `${snapshot.xmin}:${snapshot.xmax}:${snapshot.xip.join(",")}`;
}

/**
 * Whether transaction `xid` had committed (or aborted) when `snapshot` was taken:
 * `pg_visible_in_snapshot`, for a transaction that committed.
 */
export function endedBefore(xid: bigint, snapshot: Snapshot): boolean {
  return xid < snapshot.xmin || (xid < snapshot.xmax && !snapshot.xip.includes(xid));
}

/**
 * Whether every transaction ended before `earlier` had also ended before `later`: `earlier` was
 * taken first (or is the same). A client's position that is not at or before the stream's own
 * comes from another database (or was made up), and is refused rather than trusted.
 */
export function notAfter(earlier: Snapshot, later: Snapshot): boolean {
  if (earlier.xmax > later.xmax || earlier.xmin > later.xmin) return false;
  // Ended before `earlier`, yet in progress for `later`: impossible for two real snapshots.
  return later.xip.every((x) => !endedBefore(x, earlier));
}
