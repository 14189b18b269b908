/**
 * The report of a run: a JSON document for machines and a markdown page for people (figures,
 * invariants, faults × invariants, recovery times). Pure: the run's facts in, text out.
 *
 * @module
 */

import {
  type CheckResult,
  type ExitRecord,
  type FaultRecord,
  type Invariant,
  INVARIANTS,
  type MemorySeries,
} from "./checker.ts";
import { FAULT_KINDS } from "./faults.ts";

/** Everything a report says. */
export interface Report {
  run: {
    id: string;
    seed: number;
    mode: "short" | "long";
    plant: string | null;
    startedAt: string;
    wallSeconds: number;
    command: string;
    settings: Record<string, unknown>;
  };
  verdict: "PASS" | "FAIL";
  figures: CheckResult["figures"] & {
    faults: number;
    faultsByKind: Record<string, number>;
    worstRecoveryS: number | null;
    unexpectedExits: number;
    peakRssMb: number;
    producerRetries: number;
    corpusClassesSent: number;
  };
  verdicts: CheckResult["verdicts"];
  /** Violations per fault kind (by the time of the message or event) and invariant. */
  matrix: Record<string, Partial<Record<Invariant, number>>>;
  faults: { kind: string; target: string; atS: number; heldS: number; recoveryS: number | null }[];
  members: Record<string, {
    incarnations: number;
    levels: Record<string, number>;
    /** Batches refused by the offset fence (stale members, lost replies). */
    fencedBatches: number;
    peakRssMb: number;
  }>;
}

/** What a run leaves behind for its report, as plain data. */
export interface RunFacts {
  /** The run's identity and settings. */
  run: Report["run"];
  /** The checker's answer. */
  result: CheckResult;
  /** Injected faults, with their recovery. */
  faults: readonly FaultRecord[];
  /** Consumer exits. */
  exits: readonly ExitRecord[];
  /** Every member slot. */
  members: readonly {
    slot: string;
    incarnations: number;
    levels: Record<string, number>;
    fencedBatches: number;
    memory: readonly MemorySeries[];
  }[];
  /** Failed send attempts (each retried). */
  producerRetries: number;
  /** How many corpus classes the workload sent. */
  corpusClassesSent: number;
}

/** The report of a run. Pure. */
export function toReport(facts: RunFacts): Report {
  const { result, faults, members } = facts;
  const recoveries = faults.filter((f) => f.recoveredMs !== undefined).map((f) =>
    f.recoveredMs! - f.healMs
  );
  return {
    run: facts.run,
    verdict: result.ok ? "PASS" : "FAIL",
    figures: {
      ...result.figures,
      faults: faults.length,
      faultsByKind: Object.fromEntries(
        FAULT_KINDS.map((k) => [k, faults.filter((f) => f.kind === k).length]).filter(([, n]) => n),
      ),
      worstRecoveryS: recoveries.length ? Math.round(Math.max(...recoveries) / 100) / 10 : null,
      unexpectedExits: facts.exits.filter((e) => !e.expected).length,
      peakRssMb: peakMb(members.flatMap((m) => m.memory)),
      producerRetries: facts.producerRetries,
      corpusClassesSent: facts.corpusClassesSent,
    },
    verdicts: result.verdicts,
    matrix: faultMatrix(result, faults),
    faults: faultRows(faults),
    members: Object.fromEntries(
      members.map((m) => [m.slot, {
        incarnations: m.incarnations,
        levels: m.levels,
        fencedBatches: m.fencedBatches,
        peakRssMb: peakMb(m.memory),
      }]),
    ),
  };
}

/** The largest RSS sample, in whole MiB (0 without samples). */
const peakMb = (series: readonly MemorySeries[]) =>
  Math.round(Math.max(0, ...series.flatMap((s) => s.samples.map(([, b]) => b))) / 1048576);

/** Slack before a fault in which a violation is still blamed on it (batches in flight). */
const BEFORE_MS = 10_000;
/** How long after the heal a fault is blamed when it never recovered. */
const AFTER_MS = 60_000;

/** Attributes each timed violation to the fault windows it falls in, or to `none`. */
export function faultMatrix(result: CheckResult, faults: readonly FaultRecord[]) {
  const matrix: Record<string, Partial<Record<Invariant, number>>> = {};
  for (const v of result.violations) {
    const kinds = v.atMs === undefined ? [] : faults
      .filter((f) =>
        v.atMs! >= f.startMs - BEFORE_MS && v.atMs! <= (f.recoveredMs ?? f.healMs + AFTER_MS)
      )
      .map((f) => f.kind);
    for (const k of kinds.length > 0 ? new Set(kinds) : ["none"]) {
      matrix[k] ??= {};
      matrix[k][v.invariant] = (matrix[k][v.invariant] ?? 0) + 1;
    }
  }
  return matrix;
}

const s = (ms: number) => Math.round(ms / 100) / 10;

/** The fault list of the report. */
export function faultRows(faults: readonly FaultRecord[]): Report["faults"] {
  return faults.map((f) => ({
    kind: f.kind,
    target: f.target,
    atS: s(f.startMs),
    heldS: s(f.healMs - f.startMs),
    recoveryS: f.recoveredMs === undefined ? null : s(f.recoveredMs - f.healMs),
  }));
}

/** The markdown page. */
export function markdown(r: Report): string {
  const f = r.figures;
  const lines = [
    `# Chaos run ${r.run.id}: ${r.verdict}`,
    "",
    `${r.run.mode} run, seed ${r.run.seed}${
      r.run.plant ? `, **planted bug \`${r.run.plant}\`**` : ""
    }, ` +
    `started ${r.run.startedAt}, ${
      Math.round(r.run.wallSeconds)
    } s wall clock. Reproduce: \`${r.run.command}\``,
    "",
    "| events sent | in Kafka | rows expected / stored | rejects expected / stored | lost | duplicated | mis-rejected | wrong values | faults | worst recovery | unexpected exits | peak RSS |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    `| ${f.events} | ${f.logMessages} | ${f.expectedRows} / ${f.storedRows} | ${f.expectedRejects} / ${f.storedRejects} | ` +
    `${f.lost} | ${f.duplicated} | ${f.misRejected} | ${f.wrongValues} | ${f.faults} | ` +
    `${
      f.worstRecoveryS === null ? "-" : `${f.worstRecoveryS} s`
    } | ${f.unexpectedExits} | ${f.peakRssMb} MB |`,
    "",
    "## Invariants",
    "",
    "| invariant | holds | checked | violations | first examples |",
    "|---|---|---|---|---|",
    ...r.verdicts.map((v) =>
      `| ${v.invariant}: ${INVARIANTS[v.invariant]} | ${
        v.applicable === false ? "n/a" : v.ok ? "yes" : "**NO**"
      } | ${v.checked} | ${v.violations} | ` +
      `${v.examples.slice(0, 2).map((e) => e.replaceAll("|", "\\|").slice(0, 140)).join("; ")} |`
    ),
    "",
    "## Faults × invariants",
    "",
    "Violations counted against the faults whose window (10 s before injection to recovery) holds " +
    "the violating message's send time; `none` is outside every fault. Empty cells are zero.",
    "",
  ];
  const kinds = [...FAULT_KINDS.filter((k) => f.faultsByKind[k]), "none"];
  const broken = Object.keys(INVARIANTS) as Invariant[];
  lines.push(
    `| invariant | ${kinds.map((k) => `${k} (${f.faultsByKind[k] ?? "-"})`).join(" | ")} |`,
    `|---|${kinds.map(() => "---").join("|")}|`,
    ...broken.map((inv) =>
      `| ${inv} | ${kinds.map((k) => r.matrix[k]?.[inv] ?? "").join(" | ")} |`
    ),
    "",
    "## Faults",
    "",
    "| # | kind | target | at | held | recovered after heal |",
    "|---|---|---|---|---|---|",
    ...r.faults.map((x, i) =>
      `| ${i + 1} | ${x.kind} | ${x.target} | ${x.atS} s | ${x.heldS} s | ${
        x.recoveryS === null ? "**never**" : `${x.recoveryS} s`
      } |`
    ),
    "",
    "## Consumers",
    "",
    "| slot | incarnations | batches refused by the fence | peak RSS | warnings | errors |",
    "|---|---|---|---|---|---|",
    ...Object.entries(r.members).map(([slot, m]) =>
      `| ${slot} | ${m.incarnations} | ${m.fencedBatches} | ${m.peakRssMb} MB | ${
        m.levels.warn ?? 0
      } | ${m.levels.error ?? 0} |`
    ),
    "",
  );
  return lines.join("\n");
}
