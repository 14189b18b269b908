/**
 * Runs the re-created Spark job (bench/spark/job.py) against the same Kafka and PostgreSQL, and
 * measures it the way bench/drain.ts and bench/latency.ts measure our consumer: drain rate from
 * ready to the last commit, latency from the event time to the commit, RSS and CPU of the whole
 * process tree (the driver JVM and its Python process), spawn to ready.
 *
 * The target table has the original's columns (TIMESTAMP becomes a timestamptz through
 * to_timestamp; ALERTA is added; dt_carga defaults to now()) and the same three indexes as ours
 * (unique id, device + time, alerts by time), so both pipelines maintain the same index work.
 * The original schema does not know the legacy firmware's lowercase keys, so those 10 % of
 * events land as rows of nulls, as they did in the original system; the row count is the same.
 *
 * @module
 */

import postgres from "postgres";
import { commitSpan, commitTimeline, type LatencyStats, latencyStats } from "../clock.ts";
import {
  type CpuBreakdown,
  cpuBreakdown,
  cpuSnapshot,
  type Footprint,
  round,
} from "../footprint.ts";
import { produceAndWait } from "../latency.ts";
import {
  createTopic,
  deleteTopics,
  dropDatabases,
  freshDatabase,
  serverPids,
  settleDatabase,
  type Stack,
} from "../stack.ts";
import { microBatchStats, type SparkJob, type SparkVariant, startJob, stopJob } from "./job.ts";
import type { SparkInstall } from "./setup.ts";

export type { SparkVariant } from "./job.ts";

const DDL = `
CREATE TABLE tb_sensor_evento (
  id             text,
  id_dispositivo text,
  "timestamp"    timestamptz,
  temperatura    double precision,
  umidade        double precision,
  latitude       double precision,
  longitude      double precision,
  status         text,
  bateria        double precision,
  alerta         boolean,
  dt_carga       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_spark_id ON tb_sensor_evento (id);
CREATE INDEX ix_spark_dispositivo_ts ON tb_sensor_evento (id_dispositivo, "timestamp" DESC);
CREATE INDEX ix_spark_alerta_ts ON tb_sensor_evento ("timestamp") WHERE alerta;
`;

async function sparkDatabase(stack: Stack, name: string): Promise<string> {
  const url = await freshDatabase(stack, name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(DDL).simple();
  } finally {
    await sql.end({ timeout: 5 });
  }
  return url;
}

/**
 * Waits until `rows` rows are stored: the job's own progress lines (a micro-batch reports after
 * its foreachBatch write committed) are watched for free, and count(*) is asked only every 5 s
 * and once at the end, so the watching does not load the database it measures.
 */
async function waitForRows(
  sql: postgres.Sql,
  job: SparkJob,
  rows: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastCount = Date.now();
  for (;;) {
    const reported = job.progress.reduce((a, p) => a + p.rows, 0);
    if (reported >= rows || Date.now() - lastCount > 5000) {
      lastCount = Date.now();
      const [{ n }] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM tb_sensor_evento`;
      if (Number(n) >= rows) return;
      if (Date.now() > deadline) throw new Error(`spark stored ${n} of ${rows} rows in time`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Spark's drain figures. */
export interface SparkDrainResult {
  /** Trigger/sink variant. */
  variant: SparkVariant;
  /** Rows landed. */
  rows: number;
  /** Ready to last commit, s. */
  seconds: number;
  /** rows / seconds. */
  rowsPerS: number;
  /** Spawn to last commit, s. */
  wallSeconds: number;
  /** Spawn to "query started", ms. */
  readyMs: number;
  /** Micro-batches run. */
  microBatches: number;
  /** Rows committed each second after ready. */
  timeline: { t: number; rows: number }[];
  /** Driver JVM + Python, whole run. */
  footprint: Footprint;
  /** Where the machine's CPU went from ready to the end of the drain (cores). */
  cpu: CpuBreakdown;
  /** CPU per event over the same window, µs, per group (`spark` = driver JVM + Python). */
  cpuUsPerEvent: Record<string, number>;
}

/** Spark drains the pre-loaded topic into a fresh database. */
export async function runSparkDrain(
  install: SparkInstall,
  stack: Stack,
  topic: string,
  events: number,
  variant: SparkVariant,
  name: string,
): Promise<SparkDrainResult> {
  const url = await sparkDatabase(stack, name);
  const checkpoint = await Deno.makeTempDir({ prefix: "iot-bench-spark-" });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let job: SparkJob | undefined;
  try {
    job = await startJob(install, stack, topic, url, variant, checkpoint);
    const cpuBefore = cpuSnapshot();
    await waitForRows(sql, job, events, 600_000 + events * 2);
    const cpuAfter = cpuSnapshot();
    const cpu = cpuBreakdown(cpuBefore, cpuAfter, {
      spark: [job.pid],
      ...serverPids(stack),
      bench: [Deno.pid],
    });
    const footprint = await stopJob(job);
    const span = await commitSpan(sql, "tb_sensor_evento", stack.commitTimestamps);
    if (span.rows !== events) throw new Error(`spark wrote ${span.rows} rows, expected ${events}`);
    const seconds = (span.lastMs - job.readyAt) / 1000;
    return {
      variant,
      rows: span.rows,
      seconds: round(seconds, 2),
      rowsPerS: Math.round(span.rows / seconds),
      wallSeconds: round((span.lastMs - job.spawnedAt) / 1000, 2),
      readyMs: job.readyAt - job.spawnedAt,
      microBatches: microBatchStats(job).microBatches,
      timeline: await commitTimeline(sql, "tb_sensor_evento", stack.commitTimestamps, job.readyAt),
      footprint,
      cpu,
      cpuUsPerEvent: Object.fromEntries(
        Object.entries({ ...cpu.groups, machine: cpu.machineCores }).map((
          [k, cores],
        ) => [k, round((cores * cpu.seconds * 1e6) / events, 1)]),
      ),
    };
  } finally {
    if (job) await stopJob(job);
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [name]);
    await Deno.remove(checkpoint, { recursive: true }).catch(() => {});
  }
}

/** Spark's latency figures at one rate. */
export interface SparkLatencyResult extends LatencyStats {
  /** Trigger/sink variant. */
  variant: SparkVariant;
  /** Target rate. */
  rate: number;
  /** Rate the producer reached. */
  achievedRate: number;
  /** Events produced. */
  events: number;
  /** Seconds from the producer's exit until the last event was stored. */
  catchUpS: number;
  /** Driver JVM + Python. */
  peakRssMb: number;
  /** Mean CPU over the run, % of one core. */
  avgCpuPct: number;
  /** Micro-batches that carried rows, and their median duration (ms, Spark's own figure). */
  microBatches: number;
  /** Median micro-batch duration, ms. */
  microBatchP50Ms: number;
}

/**
 * A warm-up at `rate` for `warmupS` that Spark must have fully stored, then the producer service
 * sends at `rate` for `durationS`; only events of that measured window count.
 */
export async function runSparkLatency(
  install: SparkInstall,
  stack: Stack,
  variant: SparkVariant,
  rate: number,
  durationS: number,
  name: string,
  warmupS = 5,
): Promise<SparkLatencyResult> {
  await settleDatabase(stack);
  await createTopic(stack, name, 6);
  const url = await sparkDatabase(stack, name);
  const checkpoint = await Deno.makeTempDir({ prefix: "iot-bench-spark-" });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let job: SparkJob | undefined;
  const stored = async () => {
    const [{ n }] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM tb_sensor_evento`;
    return Number(n);
  };
  try {
    job = await startJob(install, stack, name, url, variant, checkpoint);
    await produceAndWait(stack, name, rate, warmupS, stored, 600_000);
    const measured = await produceAndWait(stack, name, rate, durationS, stored, 600_000);
    const catchUpS = (Date.now() - measured.exitedAt) / 1000;
    const footprint = await stopJob(job);
    const stats = await latencyStats(
      sql,
      "tb_sensor_evento",
      `t."timestamp"`,
      stack.commitTimestamps,
      measured.startedAt,
    );
    return {
      variant,
      rate,
      achievedRate: measured.eventsPerS,
      events: measured.sent,
      catchUpS: round(catchUpS, 2),
      ...stats,
      peakRssMb: footprint.peakRssMb,
      avgCpuPct: footprint.avgCpuPct,
      ...microBatchStats(job),
    };
  } finally {
    if (job) await stopJob(job);
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [name]);
    await deleteTopics(stack, [name]);
    await Deno.remove(checkpoint, { recursive: true }).catch(() => {});
  }
}
