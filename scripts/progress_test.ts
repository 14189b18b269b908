import assert from "node:assert/strict";
import {
  formatProgress,
  type ProgressSample,
  type ProgressSources,
  startProgress,
  sumMetrics,
} from "./progress.ts";

const sample = (over: Partial<ProgressSample>): ProgressSample => ({
  at: 0,
  written: 0,
  rejected: 0,
  alerts: 0,
  endOffset: 1000,
  storedOffset: 1000,
  ready: 3,
  services: 3,
  ...over,
});

Deno.test("sumMetrics() sums each metric over its label sets, skipping comments and blanks", () => {
  const text = "# HELP iot_consumer_events_rejected_total R\n" +
    "# TYPE iot_consumer_events_rejected_total counter\n" +
    'iot_consumer_events_rejected_total{reason="not_json"} 2\n' +
    'iot_consumer_events_rejected_total{reason="out_of_range",x="a b"} 5\n' +
    "\n" +
    "iot_consumer_rows_written_total 1200\n" +
    'iot_consumer_batch_duration_seconds_bucket{le="+Inf"} 7\n';
  assert.deepEqual(sumMetrics(text), {
    iot_consumer_events_rejected_total: 7,
    iot_consumer_rows_written_total: 1200,
    iot_consumer_batch_duration_seconds_bucket: 7,
  });
});

Deno.test("formatProgress() shows rate, stored, rejects, alerts, lag, drain and readiness", async (t) => {
  const first = sample({ at: 0, endOffset: 1000, storedOffset: 1000, ready: 0 });
  await t.step("the first line: no rate yet, nothing to drain", () => {
    assert.equal(
      formatProgress(first, undefined, first),
      "[0s] 0 rows/s · stored 0 · rejected 0 · alerts 0 · lag 0 · drained 100% · ready 0/3",
    );
  });
  await t.step("rows/s over the last interval; drain over this run's work", () => {
    const previous = sample({ at: 4000, written: 1000, endOffset: 3000, storedOffset: 2000 });
    const current = sample({
      at: 5000,
      written: 2500,
      rejected: 12,
      alerts: 40,
      endOffset: 4000,
      storedOffset: 3500,
    });
    assert.equal(
      formatProgress(first, previous, current),
      "[5s] 1500 rows/s · stored 2500 · rejected 12 · alerts 40 · lag 500 · drained 83.3% · ready 3/3",
    );
  });
  await t.step("drain rounds down: 100% only when nothing is left", () => {
    const current = sample({ at: 1000, endOffset: 1000 + 20_000, storedOffset: 1000 + 19_999 });
    assert.match(formatProgress(first, undefined, current), / lag 1 · drained 99\.9% /);
  });
  await t.step("a restarted consumer's counters never make the rate negative", () => {
    const previous = sample({ at: 1000, written: 5000 });
    const current = sample({ at: 2000, written: 100 });
    assert.match(formatProgress(first, previous, current), /^\[2s\] 0 rows\/s · stored 100 /);
  });
  await t.step("offsets not read: lag and drain unknown", () => {
    const current = sample({ at: 1000, endOffset: undefined });
    assert.match(formatProgress(first, undefined, current), / lag \? · drained \? · /);
  });
});

function fakeSources(delayMs: number) {
  let inFlight = 0;
  let most = 0;
  let reads = 0;
  const texts: (string | undefined)[] = ["iot_consumer_rows_written_total 10\n"];
  const slow = async <T>(value: T): Promise<T> => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    return value;
  };
  const sources: ProgressSources = {
    consumerMetrics: () => {
      reads++;
      return slow([...texts]);
    },
    readiness: () => Promise.resolve([true]),
    endOffset: () => Promise.resolve(10),
    storedOffset: () => Promise.reject(new Error("database down")),
  };
  return { sources, texts, most: () => most, reads: () => reads };
}

Deno.test("startProgress() never starts a tick before the last one ended", async () => {
  const fake = fakeSources(30);
  const lines: string[] = [];
  const progress = startProgress(fake.sources, (line) => void lines.push(line), 1);
  await new Promise((r) => setTimeout(r, 200));
  await progress.stop();
  assert.equal(fake.most(), 1, "one read at a time");
  assert.ok(lines.length >= 2 && lines.length <= 7, `${lines.length} lines in 200 ms`);
  assert.equal(lines.length, fake.reads(), "stop() waited for the tick in flight");
  assert.match(lines[0], / stored 10 · .* lag \? · drained \? · ready 1\/1$/);
});

Deno.test("startProgress() keeps a silent consumer's last values", async () => {
  const fake = fakeSources(0);
  const progress = startProgress(fake.sources, () => {}, 60_000);
  await progress.stop();
  fake.texts[0] = undefined;
  assert.match(await progress.line(), / stored 10 /);
});
