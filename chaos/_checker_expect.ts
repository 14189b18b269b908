/**
 * What the database must hold, worked out from the topic as read back and the ledger (private to
 * chaos/; see checker.ts): which row each id must have, which messages must be rejected and with
 * which reasons, and which must not be. The checks of `_checker_events.ts` compare the database
 * with this.
 *
 * @module
 */

import type { ExpectedRow, LedgerEntry } from "./ledger.ts";
import { type CheckInput, derivedId, type LogMessage, type StoredRow } from "./_checker_types.ts";

/** A message of the topic with its ledger entry, and the row it would leave. */
export interface RowMessage {
  /** The message. */
  m: LogMessage;
  /** Its ledger entry. */
  e: LedgerEntry;
  /** The row it must leave if it wins its id (id filled in). */
  row: ExpectedRow;
}

/** The messages that share one id, and the one whose reading the stored row must be. */
export interface IdGroup {
  /** The id. */
  id: string;
  /** The messages, in topic order. */
  members: RowMessage[];
  /** The message that must win the id. */
  winner: RowMessage;
  /** The row stored under the id, if any. */
  stored?: StoredRow;
}

/** A message that must be in the reject table. */
export interface WantedReject {
  /** The message. */
  m: LogMessage;
  /** Its ledger entry. */
  e: LedgerEntry;
  /** Reason codes the reject must include. */
  codes: readonly string[];
}

/** What the database must hold. */
export interface Expected {
  /** One group per id that must be stored, in topic order of their first message. */
  groups: IdGroup[];
  /** Rejects by coordinate (`coord`): invalid messages first, then conflicting duplicates. */
  rejects: Map<string, WantedReject>;
  /** Messages that must not be rejected (they carry their id's stored reading), by coordinate. */
  noReject: Map<string, LedgerEntry>;
  /** The readings of the winners, to tell a row stored twice from one nobody sent. */
  readings: Set<string>;
}

/** Columns a stored row must match. */
export const COLUMNS = [
  "id_dispositivo",
  "timestamp",
  "timestamp_ts",
  "temperatura",
  "umidade",
  "latitude",
  "longitude",
  "status",
  "bateria",
  "alerta",
] as const;

/** What the sender sent (derived columns aside), as PostgreSQL compares it. */
export const readingOf = (r: Omit<ExpectedRow, "id">): string =>
  JSON.stringify([
    r.id_dispositivo,
    r.timestamp,
    r.temperatura,
    r.umidade,
    r.latitude,
    r.longitude,
    r.status,
    r.bateria,
  ]);

/** Where a message is: its topic generation (absent: 0), partition and offset. */
export interface Position {
  generation?: number;
  partition: number;
  offset: string;
}

/**
 * A message's position as one key: `partition/offset`, prefixed `g<generation>:` past the first
 * generation (a re-created topic's offsets start again at 0).
 */
export const coord = (p: Position): string =>
  `${p.generation ? `g${p.generation}:` : ""}${p.partition}/${p.offset}`;

/** Whether `a` came before `b` in the topic's history (both on one partition). */
const before = (a: Position, b: Position): boolean =>
  (a.generation ?? 0) !== (b.generation ?? 0)
    ? (a.generation ?? 0) < (b.generation ?? 0)
    : BigInt(a.offset) < BigInt(b.offset);

/** The ledger entry a message names by its seq header, if any. */
export const entryOf = (input: CheckInput, m: LogMessage): LedgerEntry | undefined =>
  m.seq === undefined ? undefined : input.ledger[m.seq];

/** The ledger entry of a message, if the harness sent exactly these bytes. */
export function sentAs(input: CheckInput, m: LogMessage): LedgerEntry | undefined {
  const e = entryOf(input, m);
  return e?.digest === m.digest ? e : undefined;
}

/** Works out what the database must hold from every message the harness sent. */
export function expect(input: CheckInput): Expected {
  const rejects = new Map<string, WantedReject>();
  const byId = new Map<string, RowMessage[]>();
  for (const m of input.log) {
    const e = sentAs(input, m);
    if (e === undefined) continue;
    if (e.expect.outcome === "rejected") {
      rejects.set(coord(m), { e, codes: e.expect.codes, m });
      continue;
    }
    const topicId = input.topicIds[m.generation ?? 0];
    const id = e.expect.row.id ?? derivedId(input.idKey, topicId, m.partition, m.offset);
    const list = byId.get(id) ?? [];
    list.push({ m, e, row: { ...e.expect.row, id } });
    byId.set(id, list);
  }
  const rowsById = new Map(input.rows.map((r) => [r.id, r]));
  const groups = [...byId].map(([id, members]) => group(id, members, rowsById.get(id)));
  const noReject = new Map<string, LedgerEntry>();
  for (const { members, winner } of groups) {
    for (const x of members) {
      const key = coord(x.m);
      if (readingOf(x.row) === readingOf(winner.row)) noReject.set(key, x.e);
      else rejects.set(key, { e: x.e, codes: ["duplicate_id_conflict"], m: x.m });
    }
  }
  return {
    groups,
    rejects,
    noReject,
    readings: new Set(groups.map((g) => readingOf(g.winner.row))),
  };
}

/**
 * Which message must win an id: on one partition the first (the consumer sees them in order, and
 * a generation of the topic whole before the next); across partitions (a conflicting duplicate
 * sent elsewhere, or a re-send after the topic grew) whichever is stored, as long as it is the
 * first of the id on its own partition: the row is written by the first insert of the id, and each
 * partition is read in order, so a later message of a partition can never be the first written.
 */
function group(id: string, members: RowMessage[], stored: StoredRow | undefined): IdGroup {
  const firsts = new Map<number, RowMessage>();
  for (const x of members) {
    const first = firsts.get(x.m.partition);
    if (first === undefined || before(x.m, first.m)) {
      firsts.set(x.m.partition, x);
    }
  }
  let winner: RowMessage | undefined;
  if (firsts.size === 1) {
    winner = [...firsts.values()][0];
  } else if (stored !== undefined) {
    winner = [...firsts.values()].find((x) => readingOf(x.row) === readingOf(stored));
  }
  return { id, members, winner: winner ?? members[0], stored };
}
