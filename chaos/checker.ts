/**
 * The checker: a pure function from what was sent (the ledger), what Kafka holds (the log) and
 * what PostgreSQL holds (rows, rejects, offsets, offset history) plus the run's timeline (faults,
 * exits, memory) to one verdict per invariant. No I/O, so it is unit-tested on its own
 * (`checker_test.ts`) with histories that contain each kind of bug.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ExpectedRow, LedgerEntry } from "./ledger.ts";
import { checkRuntime } from "./_checker_runtime.ts";
import {
  type CheckInput,
  type CheckResult,
  derivedId,
  type Invariant,
  INVARIANTS,
  type LogMessage,
  type Violation,
} from "./_checker_types.ts";

export type {
  CheckLimits,
  ExitRecord,
  FaultRecord,
  MemorySeries,
  OffsetTransition,
  RuntimeInput,
} from "./_checker_runtime.ts";
export * from "./_checker_types.ts";

const COLUMNS = [
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
const readingOf = (r: Omit<ExpectedRow, "id">) =>
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

const coord = (partition: number, offset: string) => `${partition}/${offset}`;

interface Member {
  m: LogMessage;
  e: LedgerEntry;
  row: ExpectedRow;
}

/** Checks a run. Pure: same input, same result. */
export function check(input: CheckInput): CheckResult {
  const violations: Violation[] = [];
  const checked = new Map<Invariant, number>();
  const count = (inv: Invariant, n = 1) => checked.set(inv, (checked.get(inv) ?? 0) + n);
  const fail = (v: Violation) => violations.push(v);
  const at = (e?: LedgerEntry) => ({ atMs: e?.sentAt, class: e?.class });

  // Kafka against the ledger.
  const inLog = new Set<number>();
  for (const m of input.log) if (m.seq !== undefined) inLog.add(m.seq);
  for (const seq of input.acked) {
    count("kafka-kept-acked");
    if (!inLog.has(seq)) {
      fail({
        invariant: "kafka-kept-acked",
        message: `seq ${seq} acknowledged, not in the topic`,
        ...at(input.ledger[seq]),
      });
    }
  }
  const known: { m: LogMessage; e: LedgerEntry }[] = [];
  for (const m of input.log) {
    count("log-matches-ledger");
    const e = m.seq === undefined ? undefined : input.ledger[m.seq];
    if (e === undefined || e.digest !== m.digest) {
      fail({
        invariant: "log-matches-ledger",
        message: `${coord(m.partition, m.offset)}: ${
          e ? "bytes differ from" : "not in"
        } the ledger (seq ${m.seq})`,
        ...at(e),
      });
    } else known.push({ m, e });
  }

  // Expected outcome of every message: rejects by coordinates, rows by id (groups of one id).
  const expectedRejects = new Map<
    string,
    { e: LedgerEntry; codes: readonly string[]; m: LogMessage }
  >();
  const noReject = new Map<string, LedgerEntry>();
  const groups = new Map<string, Member[]>();
  for (const { m, e } of known) {
    if (e.expect.outcome === "rejected") {
      expectedRejects.set(coord(m.partition, m.offset), { e, codes: e.expect.codes, m });
      continue;
    }
    const id = e.expect.row.id ?? derivedId(input.topic, m.partition, m.offset);
    const list = groups.get(id) ?? [];
    list.push({ m, e, row: { ...e.expect.row, id } });
    groups.set(id, list);
  }
  const rowsById = new Map(input.rows.map((r) => [r.id, r]));
  const explained = new Set<string>();
  const expectedReadings = new Set<string>();
  for (const [id, members] of groups) {
    count("valid-stored-once");
    explained.add(id);
    const stored = rowsById.get(id);
    const partitions = new Set(members.map((x) => x.m.partition));
    let winner: Member | undefined;
    if (partitions.size === 1) {
      winner = members.reduce((a, b) => (BigInt(b.m.offset) < BigInt(a.m.offset) ? b : a));
    } else if (stored !== undefined) {
      winner = members.find((x) => readingOf(x.row) === readingOf(stored));
    }
    winner ??= members[0];
    expectedReadings.add(readingOf(winner.row));
    if (stored === undefined) {
      fail({
        invariant: "valid-stored-once",
        message: `${id} (seq ${winner.e.seq}) missing`,
        tally: "lost",
        ...at(winner.e),
      });
    } else {
      count("values-correct");
      const wrong = COLUMNS.filter((c) => stored[c] !== winner.row[c]);
      if (wrong.length > 0) {
        fail({
          invariant: "values-correct",
          message: `${id}: ${
            wrong.map((c) =>
              `${c} ${JSON.stringify(stored[c])} != ${JSON.stringify(winner.row[c])}`
            ).join(", ")
          }`,
          tally: "wrongValue",
          ...at(winner.e),
        });
      }
    }
    for (const x of members) {
      const key = coord(x.m.partition, x.m.offset);
      if (readingOf(x.row) === readingOf(winner.row)) noReject.set(key, x.e);
      else expectedRejects.set(key, { e: x.e, codes: ["duplicate_id_conflict"], m: x.m });
    }
  }

  // The reject table.
  const rejectsAt = new Map(input.rejects.map((r) => [coord(r.partition, r.offset), r]));
  for (const [key, want] of expectedRejects) {
    count("invalid-rejected-once");
    const got = rejectsAt.get(key);
    if (got === undefined) {
      fail({
        invariant: "invalid-rejected-once",
        message: `${key} (seq ${want.e.seq}, ${want.e.class}) not in the reject table`,
        tally: "lost",
        ...at(want.e),
      });
      continue;
    }
    if (!want.codes.every((c) => got.codes.includes(c))) {
      fail({
        invariant: "invalid-rejected-once",
        message: `${key} (${want.e.class}): reasons ${got.codes.join(",")}, expected ${
          want.codes.join(",")
        }`,
        tally: "misRejected",
        ...at(want.e),
      });
    }
    count("payload-kept");
    const sent = want.m.digest === "null" ? EMPTY_DIGEST : want.m.digest;
    if (got.digest !== sent) {
      fail({
        invariant: "payload-kept",
        message: `${key} (${want.e.class}): payload bytes differ`,
        ...at(want.e),
      });
    }
  }
  for (const r of input.rejects) {
    const key = coord(r.partition, r.offset);
    if (expectedRejects.has(key)) continue;
    const e = noReject.get(key);
    if (e !== undefined) {
      count("no-valid-rejected");
      fail({
        invariant: "no-valid-rejected",
        message: `${key} (seq ${e.seq}, ${e.class}) rejected as ${r.codes.join(",")}`,
        tally: "misRejected",
        ...at(e),
      });
    } else {
      fail({ invariant: "no-extra-rows", message: `reject at ${key} explained by no message` });
    }
  }
  for (const r of input.rows) {
    count("no-extra-rows");
    if (explained.has(r.id)) continue;
    const dup = expectedReadings.has(readingOf(r));
    fail({
      invariant: "no-extra-rows",
      message: `row ${r.id} (${r.id_dispositivo} ${r.timestamp}) ${
        dup ? "duplicates a stored event" : "explained by no message"
      }`,
      tally: dup ? "duplicated" : undefined,
    });
  }
  count("no-valid-rejected", noReject.size);

  checkRuntime(input, count, fail);
  const verdicts = (Object.keys(INVARIANTS) as Invariant[]).map((invariant) => {
    const mine = violations.filter((v) => v.invariant === invariant);
    return {
      invariant,
      ok: mine.length === 0,
      checked: checked.get(invariant) ?? 0,
      violations: mine.length,
      examples: mine.slice(0, 5).map((v) => v.message),
    };
  });
  const tally = (t: Violation["tally"]) => violations.filter((v) => v.tally === t).length;
  return {
    ok: violations.length === 0,
    verdicts,
    violations,
    figures: {
      events: input.ledger.length,
      acked: input.acked.size,
      logMessages: input.log.length,
      expectedRows: groups.size,
      storedRows: input.rows.length,
      expectedRejects: expectedRejects.size,
      storedRejects: input.rejects.length,
      lost: tally("lost"),
      duplicated: tally("duplicated"),
      misRejected: tally("misRejected"),
      wrongValues: tally("wrongValue"),
    },
  };
}

const EMPTY_DIGEST = createHash("sha256").update(new Uint8Array()).digest("hex");
