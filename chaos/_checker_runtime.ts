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
  /** The row's topic ID before (`null` when the row was created, or had none). */
  fromTopicId: string | null;
  /** The row's topic ID after. */
  toTopicId: string | null;
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
  /**
   * Kafka's ID of each generation of the topic, in order (see `LogMessage.generation`); the last
   * is the topic now. Derived ids and stored offsets name the generation by it.
   */
  topicIds: readonly string[];
  /** Offsets in tb_kafka_offset by partition. */
  storedOffsets: Readonly<Record<number, string>>;
  /** The topic ID stored with each partition's offset (`tb_kafka_offset.topic_id`). */
  storedTopicIds: Readonly<Record<number, string | null>>;
  /** The first offset each generation of the topic held, by partition (absent: 0). */
  logStart?: readonly Readonly<Record<number, string>>[];
  /** The topic's end offsets by partition (its last generation). */
  endOffsets: Readonly<Record<number, string>>;
  /** The end offsets of each generation before the last, as they were when it was deleted. */
  earlierEnds?: readonly Readonly<Record<number, string>>[];
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

/**
 * `offsets-at-end`: every partition's stored offset is the end of the generation its topic ID
 * names, and no later generation holds anything on that partition: the last generation's end
 * under its topic ID, unless the partition stayed empty since (an offset of the old log that
 * happens to equal the new one's end proves nothing).
 */
export function offsetsAtEnd(input: RuntimeInput): Finding {
  const ends = [...(input.earlierEnds ?? []), input.endOffsets];
  const partitions = new Set([
    ...ends.flatMap((e) => Object.keys(e)),
    ...Object.keys(input.storedOffsets),
  ]);
  return judgeEach("offsets-at-end", partitions, (key) => {
    const p = Number(key);
    const stored = input.storedOffsets[p];
    const storedId = input.storedTopicIds[p] ?? null;
    const generation = stored === undefined ? -1 : input.topicIds.indexOf(storedId ?? "");
    if (stored !== undefined && generation < 0) {
      return {
        message: `partition ${p}: stored ${stored} of topic ID ${storedId}, never the topic's`,
      };
    }
    const storedEnd = generation < 0 ? "0" : ends[generation][p] ?? "0";
    if ((stored ?? "0") !== storedEnd) {
      return {
        message: `partition ${p}: stored ${stored}, end ${storedEnd} (generation ${generation})`,
      };
    }
    const later = ends.findIndex((e, g) => g > generation && (e[p] ?? "0") !== "0");
    return later < 0 ? undefined : {
      message: `partition ${p}: stored ${stored ?? "nothing"} of generation ${generation}, ` +
        `generation ${later} ends at ${ends[later][p]}`,
    };
  });
}

/**
 * `offsets-only-forward`: no stored offset ever moved back or stood still, and every offset row
 * was created at its log's start; except, once per partition and generation, the move to a later
 * generation's start together with its topic ID (a re-created topic read from its beginning).
 */
export function offsetsOnlyForward(input: RuntimeInput): Finding {
  const generationOf = (id: string | null) => id === null ? -1 : input.topicIds.indexOf(id);
  const startOf = (generation: number, partition: number) =>
    input.logStart?.[generation]?.[partition] ?? "0";
  const moved = new Set<string>();
  return judgeEach("offsets-only-forward", input.transitions, (t) => {
    const where = `partition ${t.partition}: ${t.writer}`;
    if (t.from === null) {
      // A claim creates the row where Kafka first delivered: on the run's fresh topic, the log's
      // start. A row created further on would skip every message before it.
      const start = startOf(Math.max(0, generationOf(t.toTopicId)), t.partition);
      return BigInt(t.to) <= BigInt(start) ? undefined : {
        message: `${where} created the offset row at ${t.to}, past the log's start ${start}`,
        atMs: t.atMs,
      };
    }
    if (t.fromTopicId === t.toTopicId) {
      return BigInt(t.to) > BigInt(t.from) ? undefined : {
        message: `${where} moved the offset from ${t.from} to ${t.to}`,
        atMs: t.atMs,
      };
    }
    const from = generationOf(t.fromTopicId);
    const to = generationOf(t.toTopicId);
    const once = `${t.partition}/${to}`;
    const start = startOf(to, t.partition);
    if (from < 0 || to <= from || moved.has(once) || BigInt(t.to) > BigInt(start)) {
      return {
        message: `${where} moved the offset from ${t.from} (topic ID ${t.fromTopicId}) to ` +
          `${t.to} (topic ID ${t.toTopicId}): not a later generation's start ${start}` +
          (moved.has(once) ? ", or not the first time" : ""),
        atMs: t.atMs,
      };
    }
    moved.add(once);
    return undefined;
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
