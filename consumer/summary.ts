/**
 * The periodic summary line: rates, lag and alerts in words a person reads in `kubectl logs`.
 *
 * @module
 */

import { type Logger, sumOf } from "@iot/shared/runtime";
import type { ConsumerMetrics } from "./metrics.ts";

/**
 * Logs a summary every `intervalS` seconds (0 turns it off).
 *
 * @returns A function that stops the timer.
 */
export function startSummary(intervalS: number, metrics: ConsumerMetrics, log: Logger): () => void {
  if (intervalS <= 0) return () => {};
  let last = {
    at: performance.now(),
    consumed: 0,
    written: 0,
    rejected: 0,
    alerts: 0,
    replans: 0,
  };
  const timer = setInterval(async () => {
    const now = {
      at: performance.now(),
      consumed: await sumOf(metrics.consumed),
      written: await sumOf(metrics.written),
      rejected: await sumOf(metrics.rejected),
      alerts: await sumOf(metrics.alerts),
      replans: await sumOf(metrics.replans),
    };
    const seconds = (now.at - last.at) / 1000;
    const rate = (n: number) => Math.round(n / seconds);
    const lag = await sumOf(metrics.lag);
    const fields = {
      consumedPerS: rate(now.consumed - last.consumed),
      writtenPerS: rate(now.written - last.written),
      rejected: now.rejected - last.rejected,
      alerts: now.alerts - last.alerts,
      // Writes planned again (iot_consumer_write_replans_total): after a restart or a
      // rebalance some are expected; a steady stream says writers contend.
      replans: now.replans - last.replans,
      lag,
      totalWritten: now.written,
    };
    log.info(
      `summary: ${fields.writtenPerS} rows/s written, ${fields.rejected} rejected, ` +
        `${fields.alerts} alerts in the last ${Math.round(seconds)}s; lag ${lag}` +
        (fields.replans > 0 ? `; ${fields.replans} writes planned again` : ""),
      fields,
    );
    last = now;
  }, intervalS * 1000);
  return () => clearInterval(timer);
}
