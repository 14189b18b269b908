/**
 * `deno task bench:transform`: the consumer's pure step alone (consumer/transform.ts: decode,
 * validate, map, derive ids) on the drain bench's corpus, in microseconds per event. The corpus is
 * what bench/preload.ts writes to the topic (the simulated fleet, seed 5, 1000 devices, 10 %
 * legacy firmware without `ID`), as bytes, cut into partition batches like the consumer's. No
 * Kafka, no PostgreSQL: the figure is the CPU of validation and mapping only. It prints figures;
 * nothing is asserted.
 *
 *     deno task bench:transform                          # the defaults
 *     deno task bench:transform --events 100000 --batch 500 --rounds 10
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import { type KafkaRecord, planBatch } from "../consumer/transform.ts";
import { Fleet } from "../producer/fleet.ts";

const args = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    batch: { type: "string", default: "500" },
    rounds: { type: "string", default: "10" },
  },
});
const events = Number(args.values.events);
const batchSize = Number(args.values.batch);
const rounds = Number(args.values.rounds);

const encoder = new TextEncoder();
const fleet = new Fleet(1000, 5);
const nowMs = Date.now();
const batches: KafkaRecord[][] = [];
let valueBytes = 0;
for (let offset = 0; offset < events; offset++) {
  const reading = fleet.nextReading(nowMs);
  const value = encoder.encode(JSON.stringify(reading.payload));
  valueBytes += value.byteLength;
  if (offset % batchSize === 0) batches.push([]);
  batches[batches.length - 1].push({
    offset: String(offset),
    key: encoder.encode(reading.key),
    value,
    timestampMs: nowMs,
  });
}

const origin = { idKey: "00".repeat(32), topicId: "bench-transform-topic" };
let rows = 0;
let rejects = 0;
/**
 * One pass over the corpus; returns the process's CPU (user + system, GC threads included, as the
 * drain bench counts the consumer's) in microseconds per event: on a shared machine wall time
 * measures the neighbours more than the code.
 */
function pass(): number {
  const started = cpuUsage();
  rows = 0;
  rejects = 0;
  for (const records of batches) {
    const plan = planBatch(origin, 0, records, DEFAULT_ALERT_RULE, nowMs, 4096, 300);
    rows += plan.rows.length;
    rejects += plan.rejects.length;
  }
  const used = cpuUsage(started);
  return (used.user + used.system) / events;
}

pass(); // warm-up: let V8 optimize before timing
const figures = Array.from({ length: rounds }, pass).sort((a, b) => a - b);
const median = figures[Math.floor(figures.length / 2)];
console.log(
  `transform: ${events} events (${
    Math.round(valueBytes / events)
  } B each), batches of ${batchSize}, ` +
    `${rounds} rounds: CPU median ${median.toFixed(2)} us/event, best ${figures[0].toFixed(2)}, ` +
    `worst ${figures[figures.length - 1].toFixed(2)} (rows ${rows}, rejects ${rejects})`,
);
