import assert from "node:assert/strict";
import { createLogger } from "@iot/shared/runtime";
import type { FeedChanges, FeedSource } from "./feed_reader.ts";
import type { FeedBatch } from "./sse.ts";
import { StreamFeed } from "./stream_feed.ts";

const quiet = createLogger("test", { write: () => {} });

/** A source whose reads return queued changes; each read's `from` is recorded. */
function fakeSource() {
  let n = 1;
  const reads: (string | undefined)[] = [];
  const queued: Partial<FeedChanges>[] = [];
  let wake = () => {};
  const source: FeedSource = {
    read: (from) => {
      reads.push(from);
      const to = `${++n}:${n}:`;
      const next = from === undefined ? {} : queued.shift() ?? {};
      return Promise.resolve({
        from: from ?? to,
        to,
        readings: [],
        alerts: [],
        rows: 0,
        ...next,
      });
    },
    listen: (w) => {
      wake = w;
      return Promise.resolve(() => Promise.resolve());
    },
  };
  return { source, reads, queued, notify: () => wake() };
}

const until = async (probe: () => boolean) => {
  for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(probe(), "timed out");
};

Deno.test("StreamFeed reads on from its last position and hands batches with changes to subscribers", async () => {
  const fake = fakeSource();
  const feed = new StreamFeed(
    fake.source,
    { wake: "poll", minIntervalMs: 1, pollIntervalMs: 5 },
    quiet,
  );
  assert.throws(() => feed.subscribe(() => {}), /not ready/);
  await feed.start();
  await until(() => feed.position() !== undefined);
  const got: FeedBatch[] = [];
  const ended: string[] = [];
  const sub = feed.subscribe((b) => got.push(b), () => ended.push("end"));
  fake.queued.push({ readings: [{ device: "a" }], rows: 3 });
  await until(() => got.length === 1);
  assert.ok(got[0].from >= sub.at, "batches start at or after the subscription's position");
  assert.deepEqual(got[0].readings, [{ device: "a" }]);
  for (let i = 1; i < fake.reads.length; i++) {
    assert.notEqual(fake.reads[i], undefined, "every read after the first starts at a position");
  }
  assert.equal(feed.clients(), 1);
  assert.ok((feed.rate()?.rows_per_second ?? 0) > 0);
  await feed.stop();
  assert.deepEqual(ended, ["end"], "stopping ends every subscription");
});

Deno.test("StreamFeed with notify reads when woken, not only on its poll interval", async () => {
  const fake = fakeSource();
  const feed = new StreamFeed(fake.source, {
    wake: "notify",
    minIntervalMs: 1,
    pollIntervalMs: 60_000,
  }, quiet);
  await feed.start();
  await until(() => fake.reads.length === 1);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fake.reads.length, 1, "no read before the poll interval without a wake");
  fake.notify();
  await until(() => fake.reads.length === 2);
  await feed.stop();
});

Deno.test("StreamFeed reports a failed read and recovers on the next", async () => {
  const fake = fakeSource();
  let fail = true;
  const source: FeedSource = {
    ...fake.source,
    read: (from) => fail ? Promise.reject(new Error("connection lost")) : fake.source.read(from),
  };
  const feed = new StreamFeed(source, { wake: "poll", minIntervalMs: 1, pollIntervalMs: 5 }, quiet);
  await feed.start();
  await until(() => feed.problem()?.includes("connection lost") === true);
  fail = false;
  await until(() => feed.problem() === undefined);
  await feed.stop();
});
