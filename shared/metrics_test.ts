import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry } from "./metrics.ts";

/** Prometheus text format 0.0.4: a sample line is `name{labels} value`. */
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? \S+$/;

function assertWellFormed(text: string): void {
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    assert.match(line, SAMPLE_LINE);
  }
}

Deno.test("Counter renders HELP, TYPE and one line per series", async (t) => {
  await t.step("without labels", () => {
    const c = new Counter("iot_x_total", "Things counted");
    c.inc();
    c.inc(4);
    assert.equal(c.value(), 5);
    assert.equal(
      c.render(),
      "# HELP iot_x_total Things counted\n# TYPE iot_x_total counter\niot_x_total 5\n",
    );
  });
  await t.step("with labels: one series each, labels sorted by name", () => {
    const c = new Counter("iot_rejected_total", "Rejected", true);
    c.inc(1, { reason: "not_json", topic: "iot.sensors" });
    c.inc(2, { topic: "iot.sensors", reason: "not_json" });
    c.inc(1, { reason: "out_of_range", topic: "iot.sensors" });
    assert.equal(c.value({ topic: "iot.sensors", reason: "not_json" }), 3);
    assert.equal(c.value({ reason: "missing_field" }), 0);
    assert.equal(c.total(), 4);
    const text = c.render();
    assert.equal(
      text,
      "# HELP iot_rejected_total Rejected\n" +
        "# TYPE iot_rejected_total counter\n" +
        'iot_rejected_total{reason="not_json",topic="iot.sensors"} 3\n' +
        'iot_rejected_total{reason="out_of_range",topic="iot.sensors"} 1\n',
    );
    assertWellFormed(text);
  });
});

Deno.test(
  {
    name: "Counter renders 0 before its first increment",
  },
  () => {
    const c = new Counter("iot_errors_total", "Errors");
    assert.equal(
      c.render(),
      "# HELP iot_errors_total Errors\n# TYPE iot_errors_total counter\niot_errors_total 0\n",
    );
  },
);

Deno.test(
  {
    name: "Counter.inc() refuses a negative increment",
  },
  () => {
    const c = new Counter("iot_x_total", "X");
    c.inc(2);
    assert.throws(() => c.inc(-1), RangeError);
    assert.equal(c.value(), 2);
  },
);

Deno.test("label values are escaped: backslash, double quote and newline", () => {
  const c = new Counter("iot_x_total", "X");
  c.inc(1, { path: 'C:\\dir "quoted"\nnext' });
  const text = c.render();
  assert.ok(text.includes('iot_x_total{path="C:\\\\dir \\"quoted\\"\\nnext"} 1\n'), text);
  assertWellFormed(text);
  // The escaped series is still found by its raw labels.
  assert.equal(c.value({ path: 'C:\\dir "quoted"\nnext' }), 1);
});

Deno.test(
  {
    name: "HELP text is escaped: backslash and newline",
  },
  () => {
    const c = new Counter("iot_x_total", "first line\nsecond \\ line");
    assert.ok(c.render().startsWith("# HELP iot_x_total first line\\nsecond \\\\ line\n"));
  },
);

Deno.test("Gauge sets, reads and clears series", () => {
  const g = new Gauge("iot_consumer_lag", "Lag");
  g.set(10, { topic: "t", partition: "0" });
  g.set(7, { topic: "t", partition: "1" });
  g.set(3, { topic: "t", partition: "0" });
  assert.equal(g.value({ partition: "0", topic: "t" }), 3);
  assert.equal(g.total(), 10);
  assert.equal(
    g.render(),
    "# HELP iot_consumer_lag Lag\n# TYPE iot_consumer_lag gauge\n" +
      'iot_consumer_lag{partition="0",topic="t"} 3\n' +
      'iot_consumer_lag{partition="1",topic="t"} 7\n',
  );
  g.set(-2);
  assert.equal(g.value(), -2);
  g.clear();
  assert.equal(g.total(), 0);
  assert.equal(g.render(), "# HELP iot_consumer_lag Lag\n# TYPE iot_consumer_lag gauge\n");
});

Deno.test("Histogram renders cumulative buckets, +Inf, sum and count", async (t) => {
  const h = new Histogram("iot_batch_seconds", "Batch time", [0.01, 0.1, 1]);
  for (const v of [0.005, 0.01, 0.05, 0.5, 0.7, 3]) h.observe(v);
  await t.step("exact text", () => {
    assert.equal(
      h.render(),
      "# HELP iot_batch_seconds Batch time\n" +
        "# TYPE iot_batch_seconds histogram\n" +
        'iot_batch_seconds_bucket{le="0.01"} 2\n' +
        'iot_batch_seconds_bucket{le="0.1"} 3\n' +
        'iot_batch_seconds_bucket{le="1"} 5\n' +
        'iot_batch_seconds_bucket{le="+Inf"} 6\n' +
        `iot_batch_seconds_sum ${0.005 + 0.01 + 0.05 + 0.5 + 0.7 + 3}\n` +
        "iot_batch_seconds_count 6\n",
    );
    assertWellFormed(h.render());
  });
  await t.step("a value equal to a bound falls in that bucket (le is inclusive)", () => {
    const edge = new Histogram("e", "E", [1, 2]);
    edge.observe(1);
    assert.ok(edge.render().includes('e_bucket{le="1"} 1\n'));
  });
  await t.step("buckets never decrease and +Inf equals count", () => {
    const counts = [...h.render().matchAll(/_bucket\{le="[^"]+"\} (\d+)/g)].map((m) =>
      Number(m[1])
    );
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1]);
    assert.equal(counts.at(-1), h.count());
    assert.equal(h.count(), 6);
  });
  await t.step("an empty histogram renders zeros", () => {
    const empty = new Histogram("z", "Z", [1]);
    assert.equal(
      empty.render(),
      '# HELP z Z\n# TYPE z histogram\nz_bucket{le="1"} 0\nz_bucket{le="+Inf"} 0\nz_sum 0\nz_count 0\n',
    );
  });
});

Deno.test("Registry renders its metrics in registration order", () => {
  const registry = new Registry();
  const sent = registry.counter("iot_producer_events_sent_total", "Sent");
  const lag = registry.gauge("iot_lag", "Lag");
  const seconds = registry.histogram("iot_send_seconds", "Send time", [0.5]);
  sent.inc(3);
  lag.set(1);
  seconds.observe(0.2);
  assert.ok(sent instanceof Counter && lag instanceof Gauge && seconds instanceof Histogram);
  const text = registry.render();
  assert.equal(
    text,
    "# HELP iot_producer_events_sent_total Sent\n" +
      "# TYPE iot_producer_events_sent_total counter\n" +
      "iot_producer_events_sent_total 3\n" +
      "# HELP iot_lag Lag\n# TYPE iot_lag gauge\niot_lag 1\n" +
      "# HELP iot_send_seconds Send time\n# TYPE iot_send_seconds histogram\n" +
      'iot_send_seconds_bucket{le="0.5"} 1\n' +
      'iot_send_seconds_bucket{le="+Inf"} 1\n' +
      "iot_send_seconds_sum 0.2\n" +
      "iot_send_seconds_count 1\n",
  );
  assertWellFormed(text);
  assert.equal(new Registry().render(), "");
});
