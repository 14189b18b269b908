/**
 * A/B drain: one pre-loaded topic drained, in turn, by the consumer of two or more checkouts
 * (A B A B …, each time into a fresh database with a fresh group), so a change's cost is measured
 * against its base under the same load and the same machine drift. Optionally writes a V8 CPU
 * profile of every consumer (`--prof DIR`). Uses KAFKA_BROKERS and DATABASE_URL as given.
 *
 *   deno run -A bench/drain_ab.ts --events 200000 --rounds 3 [--prof DIR] CHECKOUT…
 *
 * Prints one line per drain: rows/s (first ready to last commit) and CPU µs per event of the
 * consumer and of PostgreSQL, then the medians with min–max per checkout.
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
import { serviceRunArgs } from "../testing/launch.ts";

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
if (checkouts.length === 0) throw new Error("name at least one checkout");

const log = (line: string) => console.error(line);
const stack = await openStack("env", log);
const topic = `ab-${Date.now()}`;
await createTopic(stack, topic, 6);
log(`preloading ${events} events into ${topic}`);
await preload(stack, { topic, events });

type Figure = { rowsPerS: number; consumerUs: number; postgresUs: number };
const figures = new Map<string, Figure[]>(checkouts.map((c) => [c, []]));

async function drain(checkout: string, run: number): Promise<Figure> {
  const database = `ab_${run}_${Date.now()}`;
  const databaseUrl = await freshDatabase(stack, database);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const flags = serviceRunArgs("consumer/main.ts");
  if (args.prof) flags.splice(2, 0, "--cpu-prof", `--cpu-prof-dir=${args.prof}/${run}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: flags,
    cwd: checkout,
    env: {
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
    return {
      rowsPerS: Math.round(span.rows / ((span.lastMs - ready) / 1000)),
      consumerUs: us(cpu.groups.consumer ?? 0),
      postgresUs: us(cpu.groups.postgres ?? 0),
    };
  } finally {
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
        `${f.postgresUs} µs/ev postgres`,
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
      `postgres µs/ev ${show("postgresUs")}`,
  );
}
