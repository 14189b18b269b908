import assert from "node:assert/strict";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import type { Fence } from "./event_store.ts";
import { type Retry, storeBatch, type Stored } from "./refusals.ts";
import { type KafkaRecord, planBatch } from "./transform.ts";
import { MemoryStore } from "./testing/memory_store.ts";
import { RECEIVED_AT, SAMPLE_EVENT } from "../testing/payloads.ts";

const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const FENCE: Fence = {
  groupId: "g",
  topic: "iot.sensors",
  partition: 0,
  expectedOffset: "0",
  topicId: TOPIC_ID,
};
const ORIGIN = { idKey: "k", topicId: TOPIC_ID };
const noRetry: Retry = (operation) => operation();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const encoder = new TextEncoder();

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
/** A message: event `n` (its own id) with a temperature; `null` value is an invalid message. */
function message(offset: number, n: number | null, temperature = 20): KafkaRecord {
  const value = n === null ? "not json" : JSON.stringify({
    ...SAMPLE_EVENT,
    ID: id(n),
    TEMPERATURA: temperature,
  });
  return {
    offset: String(offset),
    key: null,
    value: encoder.encode(value),
    timestampMs: RECEIVED_AT,
  };
}

async function store(target: MemoryStore, records: KafkaRecord[]): Promise<Stored | undefined> {
  await target.claimOffset(FENCE, { nextOffset: "0", topicId: TOPIC_ID });
  const plan = planBatch(
    ORIGIN,
    FENCE.partition,
    records,
    DEFAULT_ALERT_RULE,
    Date.UTC(2026, 10, 27),
    65536,
    300,
  );
  return await storeBatch(target, FENCE, String(records.length), plan, noRetry, quiet);
}

/** The written outcome, checking that every message is one of: inserted, duplicate, rejected. */
function accounted(
  stored: Stored | undefined,
  messages: number,
): Extract<Stored, { kind: "written" }> {
  assert.ok(stored?.kind === "written", JSON.stringify(stored));
  assert.equal(stored.inserted + stored.duplicates + stored.rejects.length, messages);
  return stored;
}

Deno.test("storeBatch() writes a clean batch in one write, re-sends counted as duplicates", async () => {
  const db = new MemoryStore();
  const stored = accounted(
    await store(db, [message(0, 1), message(1, 2), message(2, 1), message(3, null)]),
    4,
  );
  assert.deepEqual([stored.inserted, stored.duplicates, stored.rejects.length], [2, 1, 1]);
  assert.deepEqual(db.calls, ["batch 2 rows, 1 rejects"]);
  assert.equal(db.offsets.get("iot.sensors/0"), "4");
});

Deno.test("storeBatch() refuses an id stored with other values, with its in-batch re-sends", async () => {
  const db = new MemoryStore();
  await store(db, [message(0, 1, 20)]);
  db.offsets.set("iot.sensors/0", "0");
  const stored = accounted(
    await store(db, [message(0, 1, 30), message(1, 2), message(2, 1, 30)]),
    3,
  );
  assert.deepEqual(
    stored.rejects.map((r) => [r.offset, r.reasons[0].code]),
    [["0", "duplicate_id_conflict"], ["2", "duplicate_id_conflict"]],
  );
  assert.equal(stored.inserted, 1);
  assert.equal(
    stored.duplicates,
    0,
    "the re-send of a refused reading is rejected, not a duplicate",
  );
  assert.equal(db.rows.get(id(1))!.temperatura, 20, "the first reading stays");
});

Deno.test("storeBatch() takes the stored reading when a later rival of the batch re-sends it", async () => {
  const db = new MemoryStore();
  await store(db, [message(0, 1, 25)]);
  db.offsets.set("iot.sensors/0", "0");
  // 30 is refused (25 is stored); its rival 25 is the stored reading re-sent: a duplicate.
  const stored = accounted(
    await store(db, [message(0, 1, 30), message(1, 1, 25), message(2, 1, 25)]),
    3,
  );
  assert.deepEqual(stored.rejects.map((r) => r.offset), ["0"]);
  assert.deepEqual([stored.inserted, stored.duplicates], [0, 2]);
});

Deno.test("storeBatch() isolates a row the database refuses and stores the rest", async () => {
  const db = new MemoryStore(new Set([id(2)]));
  const stored = accounted(
    await store(db, [message(0, 1), message(1, 2), message(2, 2), message(3, 3)]),
    4,
  );
  assert.deepEqual(
    stored.rejects.map((r) => [r.offset, r.reasons[0].code, r.reasons[0].message]),
    [
      ["1", "database_refused", "PostgreSQL refused the row: value out of range (SQLSTATE 22003)"],
      ["2", "database_refused", "PostgreSQL refused the row: value out of range (SQLSTATE 22003)"],
    ],
  );
  // Rows 1 and 3 were inserted while isolating; the batch write then found them stored. They
  // still count as inserted, not as duplicates.
  assert.deepEqual([stored.inserted, stored.duplicates], [2, 0]);
  assert.deepEqual(db.calls, [
    "batch 3 rows, 0 rejects",
    `row ${id(1)}`,
    `row ${id(2)}`,
    `row ${id(3)}`,
    "batch 2 rows, 2 rejects",
  ]);
  assert.equal(db.offsets.get("iot.sensors/0"), "4", "the offset moved once, with the batch");
});

Deno.test("storeBatch() throws when the batch is refused though every row alone is accepted", async () => {
  const db = new MemoryStore(new Set(), true);
  await assert.rejects(
    () => store(db, [message(0, 1), message(1, 2)]),
    /PostgreSQL refuses the batch as a whole: value out of range \(SQLSTATE 22003\)/,
  );
  assert.equal(db.offsets.get("iot.sensors/0"), "0", "nothing skipped");
});

Deno.test("storeBatch() stops at the fence, also while isolating", async () => {
  const fenced = new MemoryStore();
  fenced.offsets.set("iot.sensors/0", "7");
  const plan = planBatch(
    ORIGIN,
    0,
    [message(0, 1)],
    DEFAULT_ALERT_RULE,
    Date.UTC(2026, 10, 27),
    65536,
    300,
  );
  assert.deepEqual(await storeBatch(fenced, FENCE, "1", plan, noRetry, quiet), { kind: "fenced" });

  const moving = new MemoryStore(new Set([id(1)]));
  moving.offsets.set("iot.sensors/0", "0");
  const realWriteRow = moving.writeRow.bind(moving);
  moving.writeRow = (fence, row) => {
    moving.offsets.set("iot.sensors/0", "9"); // another member took the partition meanwhile
    return realWriteRow(fence, row);
  };
  const plan2 = planBatch(
    ORIGIN,
    0,
    [message(0, 1)],
    DEFAULT_ALERT_RULE,
    Date.UTC(2026, 10, 27),
    65536,
    300,
  );
  assert.deepEqual(await storeBatch(moving, FENCE, "1", plan2, noRetry, quiet), { kind: "fenced" });
  assert.equal(moving.rows.size, 0);
});

Deno.test("storeBatch() gives up quietly when the batch is no longer current", async () => {
  const db = new MemoryStore();
  await db.claimOffset(FENCE, { nextOffset: "0", topicId: TOPIC_ID });
  const plan = planBatch(
    ORIGIN,
    0,
    [message(0, 1)],
    DEFAULT_ALERT_RULE,
    Date.UTC(2026, 10, 27),
    65536,
    300,
  );
  const outdated: Retry = () => Promise.resolve(undefined);
  assert.equal(await storeBatch(db, FENCE, "1", plan, outdated, quiet), undefined);
  assert.equal(db.rows.size, 0);
});

Deno.test("storeBatch() refuses every conflicting id of a batch in one round: two writes, not K + 1", async () => {
  const db = new MemoryStore();
  await store(db, [message(0, 1, 20), message(1, 2, 20), message(2, 3, 20)]);
  db.offsets.set("iot.sensors/0", "0");
  db.calls.length = 0;
  const stored = accounted(
    await store(db, [
      message(0, 1, 30),
      message(1, 4),
      message(2, 2, 30),
      message(3, 3, 30),
      message(4, 5),
    ]),
    5,
  );
  assert.deepEqual(stored.rejects.map((r) => r.offset), ["0", "2", "3"]);
  assert.equal(stored.inserted, 2);
  assert.deepEqual(db.calls, ["batch 5 rows, 0 rejects", "batch 2 rows, 3 rejects"]);
});
