import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type AlertRule, DEFAULT_ALERT_RULE, deriveEventId, validateEvent } from "@iot/shared";
import { conflictReason, type KafkaRecord, planBatch, rejectOf, sameReading } from "./transform.ts";
import { SAMPLE_EVENT as EVENT } from "../testing/payloads.ts";

const NOW = Date.UTC(2026, 10, 27);
const TOPIC = { idKey: "secret", topicId: "5bdfec01-1a90-4b30-8c2f-7fe3937582ee" };
const PARTITION = 2;
const encoder = new TextEncoder();
const BOUND = 65536;
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

const LEGACY = Object.freeze({
  device_id: "sensor-0002",
  timestamp: "2026-11-26T10:15:31Z",
  temperature: 21.5,
  humidity: 60,
  latitude: -15.79,
  longitude: -47.88,
  status: "OK",
  battery: 99,
});

function record(offset: number, value: unknown, key: string | null = "sensor-0001"): KafkaRecord {
  return {
    offset: String(offset),
    key: key === null ? null : encoder.encode(key),
    value: value === null
      ? null
      : value instanceof Uint8Array
      ? value
      : encoder.encode(typeof value === "string" ? value : JSON.stringify(value)),
    timestampMs: NOW,
  };
}

/** DEVICE_FUTURE_TOLERANCE_S of the tests. */
const TOLERANCE_S = 300;

function plan(records: KafkaRecord[], rule: AlertRule = DEFAULT_ALERT_RULE) {
  return planBatch(TOPIC, PARTITION, records, rule, NOW, BOUND, TOLERANCE_S);
}

Deno.test("planBatch() maps a valid event to its row", () => {
  const r = record(10, EVENT);
  const { rows, rejects, duplicates } = plan([r]);
  assert.deepEqual(rejects, []);
  assert.equal(duplicates, 0);
  assert.deepEqual(rows, [{
    offset: "10",
    record: r,
    row: {
      id: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
      id_dispositivo: "sensor-0001",
      timestamp: "2026-11-26T10:15:30-03:00",
      timestamp_ts: "2026-11-26T13:15:30.000000Z",
      temperatura: 36.2,
      umidade: 55,
      latitude: -23.55,
      longitude: -46.63,
      status: "WARN",
      bateria: 80,
      alerta: true,
      ahead: false,
    },
  }]);
});

Deno.test("planBatch() splits valid and invalid messages, keeping offset order", () => {
  const records = [
    record(0, EVENT),
    record(1, "not json"),
    record(2, LEGACY, "sensor-0002"),
    record(3, { ...EVENT, ID: "1b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d", UMIDADE: 140 }),
    record(4, { ...EVENT, ID: "2b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d" }),
  ];
  const { rows, rejects, duplicates } = plan(records);
  assert.deepEqual(rows.map((r) => r.offset), ["0", "2", "4"]);
  assert.deepEqual(rejects.map((r) => r.offset), ["1", "3"]);
  assert.equal(duplicates, 0);
  assert.deepEqual(rejects[0].reasons.map((r) => r.code), ["not_json"]);
  assert.deepEqual(rejects[1].reasons, [{
    field: "UMIDADE",
    code: "out_of_range",
    message: "UMIDADE must be between 0 and 100 %: got 140",
  }]);
  // Rejects carry exactly what validateEvent() says.
  const verdict = validateEvent(records[3].value, NOW);
  assert.ok(!verdict.ok);
  assert.deepEqual(rejects[1].reasons, verdict.reasons);
});

Deno.test("planBatch() derives the id of an event without ID from the topic ID, partition and offset", () => {
  const { rows } = plan([record(41, LEGACY), record(42, LEGACY)]);
  assert.equal(rows[0].row.id, deriveEventId(TOPIC.idKey, TOPIC.topicId, PARTITION, "41"));
  assert.equal(rows[1].row.id, deriveEventId(TOPIC.idKey, TOPIC.topicId, PARTITION, "42"));
  // The same reading at two offsets is two messages, hence two rows, not a duplicate.
  assert.notEqual(rows[0].row.id, rows[1].row.id);
  // The same offset on another partition or topic (or the topic re-created) is another message.
  assert.notEqual(
    planBatch(TOPIC, 3, [record(41, LEGACY)], DEFAULT_ALERT_RULE, NOW, BOUND, TOLERANCE_S).rows[0]
      .row.id,
    rows[0].row.id,
  );
  assert.notEqual(
    planBatch(
      { ...TOPIC, topicId: "f5a04b6c-0ba6-4e82-b31d-045c33d45347" },
      PARTITION,
      [
        record(41, LEGACY),
      ],
      DEFAULT_ALERT_RULE,
      NOW,
      BOUND,
      TOLERANCE_S,
    ).rows[0].row.id,
    rows[0].row.id,
  );
  // Another derivation key (another database) derives other ids.
  assert.notEqual(
    planBatch(
      { ...TOPIC, idKey: "other" },
      PARTITION,
      [record(41, LEGACY)],
      DEFAULT_ALERT_RULE,
      NOW,
      BOUND,
      TOLERANCE_S,
    )
      .rows[0].row.id,
    rows[0].row.id,
  );
  // A redelivery of the same message gets the same id, so it can never make a second row.
  assert.equal(plan([record(41, LEGACY)]).rows[0].row.id, rows[0].row.id);
  // 64-bit offsets are kept as text.
  assert.equal(
    plan([record(0, LEGACY)]).rows[0].row.id,
    deriveEventId(TOPIC.idKey, TOPIC.topicId, PARTITION, "0"),
  );
  const big = {
    offset: "9223372036854775806",
    key: null,
    value: encoder.encode(JSON.stringify(LEGACY)),
    timestampMs: NOW,
  };
  assert.equal(
    plan([big]).rows[0].row.id,
    deriveEventId(TOPIC.idKey, TOPIC.topicId, PARTITION, "9223372036854775806"),
  );
});

Deno.test("planBatch() drops exact re-sends of an event within the batch and counts them", () => {
  const { rows, rejects, duplicates } = plan([
    record(0, EVENT),
    record(1, EVENT),
    record(2, { ...EVENT, ID: EVENT.ID.toUpperCase() }), // same id once normalized
    record(3, JSON.stringify(EVENT, null, 2)), // same reading, other whitespace
  ]);
  assert.deepEqual(rows.map((r) => r.offset), ["0"]);
  assert.deepEqual(rejects, []);
  assert.equal(duplicates, 3);
});

Deno.test("planBatch() refuses a different reading that reuses an id with duplicate_id_conflict, first one wins", () => {
  const second = record(1, { ...EVENT, TEMPERATURA: 20 });
  const { rows, rejects, duplicates } = plan([record(0, EVENT), second, record(2, EVENT)]);
  assert.deepEqual(rows.map((r) => [r.offset, r.row.temperatura]), [["0", 36.2]]);
  assert.equal(duplicates, 1, "the later exact copy of the first is still a duplicate");
  assert.deepEqual(rejects, [{
    offset: "1",
    key: second.key,
    keyBytes: second.key!.byteLength,
    keySha256: sha256(second.key!),
    payload: second.value,
    payloadBytes: second.value!.byteLength,
    payloadSha256: sha256(second.value!),
    reasons: [{
      field: "ID",
      code: "duplicate_id_conflict",
      message: `ID ${EVENT.ID} was already stored with different values; the first reading is kept`,
    }],
  }]);
});

Deno.test("planBatch() compares every sent field to tell a re-send from a conflict", async (t) => {
  const changes: [string, unknown][] = [
    ["ID_DISPOSITIVO", "sensor-0009"],
    ["TIMESTAMP", "2026-11-26T10:15:31-03:00"],
    ["TEMPERATURA", 36.3],
    ["UMIDADE", 56],
    ["LATITUDE", -23.56],
    ["LONGITUDE", -46.64],
    ["STATUS", "ERROR"],
    ["BATERIA", 79],
  ];
  for (const [key, value] of changes) {
    await t.step(key, () => {
      const { rows, rejects, duplicates } = plan([
        record(0, EVENT),
        record(1, { ...EVENT, [key]: value }),
      ]);
      assert.equal(rows.length, 1);
      assert.equal(duplicates, 0);
      assert.deepEqual(rejects.map((r) => r.reasons[0].code), ["duplicate_id_conflict"]);
    });
  }
  await t.step("the same reading spelled with aliases is a re-send", () => {
    const { ID_DISPOSITIVO: _d, TEMPERATURA: _t, ...rest } = EVENT;
    const aliased = { ...rest, device_id: EVENT.ID_DISPOSITIVO, temperature: EVENT.TEMPERATURA };
    const { rows, duplicates, rejects } = plan([record(0, EVENT), record(1, aliased)]);
    assert.equal(rows.length, 1);
    assert.equal(duplicates, 1);
    assert.deepEqual(rejects, []);
  });
  await t.step("unknown extra keys do not make a conflict", () => {
    const { duplicates, rejects } = plan([
      record(0, EVENT),
      record(1, { ...EVENT, firmware: "2.0" }),
    ]);
    assert.equal(duplicates, 1);
    assert.deepEqual(rejects, []);
  });
});

Deno.test("planBatch() keeps the raw bytes and key of every reject", async (t) => {
  await t.step("invalid UTF-8", () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const { rejects } = plan([record(5, bytes, "k")]);
    assert.deepEqual(rejects, [{
      offset: "5",
      key: encoder.encode("k"),
      keyBytes: 1,
      keySha256: sha256(encoder.encode("k")),
      payload: bytes,
      payloadBytes: 6,
      payloadSha256: sha256(bytes),
      reasons: [{ field: "payload", code: "not_utf8", message: "payload is not valid UTF-8 text" }],
    }]);
    assert.equal(rejects[0].payload.buffer, bytes.buffer, "the very bytes received, no copy");
  });
  await t.step("a tombstone (null value) becomes an empty payload", () => {
    const { rejects } = plan([record(6, null, null)]);
    assert.deepEqual(rejects, [{
      offset: "6",
      key: null,
      keyBytes: null,
      keySha256: null,
      payload: new Uint8Array(),
      payloadBytes: 0,
      payloadSha256: sha256(new Uint8Array()),
      reasons: [{
        field: "payload",
        code: "payload_empty",
        message: "payload is empty (a JSON object was expected)",
      }],
    }]);
  });
  await t.step("text that is valid UTF-8 but not JSON keeps its exact bytes", () => {
    const bytes = encoder.encode("temperatura=36,2 °C\u0000");
    const { rejects } = plan([record(7, bytes)]);
    assert.deepEqual(rejects[0].payload, bytes);
  });
});

Deno.test("planBatch() stores a value or key longer than the bound as its first bytes, with the whole one's length and SHA-256", async (t) => {
  // Kafka's default max.message.bytes: the largest junk a default topic lets through.
  const junk = new Uint8Array(1024 * 1024).map((_, i) => (i * 7919) % 251);
  const longKey = new Uint8Array(BOUND + 1).fill(0x6b);
  await t.step("a 1 MiB value and a key one byte over the bound", () => {
    const [reject] = plan([{ offset: "3", key: longKey, value: junk, timestampMs: NOW }]).rejects;
    assert.deepEqual(reject.reasons.map((r) => r.code), ["payload_too_large"]);
    assert.equal(reject.payload.byteLength, BOUND);
    assert.deepEqual(reject.payload, junk.subarray(0, BOUND), "the first bytes, as received");
    assert.equal(reject.payloadBytes, junk.byteLength);
    assert.deepEqual(reject.payloadSha256, sha256(junk), "the hash of the whole value");
    assert.deepEqual(reject.key, longKey.subarray(0, BOUND));
    assert.equal(reject.keyBytes, BOUND + 1);
    assert.deepEqual(reject.keySha256, sha256(longKey));
  });
  await t.step("exactly at the bound: stored whole", () => {
    const value = junk.subarray(0, BOUND);
    const key = longKey.subarray(0, BOUND);
    const [reject] = plan([{ offset: "4", key, value, timestampMs: NOW }]).rejects;
    assert.deepEqual([reject.payload, reject.payloadBytes], [value, BOUND]);
    assert.deepEqual([reject.key, reject.keyBytes], [key, BOUND]);
  });
  await t.step("the bound given is the one used, for conflicts too", () => {
    const padded = { ...EVENT, PAD: "x".repeat(2000) }; // valid: unknown fields are ignored
    const [reject] = planBatch(
      TOPIC,
      PARTITION,
      [
        record(0, padded),
        record(1, {
          ...padded,
          TEMPERATURA: 1,
        }),
      ],
      DEFAULT_ALERT_RULE,
      NOW,
      1024,
      TOLERANCE_S,
    ).rejects;
    assert.equal(reject.reasons[0].code, "duplicate_id_conflict");
    assert.equal(reject.payload.byteLength, 1024);
    assert.ok(reject.payloadBytes > 1024);
  });
});

Deno.test("planBatch() computes alerta with the rule it is given", () => {
  const records = [
    record(0, { ...EVENT, TEMPERATURA: 30, BATERIA: 50 }),
    record(1, {
      ...EVENT,
      ID: "1b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
      TEMPERATURA: 35,
      BATERIA: 15,
    }),
    record(2, {
      ...EVENT,
      ID: "2b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
      TEMPERATURA: 35.01,
      BATERIA: 50,
    }),
  ];
  assert.deepEqual(plan(records).rows.map((r) => r.row.alerta), [false, false, true]);
  const strict: AlertRule = { temperatureMax: 25, batteryMin: 60 };
  assert.deepEqual(plan(records, strict).rows.map((r) => r.row.alerta), [true, true, true]);
  const never: AlertRule = { temperatureMax: 100, batteryMin: 0 };
  assert.deepEqual(plan(records, never).rows.map((r) => r.row.alerta), [false, false, false]);
});

Deno.test("planBatch() of an empty batch plans nothing", () => {
  assert.deepEqual(plan([]), { rows: [], rejects: [], duplicates: 0, rejectMaxStoredBytes: BOUND });
});

Deno.test("rejectOf(), conflictReason() and sameReading() build what planBatch() uses", () => {
  const r = record(9, null, null);
  assert.deepEqual(rejectOf(r, [conflictReason("abc")], BOUND), {
    offset: "9",
    key: null,
    keyBytes: null,
    keySha256: null,
    payload: new Uint8Array(),
    payloadBytes: 0,
    payloadSha256: sha256(new Uint8Array()),
    reasons: [{
      field: "ID",
      code: "duplicate_id_conflict",
      message: "ID abc was already stored with different values; the first reading is kept",
    }],
  });
  const [a] = plan([record(0, EVENT)]).rows;
  assert.equal(sameReading(a.row, { ...a.row }), true);
  assert.equal(
    sameReading(a.row, { ...a.row, alerta: !a.row.alerta }),
    true,
    "derived columns aside",
  );
  assert.equal(sameReading(a.row, { ...a.row, bateria: 1 }), false);
});

Deno.test("planBatch() keeps later different readings of an id as the row's rivals, copies as their twins", () => {
  const other = { ...EVENT, TEMPERATURA: 20 };
  const { rows, rejects } = plan([
    record(0, EVENT),
    record(1, other),
    record(2, { ...EVENT, TEMPERATURA: 21 }),
    record(3, other),
  ]);
  assert.deepEqual(rows.map((r) => r.offset), ["0"]);
  assert.deepEqual(rejects.map((r) => r.offset), ["1", "2", "3"], "all still rejected here");
  const rivals = rows[0].rivals ?? [];
  assert.deepEqual(rivals.map((r) => [r.offset, r.row.temperatura]), [["1", 20], ["2", 21]]);
  assert.deepEqual(rivals[0].twins?.map((t) => t.offset), ["3"]);
  assert.equal(rivals[1].twins, undefined);
});

Deno.test("planBatch() bounds a reading's timestamp by its Kafka record's timestamp, not the consumer's clock", async (t) => {
  const hour = 60 * 60 * 1000;
  const at = (offset: number, eventMs: number, recordMs: number): KafkaRecord => ({
    ...record(offset, { ...EVENT, TIMESTAMP: new Date(eventMs).toISOString() }),
    timestampMs: recordMs,
  });
  const verdicts = (records: KafkaRecord[], clockMs: number) =>
    planBatch(TOPIC, PARTITION, records, DEFAULT_ALERT_RULE, clockMs, BOUND, TOLERANCE_S).rejects
      .map((r) => [r.offset, r.reasons.map((x) => x.code)]);
  await t.step(
    "a consumer whose clock is 2 h behind accepts a reading 23 h ahead of its record",
    () => {
      assert.deepEqual(verdicts([at(1, NOW + 23 * hour, NOW)], NOW - 2 * hour), []);
    },
  );
  await t.step(
    "read again two days later, a reading 25 h ahead of its record is still refused",
    () => {
      assert.deepEqual(verdicts([at(2, NOW + 25 * hour, NOW)], NOW + 48 * hour), [
        ["2", ["out_of_range"]],
      ]);
    },
  );
  await t.step("the same verdicts whatever the consumer's clock", () => {
    const batch = [at(3, NOW + 23 * hour, NOW), at(4, NOW + 25 * hour, NOW)];
    const expected = [["4", ["out_of_range"]]];
    for (const skew of [-72, -2, 0, 2, 72]) {
      assert.deepEqual(verdicts(batch, NOW + skew * hour), expected, `clock ${skew} h off`);
    }
  });
  await t.step("a record without a timestamp (older formats: -1) counts from the clock", () => {
    assert.deepEqual(verdicts([at(5, NOW + 23 * hour, -1)], NOW - 2 * hour), [
      ["5", ["out_of_range"]],
    ]);
    assert.deepEqual(verdicts([at(6, NOW + 23 * hour, -1)], NOW), []);
  });
});

Deno.test("planBatch() marks a row ahead past its record's timestamp plus the tolerance", () => {
  const at = (offset: number, eventMs: number, recordMs: number): KafkaRecord => ({
    ...record(offset, { ...EVENT, ID: undefined, TIMESTAMP: new Date(eventMs).toISOString() }),
    timestampMs: recordMs,
  });
  const record0 = NOW - 3_600_000;
  const ahead = (records: KafkaRecord[], clockMs = NOW) =>
    planBatch(TOPIC, PARTITION, records, DEFAULT_ALERT_RULE, clockMs, BOUND, TOLERANCE_S).rows
      .map((r) => [r.offset, r.row.ahead]);
  assert.deepEqual(
    ahead([
      at(0, record0 + TOLERANCE_S * 1000, record0),
      at(1, record0 + TOLERANCE_S * 1000 + 1, record0),
      at(2, record0 - 60_000, record0),
    ]),
    [["0", false], ["1", true], ["2", false]],
  );
  // The consumer's clock does not matter; only a record without a timestamp falls back to it.
  assert.deepEqual(ahead([at(0, record0 + 600_000, record0)], record0 + 3_600_000), [["0", true]]);
  assert.deepEqual(ahead([at(0, record0 + 600_000, -1)], record0 + 3_600_000), [["0", false]]);
});
