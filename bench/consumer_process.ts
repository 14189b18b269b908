/**
 * The consumer service as a real process (`deno run consumer/main.ts`, as `deno task consumer`
 * runs it), timed from spawn to ready and sampled from /proc while it works.
 *
 * @module
 */

import { ServiceProcess } from "../testing/processes.ts";
import { type Footprint, FootprintSampler } from "./footprint.ts";

/** A consumer process under measurement. */
export interface TimedConsumer {
  /** The process. */
  process: ServiceProcess;
  /** Epoch ms just before spawn. */
  spawnedAt: number;
  /** Epoch ms when /readyz first answered 200 (joined the group, partitions assigned). */
  readyAt: number;
  /** Its /proc sampler, started at spawn. */
  sampler: FootprintSampler;
}

/**
 * Starts a consumer with the contract's defaults and `env` on top, and waits until it is ready.
 *
 * @param env At least KAFKA_BROKERS, KAFKA_TOPIC, DATABASE_URL, KAFKA_GROUP_ID.
 * @param entry The module to run, relative to the repository root (an experimental copy of the
 *   consumer when profiling a change).
 * @param timeoutMs How long readiness may take.
 */
export async function startTimedConsumer(
  env: Record<string, string>,
  entry = "consumer/main.ts",
  timeoutMs = 60_000,
): Promise<TimedConsumer> {
  const spawnedAt = Date.now();
  const process = new ServiceProcess(entry, env);
  const sampler = new FootprintSampler(process.pid);
  const deadline = spawnedAt + timeoutMs;
  const port = await process.port();
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    await response?.body?.cancel();
    if (response?.status === 200) break;
    if (Date.now() > deadline) {
      sampler.stop();
      await process.dispose();
      throw new Error(
        `consumer not ready after ${timeoutMs} ms; last output:\n` +
          process.logs.slice(-5).map((l) => JSON.stringify(l)).join("\n"),
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { process, spawnedAt, readyAt: Date.now(), sampler };
}

/** What a stopped consumer used, and how long it took to exit. */
export interface StoppedConsumer extends Footprint {
  /** SIGTERM to exit, ms. */
  stopMs: number;
}

/** Stops a consumer with SIGTERM, waits for its exit and returns its footprint. */
export async function stopTimedConsumer(consumer: TimedConsumer): Promise<StoppedConsumer> {
  const footprint = consumer.sampler.stop();
  const signalledAt = performance.now();
  consumer.process.signal("SIGTERM");
  const status = await consumer.process.exited();
  const stopMs = Math.round(performance.now() - signalledAt);
  if (status.code !== 0) {
    throw new Error(
      `consumer exited with ${status.code}:\n${consumer.process.otherOutput.join("\n")}`,
    );
  }
  return { ...footprint, stopMs };
}

/** Mean CPU (% of one core) of the samples between `from` and `to` (seconds since spawn). */
export function windowCpu(sampler: FootprintSampler, from: number, to: number): number {
  const inside = sampler.samples.filter((s) => s.t >= from && s.t <= to);
  if (inside.length === 0) return 0;
  return Math.round(inside.reduce((a, s) => a + s.cpuPct, 0) / inside.length);
}

/** Highest RSS (MiB) of the samples between `from` and `to` (seconds since spawn). */
export function windowRss(sampler: FootprintSampler, from: number, to: number): number {
  const inside = sampler.samples.filter((s) => s.t >= from && s.t <= to);
  return Math.max(0, ...inside.map((s) => s.rssMb));
}
