/**
 * The checker's invariants about the events: one function per invariant, each from the history
 * (and what `_checker_expect.ts` worked out from it) to its finding (private to chaos/; see
 * checker.ts).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { CONSUMER_SETTINGS } from "../consumer/config.ts";
import type { LedgerEntry } from "./ledger.ts";
import { COLUMNS, coord, entryOf, type Expected, readingOf, sentAs } from "./_checker_expect.ts";
import { type CheckInput, type Finding, judgeEach, type Problem } from "./_checker_types.ts";

/** When and in which corpus class, for attributing a violation to a fault. */
const at = (e?: LedgerEntry) => ({ atMs: e?.sentAt, class: e?.class });

const EMPTY_DIGEST = createHash("sha256").update(new Uint8Array()).digest("hex");

/**
 * The bound the suite's consumers cut rejects to: the default, since members.ts passes them no
 * REJECT_MAX_STORED_BYTES.
 */
export const REJECT_BOUND: number = CONSUMER_SETTINGS.REJECT_MAX_STORED_BYTES.default;

/** `kafka-kept-acked`: every seq Kafka acknowledged is in the topic. */
export function kafkaKeptAcked(input: CheckInput): Finding {
  const inLog = new Set(input.log.flatMap((m) => m.seq === undefined ? [] : [m.seq]));
  return judgeEach("kafka-kept-acked", input.acked, (seq) =>
    inLog.has(seq) ? undefined : {
      message: `seq ${seq} acknowledged, not in the topic`,
      ...at(input.ledger[seq]),
    });
}

/** `log-matches-ledger`: every message in the topic is one the harness sent, byte for byte. */
export function logMatchesLedger(input: CheckInput): Finding {
  return judgeEach("log-matches-ledger", input.log, (m) => {
    if (sentAs(input, m) !== undefined) return undefined;
    const e = entryOf(input, m);
    return {
      message: `${coord(m)}: ${e ? "bytes differ from" : "not in"} the ledger (seq ${m.seq})`,
      ...at(e),
    };
  });
}

/** `valid-stored-once`: every id that must be stored is. */
export function validStoredOnce(expected: Expected): Finding {
  return judgeEach(
    "valid-stored-once",
    expected.groups,
    ({ id, winner, stored }) =>
      stored !== undefined ? undefined : {
        message: `${id} (seq ${winner.e.seq}) missing`,
        tally: "lost",
        ...at(winner.e),
      },
  );
}

/** `values-correct`: every stored id holds its winner's values. */
export function valuesCorrect(expected: Expected): Finding {
  const stored = expected.groups.filter((g) => g.stored !== undefined);
  return judgeEach("values-correct", stored, ({ id, winner, stored }) => {
    const wrong = COLUMNS.filter((c) => stored![c] !== winner.row[c]);
    if (wrong.length === 0) return undefined;
    return {
      message: `${id}: ${
        wrong.map((c) => `${c} ${JSON.stringify(stored![c])} != ${JSON.stringify(winner.row[c])}`)
          .join(", ")
      }`,
      tally: "wrongValue",
      ...at(winner.e),
    };
  });
}

/** `invalid-rejected-once`: every message that must be rejected is, with its reasons. */
export function invalidRejectedOnce(input: CheckInput, expected: Expected): Finding {
  const rejectsAt = rejectsByCoord(input);
  return judgeEach(
    "invalid-rejected-once",
    expected.rejects,
    ([key, want]): Problem | undefined => {
      const got = rejectsAt.get(key);
      if (got === undefined) {
        return {
          message: `${key} (seq ${want.e.seq}, ${want.e.class}) not in the reject table`,
          tally: "lost",
          ...at(want.e),
        };
      }
      // Exactly the expected reasons: one more (or one fewer) is a different verdict on the event.
      if (sameCodes(want.codes, got.codes)) return undefined;
      return {
        message: `${key} (${want.e.class}): reasons ${got.codes.join(",")}, expected ${
          want.codes.join(",")
        }`,
        tally: "misRejected",
        ...at(want.e),
      };
    },
  );
}

/**
 * `payload-kept`: every reject that is there keeps the message's bytes, or, past
 * {@linkcode REJECT_BOUND}, that many of them with the whole message's length and SHA-256. (That
 * the first bytes are the message's own is not checked: the checker keeps digests, not bytes.)
 */
export function payloadKept(input: CheckInput, expected: Expected): Finding {
  const rejectsAt = rejectsByCoord(input);
  const present = [...expected.rejects].filter(([key]) => rejectsAt.has(key));
  return judgeEach("payload-kept", present, ([key, want]) => {
    const sent = want.m.digest === "null" ? EMPTY_DIGEST : want.m.digest;
    const got = rejectsAt.get(key)!;
    const problem = got.digest !== sent
      ? "payload bytes differ"
      : got.bytes !== want.e.size
      ? `length ${got.bytes} recorded, ${want.e.size} sent`
      : got.stored.bytes !== Math.min(got.bytes, REJECT_BOUND)
      ? `${got.stored.bytes} bytes stored of ${got.bytes} (bound ${REJECT_BOUND})`
      : got.stored.bytes === got.bytes && got.stored.digest !== got.digest
      ? "stored bytes differ from the recorded hash"
      : undefined;
    return problem === undefined
      ? undefined
      : { message: `${key} (${want.e.class}): ${problem}`, ...at(want.e) };
  });
}

/**
 * `no-valid-rejected`: no message that must be kept is in the reject table. Checked: every
 * message that must not be rejected, plus each one that was (as the checker always counted).
 */
export function noValidRejected(input: CheckInput, expected: Expected): Finding {
  const wronglyRejected = unexpectedRejects(input, expected)
    .flatMap((r) => {
      const e = expected.noReject.get(coord(r));
      return e === undefined ? [] : [{ r, e }];
    });
  const found = judgeEach("no-valid-rejected", wronglyRejected, ({ r, e }) => ({
    message: `${coord(r)} (seq ${e.seq}, ${e.class}) rejected as ${r.codes.join(",")}`,
    tally: "misRejected",
    ...at(e),
  }));
  return { ...found, checked: found.checked + expected.noReject.size };
}

/** `no-extra-rows`: no reject and no row that no message explains. Checked: every row. */
export function noExtraRows(input: CheckInput, expected: Expected): Finding {
  const strayRejects = unexpectedRejects(input, expected)
    .filter((r) => !expected.noReject.has(coord(r)))
    .map((r) => ({
      invariant: "no-extra-rows" as const,
      message: `reject at ${coord(r)} explained by no message`,
    }));
  const ids = new Set(expected.groups.map((g) => g.id));
  const rows = judgeEach("no-extra-rows", input.rows, (r) => {
    if (ids.has(r.id)) return undefined;
    const dup = expected.readings.has(readingOf(r));
    return {
      message: `row ${r.id} (${r.id_dispositivo} ${r.timestamp}) ${
        dup ? "duplicates a stored event" : "explained by no message"
      }`,
      tally: dup ? "duplicated" : undefined,
    };
  });
  return { checked: rows.checked, violations: [...strayRejects, ...rows.violations] };
}

const rejectsByCoord = (input: CheckInput) => new Map(input.rejects.map((r) => [coord(r), r]));

/** Rejects at coordinates where none was expected. */
const unexpectedRejects = (input: CheckInput, expected: Expected) =>
  input.rejects.filter((r) => !expected.rejects.has(coord(r)));

/**
 * The same set of reason codes: none missing, none extra. A code may stand more than once (one
 * `missing_field` per missing field); the corpus specifies codes, not how many fields carry them.
 */
function sameCodes(want: readonly string[], got: readonly string[]): boolean {
  const set = (codes: readonly string[]) => [...new Set(codes)].sort().join(",");
  return set(want) === set(got);
}
