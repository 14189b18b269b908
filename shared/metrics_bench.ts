/**
 * What metrics cost on the consumer's paths: `deno bench shared/metrics_bench.ts`. The consumer
 * counts once per batch (and once per rejected message), and is scraped every 15-30 s.
 *
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { addProcessMetrics } from "./metrics.ts";

/** A registry of its own with the process metrics, as each service makes one. */
function processRegistry() {
  const registry = new Registry();
  return { registry, close: addProcessMetrics(registry) };
}

const { registry, close } = processRegistry();
const registers = [registry];
const plain = new Counter({ name: "bench_plain_total", help: "B", registers });
const labelled = new Counter({
  name: "bench_labelled_total",
  help: "B",
  labelNames: ["reason"],
  registers,
});
const gauge = new Gauge({ name: "bench_lag", help: "B", labelNames: ["partition"], registers });
const histogram = new Histogram({
  name: "bench_seconds",
  help: "B",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});
for (const reason of ["not_json", "missing_field", "out_of_range", "bad_timestamp"]) {
  labelled.inc({ reason });
}
for (let p = 0; p < 12; p++) gauge.set({ partition: String(p) }, p);

Deno.bench("Counter.inc(n), no labels (per batch)", { group: "increment" }, () => {
  plain.inc(500);
});
Deno.bench("Counter.inc({ reason }) (per rejected message)", { group: "increment" }, () => {
  labelled.inc({ reason: "out_of_range" });
});
Deno.bench("Gauge.set({ partition }, v) (per batch)", { group: "increment" }, () => {
  gauge.set({ partition: "7" }, 42);
});
Deno.bench("Histogram.observe(s) (per batch)", { group: "increment" }, () => {
  histogram.observe(0.004);
});
Deno.bench("registry.metrics(): one scrape with the process metrics", async () => {
  await registry.metrics();
});

globalThis.addEventListener("unload", close);
