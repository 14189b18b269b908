/**
 * The fault-injection run (`deno task chaos`, `deno task chaos:short`): consumers in one group on
 * a 6-partition topic, a seeded workload with every corpus class, re-sends and conflicting
 * duplicates, a seeded schedule of faults with quiet periods, then heal, drain, read everything
 * back from Kafka and PostgreSQL and check it. Exit 0 when every invariant held, 1 otherwise.
 *
 *     deno run -A chaos/run.ts [--short] [--seed N] [--duration S] [--rate N]
 *                              [--faults kind,kind] [--plant BUG] [--keep-services] [--keep-data]
 *                              [--no-publish] [--report-json PATH]
 *     deno run -A chaos/run.ts down     # stop the chaos servers
 *     deno run -A chaos/run.ts status   # exit 0 when they answer, 3 otherwise
 *
 * Runs on its own Kafka and PostgreSQL (.cache/services-chaos, ports 29092/29093/25432), never
 * on the developer stack. Reports: chaos/reports/<mode>[-<bug>].{json,md} and, with the members'
 * logs and the ledger, .cache/chaos/<run id>/.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PLANTED_BUGS } from "./mutants.ts";
import { CORPUS } from "./corpus.ts";
import { check } from "./checker.ts";
import type { ExitRecord, FaultRecord } from "./_checker_runtime.ts";
import { FAULT_KINDS, type FaultKind, inject, planFaults } from "./faults.ts";
import { Ledger } from "./ledger.ts";
import { Member } from "./members.ts";
import { Monitor } from "./monitor.ts";
import { TcpProxy } from "./proxy.ts";
import { faultMatrix, faultRows, markdown, type Report } from "./report.ts";
import * as stack from "./stack.ts";
import { Sender, Workload } from "./workload.ts";

const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 10_000;

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  options: {
    short: { type: "boolean", default: false },
    seed: { type: "string" },
    duration: { type: "string" },
    rate: { type: "string" },
    faults: { type: "string" },
    plant: { type: "string" },
    "keep-services": { type: "boolean", default: false },
    "keep-data": { type: "boolean", default: false },
    "no-publish": { type: "boolean", default: false },
    "report-json": { type: "string" },
  },
  allowPositionals: true,
});

const services = stack.chaosStack(Deno.env.toObject());
if (positionals[0] === "down") {
  await services.stop();
  Deno.exit(0);
}
if (positionals[0] === "status") Deno.exit(await services.status() ? 0 : 3);

const mode = args.short ? "short" : "long";
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
const durationS = Number(args.duration ?? (args.short ? 0 : 300));
const rate = Number(args.rate ?? (args.short ? 200 : 300));
const kinds = (args.faults?.split(",").filter((k) => k !== "") ?? [...FAULT_KINDS]) as FaultKind[];
const plant = args.plant ?? null;
for (
  const [ok, what] of [
    [
      Number.isInteger(seed) && seed >= 0,
      `--seed must be a non-negative integer: got ${args.seed}`,
    ],
    [
      Number.isFinite(durationS) && durationS >= 0,
      `--duration must be seconds: got ${args.duration}`,
    ],
    [Number.isFinite(rate) && rate > 0, `--rate must be positive: got ${args.rate}`],
    [
      kinds.every((k) => FAULT_KINDS.includes(k)),
      `--faults must be among ${FAULT_KINDS.join(",")}`,
    ],
    [
      plant === null || (PLANTED_BUGS as readonly string[]).includes(plant),
      `--plant must be one of ${PLANTED_BUGS.join(", ")}`,
    ],
  ] as const
) {
  if (!ok) {
    console.error(`chaos: ${what}`);
    Deno.exit(2);
  }
}

const runId = `chaos_${mode}_${seed}_${Date.now().toString(36)}`;
// A group of its own: members left over from another run (or another suite) in a shared group
// would be handed partitions of this topic and never read them (kafkajs assigns every member
// every subscribed topic).
const GROUP = runId;
const runDir = `${stack.ROOT}/.cache/chaos/${runId}`;
await Deno.mkdir(runDir, { recursive: true });
const runLog = await Deno.open(`${runDir}/run.log`, { create: true, append: true });
const t0 = performance.now();
const clock = () => Math.round(performance.now() - t0);
const note = (msg: string, fields: Record<string, unknown> = {}) => {
  const line = JSON.stringify({ t: clock(), msg, ...fields });
  runLog.writeSync(new TextEncoder().encode(line + "\n"));
  console.error(
    `[chaos ${(clock() / 1000).toFixed(1)}s] ${msg}${
      Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ""
    }`,
  );
};
const command = `deno run -A chaos/run.ts${args.short ? " --short" : ""} --seed ${seed}` +
  (args.duration !== undefined ? ` --duration ${durationS}` : "") +
  (args.rate !== undefined ? ` --rate ${rate}` : "") +
  (args.faults !== undefined ? ` --faults ${kinds.join(",")}` : "") +
  (plant ? ` --plant ${plant}` : "");
note("run", { runId, seed, mode, durationS, rate, kinds, plant, runDir });

await stack.lockPorts(services, note);
const wasUp = await services.status().catch(() => false);
const { kafkaBrokers, databaseUrl: baseUrl } = await services.ensure();
await stack.assertOwnServers(services);
const kafka = stack.kafkaClient(kafkaBrokers, "chaos-harness");
await stack.createTopic(kafka, runId, PARTITIONS);
const databaseUrl = await stack.freshDatabase(baseUrl, runId);
const sql = stack.harnessSql(databaseUrl);
await stack.prepareDatabase(sql);
const proxy = new TcpProxy(Number(new URL(baseUrl).port));
const proxiedUrl = new URL(databaseUrl);
proxiedUrl.port = String(proxy.port);

const exits: ExitRecord[] = [];
const memberSettings = {
  env: {
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_TOPIC: runId,
    KAFKA_GROUP_ID: GROUP,
    DATABASE_URL: proxiedUrl.toString(),
    KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    LOG_LEVEL: "debug",
    ...(plant ? { CHAOS_PLANTED_BUG: plant } : {}),
  },
  // A planted bug runs in the mutant entry point; the product consumer has no way to plant one.
  entry: plant ? "chaos/mutant_consumer.ts" : "consumer/main.ts",
  logDir: runDir,
  clock,
  note,
};
const members = ["c1", "c2"].map((slot) => new Member(slot, memberSettings, exits));
const joiner = new Member("c3", memberSettings, exits);
const everyone = () => [...members, joiner];
for (const m of members) m.start();
await Promise.all(members.map((m) => m.joined(90_000)));
note("group formed", Object.fromEntries(members.map((m) => [m.name, m.partitions])));

const ledger = new Ledger();
const workload = new Workload({ seed, partitions: PARTITIONS }, ledger);
const sender = new Sender(kafka, runId, ledger, note);
sender.start();
let producing = true;
const productionStartMs = clock();
const producerDone = (async () => {
  const started = productionStartMs;
  let generated = 0;
  while (producing) {
    const due = Math.floor(((clock() - started) / 1000) * rate);
    while (generated < due) {
      sender.enqueue(workload.next(Date.now(), clock()));
      generated++;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
})();

const monitor = new Monitor(kafka, sql, GROUP, runId, clock, everyone);
const faults: FaultRecord[] = [];
const plan = planFaults(seed, {
  durationMs: durationS * 1000,
  kinds,
  once: args.short || durationS === 0,
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
});
note("fault plan", { faults: plan.map((f) => f.kind) });
const ctx = {
  members,
  joiner,
  stack: services,
  proxy,
  sql,
  kafka,
  topic: runId,
  group: GROUP,
  note,
};
for (const planned of plan) {
  await new Promise((r) => setTimeout(r, planned.quietBeforeMs));
  const startMs = clock();
  note(`fault ${planned.kind}`, { holdMs: planned.holdMs });
  let target = "?";
  try {
    target = await inject(planned, ctx);
  } catch (error) {
    note("fault injection failed", { kind: planned.kind, error: String(error) });
  }
  const record: FaultRecord = { kind: planned.kind, target, startMs, healMs: clock() };
  faults.push(record);
  note(`healed ${planned.kind}`, { target });
  monitor.track(record);
  // The next fault waits for this one's recovery (bounded), so recovery times are its own and
  // the quiet period before the next one is really quiet.
  await monitor.settle(120_000);
}
// At least the duration, and at least one round of the workload's deck (every corpus class).
const minimumMs = Math.max(durationS * 1000, (2500 / rate) * 1000, 15_000);
await new Promise((r) => setTimeout(r, Math.max(5000, productionStartMs + minimumMs - clock())));

// Heal everything, stop producing, drain.
producing = false;
await producerDone;
proxy.setLatency(0);
await services.ensure();
for (const m of members) {
  if (m.paused) m.signal("SIGCONT");
  if (!m.running) m.start();
}
await sender.stop();
const healedAtMs = clock();
note("healed everything; draining", {
  events: ledger.entries.length,
  producerRetries: sender.failures,
});
const drainOk = await monitor.drained(300_000);
const drainMs = clock() - healedAtMs;
await monitor.settle(30_000);
note(drainOk ? "drained" : "NOT drained", { drainMs });
await new Promise((r) => setTimeout(r, 3000)); // a late write by a stale member would land here
monitor.close();
for (const m of everyone()) {
  const code = await m.stop();
  if (code !== 0 && code !== null) {
    exits.push({ member: m.name, atMs: clock(), code, expected: false });
  }
  m.close();
}

note("reading back the topic and the database");
const log = await stack.readLog(kafka, runId);
const end = await stack.endOffsets(kafka, runId);
const stored = await stack.storedOffsets(sql, GROUP, runId);
const db = await stack.readDatabase(sql, runId, Date.now() - clock());
const result = check({
  topic: runId,
  ledger: ledger.entries,
  acked: ledger.acked,
  log,
  rows: db.rows,
  rejects: db.rejects,
  storedOffsets: stored,
  endOffsets: end,
  transitions: db.transitions.filter((t) => t.writer !== stack.HARNESS_APP),
  faults,
  exits,
  memory: everyone().flatMap((m) => m.memory),
  drain: { ok: drainOk, healedAtMs, tookMs: drainMs },
  limits: {
    recoveryMs: 120_000,
    memoryMaxBytes: 512 * 1048576, // the consumer's memory limit in charts/values.yaml
    memoryGrowthRatio: 1.5,
    crashLoopExits: 3,
    crashLoopWindowMs: 60_000,
  },
});

const recoveries = faults.filter((f) => f.recoveredMs !== undefined).map((f) =>
  f.recoveredMs! - f.healMs
);
const report: Report = {
  run: {
    id: runId,
    seed,
    mode,
    plant,
    startedAt: new Date(Date.now() - clock()).toISOString(),
    wallSeconds: clock() / 1000,
    command,
    settings: {
      durationS,
      rate,
      partitions: PARTITIONS,
      members: members.length,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      kinds,
    },
  },
  verdict: result.ok ? "PASS" : "FAIL",
  figures: {
    ...result.figures,
    faults: faults.length,
    faultsByKind: Object.fromEntries(
      FAULT_KINDS.map((k) => [k, faults.filter((f) => f.kind === k).length]).filter(([, n]) => n),
    ),
    worstRecoveryS: recoveries.length ? Math.round(Math.max(...recoveries) / 100) / 10 : null,
    unexpectedExits: exits.filter((e) => !e.expected).length,
    peakRssMb: Math.round(
      Math.max(
        0,
        ...everyone().flatMap((m) => m.memory.flatMap((s) => s.samples.map(([, b]) => b))),
      ) / 1048576,
    ),
    producerRetries: sender.failures,
    corpusClassesSent: CORPUS.filter((c) => workload.classes.has(c.name)).length,
  },
  verdicts: result.verdicts,
  matrix: faultMatrix(result, faults),
  faults: faultRows(faults),
  members: Object.fromEntries(
    everyone().map((m) => [m.slot, {
      incarnations: m.incarnation,
      levels: m.levels,
      fencedBatches: m.fenced,
      peakRssMb: Math.round(
        Math.max(0, ...m.memory.flatMap((x) => x.samples.map(([, b]) => b))) / 1048576,
      ),
    }]),
  ),
};
const name = `${mode}${plant ? `-${plant}` : ""}`;
const json = JSON.stringify(report, null, 2) + "\n";
await Deno.writeTextFile(`${runDir}/report.json`, json);
await Deno.writeTextFile(`${runDir}/report.md`, markdown(report));
await Deno.writeTextFile(`${runDir}/ledger.jsonl`, ledger.toJsonl());
await Deno.writeTextFile(
  `${runDir}/memory.json`,
  JSON.stringify(everyone().flatMap((m) => m.memory)),
);
await Deno.writeTextFile(
  `${runDir}/violations.json`,
  JSON.stringify(result.violations.slice(0, 2000), null, 1),
);
if (args["report-json"]) await Deno.writeTextFile(args["report-json"], json);
if (!args["no-publish"]) {
  await Deno.mkdir(`${stack.ROOT}/chaos/reports`, { recursive: true });
  await Deno.writeTextFile(`${stack.ROOT}/chaos/reports/${name}.json`, json);
  await Deno.writeTextFile(`${stack.ROOT}/chaos/reports/${name}.md`, markdown(report));
  // Committed evidence: keep it as `deno fmt --check` (CI) wants it.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "-q", `chaos/reports/${name}.json`, `chaos/reports/${name}.md`],
    cwd: stack.ROOT,
  }).output();
}
console.log(markdown(report));

proxy.close();
await sql.end({ timeout: 5 });
if (result.ok && !args["keep-data"]) {
  await stack.deleteTopics(kafka, [runId]).catch(() => {});
  await stack.dropDatabases(baseUrl, [runId]).catch(() => {});
}
if (!wasUp && !args["keep-services"]) await services.stop();
note(`verdict ${report.verdict}`, { runDir });
runLog.close();
Deno.exit(result.ok ? 0 : 1);
