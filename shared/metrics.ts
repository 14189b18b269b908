/**
 * Each service's Prometheus registry: prom-client's metric types and text exposition, its default
 * process metrics where they hold under Deno, and two of ours where they do not.
 *
 * prom-client's defaults were measured under Deno 2.9.6 with the services' permissions
 * (`--allow-net --allow-env --allow-read`). Dropped, with the reason:
 * - `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_heap_bytes`,
 *   `process_open_fds`, `process_max_fds`: read from `/proc/self`, which Deno opens only with
 *   `--allow-all`; they were 0 or missing. RSS is served again below, from `Deno.memoryUsage()`.
 * - `nodejs_eventloop_lag_*`: Deno's `monitorEventLoopDelay` saw none of ten 100 ms blocks of the
 *   event loop, and the unsuffixed gauge is set one scrape late. Replaced by
 *   `iot_event_loop_lag_seconds`, the lateness of a timer.
 * - `nodejs_gc_duration_seconds`: Deno delivers no `gc` performance entries, so it stays empty.
 *
 * @module
 */

import { collectDefaultMetrics, Gauge, Histogram, type Registry } from "prom-client";

/** Default metrics prom-client cannot produce truthfully under Deno (see the module docs). */
export const UNSUPPORTED_DEFAULT_METRICS: readonly string[] = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
  "nodejs_eventloop_lag_seconds",
  "nodejs_eventloop_lag_min_seconds",
  "nodejs_eventloop_lag_max_seconds",
  "nodejs_eventloop_lag_mean_seconds",
  "nodejs_eventloop_lag_stddev_seconds",
  "nodejs_eventloop_lag_p50_seconds",
  "nodejs_eventloop_lag_p90_seconds",
  "nodejs_eventloop_lag_p99_seconds",
  "nodejs_gc_duration_seconds",
];

/** How often the event-loop probe's timer is due. */
export const LAG_PROBE_INTERVAL_MS = 100;

/** What `/metrics` serves. prom-client's `Registry` is one. */
export interface MetricsExposition {
  /** The exposition's content type (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** Renders every metric. */
  metrics(): Promise<string>;
}

/** A prom-client `Registry`, as far as {@linkcode addProcessMetrics} uses one. */
export interface MetricsRegistry extends MetricsExposition {
  /** Drops the metric of that name. */
  removeSingleMetric(name: string): void;
}

/**
 * Adds the process metrics to a service's own registry (never prom-client's global one, so tests
 * and two services in one process do not share series): prom-client's defaults that hold under
 * Deno, RSS from Deno itself, and the event-loop lag probe.
 *
 * @example
 * ```ts
 * import { addProcessMetrics } from "./metrics.ts";
 * import { Counter, Registry } from "prom-client";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const stop = addProcessMetrics(registry);
 * const sent = new Counter({ name: "iot_x_total", help: "X", registers: [registry] });
 * sent.inc(2);
 * assert.match(await registry.metrics(), /^iot_x_total 2$/m);
 * stop();
 * ```
 *
 * @param registry A prom-client `Registry` (typed by what is used of it, so that prom-client's
 *   own types stay out of this package's documented API).
 * @returns Stops the event-loop probe (tests; a service just exits).
 */
export function addProcessMetrics(registry: MetricsRegistry): () => void {
  const register = registry as Registry;
  collectDefaultMetrics({ register });
  for (const name of UNSUPPORTED_DEFAULT_METRICS) register.removeSingleMetric(name);
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers: [register],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  const lag = new Histogram({
    name: "iot_event_loop_lag_seconds",
    help: `How late a timer due every ${LAG_PROBE_INTERVAL_MS} ms fired: the event loop was busy`,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [register],
  });
  return startLagProbe((seconds) => lag.observe(seconds));
}

/**
 * Adds `iot_ready`: 1 while the service would answer `/readyz` with 200, else 0, read at each
 * scrape from the same reasons. Alerting rules need it: Prometheus sees the metrics, not the probe.
 *
 * @param registry The service's registry (a prom-client `Registry`).
 * @param notReadyReasons The readiness source `/readyz` serves.
 */
export function addReadinessMetric(
  registry: MetricsRegistry,
  notReadyReasons: () => readonly string[],
): void {
  new Gauge({
    name: "iot_ready",
    help: "1 while /readyz answers 200 (ready), 0 while it answers 503",
    registers: [registry as Registry],
    collect() {
      this.set(notReadyReasons().length === 0 ? 1 : 0);
    },
  });
}

/**
 * Calls `observe` with the lateness, in seconds, of a timer due every `everyMs`: while a callback
 * holds the event loop, the timer cannot fire. The timer does not keep the process alive.
 *
 * @returns Stops the probe.
 */
export function startLagProbe(
  observe: (seconds: number) => void,
  everyMs = LAG_PROBE_INTERVAL_MS,
): () => void {
  let due = performance.now() + everyMs;
  const timer = setInterval(() => {
    const now = performance.now();
    observe(Math.max(0, now - due) / 1000);
    due = now + everyMs;
  }, everyMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/** A counter or gauge whose series can be read back. prom-client's are. */
export interface ReadableMetric {
  /** Every series with its value. */
  get(): Promise<{ values: readonly { value: number }[] }>;
}

/**
 * The sum of a counter's or gauge's series (every label set), for summary log lines.
 *
 * @example
 * ```ts
 * import { sumOf } from "./metrics.ts";
 * import { Counter, Registry } from "prom-client";
 * import assert from "node:assert/strict";
 *
 * const c = new Counter({ name: "c", help: "C", labelNames: ["k"], registers: [new Registry()] });
 * c.inc({ k: "a" }, 2);
 * c.inc({ k: "b" });
 * assert.equal(await sumOf(c), 3);
 * ```
 */
export async function sumOf(metric: ReadableMetric): Promise<number> {
  let total = 0;
  for (const { value } of (await metric.get()).values) total += value;
  return total;
}
