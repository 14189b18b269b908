/**
 * Latency at a fixed producer rate: the producer service (`producer/main.ts`, a real process)
 * sends at `rate` events/s into a fresh topic while one consumer process writes them to a fresh
 * database. Each row's latency is its commit instant minus its event time.
 *
 * Phases: a CHECKPOINT (earlier experiments' dirty pages are flushed, not timed here), a warm-up at the same rate (`warmupS`, default 5 s) that the pipeline must have fully
 * stored, then the measured window (`durationS`). Only events created in the measured window
 * count, so connection set-up, JIT and first-batch costs stay out of the figures, for our
 * consumer and for Spark alike.
 *
 * Clock: the fleet stamps TIMESTAMP with `Date.now()` (ms) when it creates the event, just before
 * handing the batch to the Kafka client; PostgreSQL stamps the commit with its own
 * CLOCK_REALTIME (µs). One machine, one clock. TIMESTAMP is truncated to the millisecond, so a
 * latency reads up to 1 ms high.
 *
 * @module
 */

import postgres from "postgres";
import { ServiceProcess } from "../testing/processes.ts";
import { type LatencyStats, latencyStats } from "./clock.ts";
import { startTimedConsumer, stopTimedConsumer } from "./consumer_process.ts";
import { round } from "./footprint.ts";
import {
  createTopic,
  deleteTopics,
  dropDatabases,
  endOffsets,
  freshDatabase,
  settleDatabase,
  type Stack,
} from "./stack.ts";

/** One latency run. */
export interface LatencyOptions {
  /** Target events per second. */
  rate: number;
  /** Seconds the producer sends in the measured window. */
  durationS: number;
  /** Name for the topic and the database (created fresh, removed after). */
  name: string;
  /** Seconds of warm-up at the same rate before the measured window. @default {5} */
  warmupS?: number;
  /** Fleet size. @default {1000} */
  devices?: number;
  /** Consumer module to run. @default {"consumer/main.ts"} */
  consumerEntry?: string;
  /** More environment for the consumer (e.g. `DATABASE_SYNCHRONOUS_COMMIT`). */
  consumerEnv?: Record<string, string>;
  /**
   * Called after the figures, before the run's database is dropped, with a connection to it and
   * the window's start (epoch ms): for a look at the rows themselves (bench/latency_stalls.ts).
   */
  inspect?: (sql: postgres.Sql, windowStartMs: number) => Promise<void>;
}

/** What a latency run measured. */
export interface LatencyResult extends LatencyStats {
  /** Target rate. */
  rate: number;
  /** Rate the producer reached in the measured window (its own count over its own time). */
  achievedRate: number;
  /** Events produced in the measured window. */
  events: number;
  /** Seconds from the producer's exit until the last event was stored. */
  catchUpS: number;
  /** Consumer RSS peak, MiB. */
  peakRssMb: number;
  /** Consumer mean CPU over the run, % of one core. */
  avgCpuPct: number;
  /** Consumer spawn to ready, ms. */
  readyMs: number;
}

/** What one producer run did. */
export interface ProducerRun {
  /** Epoch ms just before the producer was spawned. */
  startedAt: number;
  /** Epoch ms when it had exited. */
  exitedAt: number;
  /** Events it sent. */
  sent: number;
  /** Its own rate. */
  eventsPerS: number;
}

/**
 * Runs the producer service at `rate` for `durationS` on `topic`, then waits until `stored()`
 * reaches the topic's end offsets.
 */
export async function produceAndWait(
  stack: Stack,
  topic: string,
  rate: number,
  durationS: number,
  stored: () => Promise<number>,
  timeoutMs = 300_000,
): Promise<ProducerRun> {
  const startedAt = Date.now();
  const producer = new ServiceProcess("producer/main.ts", {
    KAFKA_BROKERS: stack.kafkaBrokers,
    KAFKA_TOPIC: topic,
    PRODUCER_RATE: String(rate),
    PRODUCER_DURATION_S: String(durationS),
    PRODUCER_DEVICES: "1000",
    // 500 per send (the default) caps one idempotent producer near 17k events/s on this machine:
    // one request in flight. Above 5k/s a send carries a tenth of a second's events, as an
    // operator would set it, so the producer reaches the rate the consumer is measured at.
    PRODUCER_BATCH_SIZE: String(Math.max(500, Math.ceil(rate / 10))),
    PRODUCER_SEED: String(startedAt % 100_000),
  });
  try {
    // Its send window, plus start-up and a generous margin for a loaded machine.
    const status = await producer.exited((durationS + 120) * 1000);
    if (status.code !== 0) {
      throw new Error(`producer exited with ${status.code}: ${producer.otherOutput.join("\n")}`);
    }
  } finally {
    await producer.dispose();
  }
  const exitedAt = Date.now();
  const stopped = producer.logs.find((l) => l.msg === "producer stopped") ?? {};
  const end = await endOffsets(stack, topic);
  const deadline = Date.now() + timeoutMs;
  while ((await stored()) < end) {
    if (Date.now() > deadline) throw new Error(`pipeline did not store ${end} events at ${rate}/s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    startedAt,
    exitedAt,
    sent: Number(stopped.sent ?? 0),
    eventsPerS: Number(stopped.eventsPerS ?? 0),
  };
}

/** Runs one rate against our consumer. */
export async function runLatency(
  stack: Stack,
  options: LatencyOptions,
): Promise<LatencyResult> {
  const topic = options.name;
  await settleDatabase(stack);
  await createTopic(stack, topic, 6);
  const databaseUrl = await freshDatabase(stack, options.name);
  const groupId = `${options.name}-group`;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const consumer = await startTimedConsumer({
    KAFKA_BROKERS: stack.kafkaBrokers,
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    DATABASE_URL: databaseUrl,
    ...options.consumerEnv,
  }, options.consumerEntry);
  const stored = async () => {
    const [row] = await sql<{ n: string | null }[]>`
      SELECT sum(next_offset)::text AS n FROM tb_kafka_offset WHERE group_id = ${groupId}`;
    return Number(row.n ?? 0);
  };
  try {
    await produceAndWait(stack, topic, options.rate, options.warmupS ?? 5, stored);
    const measured = await produceAndWait(stack, topic, options.rate, options.durationS, stored);
    const catchUpS = (Date.now() - measured.exitedAt) / 1000;
    const footprint = await stopTimedConsumer(consumer);
    const stats = await latencyStats(
      sql,
      "tb_sensor_evento",
      "t.timestamp_ts",
      stack.commitTimestamps,
      measured.startedAt,
    );
    await options.inspect?.(sql, measured.startedAt);
    return {
      rate: options.rate,
      achievedRate: measured.eventsPerS,
      events: measured.sent,
      catchUpS: round(catchUpS, 2),
      ...stats,
      peakRssMb: footprint.peakRssMb,
      avgCpuPct: footprint.avgCpuPct,
      readyMs: consumer.readyAt - consumer.spawnedAt,
    };
  } finally {
    consumer.sampler.stop();
    await consumer.process.dispose();
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [options.name]);
    await deleteTopics(stack, [topic]);
  }
}
