import assert from "node:assert/strict";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import { createConsumerMetrics } from "./metrics.ts";
import { Pipeline } from "./pipeline.ts";
import type { PartitionBatch } from "./source.ts";
import { MemoryStore } from "./testing/memory_store.ts";
import type { KafkaRecord } from "./transform.ts";
import { RECEIVED_AT, SAMPLE_EVENT } from "../testing/payloads.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const encoder = new TextEncoder();
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function record(offset: number): KafkaRecord {
  const value = JSON.stringify({ ...SAMPLE_EVENT, ID: id(offset) });
  return { offset: String(offset), key: null, value: encoder.encode(value) };
}

/** A batch of partition 0 that records what the pipeline asked of Kafka. */
function batchOf(offsets: number[]) {
  const asked: string[] = [];
  const batch: PartitionBatch = {
    topic: "iot.sensors",
    partition: 0,
    records: offsets.map(record),
    highWatermark: String(offsets[offsets.length - 1] + 1),
    resolveOffset: (offset) => asked.push(`resolve ${offset}`),
    commit: () => Promise.resolve(),
    seek: (offset) => asked.push(`seek ${offset}`),
    heartbeat: () => Promise.resolve(),
    isCurrent: () => true,
  };
  return { batch, asked };
}

function pipelineOn(store: MemoryStore): Pipeline {
  return new Pipeline({
    store,
    groupId: "g",
    alertRule: DEFAULT_ALERT_RULE,
    metrics: createConsumerMetrics(),
    log: quiet,
    now: () => RECEIVED_AT,
  });
}

Deno.test("Pipeline: a batch fenced because its offset row vanished is read again, not skipped", async () => {
  const store = new MemoryStore();
  const pipeline = pipelineOn(store);
  await pipeline.handle(batchOf([0, 1]).batch);
  assert.equal(store.offsets.get("iot.sensors/0"), "2");

  // The row is gone (deleted by hand, a point-in-time restore, a failover that lost a commit)
  // while this member still believes the stored offset is 2.
  store.offsets.delete("iot.sensors/0");
  const { batch, asked } = batchOf([2, 3]);
  await pipeline.handle(batch);
  assert.deepEqual(asked, ["seek 2"], "reading resumes at the batch's own start");
  assert.equal(store.offsets.get("iot.sensors/0"), "2", "the offset is claimed where it was");

  await pipeline.handle(batchOf([2, 3]).batch);
  assert.deepEqual([...store.rows.keys()].sort(), [id(0), id(1), id(2), id(3)]);
  assert.equal(store.offsets.get("iot.sensors/0"), "4");
});

Deno.test("Pipeline: a batch fenced by another member resumes where that member stored", async () => {
  const store = new MemoryStore();
  const pipeline = pipelineOn(store);
  await pipeline.handle(batchOf([0, 1]).batch);
  store.offsets.set("iot.sensors/0", "5"); // another member stored 2..4 meanwhile
  const { batch, asked } = batchOf([2, 3]);
  await pipeline.handle(batch);
  assert.deepEqual(asked, ["seek 5"]);
  assert.equal(store.rows.size, 2, "nothing written under another member's fence");
});
