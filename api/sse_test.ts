import assert from "node:assert/strict";
import { batchEvents, checkpointEvent, type FeedBatch, formatEvent } from "./sse.ts";

const batch: FeedBatch = {
  from: "5:5:",
  to: "9:9:",
  readings: [{ device: "a", id: "r1" }, { device: "b", id: "r2" }],
  alerts: [{ device: "a", id: 7 }],
};

Deno.test("batchEvents() sends readings then alerts, the batch's end only on the last", () => {
  const events = batchEvents(batch, {});
  assert.deepEqual(events.map((e) => [e.event, e.id]), [
    ["reading", undefined],
    ["reading", undefined],
    ["alert", "9:9:"],
  ]);
});

Deno.test("batchEvents() filters by device; nothing for the client means no event", () => {
  assert.deepEqual(batchEvents(batch, { device: "b" }), [
    { event: "reading", data: { device: "b", id: "r2" }, id: "9:9:" },
  ]);
  assert.deepEqual(batchEvents(batch, { device: "c" }), []);
});

Deno.test("formatEvent() writes one frame; data with a line break stays on one line", () => {
  assert.equal(
    formatEvent({ event: "alert", data: { note: "a\nb" } }),
    'event: alert\ndata: {"note":"a\\nb"}\n\n',
  );
  assert.equal(
    formatEvent(checkpointEvent("9:9:")),
    'event: checkpoint\nid: 9:9:\ndata: {"position":"9:9:"}\n\n',
  );
});
