import assert from "node:assert/strict";
import { expect } from "./_checker_expect.ts";
import { type CheckInput, derivedId, type StoredRow } from "./_checker_types.ts";
import {
  accepted,
  type Expectation,
  expectedRowOf,
  type LedgerEntry,
  type Reading,
  rejected,
} from "./ledger.ts";
import { RUN_MONITORING } from "./monitoring.ts";

const TOPIC = "expect_test";
const reading = (id: string, temperature: number): Reading => ({
  ID: id,
  ID_DISPOSITIVO: "dev-1",
  TIMESTAMP: "2026-11-26T10:00:00Z",
  TEMPERATURA: temperature,
  UMIDADE: 50,
  LATITUDE: 0,
  LONGITUDE: 0,
  STATUS: "OK",
  BATERIA: 80,
});

const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const ID_KEY = "0123456789abcdef";

/** A topic of `[partition, expectation]` messages at offsets 0, 1, … per partition. */
function history(messages: [number, Expectation][], rows: StoredRow[] = []): CheckInput {
  const next = new Map<number, number>();
  const ledger: LedgerEntry[] = [];
  const log = messages.map(([partition, expect], seq) => {
    const offset = next.get(partition) ?? 0;
    next.set(partition, offset + 1);
    ledger.push({
      seq,
      key: null,
      digest: `d${seq}`,
      size: 1,
      class: "c",
      intent: "valid",
      expect,
    });
    return { partition, offset: String(offset), seq, digest: `d${seq}` };
  });
  return {
    topic: TOPIC,
    topicIds: [TOPIC_ID],
    idKey: ID_KEY,
    ledger,
    acked: new Set(),
    log,
    rows,
    rejects: [],
    devices: [],
    monitoring: { folds: [], models: [], alerts: [], settings: RUN_MONITORING },
    deviceFutureToleranceS: 300,
    storedOffsets: {},
    storedTopicIds: {},
    endOffsets: {},
    transitions: [],
    faults: [],
    exits: [],
    memory: [],
    drain: { ok: true, healedAtMs: 0, tookMs: 0 },
    limits: {
      recoveryMs: 1,
      memoryMaxBytes: 1,
      memoryGrowthRatio: 1,
      crashLoopExits: 3,
      crashLoopWindowMs: 60_000,
    },
  };
}

const ID = "00000000-0000-4000-8000-000000000001";

Deno.test("expect() makes the first reading of an id on a partition win, the others rejects", () => {
  const first = accepted(reading(ID, 20));
  const input = history([
    [0, first],
    [0, accepted(reading(ID, 99))], // conflicting duplicate
    [0, accepted(reading(ID, 20))], // exact re-send
    [1, rejected("not_json")],
    [1, accepted(reading(ID, 30), { id: undefined })], // no ID: derived from its coordinates
  ]);
  const got = expect(input);
  assert.deepEqual(got.groups.map((g) => [g.id, g.winner.e.seq, g.members.length]), [
    [ID, 0, 3],
    [derivedId(ID_KEY, TOPIC_ID, 1, "1"), 4, 1],
  ]);
  assert.deepEqual([...got.rejects].map(([key, r]) => [key, r.codes]), [
    ["1/0", ["not_json"]],
    ["0/1", ["duplicate_id_conflict"]],
  ]);
  assert.deepEqual([...got.noReject.keys()], ["0/0", "0/2", "1/1"]);
});

Deno.test("expect() lets the stored reading win an id sent on two partitions", () => {
  const stored = { ...expectedRowOf(reading(ID, 99)), id: ID };
  const got = expect(history([[0, accepted(reading(ID, 20))], [1, accepted(reading(ID, 99))]], [
    stored,
  ]));
  assert.equal(got.groups[0].winner.e.seq, 1);
  assert.deepEqual([...got.rejects.keys()], ["0/0"]);
});

Deno.test("expect() across partitions lets only a partition's first reading win", () => {
  // Partition 0 holds 20 then 99; partition 1 holds 20. The row can only have been written by a
  // first message of its partition: 99, second on partition 0, cannot have won.
  const messages: [number, Expectation][] = [
    [0, accepted(reading(ID, 20))],
    [0, accepted(reading(ID, 99))],
    [1, accepted(reading(ID, 20))],
  ];
  const wrong = { ...expectedRowOf(reading(ID, 99)), id: ID };
  const out = expect(history(messages, [wrong]));
  assert.equal(out.groups[0].winner.e.seq, 0, "falls back to the first message: values differ");
  const right = { ...expectedRowOf(reading(ID, 20)), id: ID };
  const ok = expect(history(messages, [right]));
  assert.equal(ok.groups[0].winner.row.temperatura, 20);
  assert.deepEqual([...ok.rejects.keys()], ["0/1"]);
  assert.deepEqual([...ok.noReject.keys()], ["0/0", "1/0"]);
});
