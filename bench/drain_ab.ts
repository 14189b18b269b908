/**
 * A/B drain: one pre-loaded topic drained, in turn, by the consumer of two or more variants
 * (A B A B …, each time into a fresh database with a fresh group), so a change's cost is measured
 * against its base under the same load and the same machine drift. Optionally writes a V8 CPU
 * profile of every consumer (`--prof DIR`). Uses KAFKA_BROKERS and DATABASE_URL as given.
 *
 *   deno run -A bench/drain_ab.ts --events 200000 --rounds 3 [--prof DIR] VARIANT…
 *
 * A variant is a checkout, optionally followed by `+`-separated changes to how its consumer is
 * started: `--v8-flags=…` replaces the task's V8 flags, another `--flag` is added to `deno run`,
 * `NAME=value` is set in its environment and `-NAME` removes one the task sets. For example
 * `. .+--v8-flags=--max-semi-space-size=16` or `.+MALLOC_ARENA_MAX=2+CONSUMER_CONCURRENCY=2`.
 *
 * Prints one line per drain: rows/s (first ready to last commit), CPU µs per event of the
 * consumer and of PostgreSQL, the consumer's peak RSS (the kernel's VmHWM, read before it is
 * stopped) and the highest anonymous and file-backed RSS sampled every 100 ms, then the medians
 * with min–max per variant.
 *
 * @module
 */

import { parseArgs } from "node:util";
import postgres from "postgres";
import { waitForDrain } from "../scripts/services/admin.ts";
import { commitSpan } from "./clock.ts";
import { cpuBreakdown, cpuSnapshot } from "./footprint.ts";
import { preload } from "./preload.ts";
import { createTopic, dropDatabases, freshDatabase, openStack, serverPids } from "./stack.ts";
import { serviceRun } from "../testing/launch.ts";

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    events: { type: "string" },
    rounds: { type: "string" },
    prof: { type: "string" },
    port: { type: "string" },
  },
});
const events = Number(args.events ?? 200_000);
const rounds = Number(args.rounds ?? 3);
const httpPort = Number(args.port ?? 44080);
const checkouts = positionals;
if (checkouts.length === 0) throw new Error("name at least one variant");

const log = (line: string) => console.error(line);
const stack = await openStack("env", log);
const topic = `ab-${Date.now()}`;
await createTopic(stack, topic, 6);
log(`preloading ${events} events into ${topic}`);
await preload(stack, { topic, events });

type Figure = {
  rowsPerS: number;
  consumerUs: number;
  postgresUs: number;
  peakRssMb: number;
  anonMb: number;
  fileMb: number;
};

/** A variant's checkout, its `deno run` arguments and extra environment. */
function parseVariant(variant: string) {
  const [checkout, ...changes] = variant.split("+");
  const { args: flags, env } = serviceRun("consumer/main.ts");
  for (const change of changes) {
    if (change.startsWith("--v8-flags=")) {
      const at = flags.findIndex((f) => f.startsWith("--v8-flags="));
      if (at >= 0) flags.splice(at, 1);
      flags.splice(2, 0, change);
    } else if (change.startsWith("--")) {
      flags.splice(2, 0, change);
    } else if (/^-[A-Za-z_][A-Za-z0-9_]*$/.test(change)) {
      delete env[change.slice(1)];
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(change)) {
      const eq = change.indexOf("=");
      env[change.slice(0, eq)] = change.slice(eq + 1);
    } else {
      throw new SyntaxError(`Cannot parse variant change '${change}' of '${variant}'`);
    }
  }
  return { checkout, flags, env };
}

/** kB of `key` in /proc/<pid>/status, 0 once the process is gone. */
function statusKb(pid: number, key: string): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
const figures = new Map<string, Figure[]>(checkouts.map((c) => [c, []]));

async function drain(variant: string, run: number): Promise<Figure> {
  const database = `ab_${run}_${Date.now()}`;
  const databaseUrl = await freshDatabase(stack, database);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const { checkout, flags, env } = parseVariant(variant);
  if (args.prof) flags.splice(2, 0, "--cpu-prof", `--cpu-prof-dir=${args.prof}/${run}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: flags,
    cwd: checkout,
    env: {
      ...env,
      KAFKA_BROKERS: stack.kafkaBrokers,
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${database}-group`,
      DATABASE_URL: databaseUrl,
      HTTP_PORT: String(httpPort),
      SUMMARY_INTERVAL_S: "0",
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  let anonKb = 0;
  let fileKb = 0;
  const sampler = setInterval(() => {
    anonKb = Math.max(anonKb, statusKb(child.pid, "RssAnon"));
    fileKb = Math.max(fileKb, statusKb(child.pid, "RssFile"));
  }, 100);
  try {
    for (;;) {
      const r = await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined);
      await r?.body?.cancel();
      if (r?.status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = Date.now();
    const before = cpuSnapshot();
    await waitForDrain(sql, {
      groupId: `${database}-group`,
      target: BigInt(events),
      allowPast: true,
      timeoutMs: 300_000,
      pollMs: 100,
    });
    const cpu = cpuBreakdown(before, cpuSnapshot(), {
      consumer: [child.pid],
      ...serverPids(stack),
    });
    const span = await commitSpan(sql, "tb_sensor_evento", stack.commitTimestamps);
    const us = (cores: number) => Math.round((cores * cpu.seconds * 1e6) / events * 10) / 10;
    const mb = (kb: number) => Math.round(kb / 102.4) / 10;
    return {
      rowsPerS: Math.round(span.rows / ((span.lastMs - ready) / 1000)),
      consumerUs: us(cpu.groups.consumer ?? 0),
      postgresUs: us(cpu.groups.postgres ?? 0),
      peakRssMb: mb(statusKb(child.pid, "VmHWM")),
      anonMb: mb(anonKb),
      fileMb: mb(fileKb),
    };
  } finally {
    clearInterval(sampler);
    child.kill("SIGTERM");
    await child.status;
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [database]);
  }
}

let run = 0;
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? checkouts : [...checkouts].reverse();
  for (const checkout of order) {
    const f = await drain(checkout, ++run);
    figures.get(checkout)!.push(f);
    console.log(
      `${checkout}\t${f.rowsPerS} rows/s\t${f.consumerUs} µs/ev consumer\t` +
        `${f.postgresUs} µs/ev postgres\tpeak ${f.peakRssMb} MiB (anon ${f.anonMb}, file ${f.fileMb})`,
    );
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const [checkout, fs] of figures) {
  const show = (k: keyof Figure) => {
    const xs = fs.map((f) => f[k]);
    return `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})`;
  };
  console.log(
    `${checkout}: rows/s ${show("rowsPerS")}, consumer µs/ev ${show("consumerUs")}, ` +
      `postgres µs/ev ${show("postgresUs")}, peak RSS MiB ${show("peakRssMb")}, ` +
      `anon ${show("anonMb")}, file ${show("fileMb")}`,
  );
}
