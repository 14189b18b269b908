/**
 * The faults: a seeded schedule (pure) and the code that injects and heals each kind.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import type postgres from "postgres";
import type { TopicFaultContext } from "./_faults_topic.ts";
import type { Member } from "./members.ts";
import type { TcpProxy } from "./proxy.ts";
import { fillVolume } from "./disk_full.ts";
import { Rng } from "./rng.ts";
import type { LocalStack } from "../scripts/services/stack.ts";
import { addPartitions, resetKafkaOffsets, retry, stopGroup, until } from "./faults_kafka.ts";

/** Every kind of fault, in a stable order. */
export const FAULT_KINDS = [
  "consumer-kill",
  "consumer-pause",
  "rebalance",
  "kafka-kill",
  "postgres-crash",
  "pg-terminate",
  "offset-reset",
  "kafka-offsets-latest",
  "pg-connection-drop",
  "pg-latency",
  "postgres-blackhole",
  "clock-skew",
  "topic-recreated",
  "kafka-data-wiped",
  "postgres-disk-full",
  "partitions-added",
] as const;

/** A fault kind. */
export type FaultKind = typeof FAULT_KINDS[number];

/** One fault of the schedule. */
export interface PlannedFault {
  /** What to do. */
  kind: FaultKind;
  /** Quiet time before it, in ms. */
  quietBeforeMs: number;
  /** How long the fault lasts before it is healed, in ms. */
  holdMs: number;
  /** Which base member it hits (index, modulo their number). */
  target: number;
  /** Kind-specific: latency in ms for pg-latency, the clock's error in hours for clock-skew,
   * partitions to add for partitions-added. */
  param: number;
}

/** Time each kind takes beyond its hold (restarts, rejoins), to fit a schedule in a duration. */
const OVERHEAD_MS: Record<FaultKind, number> = {
  "consumer-kill": 3000,
  "consumer-pause": 1000,
  "rebalance": 6000,
  "kafka-kill": 20_000,
  "postgres-crash": 3000,
  "pg-terminate": 500,
  "offset-reset": 15_000,
  "kafka-offsets-latest": 15_000,
  "pg-connection-drop": 500,
  "pg-latency": 500,
  "postgres-blackhole": 3000,
  "clock-skew": 12_000,
  // Waiting for the old log to be stored, reading it back, re-creating (a broker start).
  "topic-recreated": 15_000,
  "kafka-data-wiped": 30_000,
  "postgres-disk-full": 5000,
  // The members notice new partitions within their KAFKA_METADATA_MAX_AGE_MS (30 s), then rejoin.
  "partitions-added": 35_000,
};

/**
 * The seeded schedule: every kind once in random order, then (unless `once`) random kinds until
 * `durationMs` is filled, with quiet periods in between.
 */
export function planFaults(
  seed: number,
  opts: {
    durationMs: number;
    kinds: readonly FaultKind[];
    once: boolean;
    sessionTimeoutMs: number;
  },
): PlannedFault[] {
  const rng = new Rng(seed ^ 0x5eed);
  const quiet = () => (opts.once ? rng.int(3000, 6000) : rng.int(5000, 15_000));
  const make = (kind: FaultKind): PlannedFault => {
    const hold: Record<FaultKind, () => number> = {
      "consumer-kill": () => rng.int(500, 4000),
      "consumer-pause": () => opts.sessionTimeoutMs + rng.int(2000, 6000),
      "rebalance": () => rng.int(6000, 15_000),
      "kafka-kill": () => rng.int(1000, 6000),
      "postgres-crash": () => rng.int(500, 6000),
      "pg-terminate": () => rng.int(2000, 5000),
      "offset-reset": () => 0,
      "kafka-offsets-latest": () => 0,
      "pg-connection-drop": () => 3000,
      "pg-latency": () => rng.int(5000, 12_000),
      // Longer than the members' DATABASE_QUERY_TIMEOUT_S (phases.ts), so their bound fires.
      "postgres-blackhole": () => rng.int(8000, 15_000),
      "clock-skew": () => rng.int(8000, 20_000),
      // Short: the new log must grow while the consumers may still trust the old topic ID.
      "topic-recreated": () => rng.int(0, 2000),
      "kafka-data-wiped": () => rng.int(1000, 4000),
      // Counted from the first member that names the full disk (fillVolume).
      "postgres-disk-full": () => rng.int(3000, 8000),
      // Events flow to the new partitions this long before the heal: recovery is then the time
      // until the group has found them and stored what they hold.
      "partitions-added": () => rng.int(3000, 8000),
    };
    const param: Partial<Record<FaultKind, () => number>> = {
      "pg-latency": () => rng.int(20, 200),
      // Hours either way, past the 24 h future bound at the far end.
      "clock-skew": () => (rng.int(0, 1) === 0 ? -1 : 1) * rng.int(2, 72),
      "partitions-added": () => rng.int(2, 3),
    };
    return {
      kind,
      quietBeforeMs: quiet(),
      holdMs: hold[kind](),
      target: rng.int(0, 1),
      param: param[kind]?.() ?? 0,
    };
  };
  const plan = rng.shuffle(opts.kinds).map(make);
  const cost = (f: PlannedFault) => f.quietBeforeMs + f.holdMs + OVERHEAD_MS[f.kind];
  let total = plan.reduce((s, f) => s + cost(f), 0);
  while (!opts.once && opts.kinds.length > 0) {
    const next = make(rng.pick(opts.kinds));
    if (total + cost(next) > opts.durationMs) break;
    plan.push(next);
    total += cost(next);
  }
  return plan;
}

/** What the injectors act on. */
export interface FaultContext extends TopicFaultContext {
  /** The group's base members. */
  members: Member[];
  /** An extra member that joins and leaves for rebalances. */
  joiner: Member;
  /** The chaos servers. */
  stack: LocalStack;
  /** The proxy between consumers and PostgreSQL. */
  proxy: TcpProxy;
  /** The harness's pool on the run's database. */
  sql: postgres.Sql;
  /** Admin client of the chaos broker. */
  kafka: Kafka;
  /** Topic and group of the run. */
  topic: string;
  group: string;
  /** Run log. */
  note: (msg: string, fields?: Record<string, unknown>) => void;
  /** Tells the workload the topic has grown to `partitions`. */
  grow: (partitions: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Injects one fault, holds it, heals it; resolves once healed with what was hit. */
export async function inject(f: PlannedFault, ctx: FaultContext): Promise<string> {
  const running = ctx.members.filter((m) => m.running && !m.paused);
  const member = running[f.target % Math.max(1, running.length)] ?? ctx.members[0];
  switch (f.kind) {
    case "consumer-kill": {
      const killed = member.name;
      member.signal("SIGKILL");
      await until(() => !member.running, 10_000);
      await sleep(f.holdMs);
      member.start();
      return killed;
    }
    case "consumer-pause": {
      // Longer than the session timeout: the group moves its partitions; on SIGCONT it resumes
      // with a batch in hand and must not write it.
      member.signal("SIGSTOP");
      await sleep(f.holdMs);
      member.signal("SIGCONT");
      return member.name;
    }
    case "rebalance": {
      ctx.joiner.start();
      await ctx.joiner.joined(60_000).catch((e) =>
        ctx.note("joiner did not join", { error: String(e) })
      );
      await sleep(f.holdMs);
      await ctx.joiner.stop();
      return ctx.joiner.name;
    }
    case "kafka-kill": {
      await ctx.stack.killKafka();
      await sleep(f.holdMs);
      await ctx.stack.restartKafka();
      return "kafka";
    }
    case "postgres-crash": {
      await ctx.stack.stopPostgres("immediate");
      await sleep(f.holdMs);
      await ctx.stack.startPostgres();
      return "postgres";
    }
    case "pg-terminate": {
      let killed = 0;
      const deadline = Date.now() + f.holdMs;
      for (let i = 0; Date.now() < deadline; i++) {
        // Mostly backends in the middle of a statement, every tenth round all of them.
        const rows = await ctx.sql`
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'chaos-c%'
            AND (state = 'active' OR ${i % 10 === 0})`.catch(() => []);
        killed += rows.length;
        await sleep(100);
      }
      return `${killed} backends`;
    }
    case "offset-reset": {
      // Kafka only resets the offsets of an empty group; the stored offsets are the truth, so
      // both go back to the start and everything is replayed.
      const wanted = await stopGroup(ctx);
      await resetKafkaOffsets(ctx, true);
      await retry(
        () =>
          ctx
            .sql`UPDATE tb_kafka_offset SET next_offset = 0 WHERE group_id = ${ctx.group} AND topic = ${ctx.topic}`,
        60_000,
      );
      for (const m of wanted) m.start();
      return "group";
    }
    case "kafka-offsets-latest": {
      // Kafka's committed offsets jump to the end (a reset by an operator, a tool, a lost
      // __consumer_offsets) while PostgreSQL keeps its own: the consumer must go back to those,
      // or everything in between is skipped.
      const wanted = await stopGroup(ctx);
      await resetKafkaOffsets(ctx, false);
      for (const m of wanted) m.start();
      return "group";
    }
    case "pg-connection-drop": {
      let dropped = 0;
      for (let i = 0; i < 3; i++) {
        dropped += ctx.proxy.dropAll();
        await sleep(f.holdMs / 3);
      }
      return `${dropped} connections`;
    }
    case "pg-latency": {
      ctx.proxy.setLatency(f.param);
      await sleep(f.holdMs);
      ctx.proxy.setLatency(0);
      return `${f.param} ms`;
    }
    case "clock-skew": {
      // A pod whose wall clock is hours off, then stepped back to the true time while it runs (an
      // NTP correction): verdicts must not change, and the step must not cost the member its
      // partitions for good (kafkajs times heartbeats with the wall clock).
      await member.stop();
      member.start({
        preload: "chaos/clock_skew.ts",
        env: { CHAOS_CLOCK_SKEW_MS: String(f.param * 3_600_000) },
      });
      await member.joined(60_000).catch((e) =>
        ctx.note("skewed member did not join", { error: String(e) })
      );
      await sleep(f.holdMs);
      member.signal("SIGUSR2");
      return `${member.name} ${f.param > 0 ? "+" : ""}${f.param} h`;
    }
    case "postgres-blackhole": {
      // Packets dropped, not refused: no answer and no error until it heals.
      ctx.proxy.setBlackHole(true);
      await sleep(f.holdMs);
      ctx.proxy.setBlackHole(false);
      return "proxy";
    }
    case "topic-recreated":
    case "kafka-data-wiped": {
      // Loaded here: it brings kafkajs, and the schedule (planFaults) must load without it.
      const { replaceTopic } = await import("./_faults_topic.ts");
      return await replaceTopic(f.kind, f.holdMs, ctx);
    }
    case "postgres-disk-full":
      return await fillVolume(ctx.stack, ctx.members, f.holdMs, ctx.note);
    case "partitions-added": {
      // An operator scales the topic out mid-stream: the workload places events over the new
      // partitions at once, the consumers must find them (metadata refresh, rejoin) and read
      // each from its first offset.
      const { from, to } = await addPartitions(ctx, f.param);
      ctx.grow(to);
      await sleep(f.holdMs);
      return `${from}->${to} partitions`;
    }
  }
}
