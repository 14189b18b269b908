/**
 * The api's live stream, commit to delivery: for each wake mode (`STREAM_WAKE=notify`, and
 * `poll` at the default interval), commits single readings at random moments, optionally under a
 * background write load, and prints how long after each commit returned its `reading` event
 * reached an SSE client. A benchmark that prints figures, never a test with a timing bound.
 *
 *   deno run -A bench/stream_latency.ts [--samples 60] [--load 1000] [--interval 250]
 *
 * `--interval` is `STREAM_INTERVAL_MS` (and the poll mode's `STREAM_POLL_INTERVAL_MS`).
 * `--load` writes that many readings per second (100 devices, batches of 50) meanwhile, as a
 * consumer would. Uses the local stack (SERVICES_DIR, POSTGRES_PORT, ...), a throw-away database.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connectStream, insertReadings, startApi, testDatabase } from "../api/testing/fixture.ts";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "60" },
    load: { type: "string", default: "0" },
    interval: { type: "string", default: "250" },
  },
});
const interval = values.interval;
const samples = Number(values.samples);
const load = Number(values.load);

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

for (
  const [mode, env] of [
    ["notify", { STREAM_WAKE: "notify", STREAM_INTERVAL_MS: interval }],
    ["poll", {
      STREAM_WAKE: "poll",
      STREAM_INTERVAL_MS: interval,
      STREAM_POLL_INTERVAL_MS: interval,
    }],
  ] as const
) {
  const db = await testDatabase(`bench_stream_${mode}`);
  const api = await startApi(db.apiUrl, env);
  const client = await connectStream(api.base);
  await client.waitFor((e) => e.event === "checkpoint");
  let loading = load > 0;
  const background = (async () => {
    let n = 0;
    while (loading) {
      const started = performance.now();
      const batch = Array.from({ length: 50 }, () => ({
        device: `load-${n++ % 100}`,
        time: new Date().toISOString(),
      }));
      await db.owner.begin((tx) => insertReadings(tx, batch));
      const wait = (50 / load) * 1000 - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    const id = crypto.randomUUID();
    await insertReadings(db.owner, [{ id, device: "probe", time: new Date().toISOString() }]);
    const committed = performance.now();
    await client.waitFor((e) => e.event === "reading" && e.data.id === id, 10_000);
    latencies.push(performance.now() - committed);
  }
  loading = false;
  await background;
  await client.close();
  api.signal("SIGTERM");
  await api.exited();
  await db.owner.end({ timeout: 5 });
  latencies.sort((a, b) => a - b);
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `${
      mode.padEnd(6)
    } interval ${interval} ms · load ${load}/s · ${samples} commits · delivery after commit: ` +
      `p50 ${f(quantile(latencies, 0.5))}, p95 ${f(quantile(latencies, 0.95))}, ` +
      `max ${f(latencies[latencies.length - 1])}`,
  );
}
