import assert from "node:assert/strict";
import { createConsumerMetrics } from "./metrics.ts";

Deno.test("createConsumerMetrics() serves the names the chart, KEDA, bench and tests read", async () => {
  const metrics = createConsumerMetrics();
  try {
    const text = await metrics.registry.metrics();
    const types = new Map(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]),
    );
    const expected: Record<string, string> = {
      iot_consumer_events_consumed_total: "counter",
      iot_consumer_rows_written_total: "counter",
      iot_consumer_events_rejected_total: "counter",
      iot_consumer_duplicates_total: "counter",
      iot_consumer_alerts_total: "counter",
      iot_consumer_fenced_batches_total: "counter",
      iot_consumer_database_retries_total: "counter",
      iot_consumer_batch_duration_seconds: "histogram",
      iot_consumer_lag: "gauge",
      iot_consumer_write_replans_total: "counter",
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(types.get(name), type, name);
    // Unlabelled counters show 0 before their first event, so rate() sees that event.
    assert.match(text, /^iot_consumer_rows_written_total 0$/m);
    assert.match(text, /^iot_consumer_write_replans_total\{reason="version"\} 0$/m);
    assert.match(text, /^iot_consumer_write_replans_total\{reason="deadlock"\} 0$/m);
    assert.match(text, /^iot_consumer_write_replans_total\{reason="resent"\} 0$/m);
    assert.match(text, /^iot_consumer_write_replans_total\{reason="copy"\} 0$/m);
  } finally {
    metrics.close();
  }
});

Deno.test("consumer metrics render the labels the pipeline sets", async () => {
  const metrics = createConsumerMetrics();
  try {
    metrics.rejected.inc({ reason: "not_json" });
    metrics.lag.set({ partition: "3" }, 42);
    metrics.batchSeconds.observe(0.003);
    const text = await metrics.registry.metrics();
    assert.match(text, /^iot_consumer_events_rejected_total\{reason="not_json"\} 1$/m);
    assert.match(text, /^iot_consumer_lag\{partition="3"\} 42$/m);
    assert.match(text, /^iot_consumer_batch_duration_seconds_bucket\{le="0.005"\} 1$/m);
    assert.match(text, /^iot_consumer_batch_duration_seconds_count 1$/m);
  } finally {
    metrics.close();
  }
});
