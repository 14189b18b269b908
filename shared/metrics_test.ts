import assert from "node:assert/strict";
import { Counter, Gauge, Registry } from "prom-client";
import { addProcessMetrics, startLagProbe, sumOf, UNSUPPORTED_DEFAULT_METRICS } from "./metrics.ts";

/** A registry of its own with the process metrics, as each service makes one. */
function processRegistry() {
  const registry = new Registry();
  return { registry, close: addProcessMetrics(registry) };
}

/** Prometheus text format 0.0.4: a sample line is `name{labels} value`. */
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? \S+$/;

/** Every sample line of an exposition, by series (`name{labels}`) to value. */
function samples(text: string): Map<string, number> {
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  const out = new Map<string, number>();
  for (const line of text.slice(0, -1).split("\n")) {
    // prom-client leaves an empty line between families; the format ignores empty lines.
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    assert.match(line, SAMPLE_LINE);
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const blockFor = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* hold the event loop, as a long synchronous batch would */ }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "addProcessMetrics() serves RSS, CPU and heap with no permission at all",
  // Deno.memoryUsage() and process.cpuUsage() need no permission; /proc/self (where prom-client
  // reads RSS on Linux) is not read. The services' own permissions: metrics_integration_test.ts.
  permissions: "none",
  fn: async () => {
    const { registry, close } = processRegistry();
    try {
      assert.equal(registry.contentType, "text/plain; version=0.0.4; charset=utf-8");
      const series = samples(await registry.metrics());
      assert.ok(series.get("process_resident_memory_bytes")! > 1_000_000, "RSS in bytes");
      assert.ok(series.get("nodejs_heap_size_used_bytes")! > 0);
      assert.ok(series.has("process_cpu_seconds_total"));
      assert.ok(series.get("process_start_time_seconds")! > Date.now() / 1000 - 3600);
      assert.equal(series.get('iot_event_loop_lag_seconds_bucket{le="+Inf"}') !== undefined, true);
      for (const name of UNSUPPORTED_DEFAULT_METRICS) {
        if (name === "process_resident_memory_bytes") continue;
        const found = [...series.keys()].filter((s) => s === name || s.startsWith(`${name}{`));
        assert.deepEqual(found, [], `${name} is not served`);
      }
    } finally {
      close();
    }
  },
});

Deno.test("addProcessMetrics() gives each service its own series", async () => {
  const a = processRegistry();
  const b = processRegistry();
  try {
    // The same name in two registries: prom-client's global registry would refuse the second.
    const inA = new Counter({ name: "iot_x_total", help: "X", registers: [a.registry] });
    new Counter({ name: "iot_x_total", help: "X", registers: [b.registry] });
    inA.inc(5);
    assert.equal(samples(await a.registry.metrics()).get("iot_x_total"), 5);
    assert.equal(samples(await b.registry.metrics()).get("iot_x_total"), 0);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("startLagProbe() sees the event loop held by synchronous work", async () => {
  const seen: number[] = [];
  const stop = startLagProbe((seconds) => seen.push(seconds), 10);
  try {
    await sleep(50);
    assert.ok(seen.length > 0 && Math.max(...seen) < 0.1, `idle lateness: ${seen}`);
    blockFor(150);
    await sleep(30);
    assert.ok(Math.max(...seen) >= 0.1, `after a 150 ms block: ${seen}`);
  } finally {
    stop();
  }
});

Deno.test("sumOf() adds every labelled series of a counter or gauge", async () => {
  const registers = [new Registry()];
  const rejected = new Counter({ name: "r", help: "R", labelNames: ["reason"], registers });
  assert.equal(await sumOf(rejected), 0);
  rejected.inc({ reason: "not_json" });
  rejected.inc({ reason: "out_of_range" }, 2);
  assert.equal(await sumOf(rejected), 3);
  const lag = new Gauge({ name: "l", help: "L", labelNames: ["partition"], registers });
  lag.set({ partition: "0" }, 7);
  lag.set({ partition: "1" }, 3);
  assert.equal(await sumOf(lag), 10);
  lag.reset();
  assert.equal(await sumOf(lag), 0);
});
