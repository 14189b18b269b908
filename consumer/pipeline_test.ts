import assert from "node:assert/strict";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import type { Logger } from "@iot/shared/runtime";
import type { OffsetMismatchPolicy, TopicLog } from "./log_guard.ts";
import { type ConsumerMetrics, createConsumerMetrics } from "./metrics.ts";
import { Pipeline } from "./pipeline.ts";
import type { PartitionBatch } from "./source.ts";
import { MemoryStore } from "./testing/memory_store.ts";
import type { KafkaRecord } from "./transform.ts";
import { RECEIVED_AT, SAMPLE_EVENT } from "../testing/payloads.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const OLD_TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const NEW_TOPIC_ID = "f5a04b6c-0ba6-4e82-b31d-045c33d45347";
const encoder = new TextEncoder();
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function record(offset: number): KafkaRecord {
  const value = JSON.stringify({ ...SAMPLE_EVENT, ID: id(offset) });
  return {
    offset: String(offset),
    key: null,
    value: encoder.encode(value),
    timestampMs: RECEIVED_AT,
  };
}

/** The same reading without ID: its id is derived from the topic ID, partition and offset. */
function idless(offset: number): KafkaRecord {
  const value = JSON.stringify({ ...SAMPLE_EVENT, ID: undefined });
  return {
    offset: String(offset),
    key: null,
    value: encoder.encode(value),
    timestampMs: RECEIVED_AT,
  };
}

/** A batch of partition 0 that records what the pipeline asked of Kafka. */
function batchOf(offsets: number[], logEnd = offsets[offsets.length - 1] + 1, of = record) {
  const asked: string[] = [];
  const batch: PartitionBatch = {
    topic: "iot.sensors",
    partition: 0,
    records: offsets.map(of),
    highWatermark: String(logEnd),
    fetchedAt: performance.now(),
    resolveOffset: (offset) => asked.push(`resolve ${offset}`),
    commit: () => Promise.resolve(),
    seek: (offset) => asked.push(`seek ${offset}`),
    pause: (ms) => asked.push(`pause ${ms}`),
    heartbeat: () => Promise.resolve(),
    isCurrent: () => true,
  };
  return { batch, asked };
}

/** Kafka as the pipeline sees it: the topic's ID now, and the log's start. */
class FakeKafka implements TopicLog {
  id = OLD_TOPIC_ID;
  start = "0";
  asked = 0;
  topicId(): Promise<string> {
    this.asked++;
    return Promise.resolve(this.id);
  }
  logStart(): Promise<string> {
    return Promise.resolve(this.start);
  }
}

interface Options {
  kafka?: FakeKafka;
  policy?: OffsetMismatchPolicy;
  metrics?: ConsumerMetrics;
  log?: Logger;
}

function pipelineOn(store: MemoryStore, options: Options = {}): Pipeline {
  return new Pipeline({
    store,
    groupId: "g",
    alertRule: DEFAULT_ALERT_RULE,
    metrics: options.metrics ?? createConsumerMetrics(),
    log: options.log ?? quiet,
    now: () => RECEIVED_AT,
    topicLog: options.kafka ?? new FakeKafka(),
    offsetMismatch: options.policy ?? "stop",
    deviceFutureToleranceS: 300,
    rejectMaxStoredBytes: 65536,
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

Deno.test("Pipeline: a partition PostgreSQL has no row for starts at its log's start, not at Kafka's committed offset", async () => {
  // Kafka's committed offsets were moved to the end (or the group is older than the database):
  // the first batch starts at 5 while offsets 0..4 were never stored.
  const store = new MemoryStore();
  const pipeline = pipelineOn(store);
  const late = batchOf([5, 6]);
  await pipeline.handle(late.batch);
  assert.deepEqual(late.asked, ["seek 0"], "reading goes back to the log's start");
  assert.equal(store.offsets.get("iot.sensors/0"), "0");
  assert.equal(store.rows.size, 0, "nothing written past the gap");
  await pipeline.handle(batchOf([0, 1, 2, 3, 4, 5, 6]).batch);
  assert.deepEqual([...store.rows.keys()].sort(), [0, 1, 2, 3, 4, 5, 6].map(id).sort());
});

Deno.test("Pipeline: a new partition whose log starts later (retention) is claimed at that start", async () => {
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  kafka.start = "3";
  const pipeline = pipelineOn(store, { kafka });
  const { batch, asked } = batchOf([3, 4]);
  await pipeline.handle(batch);
  assert.deepEqual(asked.filter((a) => a.startsWith("seek")), []);
  assert.equal(store.offsets.get("iot.sensors/0"), "5");
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

Deno.test("Pipeline: commits the database lost (rows with their offset) are read again from the stored offset", async () => {
  const store = new MemoryStore();
  const { lines, log } = recordingLog();
  const pipeline = pipelineOn(store, { log });
  await pipeline.handle(batchOf([0, 1]).batch);
  await pipeline.handle(batchOf([2, 3]).batch);
  // A crash with asynchronous commit undid the second transaction: its rows and its offset.
  store.offsets.set("iot.sensors/0", "2");
  store.rows.delete(id(2));
  store.rows.delete(id(3));
  const { batch, asked } = batchOf([4, 5]);
  await pipeline.handle(batch);
  assert.deepEqual(asked, ["seek 2"], "back to where the database stands");
  assert.equal(store.rows.size, 2, "nothing written past the gap");
  assert.deepEqual(
    lines.filter((l) => l.level === "warn").map((l) => [l.msg.split(":")[0], l.fields]),
    [["stored offset is behind this batch's start", {
      partition: 0,
      expectedOffset: "4",
      storedOffset: "2",
    }]],
  );
  const again = batchOf([2, 3, 4, 5]);
  await pipeline.handle(again.batch);
  assert.deepEqual([...store.rows.keys()].sort(), [0, 1, 2, 3, 4, 5].map(id));
  assert.equal(store.offsets.get("iot.sensors/0"), "6");
});

Deno.test("Pipeline: device state counts each reading once, a batch read again included", async () => {
  const store = new MemoryStore();
  await pipelineOn(store).handle(batchOf([0, 1]).batch);
  // A restarted member whose stored offset was moved back (an operator's reset): 0 and 1 again.
  store.offsets.set("iot.sensors/0", "0");
  await pipelineOn(store).handle(batchOf([0, 1, 2]).batch);
  const [device] = [...store.devices.values()];
  assert.equal(store.devices.size, 1);
  assert.equal(device.qt_leituras, 3);
  assert.equal(device.latest?.id, id(2));
});

Deno.test("Pipeline: a temperature_high alert opens, updates, clears with hysteresis and opens again across batches", async () => {
  const temperatures = [36.2, 37.5, 34, 33, 33.5, 36];
  const hot = (offset: number): KafkaRecord => ({
    ...record(offset),
    value: encoder.encode(JSON.stringify({
      ...SAMPLE_EVENT,
      ID: id(offset),
      TIMESTAMP: `2026-11-26T10:15:3${offset}-03:00`,
      TEMPERATURA: temperatures[offset],
    })),
  });
  const store = new MemoryStore();
  await pipelineOn(store).handle(batchOf([0, 1, 2], 6, hot).batch);
  await pipelineOn(store).handle(batchOf([3, 4, 5], 6, hot).batch);
  const alerts = [...store.alerts.values()].filter((a) => a.tipo === "temperature_high");
  assert.deepEqual(
    alerts.map((a) => [a.id, a.opened_event, a.trigger_count, a.peak_value, a.cleared_event]),
    [
      ["1", id(0), 2, 37.5, id(4)], // the third calm reading in a row (34, 33, 33.5) clears it
      ["2", id(5), 1, 36, null],
    ],
  );
  assert.deepEqual([...store.marks.values()].map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
  const [snapshot] = store.snapshots.values();
  assert.equal(snapshot.versao, 2, "one version per write");
  assert.equal(snapshot.open.temperature_high?.id, "2", "the open alert carries its id");
});

/** A logger that keeps every line as `level message`, with its fields. */
function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return {
    lines,
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function blockedGauge(metrics: ConsumerMetrics): Promise<Record<string, number>> {
  const { values } = await metrics.blocked.get();
  return Object.fromEntries(
    values.map((v) => [`${v.labels.partition}/${v.labels.reason}`, v.value]),
  );
}

Deno.test("Pipeline: a topic re-created under its name, shorter than the stored offset, stops its partition until the offset row is fixed", async () => {
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  const metrics = createConsumerMetrics();
  const { lines, log } = recordingLog();
  const pipeline = pipelineOn(store, { kafka, metrics, log });
  await pipeline.handle(batchOf(range(0, 10), 10, idless).batch);
  assert.equal(store.rows.size, 10);

  // While this member runs, the topic is deleted and created again; 3 messages are written.
  kafka.id = NEW_TOPIC_ID;
  const { batch, asked } = batchOf(range(0, 3), 3, idless);
  await pipeline.handle(batch);
  assert.equal(store.rows.size, 10, "nothing written against the old topic's offsets");
  assert.deepEqual(asked, ["pause 10000"], "not resolved: the records come again later");
  assert.deepEqual(pipeline.stoppedPartitions(), [
    `partition iot.sensors/0 stopped: topic ID changed (stored ${OLD_TOPIC_ID}, Kafka ` +
    `${NEW_TOPIC_ID}; stored offset 10, log end 3); the topic was re-created (README: a stored ` +
    "offset that does not fit the log)",
  ]);
  assert.deepEqual(await blockedGauge(metrics), { "0/topic_id_changed": 1 });
  const errors = lines.filter((l) => l.level === "error");
  assert.equal(errors.length, 1);
  assert.deepEqual(errors[0].fields, {
    topic: "iot.sensors",
    partition: 0,
    reason: "topic_id_changed",
    storedTopicId: OLD_TOPIC_ID,
    topicId: NEW_TOPIC_ID,
    storedOffset: "10",
    logEndOffset: "3",
  });

  // Delivered again after the pause, still wrong: still stopped, logged once.
  await pipeline.handle(batchOf(range(0, 3), 3, idless).batch);
  assert.equal(lines.filter((l) => l.level === "error").length, 1);
  assert.equal(pipeline.stoppedPartitions().length, 1);

  // The README's fix: offset 0, topic ID unknown (the next claim takes Kafka's).
  store.offsets.set("iot.sensors/0", "0");
  store.topicIds.delete("iot.sensors/0");
  const after = batchOf(range(0, 3), 3, idless);
  await pipeline.handle(after.batch);
  assert.deepEqual(after.asked, ["resolve 2"]);
  assert.equal(store.rows.size, 13, "the new topic's events get ids of their own");
  assert.deepEqual(pipeline.stoppedPartitions(), []);
  assert.deepEqual(await blockedGauge(metrics), {});
  assert.equal(store.topicIds.get("iot.sensors/0"), NEW_TOPIC_ID);
});

Deno.test("Pipeline: a re-created topic that has grown past the stored offset stops its partition too", async () => {
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  await pipelineOn(store, { kafka }).handle(batchOf(range(0, 10), 10, idless).batch);

  // A new process after the re-creation: 15 messages, more than the stored offset of 10.
  kafka.id = NEW_TOPIC_ID;
  const pipeline = pipelineOn(store, { kafka });
  const { batch, asked } = batchOf(range(0, 15), 15, idless);
  await pipeline.handle(batch);
  assert.deepEqual(asked, ["pause 10000"]);
  assert.equal(store.rows.size, 10, "offsets 10-14 of the new log not taken for the old one's");
  assert.match(pipeline.stoppedPartitions()[0], /topic ID changed .*stored offset 10, log end 15/);
});

Deno.test("Pipeline: restart-from-beginning reads a re-created topic from its start, every event once", async () => {
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  await pipelineOn(store, { kafka }).handle(batchOf(range(0, 10), 10, idless).batch);

  kafka.id = NEW_TOPIC_ID;
  kafka.start = "0";
  const { lines, log } = recordingLog();
  const pipeline = pipelineOn(store, { kafka, policy: "restart-from-beginning", log });
  // Kafka kept the group's committed offset: it delivers the new log from 10 on.
  const first = batchOf(range(10, 15), 15, idless);
  await pipeline.handle(first.batch);
  assert.deepEqual(first.asked, ["seek 0"]);
  assert.deepEqual(store.calls.slice(-1), [`reset ${NEW_TOPIC_ID} 0`]);
  const warned = lines.filter((l) => l.level === "warn");
  assert.deepEqual(warned.map((l) => [l.msg, l.fields?.storedTopicId, l.fields?.topicId]), [[
    "topic was re-created; reading the new log from its beginning",
    OLD_TOPIC_ID,
    NEW_TOPIC_ID,
  ]]);
  assert.equal(warned[0].fields?.storedOffset, "10");
  assert.equal(warned[0].fields?.nextOffset, "0");

  await pipeline.handle(batchOf(range(0, 15), 15, idless).batch);
  assert.equal(store.rows.size, 25, "10 of the old topic and 15 of the new one, no id shared");
  await pipeline.handle(batchOf(range(0, 15), 15, idless).batch); // redelivered
  assert.equal(store.rows.size, 25);
  assert.equal(store.offsets.get("iot.sensors/0"), "15");
  assert.deepEqual(pipeline.stoppedPartitions(), []);
});

Deno.test("Pipeline: a stored offset past the log end of the same topic stops, whatever the policy", async () => {
  for (const policy of ["stop", "restart-from-beginning"] as const) {
    const store = new MemoryStore();
    const kafka = new FakeKafka();
    await pipelineOn(store, { kafka }).handle(batchOf(range(0, 10)).batch);
    // Kafka lost its data (or was restored from a backup): same topic ID, log end 4.
    const metrics = createConsumerMetrics();
    const pipeline = pipelineOn(store, { kafka, policy, metrics });
    const { batch, asked } = batchOf(range(0, 4), 4);
    await pipeline.handle(batch);
    assert.deepEqual(asked, ["pause 10000"], policy);
    assert.match(
      pipeline.stoppedPartitions()[0],
      /stored offset past the log end \(stored offset 10, log end 4, topic ID 5bdfec01/,
    );
    assert.deepEqual(await blockedGauge(metrics), { "0/offset_past_log_end": 1 });
    assert.equal(store.offsets.get("iot.sensors/0"), "10", "nothing moved");
  }
});

Deno.test("Pipeline: Kafka's topic ID is asked once per fetch, after it; batches of one fetch share the answer", async () => {
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  const pipeline = pipelineOn(store, { kafka });
  const fetched = performance.now();
  for (const offsets of [[0, 1], [2, 3], [4, 5]]) {
    const { batch } = batchOf(offsets);
    batch.fetchedAt = fetched; // one fetch: three batches (of one partition here, for brevity)
    await pipeline.handle(batch);
  }
  assert.equal(kafka.asked, 1);
  assert.equal(store.offsets.get("iot.sensors/0"), "6");
  await pipeline.handle(batchOf([6]).batch); // the next fetch
  assert.equal(kafka.asked, 2);
});

Deno.test("Pipeline: a topic re-created between two fetches is seen even when its batch looks like the next one of the old log", async () => {
  // The weakness of a topic ID trusted for a while: the new log has grown past the stored offset,
  // Kafka delivers it from there, nothing in the batch is below the stored offset.
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  const pipeline = pipelineOn(store, { kafka, policy: "restart-from-beginning" });
  await pipeline.handle(batchOf(range(0, 10), 10, idless).batch);
  kafka.id = NEW_TOPIC_ID;
  const next = batchOf(range(10, 15), 15, idless);
  await pipeline.handle(next.batch);
  assert.deepEqual(next.asked, ["seek 0"]);
  assert.equal(store.rows.size, 10, "nothing of the new log stored under the old topic ID");
  await pipeline.handle(batchOf(range(0, 15), 15, idless).batch);
  assert.equal(store.rows.size, 25);
  assert.equal(store.topicIds.get("iot.sensors/0"), NEW_TOPIC_ID);
});

Deno.test("Pipeline: a stopped partition this member no longer has is not reported after a rebalance", async () => {
  const store = new MemoryStore();
  const kafka = new FakeKafka();
  const metrics = createConsumerMetrics();
  const pipeline = pipelineOn(store, { kafka, metrics });
  await pipeline.handle(batchOf(range(0, 10)).batch);
  kafka.id = NEW_TOPIC_ID;
  await pipeline.handle(batchOf(range(0, 3)).batch);
  pipeline.onRebalance([0, 1]);
  assert.equal(pipeline.stoppedPartitions().length, 1, "still this member's");
  pipeline.onRebalance([1]);
  assert.deepEqual(pipeline.stoppedPartitions(), []);
  assert.deepEqual(await blockedGauge(metrics), {});
});
