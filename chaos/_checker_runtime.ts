/**
 * The checker's invariants about the run itself rather than the events: offsets, recovery,
 * exits and memory, one function per invariant from the run's timeline to its finding (private to
 * chaos/; see checker.ts).
 *
 * @module
 */

import { type Finding, judgeEach, type Problem } from "./_checker_types.ts";

/** One change of a stored offset, as the audit trigger recorded it. */
export interface OffsetTransition {
  /** Partition. */
  partition: number;
  /** Offset before; `null` when the row was created (a claim). */
  from: string | null;
  /** Offset after. */
  to: string;
  /** When (ms since the run started). */
  atMs: number;
  /** PostgreSQL application_name of the writer (the consumer's client id). */
  writer: string;
}

/** One injected fault. */
export interface FaultRecord {
  /** Fault kind. */
  kind: string;
  /** What it hit (member, server). */
  target: string;
  /** Injected at (ms since the run started). */
  startMs: number;
  /** Healed at. */
  healMs: number;
  /** Everything sent before the heal was stored at (undefined: never). */
  recoveredMs?: number;
}

/** One exit of a consumer process. */
export interface ExitRecord {
  /** Member name and incarnation, e.g. `c1.3`. */
  member: string;
  /** When. */
  atMs: number;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  /** Whether the harness caused it (SIGKILL fault, SIGTERM stop). */
  expected: boolean;
}

/** Resident memory samples of one consumer incarnation. */
export interface MemorySeries {
  /** Member name and incarnation. */
  member: string;
  /** `[ms since the run started, RSS bytes]`. */
  samples: [number, number][];
}

/** Bounds the runtime invariants use. */
export interface CheckLimits {
  /** Longest acceptable recovery after a heal. */
  recoveryMs: number;
  /** Largest RSS of a consumer. */
  memoryMaxBytes: number;
  /** Largest growth of the mean RSS from the second to the last quarter of a long life. */
  memoryGrowthRatio: number;
  /** Unexpected exits of one member within `crashLoopWindowMs` that make a crash loop. */
  crashLoopExits: number;
  /** See `crashLoopExits`. */
  crashLoopWindowMs: number;
}

/** The run's timeline and the stored offsets. */
export interface RuntimeInput {
  /** Offsets in tb_kafka_offset by partition. */
  storedOffsets: Readonly<Record<number, string>>;
  /** The first offset the topic holds, by partition (absent: 0). */
  logStart?: Readonly<Record<number, string>>;
  /** The topic's end offsets by partition. */
  endOffsets: Readonly<Record<number, string>>;
  /** Offset history, from the audit trigger. */
  transitions: readonly OffsetTransition[];
  /** Injected faults. */
  faults: readonly FaultRecord[];
  /** Consumer exits. */
  exits: readonly ExitRecord[];
  /** Consumer memory. */
  memory: readonly MemorySeries[];
  /** The final drain: finished, and when everything was healed (ms since start). */
  drain: { ok: boolean; healedAtMs: number; tookMs: number };
  /** Bounds. */
  limits: CheckLimits;
}

const MIN_LIFE_MS = 60_000;
const GROWTH_SLACK = 64 * 1024 * 1024;

/** `offsets-at-end`: every partition's stored offset is its end offset. */
export function offsetsAtEnd(input: RuntimeInput): Finding {
  const partitions = new Set([
    ...Object.keys(input.endOffsets),
    ...Object.keys(input.storedOffsets),
  ]);
  return judgeEach("offsets-at-end", partitions, (p) => {
    const end = input.endOffsets[Number(p)] ?? "0";
    const stored = input.storedOffsets[Number(p)] ?? "0";
    return end === stored ? undefined : { message: `partition ${p}: stored ${stored}, end ${end}` };
  });
}

/** `offsets-only-forward`: no stored offset ever moved back or stood still. */
export function offsetsOnlyForward(input: RuntimeInput): Finding {
  return judgeEach("offsets-only-forward", input.transitions, (t) => {
    if (t.from === null) {
      // A claim creates the row where Kafka first delivered: on the run's fresh topic, the log's
      // start. A row created further on would skip every message before it.
      const start = input.logStart?.[t.partition] ?? "0";
      return BigInt(t.to) <= BigInt(start) ? undefined : {
        message: `partition ${t.partition}: ${t.writer} created the offset row at ${t.to}, ` +
          `past the log's start ${start}`,
        atMs: t.atMs,
      };
    }
    return BigInt(t.to) > BigInt(t.from) ? undefined : {
      message: `partition ${t.partition}: ${t.writer} moved the offset from ${t.from} to ${t.to}`,
      atMs: t.atMs,
    };
  });
}

/** `drained`: the final drain finished within its bound. */
export function drained(input: RuntimeInput): Finding {
  return judgeEach("drained", [input.drain], (d) =>
    d.ok ? undefined : {
      message: `not drained ${d.tookMs} ms after healing`,
      atMs: d.healedAtMs,
    });
}

/** `recovered`: every fault was recovered from within the bound after its heal. */
export function recovered(input: RuntimeInput): Finding {
  return judgeEach("recovered", input.faults, (f) => {
    const took = f.recoveredMs === undefined ? undefined : f.recoveredMs - f.healMs;
    if (took !== undefined && took <= input.limits.recoveryMs) return undefined;
    return {
      message: `${f.kind} on ${f.target} at ${f.startMs} ms: ${
        took === undefined ? "never recovered" : `recovered after ${took} ms`
      }`,
      atMs: f.startMs,
    };
  });
}

/**
 * `no-crash-loop`: no member exited unexpectedly `crashLoopExits` times within the window, and
 * none after healing. Checked: every exit (at least one thing, so a quiet run still counts).
 */
export function noCrashLoop(input: RuntimeInput): Finding {
  const { crashLoopExits: n, crashLoopWindowMs: window } = input.limits;
  const unexpected = input.exits.filter((e) => !e.expected);
  const loops: Problem[] = [];
  for (const [slot, exits] of Map.groupBy(unexpected, (e) => e.member.split(".")[0])) {
    const times = exits.map((e) => e.atMs).sort((a, b) => a - b);
    const i = times.findIndex((t, j) => j + n - 1 < times.length && times[j + n - 1] - t <= window);
    if (i >= 0) {
      const span = times[i + n - 1] - times[i];
      loops.push({ message: `${slot} exited ${n} times within ${span} ms`, atMs: times[i] });
    }
  }
  const late: Problem[] = unexpected.filter((e) => e.atMs >= input.drain.healedAtMs)
    .map((e) => ({ message: `${e.member} exited (code ${e.code}) after healing`, atMs: e.atMs }));
  return {
    checked: Math.max(1, input.exits.length),
    violations: [...loops, ...late].map((p) => ({ invariant: "no-crash-loop", ...p })),
  };
}

/** `memory-stable`: no consumer life above the memory bound, none that kept growing. */
export function memoryStable(input: RuntimeInput): Finding {
  return judgeEach("memory-stable", input.memory, (series) => {
    const peak = Math.max(0, ...series.samples.map(([, b]) => b));
    const problems: Problem[] = [];
    if (peak > input.limits.memoryMaxBytes) {
      problems.push({ message: `${series.member} reached ${mb(peak)} MB` });
    }
    const growth = growthOf(series.samples);
    if (
      growth !== undefined && growth.last > growth.second * input.limits.memoryGrowthRatio &&
      growth.last - growth.second > GROWTH_SLACK
    ) {
      problems.push({
        message: `${series.member} grew from ${mb(growth.second)} MB to ${mb(growth.last)} MB ` +
          `over ${Math.round(growth.lifeMs / 1000)} s`,
      });
    }
    return problems;
  });
}

/**
 * Growth within one life, judged only on lives long enough to tell a leak from load: the first
 * quarter (start-up, catching up or replaying) is left out, and the second is compared with the
 * last by their means (a collected heap saws; a leak keeps rising). Undefined for a short life.
 */
function growthOf(samples: [number, number][]) {
  const lifeMs = (samples.at(-1)?.[0] ?? 0) - (samples[0]?.[0] ?? 0);
  if (lifeMs < MIN_LIFE_MS || samples.length < 20) return undefined;
  const quarter = Math.floor(samples.length / 4);
  const mean = (xs: [number, number][]) => xs.reduce((sum, [, b]) => sum + b, 0) / xs.length;
  return {
    lifeMs,
    second: mean(samples.slice(quarter, 2 * quarter)),
    last: mean(samples.slice(-quarter)),
  };
}

const mb = (bytes: number) => Math.round(bytes / 1048576);
