/**
 * The phases of a fault-injection run, in order: form the group, produce, inject the seeded faults
 * with quiet periods between, heal everything and drain, stop the group, read everything back.
 * Each acts on the run's environment (`harness.ts`); chaos/run.ts calls them one after another.
 *
 * @module
 */

import { parse } from "yaml";
import { CONSUMER_SETTINGS } from "../consumer/config.ts";
import type { CheckInput, ExitRecord, FaultRecord } from "./checker.ts";
import { type FaultContext, inject, planFaults, type PlannedFault } from "./faults.ts";
import { PARTITIONS, type Run, SESSION_TIMEOUT_MS } from "./harness.ts";
import { Ledger } from "./ledger.ts";
import { Member } from "./members.ts";
import { monitoringEnv, RUN_MONITORING } from "./monitoring.ts";
import type { Monitor } from "./monitor.ts";
import * as stack from "./stack.ts";
import { Sender } from "./sender.ts";
import { Workload } from "./workload.ts";

/** The consumer group under test. */
export interface Group {
  /** The base members, `c1` and `c2`. */
  members: Member[];
  /** `c3`, which joins and leaves for rebalances. */
  joiner: Member;
  /** Every member. */
  everyone: () => Member[];
  /** Every consumer exit, as the members and the final stop record them. */
  exits: ExitRecord[];
}

/** The workload being sent. */
export interface Production {
  /** Every message meant to be sent. */
  ledger: Ledger;
  /** What generates them (counts the corpus classes sent). */
  workload: Workload;
  /** What sends them (counts the failed attempts). */
  sender: Sender;
  /** When production started (run clock). */
  startMs: number;
  /** Stops generating; resolves once the generator has stopped. */
  stop: () => Promise<void>;
}

/** How the final drain went. */
export type Drain = CheckInput["drain"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the base members and waits until both have joined the group. */
export async function formGroup(run: Run): Promise<Group> {
  const { kafkaBrokers, runId, group, proxiedUrl, runDir, clock, note } = run;
  const plant = run.options.plant;
  const exits: ExitRecord[] = [];
  const memberSettings = {
    env: {
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC: runId,
      KAFKA_GROUP_ID: group,
      DATABASE_URL: proxiedUrl.toString(),
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      // Short, so a postgres-blackhole fault outlasts them within a short run.
      DATABASE_STATEMENT_TIMEOUT_S: "3",
      DATABASE_QUERY_TIMEOUT_S: "5",
      // topic-recreated and kafka-data-wiped give the topic a new ID: read the new log from its
      // start (the default policy would stop the partitions until an operator fixed the offsets).
      OFFSET_MISMATCH_POLICY: "restart-from-beginning",
      LOG_LEVEL: "debug",
      // The thresholds and model settings the checker's replay follows (one source).
      ...monitoringEnv(),
      ...(plant ? { CHAOS_PLANTED_BUG: plant } : {}),
      KAFKA_CONSUMER_CLIENT: run.options.kafkaClient,
    },
    // A planted bug runs in the mutant entry point; the product consumer has no way to plant one.
    entry: plant ? "chaos/mutant_consumer.ts" : "consumer/main.ts",
    logDir: runDir,
    clock,
    note,
  };
  const members = ["c1", "c2"].map((slot) => new Member(slot, memberSettings, exits));
  const joiner = new Member("c3", memberSettings, exits);
  for (const m of members) m.start();
  await Promise.all(members.map((m) => m.joined(90_000)));
  note("group formed", Object.fromEntries(members.map((m) => [m.name, m.partitions])));
  return { members, joiner, everyone: () => [...members, joiner], exits };
}

/** Starts sending the seeded workload at the run's rate, in the background. */
export function startProducing(run: Run): Production {
  const { seed, rate } = run.options;
  const { kafka, runId, clock } = run;
  const ledger = new Ledger();
  const workload = new Workload({ seed, partitions: PARTITIONS }, ledger);
  const sender = new Sender(kafka, runId, ledger, run.note);
  sender.start();
  let producing = true;
  const startMs = clock();
  const done = (async () => {
    let generated = 0;
    while (producing) {
      const due = Math.floor(((clock() - startMs) / 1000) * rate);
      while (generated < due) {
        sender.enqueue(workload.next(Date.now(), clock()));
        generated++;
      }
      await sleep(50);
    }
  })();
  const stop = () => {
    producing = false;
    return done;
  };
  return { ledger, workload, sender, startMs, stop };
}

/**
 * Injects the seeded schedule of faults one at a time, each after its quiet period and each
 * waiting for the previous one's recovery; then lets the workload run for at least the duration
 * and one round of its deck (every corpus class).
 */
export async function injectFaults(
  run: Run,
  group: Group,
  production: Production,
  monitor: Monitor,
): Promise<FaultRecord[]> {
  const { seed, durationS, kinds, mode, rate } = run.options;
  const { clock, note } = run;
  const plan = planFaults(seed, {
    durationMs: durationS * 1000,
    kinds,
    once: mode === "short" || durationS === 0,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  });
  note("fault plan", { faults: plan.map((f) => f.kind) });
  const ctx: FaultContext = {
    members: group.members,
    joiner: group.joiner,
    stack: run.services,
    proxy: run.proxy,
    sql: run.sql,
    kafka: run.kafka,
    topic: run.runId,
    group: run.group,
    note,
    sender: production.sender,
    generations: run.generations,
    drained: (timeoutMs) => monitor.drained(timeoutMs),
    grow: (partitions) => production.workload.grow(partitions),
  };
  const faults: FaultRecord[] = [];
  for (const planned of plan) {
    await sleep(planned.quietBeforeMs);
    faults.push(await injectOne(planned, ctx, clock, monitor));
  }
  const minimumMs = Math.max(durationS * 1000, (2500 / rate) * 1000, 15_000);
  await sleep(Math.max(5000, production.startMs + minimumMs - clock()));
  return faults;
}

/** One fault: injected, held, healed, then its recovery awaited (bounded). */
async function injectOne(
  planned: PlannedFault,
  ctx: FaultContext,
  clock: () => number,
  monitor: Monitor,
): Promise<FaultRecord> {
  const startMs = clock();
  ctx.note(`fault ${planned.kind}`, { holdMs: planned.holdMs });
  const target = await inject(planned, ctx).catch((error) => {
    ctx.note("fault injection failed", { kind: planned.kind, error: String(error) });
    return "?";
  });
  const record: FaultRecord = { kind: planned.kind, target, startMs, healMs: clock() };
  ctx.note(`healed ${planned.kind}`, { target });
  monitor.track(record);
  // The next fault waits for this one's recovery (bounded), so recovery times are its own and
  // the quiet period before the next one is really quiet.
  await monitor.settle(120_000);
  return record;
}

/**
 * Heals everything (latency off, servers up, members resumed and restarted), stops producing,
 * flushes the sender, then waits until everything sent is stored.
 */
export async function healAndDrain(
  run: Run,
  group: Group,
  production: Production,
  monitor: Monitor,
): Promise<Drain> {
  const { clock, note } = run;
  await production.stop();
  run.proxy.setLatency(0);
  await run.services.ensure();
  for (const m of group.members) {
    if (m.paused) m.signal("SIGCONT");
    if (!m.running) m.start();
  }
  await production.sender.stop();
  const healedAtMs = clock();
  note("healed everything; draining", {
    events: production.ledger.entries.length,
    producerRetries: production.sender.failures,
    batchesByCodec: production.sender.batchesByCodec,
  });
  const ok = await monitor.drained(300_000);
  const tookMs = clock() - healedAtMs;
  await monitor.settle(30_000);
  note(ok ? "drained" : "NOT drained", { drainMs: tookMs });
  await sleep(3000); // a late write by a stale member would land here
  monitor.close();
  return { ok, healedAtMs, tookMs };
}

/** Stops every member (SIGTERM); one that does not exit 0 is an unexpected exit. */
export async function stopGroup(group: Group, clock: () => number): Promise<void> {
  for (const m of group.everyone()) {
    const code = await m.stop();
    if (code !== 0 && code !== null) {
      group.exits.push({ member: m.name, atMs: clock(), code, expected: false });
    }
    m.close();
  }
}

/** Reads the topic and the database back: with the run's timeline, the checker's whole input. */
export async function readBack(
  run: Run,
  timeline: { group: Group; production: Production; faults: FaultRecord[]; drain: Drain },
): Promise<CheckInput> {
  const { kafka, sql, runId, group: groupId, clock } = run;
  const { group, production, faults, drain } = timeline;
  run.note("reading back the topic and the database");
  const { past } = run.generations;
  const current = past.length;
  const log = [
    ...past.flatMap((g) => g.log),
    ...(await stack.readLog(kafka, runId)).map((m) => ({ ...m, generation: current })),
  ];
  const end = await stack.endOffsets(kafka, runId);
  const stored = await stack.storedOffsets(sql, groupId, runId);
  const topicIds = [...past.map((g) => g.topicId), await run.generations.current()];
  const db = await stack.readDatabase(sql, runId, Date.now() - clock(), topicIds);
  return {
    topic: runId,
    topicIds,
    idKey: db.idKey,
    ledger: production.ledger.entries,
    acked: production.ledger.acked,
    log,
    rows: db.rows,
    rejects: db.rejects,
    devices: db.devices,
    monitoring: { ...db.monitoring, settings: RUN_MONITORING },
    // The consumers run with the default (the chaos harness does not set it).
    deviceFutureToleranceS: CONSUMER_SETTINGS.DEVICE_FUTURE_TOLERANCE_S.default,
    storedOffsets: stored,
    storedTopicIds: await stack.storedTopicIds(sql, groupId, runId),
    endOffsets: end,
    earlierEnds: past.map((g) => g.end),
    transitions: db.transitions.filter((t) => t.writer !== stack.HARNESS_APP),
    logStart: topicIds.map((_, g) => logStartOf(log.filter((m) => (m.generation ?? 0) === g))),
    notApplicable: faults.length === 0 ? ["recovered"] : [],
    faults,
    exits: group.exits,
    memory: group.everyone().flatMap((m) => m.memory),
    drain,
    limits: {
      recoveryMs: 120_000,
      // A pod above its memory request is the first evicted when the node runs short.
      memoryMaxBytes: consumerMemoryRequest(),
      memoryGrowthRatio: 1.5,
      crashLoopExits: 3,
      crashLoopWindowMs: 60_000,
    },
  };
}

/** The first offset of each partition in the log read back (a partition without one starts at 0). */
function logStartOf(log: readonly { partition: number; offset: string }[]): Record<number, string> {
  const start: Record<number, string> = {};
  for (const m of log) {
    if (start[m.partition] === undefined || BigInt(m.offset) < BigInt(start[m.partition])) {
      start[m.partition] = m.offset;
    }
  }
  return start;
}

/** The consumer's memory request in charts/values.yaml, in bytes: one source for the bound. */
function consumerMemoryRequest(): number {
  const values = parse(Deno.readTextFileSync(`${stack.ROOT}/charts/values.yaml`));
  const text = String(values.consumer.resources.requests.memory);
  const match = /^(\d+)(Mi|Gi)$/.exec(text);
  if (match === null) throw new Error(`consumer.resources.requests.memory: cannot read ${text}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 ** 3 : 1024 ** 2);
}
