/**
 * The checker's invariants about the run itself rather than the events: offsets, recovery,
 * exits and memory (private to chaos/; see checker.ts).
 *
 * @module
 */

import type { Invariant, Violation } from "./_checker_types.ts";

/** One change of a stored offset, as the audit trigger recorded it. */
export interface OffsetTransition {
  /** Partition. */
  partition: number;
  /** Offset before. */
  from: string;
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

const MIN_LIFE_MS = 120_000;
const GROWTH_SLACK = 64 * 1024 * 1024;

/** Checks the runtime invariants, reporting through `count` and `fail`. */
export function checkRuntime(
  input: RuntimeInput,
  count: (inv: Invariant, n?: number) => void,
  fail: (v: Violation) => void,
): void {
  const partitions = new Set([
    ...Object.keys(input.endOffsets),
    ...Object.keys(input.storedOffsets),
  ]);
  for (const p of partitions) {
    count("offsets-at-end");
    const end = input.endOffsets[Number(p)] ?? "0";
    const stored = input.storedOffsets[Number(p)] ?? "0";
    if (end !== stored) {
      fail({
        invariant: "offsets-at-end",
        message: `partition ${p}: stored ${stored}, end ${end}`,
      });
    }
  }
  for (const t of input.transitions) {
    count("offsets-only-forward");
    if (BigInt(t.to) <= BigInt(t.from)) {
      fail({
        invariant: "offsets-only-forward",
        message: `partition ${t.partition}: ${t.writer} moved the offset from ${t.from} to ${t.to}`,
        atMs: t.atMs,
      });
    }
  }
  count("drained");
  if (!input.drain.ok) {
    fail({
      invariant: "drained",
      message: `not drained ${input.drain.tookMs} ms after healing`,
      atMs: input.drain.healedAtMs,
    });
  }
  for (const f of input.faults) {
    count("recovered");
    const took = f.recoveredMs === undefined ? undefined : f.recoveredMs - f.healMs;
    if (took === undefined || took > input.limits.recoveryMs) {
      fail({
        invariant: "recovered",
        message: `${f.kind} on ${f.target} at ${f.startMs} ms: ${
          took === undefined ? "never recovered" : `recovered after ${took} ms`
        }`,
        atMs: f.startMs,
      });
    }
  }
  const unexpected = input.exits.filter((e) => !e.expected);
  count("no-crash-loop", Math.max(1, input.exits.length));
  const bySlot = Map.groupBy(unexpected, (e) => e.member.split(".")[0]);
  for (const [slot, exits] of bySlot) {
    const times = exits.map((e) => e.atMs).sort((a, b) => a - b);
    for (let i = 0; i + input.limits.crashLoopExits - 1 < times.length; i++) {
      const span = times[i + input.limits.crashLoopExits - 1] - times[i];
      if (span <= input.limits.crashLoopWindowMs) {
        fail({
          invariant: "no-crash-loop",
          message: `${slot} exited ${input.limits.crashLoopExits} times within ${span} ms`,
          atMs: times[i],
        });
        break;
      }
    }
  }
  for (const e of unexpected) {
    if (e.atMs >= input.drain.healedAtMs) {
      fail({
        invariant: "no-crash-loop",
        message: `${e.member} exited (code ${e.code}) after healing`,
        atMs: e.atMs,
      });
    }
  }
  for (const series of input.memory) {
    const peak = Math.max(0, ...series.samples.map(([, b]) => b));
    count("memory-stable");
    if (peak > input.limits.memoryMaxBytes) {
      fail({ invariant: "memory-stable", message: `${series.member} reached ${mb(peak)} MB` });
    }
    // Growth within one life, judged only on lives long enough to tell a leak from load: the
    // first quarter (start-up, catching up or replaying) is left out, and the second is
    // compared with the last by their means (a collected heap saws; a leak keeps rising).
    const samples = series.samples;
    const life = (samples.at(-1)?.[0] ?? 0) - (samples[0]?.[0] ?? 0);
    if (life < MIN_LIFE_MS || samples.length < 20) continue;
    const quarter = Math.floor(samples.length / 4);
    const mean = (xs: [number, number][]) => xs.reduce((sum, [, b]) => sum + b, 0) / xs.length;
    const second = mean(samples.slice(quarter, 2 * quarter));
    const last = mean(samples.slice(-quarter));
    if (last > second * input.limits.memoryGrowthRatio && last - second > GROWTH_SLACK) {
      fail({
        invariant: "memory-stable",
        message: `${series.member} grew from ${mb(second)} MB to ${mb(last)} MB over ${
          Math.round(life / 1000)
        } s`,
      });
    }
  }
}

const mb = (bytes: number) => Math.round(bytes / 1048576);
