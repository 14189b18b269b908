import assert from "node:assert/strict";
import { createLogger } from "@iot/shared/runtime";
import type { FeedChanges, FeedSource } from "./feed_reader.ts";
import { ParameterError } from "./problem.ts";
import { openStream, type StreamDeps } from "./stream.ts";
import { StreamFeed } from "./stream_feed.ts";

const quiet = createLogger("test", { write: () => {} });

/** A feed over a fake source: positions n:n:, each read returning what was queued. */
async function fakeFeed() {
  let n = 10;
  const queued: Partial<FeedChanges>[] = [];
  const source: FeedSource = {
    read: (from) => {
      const to = `${++n}:${n}:`;
      const next = from === undefined ? {} : queued.shift() ?? {};
      return Promise.resolve({ from: from ?? to, to, readings: [], alerts: [], rows: 0, ...next });
    },
    listen: () => Promise.resolve(() => Promise.resolve()),
  };
  const feed = new StreamFeed(
    source,
    { wake: "notify", minIntervalMs: 1, pollIntervalMs: 60_000 },
    quiet,
  );
  await feed.start();
  return { feed, queued };
}

function deps(feed: StreamFeed, read: StreamDeps["read"]): StreamDeps {
  return {
    feed,
    read,
    heartbeatMs: 60_000,
    maxBufferedBytes: 1 << 20,
    observe: { clients: () => {}, events: () => {} },
    log: quiet,
  };
}

/** Reads frames until `count` events arrived. */
async function frames(body: ReadableStream<Uint8Array>, count: number): Promise<string[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.split("\n\n").filter((f) => f.startsWith("event:")).length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n\n").filter((f) => f.startsWith("event:"));
}

Deno.test("openStream() sends the catch-up, then what the feed read meanwhile, in order", async () => {
  const { feed, queued } = await fakeFeed();
  const at = feed.position()!;
  const catchUp = Promise.withResolvers<FeedChanges>();
  const reads: [string | undefined, string | undefined][] = [];
  const abort = new AbortController();
  const response = openStream(
    deps(feed, (from, to) => {
      reads.push([from, to]);
      return catchUp.promise;
    }),
    {},
    "5:5:",
    abort.signal,
  );
  // A batch read by the feed while the catch-up is still running is held, not lost.
  queued.push({ readings: [{ device: "a", id: "live" }] });
  feed.wake();
  for (let i = 0; i < 100 && feed.position() === at; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  catchUp.resolve({
    from: "5:5:",
    to: at,
    readings: [{ device: "a", id: "missed" }],
    alerts: [],
    rows: 1,
  });
  const got = await frames(response.body!, 2);
  assert.deepEqual(reads, [["5:5:", at]], "the catch-up ends where the live batches start");
  assert.match(got[0], new RegExp(`^event: reading\nid: ${at}\ndata: .*"missed"`));
  assert.match(got[1], new RegExp(`^event: reading\nid: ${feed.position()}\ndata: .*"live"`));
  abort.abort();
  await feed.stop();
});

Deno.test("openStream() without a position starts with a checkpoint at the feed's", async () => {
  const { feed } = await fakeFeed();
  const abort = new AbortController();
  const response = openStream(
    deps(feed, () => Promise.reject(new Error("not called"))),
    {},
    undefined,
    abort.signal,
  );
  const [first] = await frames(response.body!, 1);
  assert.equal(
    first,
    `event: checkpoint\nid: ${feed.position()}\ndata: {"position":"${feed.position()}"}`,
  );
  abort.abort();
  await feed.stop();
});

Deno.test("openStream() refuses a position that is not before the feed's", async () => {
  const { feed } = await fakeFeed();
  for (const bad of ["nonsense", "99:99:"]) {
    assert.throws(
      () => openStream(deps(feed, () => Promise.reject()), {}, bad, new AbortController().signal),
      (e: unknown) => e instanceof ParameterError && e.parameter === "Last-Event-ID",
    );
  }
  await feed.stop();
});
