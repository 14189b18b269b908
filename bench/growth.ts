/**
 * Growth phase (issue 14, item 6): the drain rate of one consumer into a `tb_sensor_evento` that
 * already holds 0, 10 million, 50 million… rows, same migration, same indexes, in one run; and at
 * the largest size, with `--growth-v4`, the same drain with random ids (UUIDv4) in the table and
 * in the topic instead of the fleet's time-ordered ones (UUIDv7 layout).
 *
 * Each size gets a fresh database, filled inside PostgreSQL (bench/growth_fill.ts), then drains
 * the same pre-loaded topic with one consumer (bench/drain.ts). The drained rows are told from
 * the stored ones by `xid_carga`, larger than any the fill used.
 *
 *     deno run -A bench/growth.ts --growth 0,10000000,50000000 [--growth-events 200000] [--growth-v4]
 *
 * runs the phase alone on the benchmark's own servers (options as in bench/main.ts) and prints
 * its results as JSON.
 *
 * @module
 */

import { type DrainResult, runDrain } from "./drain.ts";
import { fillReadings, type FillResult, type IdKind } from "./growth_fill.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { preload } from "./preload.ts";
import {
  closeStack,
  createTopic,
  deleteTopics,
  dropDatabases,
  freshDatabase,
  openStack,
  type Stack,
} from "./stack.ts";

/** One stored-rows size: the fill and the drain after it. */
export interface GrowthRun {
  /** Rows stored before the drain. */
  storedRows: number;
  /** Ids of the stored rows and of the drained events that carry one. */
  ids: IdKind;
  /** How the table was filled. */
  fill: FillResult;
  /** The drain into it. */
  drain: DrainResult;
  /** This drain's rate as a fraction of the empty table's with the same ids, if measured. */
  fractionOfEmpty?: number;
}

/** The growth phase's results. */
export interface GrowthResult {
  /** Events in the drained topic (each run drains all of them). */
  events: number;
  /** Every size, in the order run. */
  runs: GrowthRun[];
}

/**
 * Runs the phase: a topic of `events` fleet events (and one of the same events with random v4 ids
 * when `v4` is set and a size is above 0), then for each size a fill and a one-consumer drain.
 *
 * @param name Makes this run's topic and database names.
 */
export async function runGrowth(
  stack: Stack,
  sizes: number[],
  events: number,
  v4: boolean,
  name: (prefix: string) => string,
  log: (line: string) => void,
): Promise<GrowthResult> {
  const largest = Math.max(...sizes);
  const plan: { rows: number; ids: IdKind }[] = sizes.map((rows) => ({ rows, ids: "v7" }));
  if (v4 && largest > 0) plan.push({ rows: 0, ids: "v4" }, { rows: largest, ids: "v4" });
  const topics = { v7: name("growth"), v4: name("growth4") };
  const runs: GrowthRun[] = [];
  const made: string[] = [];
  try {
    for (const ids of new Set(plan.map((p) => p.ids))) {
      log(`growth: pre-loading ${events} events (${ids === "v4" ? "random v4 ids" : "fleet ids"})`);
      made.push(topics[ids]);
      await createTopic(stack, topics[ids], 6);
      await preload(stack, { topic: topics[ids], events, ids: ids === "v4" ? "v4" : "fleet" });
    }
    for (const p of plan) {
      const database = name(`growth${p.ids}_${p.rows}`);
      log(`growth: ${p.rows} rows stored (${p.ids}): filling`);
      const url = await freshDatabase(stack, database);
      try {
        const fill = await fillReadings(url, p.rows, p.ids, log);
        log(
          `  filled in ${fill.seconds} s: table ${gib(fill.tableBytes)} GiB, ` +
            `indexes ${gib(fill.indexBytes)} GiB`,
        );
        const drain = await runDrain(stack, {
          topic: topics[p.ids],
          events,
          consumers: 1,
          database,
          prepared: true,
          rowsFrom:
            `(SELECT xmin, dt_carga FROM tb_sensor_evento WHERE xid_carga > '${fill.lastXid}'::xid8)`,
        }, () => {});
        log(
          `  drain: ${drain.rowsPerS} rows/s, ${drain.cpuUsPerEvent.consumers} / ` +
            `${drain.cpuUsPerEvent.postgres} µs per event (consumer / postgres), ` +
            `${drain.walBytesPerEvent} WAL bytes per event`,
        );
        const empty = runs.find((r) => r.storedRows === 0 && r.ids === p.ids);
        runs.push({
          storedRows: p.rows,
          ids: p.ids,
          fill,
          drain,
          fractionOfEmpty: empty ? round3(drain.rowsPerS / empty.drain.rowsPerS) : undefined,
        });
      } finally {
        // 50 M rows are about 15 GB: never two such databases at once.
        await dropDatabases(stack, [database]);
      }
    }
  } finally {
    await deleteTopics(stack, made).catch(() => {});
  }
  return { events, runs };
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

if (import.meta.main) {
  const options: BenchOptions = parseOptions(Deno.args);
  const log = (line: string) =>
    console.error(`[growth ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const stack = await openStack(options.services, log);
  const runId = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  try {
    const result = await runGrowth(
      stack,
      options.growth,
      options.growthEvents,
      options.growthV4,
      (prefix) => `bench_${prefix}_${runId}`,
      log,
    );
    console.log(JSON.stringify(result, null, 2));
  } finally {
    if (!options.keepServices) await closeStack(stack, log);
  }
  Deno.exit(0);
}
