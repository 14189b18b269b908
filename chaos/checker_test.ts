import assert from "node:assert/strict";
import { deriveEventId } from "../shared/mod.ts";
import {
  check,
  type CheckInput,
  type CheckResult,
  derivedId,
  type ExitRecord,
  type FaultRecord,
  type Invariant,
  type LogMessage,
  type MemorySeries,
  type Monitoring,
  type OffsetTransition,
  type StoredAlert,
  type StoredDevice,
  type StoredFold,
  type StoredModel,
  type StoredReject,
  type StoredRow,
} from "./checker.ts";
import {
  accepted,
  digestOf,
  type Expectation,
  type LedgerEntry,
  type Reading,
  rejected,
} from "./ledger.ts";
import { REJECT_BOUND } from "./_checker_events.ts";
import { replayDevice } from "./_checker_fold.ts";
import { RUN_MONITORING } from "./monitoring.ts";

const TOPIC = "chaos_test";
const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const ID_KEY = "0123456789abcdef";
const enc = new TextEncoder();

/** What the consumer stores of a refused value: whole, or its first bytes past the bound. */
function kept(value: string): Pick<StoredReject, "digest" | "bytes" | "stored"> {
  const bytes = enc.encode(value);
  const head = bytes.subarray(0, REJECT_BOUND);
  return {
    digest: digestOf(bytes),
    bytes: bytes.byteLength,
    stored: { bytes: head.byteLength, digest: digestOf(head) },
  };
}

function reading(n: number, overrides: Partial<Reading> = {}): Reading {
  return {
    ID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    ID_DISPOSITIVO: `dev-${n}`,
    TIMESTAMP: new Date(Date.UTC(2026, 10, 26, 10, 0, n)).toISOString(),
    TEMPERATURA: 20 + n,
    UMIDADE: 50,
    LATITUDE: -23.5,
    LONGITUDE: -46.6,
    STATUS: "OK",
    BATERIA: 80,
    ...overrides,
  };
}

interface Planned {
  partition: number;
  value: string;
  expect: Expectation;
  cls?: string;
}

/**
 * A run as a correct pipeline leaves it: every message in the log, rows and rejects as the
 * contract says, offsets at the end, offsets moving forward. Tests then break one thing.
 */
type Scenario =
  & Omit<CheckInput, "rows" | "rejects" | "log" | "transitions" | "faults" | "exits" | "memory">
  & {
    planned: Planned[];
    rows: StoredRow[];
    rejects: StoredReject[];
    log: LogMessage[];
    transitions: OffsetTransition[];
    faults: FaultRecord[];
    exits: ExitRecord[];
    memory: MemorySeries[];
  };

/** Every record's timestamp in the scenarios: a minute after the readings. */
const RECORD_MS = Date.UTC(2026, 10, 26, 10, 1, 0);
const TOLERANCE_S = 300;

/** The state a correct consumer leaves for these rows (all carried by records at RECORD_MS). */
function devicesOf(rows: readonly StoredRow[]): StoredDevice[] {
  const notAhead = (r: StoredRow) => Date.parse(r.timestamp_ts) <= RECORD_MS + TOLERANCE_S * 1000;
  return [...Map.groupBy(rows, (r) => r.id_dispositivo)].map(([device, mine]) => {
    const latest = mine.filter(notAhead).sort((a, b) =>
      a.timestamp_ts === b.timestamp_ts
        ? (a.id < b.id ? 1 : -1)
        : (a.timestamp_ts < b.timestamp_ts ? 1 : -1)
    )[0];
    return stateOf(device, latest, mine.length);
  });
}

/**
 * The scenarios' monitoring settings: a low temperature limit, so that their readings (21-24 °C)
 * open alerts and the alert invariants have something to judge.
 */
const MONITORING = { ...RUN_MONITORING, temperatureMax: 21.5 };

/**
 * The monitoring a consumer folding these rows in their order leaves (by the checker's own replay:
 * these scenarios test the other invariants; `_checker_alerts_test.ts` tests the replay on
 * numbers worked out by hand).
 */
function monitoringOf(rows: readonly StoredRow[]): Monitoring {
  const ahead = (r: StoredRow) => Date.parse(r.timestamp_ts) > RECORD_MS + TOLERANCE_S * 1000;
  const out = {
    folds: [] as StoredFold[],
    models: [] as StoredModel[],
    alerts: [] as StoredAlert[],
    settings: MONITORING,
  };
  for (const [device, mine] of Map.groupBy(rows, (r) => r.id_dispositivo)) {
    const aheadIds = new Set(mine.filter(ahead).map((r) => r.id));
    const { scores, model, episodes } = replayDevice(mine, (id) => aheadIds.has(id), MONITORING);
    mine.forEach((r, i) =>
      out.folds.push({ id: r.id, seq_dispositivo: i + 1, escore_anomalia: scores.get(r.id)! })
    );
    out.models.push({
      id_dispositivo: device,
      anomalia_n: model.n,
      temperatura_media: model.temperatura?.mean ?? null,
      temperatura_var: model.temperatura?.variance ?? null,
      umidade_media: model.umidade?.mean ?? null,
      umidade_var: model.umidade?.variance ?? null,
      temperatura_nivel: model.temperatura?.level ?? null,
      temperatura_base: model.temperatura?.baseline ?? null,
      temperatura_dispersao: model.temperatura?.spread ?? null,
      umidade_nivel: model.umidade?.level ?? null,
      umidade_base: model.umidade?.baseline ?? null,
      umidade_dispersao: model.umidade?.spread ?? null,
    });
    for (const e of episodes) {
      out.alerts.push({
        ...e,
        id: out.alerts.length + 1,
        id_dispositivo: device,
        qt_leituras_abertura: null,
      });
    }
  }
  return out;
}

function stateOf(device: string, latest: StoredRow | undefined, count: number): StoredDevice {
  return {
    id_dispositivo: device,
    id_evento: latest?.id ?? null,
    timestamp_ts: latest?.timestamp_ts ?? null,
    temperatura: latest?.temperatura ?? null,
    umidade: latest?.umidade ?? null,
    latitude: latest?.latitude ?? null,
    longitude: latest?.longitude ?? null,
    status: latest?.status ?? null,
    bateria: latest?.bateria ?? null,
    alerta: latest?.alerta ?? null,
    qt_leituras: count,
  };
}

function scenario(extra: Planned[] = []): Scenario {
  const a = reading(1);
  const b = reading(2);
  const { ID: _, ...legacy } = reading(3);
  const twin = { ...a, TEMPERATURA: 99 }; // same id, other values, same partition (conflict)
  const far = reading(4);
  const farTwin = { ...far, BATERIA: 5 }; // same id, another partition
  const planned: Planned[] = [
    { partition: 0, value: JSON.stringify(a), expect: accepted(a) },
    { partition: 1, value: JSON.stringify(b), expect: accepted(b) },
    {
      partition: 1,
      value: JSON.stringify(legacy),
      expect: accepted(reading(3), { id: undefined }),
    },
    { partition: 0, value: "not json", expect: rejected("not_json"), cls: "not-json" },
    { partition: 0, value: JSON.stringify(a), expect: accepted(a) }, // exact re-send
    { partition: 0, value: JSON.stringify(twin), expect: accepted(twin) },
    { partition: 2, value: JSON.stringify(far), expect: accepted(far) },
    { partition: 1, value: JSON.stringify(farTwin), expect: accepted(farTwin) },
    // Past the bound: stored as its first bytes with the whole one's length and hash.
    {
      partition: 4,
      value: "x".repeat(REJECT_BOUND + 10),
      expect: rejected("payload_too_large"),
      cls: "far-over-size-limit",
    },
    ...extra,
  ];
  const next: Record<number, number> = {};
  const ledger: LedgerEntry[] = [];
  const log: LogMessage[] = [];
  const rows = new Map<string, StoredRow>();
  const rejects: StoredReject[] = [];
  planned.forEach((p, seq) => {
    const digest = digestOf(enc.encode(p.value));
    ledger.push({
      seq,
      key: null,
      digest,
      size: p.value.length,
      class: p.cls ?? "reading",
      intent: "valid",
      expect: p.expect,
      sentAt: seq * 1000,
    });
    const offset = String(next[p.partition] ?? 0);
    next[p.partition] = Number(offset) + 1;
    log.push({ partition: p.partition, offset, seq, digest, timestampMs: RECORD_MS });
    if (p.expect.outcome === "rejected") {
      rejects.push({
        partition: p.partition,
        offset,
        codes: [...p.expect.codes],
        ...kept(p.value),
      });
      return;
    }
    const id = p.expect.row.id ?? derivedId(ID_KEY, TOPIC_ID, p.partition, offset);
    const stored = rows.get(id);
    if (stored === undefined) rows.set(id, { ...p.expect.row, id });
    else if (
      stored.temperatura !== p.expect.row.temperatura || stored.bateria !== p.expect.row.bateria
    ) {
      rejects.push({
        partition: p.partition,
        offset,
        codes: ["duplicate_id_conflict"],
        ...kept(p.value),
      });
    }
  });
  const end = Object.fromEntries(Object.entries(next).map(([p, o]) => [p, String(o)]));
  // Device state follows the rows as a test leaves them, unless the test sets it.
  let devices: StoredDevice[] | undefined;
  let monitoring: Monitoring | undefined;
  return {
    get devices(): StoredDevice[] {
      return devices ?? devicesOf(this.rows);
    },
    set devices(value: StoredDevice[]) {
      devices = value;
    },
    get monitoring(): Monitoring {
      return monitoring ?? monitoringOf(this.rows);
    },
    set monitoring(value: Monitoring) {
      monitoring = value;
    },
    deviceFutureToleranceS: TOLERANCE_S,
    planned,
    topic: TOPIC,
    topicIds: [TOPIC_ID],
    idKey: ID_KEY,
    ledger,
    acked: new Set(ledger.map((e) => e.seq)),
    log,
    rows: [...rows.values()],
    rejects,
    storedOffsets: { ...end },
    storedTopicIds: Object.fromEntries(Object.keys(end).map((p) => [p, TOPIC_ID])),
    endOffsets: end,
    transitions: [
      {
        partition: 0,
        from: "0",
        to: "3",
        atMs: 100,
        writer: "chaos-c1.1",
        fromTopicId: TOPIC_ID,
        toTopicId: TOPIC_ID,
      },
      {
        partition: 0,
        from: "3",
        to: "4",
        atMs: 200,
        writer: "chaos-c2.1",
        fromTopicId: TOPIC_ID,
        toTopicId: TOPIC_ID,
      },
    ],
    faults: [{
      kind: "consumer-kill",
      target: "c1.1",
      startMs: 0,
      healMs: 1000,
      recoveredMs: 3000,
    }],
    exits: [{ member: "c1.1", atMs: 10, code: null, expected: true }],
    memory: [{
      member: "c2.1",
      samples: Array.from(
        { length: 40 },
        (_, i) => [i * 2000, 100e6 + (i % 3) * 1e6] as [number, number],
      ),
    }],
    drain: { ok: true, healedAtMs: 10_000, tookMs: 1000 },
    limits: {
      recoveryMs: 60_000,
      memoryMaxBytes: 512e6,
      memoryGrowthRatio: 1.5,
      crashLoopExits: 3,
      crashLoopWindowMs: 60_000,
    },
  };
}

function failed(result: CheckResult): Invariant[] {
  return result.verdicts.filter((v) => !v.ok).map((v) => v.invariant);
}

Deno.test("check() passes the history of a correct pipeline", () => {
  const result = check(scenario());
  assert.deepEqual(failed(result), [], JSON.stringify(result.violations, null, 1));
  assert.equal(result.figures.expectedRows, 4); // ids: a (with its re-send and twin), b, legacy, far
  // not json, same-partition twin, far twin, far over the size limit
  assert.equal(result.figures.expectedRejects, 4);
  assert.equal(result.figures.lost + result.figures.duplicated + result.figures.misRejected, 0);
});

Deno.test("derivedId() is the contract's id of an event without ID", () => {
  assert.equal(derivedId(ID_KEY, TOPIC_ID, 2, "10"), deriveEventId(ID_KEY, TOPIC_ID, 2, "10"));
  assert.equal(
    derivedId(ID_KEY, TOPIC_ID, 0, "9007199254740993"),
    deriveEventId(ID_KEY, TOPIC_ID, 0, "9007199254740993"),
  );
  assert.notEqual(
    derivedId("another key", TOPIC_ID, 2, "10"),
    derivedId(ID_KEY, TOPIC_ID, 2, "10"),
  );
});

Deno.test("check() fails each invariant on the history of the bug it guards against", async (t) => {
  const cases: [
    string,
    (s: ReturnType<typeof scenario>) => void,
    Invariant[],
    Partial<CheckResult["figures"]>?,
  ][] = [
    ["a row lost (commit before write)", (s) => s.rows.shift(), ["valid-stored-once"], { lost: 1 }],
    [
      "an invalid event swallowed",
      (s) => s.rejects.splice(s.rejects.findIndex((r) => r.codes[0] === "not_json"), 1),
      [
        "invalid-rejected-once",
      ],
      { lost: 1 },
    ],
    [
      "a conflicting duplicate ignored (no conflict check)",
      (s) => {
        s.rejects.splice(s.rejects.findIndex((r) => r.codes[0] === "duplicate_id_conflict"), 1);
      },
      ["invalid-rejected-once"],
      { lost: 1 },
    ],
    ["an offset moved back by a member that lost its partition (no fence)", (s) => {
      s.transitions.push({
        partition: 0,
        from: "4",
        to: "3",
        atMs: 300,
        writer: "chaos-c1.1",
        fromTopicId: TOPIC_ID,
        toTopicId: TOPIC_ID,
      });
    }, ["offsets-only-forward"]],
    [
      "a wrong alerta",
      (s) => {
        s.rows[0] = { ...s.rows[0], alerta: !s.rows[0].alerta };
      },
      ["values-correct"],
      { wrongValues: 1 },
    ],
    ["a timestamp not converted to UTC", (s) => {
      s.rows[1] = { ...s.rows[1], timestamp_ts: "2026-11-26T07:00:02.000000Z" };
    }, ["values-correct"]],
    [
      "a wrong reason code",
      (s) => {
        s.rejects[0] = { ...s.rejects[0], codes: ["not_utf8"] };
      },
      ["invalid-rejected-once"],
      { misRejected: 1 },
    ],
    [
      "a valid event rejected",
      (s) => {
        s.rejects.push({
          partition: 1,
          offset: "0",
          codes: ["database_refused"],
          ...kept(s.planned[1].value),
        });
      },
      ["no-valid-rejected"],
      { misRejected: 1 },
    ],
    [
      "a re-send rejected",
      (s) => {
        s.rejects.push({
          partition: 0,
          offset: "2",
          codes: ["duplicate_id_conflict"],
          ...kept(s.planned[4].value),
        });
      },
      ["no-valid-rejected"],
      { misRejected: 1 },
    ],
    [
      "an event stored twice under another id",
      (s) => {
        s.rows.push({ ...s.rows[1], id: "00000000-0000-4000-8000-999999999999" });
      },
      ["no-extra-rows"],
      { duplicated: 1 },
    ],
    ["a reject no message explains", (s) => {
      s.rejects.push({ partition: 5, offset: "0", codes: ["not_json"], ...kept("x") });
    }, ["no-extra-rows"]],
    ["payload bytes changed", (s) => {
      s.rejects[0] = { ...s.rejects[0], ...kept("not jsoN") };
    }, ["payload-kept"]],
    ["payload stored whole, with another hash recorded", (s) => {
      s.rejects[0] = { ...s.rejects[0], stored: kept("not jsoN").stored };
    }, ["payload-kept"]],
    ["payload cut below the bound", (s) => {
      s.rejects[0] = { ...s.rejects[0], stored: kept("not").stored };
    }, ["payload-kept"]],
    ["offsets short of the end", (s) => {
      s.storedOffsets = { ...s.storedOffsets, 1: "2" };
    }, ["offsets-at-end"]],
    ["an acknowledged event missing from Kafka", (s) => {
      s.log = s.log.filter((m) => m.seq !== 1);
      s.rows = s.rows.filter((r) =>
        r.id !== s.planned[1].expect.outcome && r.id_dispositivo !== "dev-2"
      );
    }, ["kafka-kept-acked"]],
    ["a message nobody sent", (s) => {
      s.log = [...s.log, { partition: 3, offset: "0", seq: undefined, digest: "y" }];
    }, ["log-matches-ledger"]],
    ["not drained", (s) => {
      s.drain = { ok: false, healedAtMs: 10_000, tookMs: 300_000 };
    }, ["drained"]],
    ["a fault never recovered from", (s) => {
      s.faults = [{ ...s.faults[0], recoveredMs: undefined }];
    }, ["recovered"]],
    ["a slow recovery", (s) => {
      s.faults = [{ ...s.faults[0], recoveredMs: 1000 + 60_001 }];
    }, ["recovered"]],
    ["a crash loop", (s) => {
      s.exits = [1, 2, 3].map((i) => ({
        member: `c1.${i}`,
        atMs: i * 5000,
        code: 1,
        expected: false,
      }));
    }, ["no-crash-loop"]],
    ["a crash after healing", (s) => {
      s.exits = [{ member: "c2.1", atMs: 11_000, code: 1, expected: false }];
    }, ["no-crash-loop"]],
    [
      "an extra reason on a reject (reasons match exactly, not as a subset)",
      (s) => {
        s.rejects[0] = { ...s.rejects[0], codes: [...s.rejects[0].codes, "invalid_type"] };
      },
      ["invalid-rejected-once"],
      { misRejected: 1 },
    ],
    ["an offset row created past the log's start (a claim that skips)", (s) => {
      s.transitions.unshift({
        partition: 1,
        from: null,
        to: "1",
        atMs: 50,
        writer: "chaos-c2.1",
        fromTopicId: null,
        toTopicId: TOPIC_ID,
      });
    }, ["offsets-only-forward"]],
    ["a check that saw nothing (no fault was recovered from, none declared absent)", (s) => {
      s.faults = [];
    }, ["recovered"]],
    ["memory above the bound", (s) => {
      s.limits = { ...s.limits, memoryMaxBytes: 100e6 };
    }, ["memory-stable"]],
    ["memory growing", (s) => {
      s.memory = [{
        member: "c2.1",
        samples: Array.from(
          { length: 80 },
          (_, i) => [i * 2000, 100e6 + i * 4e6] as [number, number],
        ),
      }];
    }, ["memory-stable"]],
  ];
  for (const [name, breakIt, invariants, figures] of cases) {
    await t.step(name, () => {
      const s = scenario();
      breakIt(s);
      const result = check(s);
      assert.deepEqual(failed(result), invariants, JSON.stringify(result.violations, null, 1));
      for (const [k, v] of Object.entries(figures ?? {})) {
        assert.equal(result.figures[k as keyof CheckResult["figures"]], v, k);
      }
    });
  }
});

Deno.test("check() lets either reading of an id win across partitions, but only one", async (t) => {
  await t.step("the other twin stored, the first rejected", () => {
    const s = scenario();
    const far = s.rows.find((r) => r.id_dispositivo === "dev-4")!;
    far.bateria = 5;
    far.alerta = true;
    s.rejects = s.rejects.filter((r) => r.partition !== 1);
    s.rejects.push({
      partition: 2,
      offset: "0",
      codes: ["duplicate_id_conflict"],
      ...kept(s.planned[6].value),
    });
    assert.deepEqual(failed(check(s)), []);
  });
  await t.step("both rejected", () => {
    const s = scenario();
    s.rejects.push({
      partition: 2,
      offset: "0",
      codes: ["duplicate_id_conflict"],
      ...kept(s.planned[6].value),
    });
    assert.deepEqual(failed(check(s)), ["no-valid-rejected"]);
  });
});

Deno.test("check() keeps the first reading of an id within a partition", () => {
  const s = scenario();
  const a = s.rows.find((r) => r.id_dispositivo === "dev-1")!;
  a.temperatura = 99; // the later twin won
  s.rejects = s.rejects.filter((r) => !(r.partition === 0 && r.offset === "3"));
  s.rejects.push({
    partition: 0,
    offset: "0",
    codes: ["duplicate_id_conflict"],
    ...kept(s.planned[0].value),
  });
  assert.deepEqual(failed(check(s)), [
    "values-correct",
    "invalid-rejected-once",
    "no-valid-rejected",
  ]);
});

Deno.test("check() keeps a partition's order for an id that is on two partitions (a topic grown)", () => {
  // `a` re-sent after the topic grew lands on partition 5: the id spans two partitions, yet on
  // partition 0 its twin (offset 3) still comes after `a` (offset 0) and cannot be the stored one.
  const s = scenario();
  const seq = s.ledger.length;
  const digest = digestOf(enc.encode(s.planned[0].value));
  s.ledger = [...s.ledger, { ...s.ledger[0], seq, digest, intent: "resend", of: 0 }];
  s.acked = new Set([...s.acked, seq]);
  s.log.push({ partition: 5, offset: "0", seq, digest });
  s.endOffsets = { ...s.endOffsets, 5: "1" };
  s.storedOffsets = { ...s.storedOffsets, 5: "1" };
  s.storedTopicIds = { ...s.storedTopicIds, 5: TOPIC_ID };
  assert.deepEqual(failed(check(s)), [], "a correct history still passes");
  const a = s.rows.find((r) => r.id_dispositivo === "dev-1")!;
  a.temperatura = 99; // partition 0 read out of order: the later twin won
  s.rejects = s.rejects.filter((r) => !(r.partition === 0 && r.offset === "3"));
  for (const [partition, offset] of [[0, "0"], [0, "2"], [5, "0"]] as const) {
    s.rejects.push({
      partition,
      offset,
      codes: ["duplicate_id_conflict"],
      ...kept(s.planned[0].value),
    });
  }
  assert.deepEqual(failed(check(s)), [
    "values-correct",
    "invalid-rejected-once",
    "no-valid-rejected",
  ]);
});

Deno.test("check() holds device state to the newest stored reading not ahead of its record", async (t) => {
  const dev1 = (n: number, at: string) =>
    reading(n, { ID_DISPOSITIVO: "dev-1", TIMESTAMP: `2026-11-26T${at}Z` });
  const later = dev1(5, "10:00:05");
  const late = dev1(6, "09:59:00"); // sent after, older: never the latest
  const ahead = dev1(7, "12:00:00"); // two hours past its record: counted, never the latest
  const history = () =>
    scenario([later, late, ahead].map((r) => ({
      partition: 0,
      value: JSON.stringify(r),
      expect: accepted(r),
    })));
  const rowOf = (s: Scenario, r: Reading) => s.rows.find((x) => x.id === r.ID)!;
  const withDev1 = (s: Scenario, latest: StoredRow, change: Partial<StoredDevice> = {}) => {
    s.devices = s.devices.map((d) =>
      d.id_dispositivo === "dev-1" ? { ...stateOf("dev-1", latest, d.qt_leituras), ...change } : d
    );
  };
  await t.step("the correct state passes", () => {
    const s = history();
    const result = check(s);
    assert.deepEqual(failed(result), [], JSON.stringify(result.violations, null, 1));
    const state = s.devices.find((d) => d.id_dispositivo === "dev-1")!;
    assert.deepEqual([state.id_evento, state.qt_leituras], [later.ID, 4]);
    assert.equal(result.verdicts.find((v) => v.invariant === "device-state")?.checked, 4);
  });
  const cases: [string, (s: Scenario) => void][] = [
    ["a stale latest (a late reading won)", (s) => withDev1(s, rowOf(s, late))],
    ["a reading ahead made latest", (s) => withDev1(s, rowOf(s, ahead))],
    ["a replay counted twice", (s) => withDev1(s, rowOf(s, later), { qt_leituras: 5 })],
    ["the latest's values wrong", (s) => withDev1(s, rowOf(s, later), { temperatura: 1 })],
    ["no latest although one is stored", (s) => withDev1(s, rowOf(s, later), { id_evento: null })],
    ["a device missing", (s) => s.devices = s.devices.filter((d) => d.id_dispositivo !== "dev-2")],
  ];
  for (const [name, breakIt] of cases) {
    await t.step(`${name} fails device-state alone`, () => {
      const s = history();
      breakIt(s);
      assert.deepEqual(failed(check(s)), ["device-state"]);
    });
  }
  await t.step("a record without a timestamp leaves its reading's rank open", () => {
    const s = history();
    const seq = s.ledger.findIndex((e) =>
      e.expect.outcome === "accepted" &&
      e.expect.row.id === ahead.ID
    );
    s.log = s.log.map((m) => (m.seq === seq ? { ...m, timestampMs: -1 } : m));
    withDev1(s, rowOf(s, ahead));
    assert.deepEqual(failed(check(s)), []);
    withDev1(s, rowOf(s, later));
    assert.deepEqual(failed(check(s)), []);
    withDev1(s, rowOf(s, late));
    assert.deepEqual(failed(check(s)), ["device-state"]);
  });
});

Deno.test("check() ignores a short life and warm-up when judging memory", () => {
  const s = scenario();
  s.memory = [{ member: "c1.1", samples: [[0, 50e6], [10_000, 200e6], [20_000, 300e6]] }];
  assert.deepEqual(failed(check(s)), []);
  s.memory = [{ member: "c1.1", samples: [[0, 600e6]] }];
  assert.deepEqual(failed(check(s)), ["memory-stable"]);
});

Deno.test("check() accepts a claim at the log's start and reports a declared empty check as n/a", () => {
  const s = scenario();
  s.transitions.unshift({
    partition: 1,
    from: null,
    to: "0",
    atMs: 50,
    writer: "chaos-c2.1",
    fromTopicId: null,
    toTopicId: TOPIC_ID,
  });
  s.faults = [];
  s.notApplicable = ["recovered"];
  const result = check(s);
  assert.deepEqual(failed(result), [], JSON.stringify(result.violations, null, 1));
  const recovered = result.verdicts.find((v) => v.invariant === "recovered")!;
  assert.deepEqual([recovered.ok, recovered.applicable, recovered.checked], [true, false, 0]);
});

Deno.test("check() judges memory growth on a one-minute life (short runs too)", () => {
  const s = scenario();
  s.memory = [{
    member: "c2.1",
    samples: Array.from({ length: 31 }, (_, i) => [i * 2000, 100e6 + i * 6e6] as [number, number]),
  }];
  assert.deepEqual(failed(check(s)), ["memory-stable"]);
});

const TOPIC_ID_2 = "9a0c3d52-5e1b-4f7a-b0c4-21d8e6f4a901";

/**
 * The base scenario after its topic was deleted and created again (generation 1) and partition 0
 * received four more messages there, as a correct consumer leaves it: the stored offset moved back
 * to the new log's start with the new topic ID, every new message stored or rejected. The new log
 * reuses offsets the old one had (a reject at 0/1 in both).
 */
function recreated() {
  const s = scenario();
  const oldEnd = { ...s.endOffsets };
  const { ID: _, ...legacy } = reading(12);
  const ledger = [...s.ledger];
  const acked = new Set(s.acked);
  const planned: Planned[] = [
    { partition: 0, value: JSON.stringify(reading(10)), expect: accepted(reading(10)) },
    { partition: 0, value: "{not json", expect: rejected("not_json"), cls: "not-json" },
    { partition: 0, value: JSON.stringify(reading(11)), expect: accepted(reading(11)) },
    {
      partition: 0,
      value: JSON.stringify(legacy),
      expect: accepted(reading(12), { id: undefined }),
    },
  ];
  planned.forEach((p, i) => {
    const seq = ledger.length;
    const digest = digestOf(enc.encode(p.value));
    ledger.push({
      seq,
      key: null,
      digest,
      size: p.value.length,
      class: p.cls ?? "reading",
      intent: "valid",
      expect: p.expect,
      sentAt: seq * 1000,
    });
    acked.add(seq);
    const offset = String(i);
    s.log.push({ partition: 0, offset, seq, digest, generation: 1 });
    if (p.expect.outcome === "rejected") {
      s.rejects.push({
        partition: 0,
        offset,
        codes: [...p.expect.codes],
        generation: 1,
        ...kept(p.value),
      });
    } else {
      const id = p.expect.row.id ?? derivedId(ID_KEY, TOPIC_ID_2, 0, offset);
      s.rows.push({ ...p.expect.row, id });
    }
  });
  s.ledger = ledger;
  s.acked = acked;
  s.topicIds = [TOPIC_ID, TOPIC_ID_2];
  s.earlierEnds = [oldEnd];
  s.endOffsets = { 0: "4" };
  s.storedOffsets = { ...s.storedOffsets, 0: "4" };
  s.storedTopicIds = { ...s.storedTopicIds, 0: TOPIC_ID_2 };
  s.transitions.push(
    move(0, "4", "0", TOPIC_ID, TOPIC_ID_2),
    move(0, "0", "4", TOPIC_ID_2, TOPIC_ID_2),
  );
  return s;
}

function move(partition: number, from: string, to: string, fromTopicId: string, toId: string) {
  return { partition, from, to, atMs: 400, writer: "chaos-c1.2", fromTopicId, toTopicId: toId };
}

Deno.test("check() passes a correct history across a re-created topic", () => {
  const s = recreated();
  const result = check(s);
  assert.deepEqual(failed(result), [], JSON.stringify(result.violations, null, 1));
  assert.equal(result.figures.expectedRows, 7);
  assert.equal(result.figures.expectedRejects, 5);
  const forward = result.verdicts.find((v) => v.invariant === "offsets-only-forward")!;
  assert.equal(forward.checked, 4);
});

Deno.test("check() fails the history of a consumer that kept the old offset on a re-created topic", async (t) => {
  await t.step("new log's messages below the old offset skipped", () => {
    // The old offset 4 stood; the new log's offsets 0-3 counted as stored already.
    const s = recreated();
    s.rows = s.rows.slice(0, -3);
    s.rejects = s.rejects.filter((r) => r.generation !== 1);
    s.storedTopicIds = { ...s.storedTopicIds, 0: TOPIC_ID };
    s.transitions = s.transitions.slice(0, -2);
    const result = check(s);
    assert.deepEqual(failed(result), [
      "valid-stored-once",
      "invalid-rejected-once",
      "offsets-at-end",
    ]);
    assert.equal(result.figures.lost, 4);
  });
  await t.step("new log's messages past the old offset stored under the old topic ID", () => {
    const s = recreated();
    s.log.push({ ...s.log.at(-1)!, offset: "4" }); // a re-send of the legacy event, past 4
    s.storedOffsets = { ...s.storedOffsets, 0: "5" };
    s.endOffsets = { 0: "5" };
    s.rows = s.rows.slice(0, -3);
    s.rejects = s.rejects.filter((r) => r.generation !== 1);
    s.rows.push({ ...s.rows[0], id: derivedId(ID_KEY, TOPIC_ID, 0, "4"), ...legacyRow() });
    s.storedTopicIds = { ...s.storedTopicIds, 0: TOPIC_ID };
    s.transitions = [...s.transitions.slice(0, -2), move(0, "4", "5", TOPIC_ID, TOPIC_ID)];
    const result = check(s);
    assert.deepEqual(failed(result), [
      "valid-stored-once",
      "invalid-rejected-once",
      "no-extra-rows",
      "offsets-at-end",
    ]);
  });
  await t.step("offset moved back without a new topic ID", () => {
    const s = recreated();
    s.transitions[s.transitions.length - 2] = move(0, "4", "0", TOPIC_ID, TOPIC_ID);
    assert.deepEqual(failed(check(s)), ["offsets-only-forward"]);
  });
  await t.step("moved back to the new topic twice", () => {
    const s = recreated();
    s.transitions.push(move(0, "4", "0", TOPIC_ID, TOPIC_ID_2));
    assert.deepEqual(failed(check(s)), ["offsets-only-forward"]);
  });
  await t.step("moved to the new topic past its start", () => {
    const s = recreated();
    s.transitions[s.transitions.length - 2] = move(0, "4", "2", TOPIC_ID, TOPIC_ID_2);
    assert.deepEqual(failed(check(s)), ["offsets-only-forward"]);
  });
  await t.step(
    "a reject of the new log stored as the old log's (same partition and offset)",
    () => {
      const s = recreated();
      s.rejects = s.rejects.filter((r) => r.generation !== 1);
      assert.deepEqual(failed(check(s)), ["invalid-rejected-once"]);
    },
  );
});

/** The values of the legacy reading of {@linkcode recreated}. */
function legacyRow() {
  const { id: _, ...row } = (accepted(reading(12), { id: undefined }) as { row: StoredRow }).row;
  return row;
}
