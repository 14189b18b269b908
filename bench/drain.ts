/**
 * Drain rate: N consumer processes land a pre-loaded topic in a fresh database.
 *
 * The clock starts when the first consumer answers /readyz (start-up is reported apart, as
 * time to ready) and stops at the commit of the last row, read from PostgreSQL's commit clock.
 * The per-second throughput comes from the same clock, after the run, so watching costs nothing
 * while it runs (only the cheap offsets sum is polled, to know when to stop).
 *
 * @module
 */

import postgres from "postgres";
import { waitForDrain, withDatabase } from "../scripts/services/admin.ts";
import { commitSpan, commitTimeline } from "./clock.ts";
import {
  startTimedConsumer,
  stopTimedConsumer,
  type TimedConsumer,
  windowCpu,
  windowRss,
} from "./consumer_process.ts";
import { type CpuBreakdown, cpuBreakdown, cpuSnapshot, round } from "./footprint.ts";
import { dropDatabases, freshDatabase, serverPids, type Stack } from "./stack.ts";

/** One drain run. */
export interface DrainOptions {
  /** Pre-loaded topic. */
  topic: string;
  /** Events in it. */
  events: number;
  /** Consumer processes. */
  consumers: number;
  /** Database name (created fresh). */
  database: string;
  /** Keep the database afterwards (its rows feed the PostgreSQL limits). */
  keepDatabase?: boolean;
  /** Extra consumer settings (the contract's defaults otherwise). */
  env?: Record<string, string>;
  /** Consumer module to run. @default {"consumer/main.ts"} */
  consumerEntry?: string;
  /** The database exists already, migrated and holding rows (growth phase): it is used as is. */
  prepared?: boolean;
  /**
   * The drained rows, as SQL after `FROM` with at least `xmin` and `dt_carga`, when the table
   * holds others too. @default {"tb_sensor_evento"}
   */
  rowsFrom?: string;
}

/** One consumer's figures during a drain. */
export interface ConsumerFigures {
  /** Spawn to /readyz 200, ms. */
  readyMs: number;
  /** SIGTERM after the drain (the topic idle) to exit, ms; absent in results before 2026-12-05. */
  stopMs?: number;
  /** Peak RSS over its life, MiB. */
  peakRssMb: number;
  /** Peak RSS while draining, MiB. */
  drainRssMb: number;
  /** Mean CPU while draining, % of one core. */
  drainCpuPct: number;
  /** CPU seconds over its life. */
  cpuSeconds: number;
  /** Batches it wrote. */
  batches: number;
}

/** What a drain measured. */
export interface DrainResult {
  /** Consumer processes. */
  consumers: number;
  /** Rows landed. */
  rows: number;
  /** First ready to last commit, s. */
  seconds: number;
  /** rows / seconds. */
  rowsPerS: number;
  /** Rate between the commits of the 10th and 90th percentile rows. */
  steadyRowsPerS: number;
  /** First spawn to last commit, s (start-up included). */
  wallSeconds: number;
  /** Rows committed in each second after the first consumer was ready. */
  timeline: { t: number; rows: number }[];
  /** Each consumer. */
  perConsumer: ConsumerFigures[];
  /** Mean rows per written batch (one statement each). */
  avgBatchRows: number;
  /** Where the machine's CPU went while draining (cores). */
  cpu: CpuBreakdown;
  /** CPU per event while draining, µs (cores × seconds / rows), per group. */
  cpuUsPerEvent: Record<string, number>;
  /** WAL PostgreSQL wrote while draining, bytes per event (the whole server's). */
  walBytesPerEvent?: number;
  /** Database URL (when kept). */
  databaseUrl?: string;
}

/** Runs one drain. */
export async function runDrain(
  stack: Stack,
  options: DrainOptions,
  log: (line: string) => void,
): Promise<DrainResult> {
  const databaseUrl = options.prepared
    ? withDatabase(stack.databaseUrl, options.database)
    : await freshDatabase(stack, options.database);
  const rowsFrom = options.rowsFrom ?? "tb_sensor_evento";
  const groupId = `${options.database}-group`;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const consumers: TimedConsumer[] = [];
  try {
    const started = await Promise.allSettled(
      Array.from({ length: options.consumers }, (_, i) =>
        startTimedConsumer({
          KAFKA_BROKERS: stack.kafkaBrokers,
          KAFKA_TOPIC: options.topic,
          KAFKA_GROUP_ID: groupId,
          KAFKA_CLIENT_ID: `bench-consumer-${i + 1}`,
          DATABASE_URL: databaseUrl,
          ...options.env,
        }, options.consumerEntry)),
    );
    for (const s of started) if (s.status === "fulfilled") consumers.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const firstReady = Math.min(...consumers.map((c) => c.readyAt));
    const cpuBefore = cpuSnapshot();
    const walBefore = await walPosition(sql);
    const firstSpawn = Math.min(...consumers.map((c) => c.spawnedAt));
    await waitForDrain(sql, {
      groupId,
      target: BigInt(options.events),
      allowPast: true,
      timeoutMs: 120_000 + options.events, // 1 ms per event, at least 1000/s
      pollMs: 100,
      onProgress: (stored) => log(`  ${stored} / ${options.events} events stored`),
    }).catch((error) => {
      throw new Error(`drain with ${options.consumers} consumer(s): ${error.message}`);
    });
    const cpuAfter = cpuSnapshot();
    const walBytes = await walPosition(sql) - walBefore;
    const cpu = cpuBreakdown(cpuBefore, cpuAfter, {
      consumers: consumers.map((c) => c.process.pid),
      ...serverPids(stack),
      bench: [Deno.pid],
    });
    const batches = await Promise.all(
      consumers.map((c) => c.process.metric("iot_consumer_batch_duration_seconds_count")),
    );
    const span = await commitSpan(sql, rowsFrom, stack.commitTimestamps);
    const footprints = [];
    for (const c of consumers.splice(0)) {
      const from = (firstReady - c.spawnedAt) / 1000;
      const to = (span.lastMs - c.spawnedAt) / 1000;
      const footprint = await stopTimedConsumer(c);
      footprints.push({
        readyMs: c.readyAt - c.spawnedAt,
        stopMs: footprint.stopMs,
        peakRssMb: footprint.peakRssMb,
        drainRssMb: windowRss(c.sampler, from, to),
        drainCpuPct: windowCpu(c.sampler, from, to),
        cpuSeconds: footprint.cpuSeconds,
      });
    }
    if (span.rows !== options.events) {
      throw new Error(`expected ${options.events} rows, found ${span.rows}`);
    }
    const seconds = (span.lastMs - firstReady) / 1000;
    const expr = stack.commitTimestamps ? "pg_xact_commit_timestamp(t.xmin)" : "t.dt_carga";
    const [steady] = await sql.unsafe<{ a: number; b: number }[]>(
      `SELECT extract(epoch FROM percentile_disc(0.1) WITHIN GROUP (ORDER BY ${expr})) AS a,
         extract(epoch FROM percentile_disc(0.9) WITHIN GROUP (ORDER BY ${expr})) AS b
       FROM ${rowsFrom} t`,
    );
    const steadySeconds = Number(steady.b) - Number(steady.a);
    const totalBatches = batches.reduce((a, b) => a + b, 0);
    return {
      consumers: options.consumers,
      rows: span.rows,
      seconds: round(seconds, 2),
      rowsPerS: Math.round(span.rows / seconds),
      steadyRowsPerS: steadySeconds > 0 ? Math.round((0.8 * span.rows) / steadySeconds) : 0,
      wallSeconds: round((span.lastMs - firstSpawn) / 1000, 2),
      timeline: await commitTimeline(sql, rowsFrom, stack.commitTimestamps, firstReady),
      perConsumer: footprints.map((f, i) => ({ ...f, batches: batches[i] })),
      avgBatchRows: totalBatches > 0 ? Math.round(span.rows / totalBatches) : 0,
      cpu,
      cpuUsPerEvent: Object.fromEntries(
        Object.entries({ ...cpu.groups, machine: cpu.machineCores }).map((
          [k, cores],
        ) => [k, round((cores * cpu.seconds * 1e6) / options.events, 1)]),
      ),
      walBytesPerEvent: Math.round(walBytes / options.events),
      databaseUrl: options.keepDatabase ? databaseUrl : undefined,
    };
  } finally {
    for (const c of consumers) {
      c.sampler.stop();
      await c.process.dispose();
    }
    await sql.end({ timeout: 5 });
    if (!options.keepDatabase) await dropDatabases(stack, [options.database]);
  }
}

/** The server's current WAL insert position, in bytes from the start. */
async function walPosition(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ b: string }[]>`SELECT pg_current_wal_insert_lsn() - '0/0' AS b`;
  return Number(row.b);
}
