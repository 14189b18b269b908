/**
 * The checker: a pure function from what was sent (the ledger), what Kafka holds (the log) and
 * what PostgreSQL holds (rows, rejects, offsets, offset history) plus the run's timeline (faults,
 * exits, memory) to one verdict per invariant. No I/O, so it is unit-tested on its own
 * (`checker_test.ts`) with histories that contain each kind of bug.
 *
 * Each invariant has its own check (`_checker_events.ts`, `_checker_devices.ts`,
 * `_checker_alerts.ts`, `_checker_runtime.ts`); the event
 * checks compare the database with what `_checker_expect.ts` works out from the topic.
 *
 * @module
 */

import { alertEpisodes, anomalyReplay, judgeDevices, oneOpenAlert } from "./_checker_alerts.ts";
import { deviceStateMatches } from "./_checker_devices.ts";
import { expect } from "./_checker_expect.ts";
import {
  invalidRejectedOnce,
  kafkaKeptAcked,
  logMatchesLedger,
  noExtraRows,
  noValidRejected,
  payloadKept,
  validStoredOnce,
  valuesCorrect,
} from "./_checker_events.ts";
import {
  drained,
  memoryStable,
  noCrashLoop,
  offsetsAtEnd,
  offsetsOnlyForward,
  recovered,
} from "./_checker_runtime.ts";
import {
  type CheckInput,
  type CheckResult,
  type Finding,
  type Invariant,
  INVARIANTS,
  type Verdict,
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
export type { MonitoringSettings } from "./_checker_fold.ts";
export type { Monitoring, StoredAlert, StoredFold, StoredModel } from "./_checker_monitoring.ts";

/** Checks a run. Pure: same input, same result. */
export function check(input: CheckInput): CheckResult {
  const expected = expect(input);
  const judged = judgeDevices(input, expected);
  // A record over every invariant: one left without a check does not compile.
  const findings: Record<Invariant, Finding> = {
    "kafka-kept-acked": kafkaKeptAcked(input),
    "log-matches-ledger": logMatchesLedger(input),
    "valid-stored-once": validStoredOnce(expected),
    "values-correct": valuesCorrect(expected),
    "invalid-rejected-once": invalidRejectedOnce(input, expected),
    "no-valid-rejected": noValidRejected(input, expected),
    "no-extra-rows": noExtraRows(input, expected),
    "payload-kept": payloadKept(input, expected),
    "device-state": deviceStateMatches(input, expected),
    "alert-episodes": alertEpisodes(judged),
    "one-open-alert": oneOpenAlert(input.monitoring.alerts),
    "anomaly-replay": anomalyReplay(judged),
    "offsets-at-end": offsetsAtEnd(input),
    "offsets-only-forward": offsetsOnlyForward(input),
    "drained": drained(input),
    "recovered": recovered(input),
    "no-crash-loop": noCrashLoop(input),
    "memory-stable": memoryStable(input),
  };
  const order = Object.keys(INVARIANTS) as Invariant[];
  const notApplicable = new Set(input.notApplicable ?? []);
  for (const invariant of order) {
    const finding = findings[invariant];
    if (finding.checked === 0 && !notApplicable.has(invariant)) {
      finding.violations.push({ invariant, message: "checked nothing: no evidence either way" });
    }
  }
  const verdicts = order.map((invariant) =>
    verdict(invariant, findings[invariant], !notApplicable.has(invariant))
  );
  const violations = order.flatMap((invariant) => findings[invariant].violations);
  const tally = (t: Violation["tally"]) => violations.filter((v) => v.tally === t).length;
  return {
    ok: violations.length === 0,
    verdicts,
    violations,
    figures: {
      events: input.ledger.length,
      acked: input.acked.size,
      logMessages: input.log.length,
      expectedRows: expected.groups.length,
      storedRows: input.rows.length,
      expectedRejects: expected.rejects.size,
      storedRejects: input.rejects.length,
      lost: tally("lost"),
      duplicated: tally("duplicated"),
      misRejected: tally("misRejected"),
      wrongValues: tally("wrongValue"),
    },
  };
}

function verdict(
  invariant: Invariant,
  { checked, violations }: Finding,
  applicable: boolean,
): Verdict {
  return {
    invariant,
    ok: violations.length === 0,
    applicable,
    checked,
    violations: violations.length,
    examples: violations.slice(0, 5).map((v) => v.message),
  };
}
