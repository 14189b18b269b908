import assert from "node:assert/strict";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import type { Logger } from "@iot/shared/runtime";
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

function pipelineOn(
  store: MemoryStore,
  metrics = createConsumerMetrics(),
  log: Logger = quiet,
): Pipeline {
  return new Pipeline({
    store,
    groupId: "g",
    alertRule: DEFAULT_ALERT_RULE,
    rejectMaxStoredBytes: 65536,
    metrics,
    log,
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

/** An error as postgres.js throws it for SQLSTATE `code`. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

Deno.test("Pipeline: a full disk and a read-only server are named in databaseProblem() and the state metric, logged once, retried until they pass", async (t) => {
  for (
    const [code, state, words] of [
      ["53100", "disk_full", /^disk full \(53100\) — PostgreSQL cannot write.*: could not extend/],
      ["25006", "read_only", /^read-only \(25006\) — the server refuses writes.*: cannot execute/],
    ] as const
  ) {
    await t.step(state, async () => {
      const store = new MemoryStore();
      const metrics = createConsumerMetrics();
      const errors: string[] = [];
      const pipeline = pipelineOn(store, metrics, { ...quiet, error: (m) => errors.push(m) });
      const gauge = async () =>
        Object.fromEntries(
          (await metrics.databaseState.get()).values.map((v) => [v.labels.state, v.value]),
        );
      let failures = 3;
      const seen: (string | undefined)[] = [];
      const write = store.writeBatch.bind(store);
      store.writeBatch = async (batch) => {
        if (failures-- > 0) {
          seen.push(pipeline.databaseProblem());
          throw pgError(code, code === "53100" ? "could not extend file" : "cannot execute INSERT");
        }
        seen.push(pipeline.databaseProblem());
        assert.equal((await gauge())[state], 1, "the metric names the condition while it lasts");
        return write(batch);
      };
      await pipeline.handle(batchOf([0, 1]).batch);
      assert.equal(seen[0], undefined);
      assert.match(seen[1]!, words);
      assert.match(seen[3]!, words, "still named on the last retry");
      assert.equal(errors.length, 1, "one error line for the condition, not one per retry");
      assert.equal(pipeline.databaseProblem(), undefined, "cleared once a write succeeds");
      assert.deepEqual(await gauge(), { ok: 1, disk_full: 0, read_only: 0, failing: 0 });
      assert.deepEqual([...store.rows.keys()].sort(), [id(0), id(1)], "nothing lost");
      metrics.close();
    });
  }
});
