/**
 * Where a latency run's slow rows come from: one window at a fixed rate against one consumer (as
 * `deno task bench` measures latency), then the 100 ms slices of event time that hold a row over
 * `--over` ms, and the gaps between commits. A stall in the pipeline shows as consecutive slow
 * slices whose latency falls as time goes on, with a commit gap as long as the stall.
 *
 *     deno run -A bench/latency_stalls.ts [--rate 10000] [--duration 30] [--over 100]
 *       [--env NAME=VALUE]...
 *
 * `--env` is passed to the consumer (e.g. `--env DATABASE_SYNCHRONOUS_COMMIT=on`). It runs on the
 * benchmark's own Kafka and PostgreSQL (ports in bench/stack.ts), started if needed and left
 * running; `deno task bench` stops them.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type postgres from "postgres";
import { commitExpr } from "./clock.ts";
import { runLatency } from "./latency.ts";
import { openStack } from "./stack.ts";

/** One 100 ms slice of event time with a slow row. */
export interface SlowSlice {
  /** Seconds into the window. */
  atS: number;
  /** Rows created in the slice. */
  rows: number;
  /** Its slowest row, ms. */
  maxMs: number;
  /** Its rows over the bound. */
  over: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "10000" },
    duration: { type: "string", default: "30" },
    over: { type: "string", default: "100" },
    env: { type: "string", multiple: true, default: [] },
  },
  strict: true,
});
const rate = Number(values.rate), durationS = Number(values.duration), over = Number(values.over);
for (const [name, n] of [["rate", rate], ["duration", durationS], ["over", over]] as const) {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name} must be a positive number`);
}
const env = Object.fromEntries(values.env.map((pair) => {
  const at = pair.indexOf("=");
  if (at < 1) throw new RangeError(`--env takes NAME=VALUE: got '${pair}'`);
  return [pair.slice(0, at), pair.slice(at + 1)];
}));

const stack = await openStack("isolated", (line) => console.error(line));

/** Prints the slow slices of the window and the gaps between commits. */
async function showStalls(sql: postgres.Sql, windowStartMs: number): Promise<void> {
  const commit = commitExpr(stack.commitTimestamps);
  const from = `to_timestamp(${windowStartMs} / 1000.0)`;
  const latency = `extract(epoch FROM ${commit} - t.timestamp_ts) * 1000`;
  const slices = await sql.unsafe<SlowSlice[]>(
    `SELECT (floor(extract(epoch FROM t.timestamp_ts - ${from}) * 10) / 10)::float8 AS "atS",
       count(*)::int AS rows, max(${latency})::int AS "maxMs",
       count(*) FILTER (WHERE ${latency} > ${over})::int AS over
     FROM tb_sensor_evento t WHERE t.timestamp_ts >= ${from}
     GROUP BY 1 HAVING max(${latency}) > ${over} ORDER BY 1`,
  );
  console.log(`100 ms slices of event time with a row over ${over} ms: ${slices.length}`);
  for (const s of slices) {
    console.log(`  at ${s.atS.toFixed(1)} s: ${s.over} of ${s.rows} rows, slowest ${s.maxMs} ms`);
  }
  const gaps = await sql.unsafe<{ at: string; ms: number }[]>(
    `WITH c AS (SELECT DISTINCT ${commit} AS at FROM tb_sensor_evento t
       WHERE t.timestamp_ts >= ${from}),
     g AS (SELECT at, extract(epoch FROM at - lag(at) OVER (ORDER BY at)) * 1000 AS ms FROM c)
     SELECT to_char(at AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS at, ms::int AS ms
     FROM g WHERE ms > ${over / 2} ORDER BY at`,
  );
  console.log(
    `commits that followed a gap over ${over / 2} ms (UTC): ` +
      (gaps.map((g) => `${g.at} after ${g.ms} ms`).join(", ") || "none"),
  );
}

const result = await runLatency(stack, {
  rate,
  durationS,
  name: `stalls_${Date.now() % 1_000_000}`,
  consumerEnv: env,
  inspect: showStalls,
});
console.log(
  `${rate} events/s for ${durationS} s ${JSON.stringify(env)}: ${result.rows} rows, p50 ` +
    `${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms; consumer peak RSS ` +
    `${result.peakRssMb} MiB, ${result.avgCpuPct} % CPU`,
);
// kafkajs and postgres.js may leave timers behind; the work is done.
Deno.exit(0);
