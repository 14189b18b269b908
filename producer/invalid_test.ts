import assert from "node:assert/strict";
import { base, en, Faker } from "@faker-js/faker";
import { validateEvent } from "@iot/shared";
import { canonicalOf, Fleet } from "./fleet.ts";
import { breakEvent, brokenValue, INVALID_KINDS, type InvalidKind } from "./invalid.ts";

const NOW = Date.UTC(2026, 10, 27);

const VALID: Readonly<Record<string, unknown>> = Object.freeze({
  ID: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
  ID_DISPOSITIVO: "sensor-0001-abc123",
  TIMESTAMP: "2026-11-26T10:15:30.000Z",
  TEMPERATURA: 36.2,
  UMIDADE: 55,
  LATITUDE: -23.55,
  LONGITUDE: -46.63,
  STATUS: "WARN",
  BATERIA: 80,
});

/** The field each kind breaks (`payload` for the message as a whole). */
const FIELD_OF: Record<InvalidKind, string> = {
  not_json: "payload",
  truncated_json: "payload",
  empty: "payload",
  array: "payload",
  missing_temperature: "TEMPERATURA",
  temperature_as_string: "TEMPERATURA",
  humidity_out_of_range: "UMIDADE",
  latitude_out_of_range: "LATITUDE",
  status_lowercase: "STATUS",
  timestamp_garbage: "TIMESTAMP",
  timestamp_impossible_date: "TIMESTAMP",
  epoch_seconds: "TIMESTAMP",
  device_id_with_quote: "ID_DISPOSITIVO",
};

const KINDS = Object.keys(INVALID_KINDS) as InvalidKind[];

Deno.test("the valid payload used here is accepted", () => {
  assert.equal(validateEvent(JSON.stringify(VALID), NOW).ok, true);
});

Deno.test("brokenValue() of every kind is refused with exactly the code INVALID_KINDS promises", async (t) => {
  assert.deepEqual(Object.keys(FIELD_OF).sort(), [...KINDS].sort(), "every kind is covered");
  for (const kind of KINDS) {
    await t.step(`${kind} -> ${INVALID_KINDS[kind]}`, () => {
      const value = brokenValue(kind, VALID);
      const result = validateEvent(value, NOW);
      if (result.ok) assert.fail(`${kind} was accepted: ${value}`);
      assert.deepEqual(
        result.reasons.map((r) => [r.field, r.code]),
        [[FIELD_OF[kind], INVALID_KINDS[kind]]],
        JSON.stringify(result.reasons),
      );
      // The consumer receives the UTF-8 bytes of the text: same verdict.
      const asBytes = validateEvent(new TextEncoder().encode(value), NOW);
      assert.deepEqual(asBytes, result);
    });
  }
});

Deno.test("brokenValue() breaks only the named field and leaves the rest of the reading intact", async (t) => {
  const parsed = (kind: InvalidKind) =>
    JSON.parse(brokenValue(kind, VALID)) as Record<string, unknown>;
  await t.step("temperature_as_string", () => {
    assert.deepEqual(parsed("temperature_as_string"), { ...VALID, TEMPERATURA: "36.2" });
  });
  await t.step("missing_temperature", () => {
    const { TEMPERATURA: _gone, ...rest } = VALID;
    assert.deepEqual(parsed("missing_temperature"), rest);
  });
  await t.step("status_lowercase", () => {
    assert.deepEqual(parsed("status_lowercase"), { ...VALID, STATUS: "warn" });
  });
  await t.step("array", () => assert.deepEqual(JSON.parse(brokenValue("array", VALID)), [VALID]));
  await t.step("empty", () => assert.equal(brokenValue("empty", VALID), ""));
  await t.step("truncated_json is a prefix of the valid JSON", () => {
    const json = JSON.stringify(VALID);
    const truncated = brokenValue("truncated_json", VALID);
    assert.ok(json.startsWith(truncated) && truncated.length > 0 && truncated.length < json.length);
  });
  await t.step("the input is not modified", () => {
    for (const kind of KINDS) brokenValue(kind, VALID);
    assert.equal(JSON.stringify(VALID), JSON.stringify({ ...VALID }));
  });
});

Deno.test("brokenValue() breaks real fleet readings, canonical and legacy, the same way", () => {
  const fleet = new Fleet(50, 42);
  let legacy = 0;
  for (let i = 0; i < 200; i++) {
    const nowMs = NOW - 60_000 + i;
    const reading = fleet.nextReading(nowMs);
    const canonical = canonicalOf(reading.payload);
    if (!("ID" in canonical)) legacy++;
    for (const kind of KINDS) {
      const result = validateEvent(brokenValue(kind, canonical), nowMs);
      assert.ok(!result.ok, `${kind} accepted for ${reading.key}`);
      assert.deepEqual(result.reasons.map((r) => r.code), [INVALID_KINDS[kind]], kind);
    }
  }
  assert.ok(legacy > 0, "legacy readings were broken too");
});

Deno.test("breakEvent() is seeded and picks every kind over many draws", () => {
  const draw = (seed: number) => {
    const faker = new Faker({ locale: [en, base], seed });
    return Array.from({ length: 500 }, () => breakEvent({ ...VALID }, faker));
  };
  const a = draw(5);
  assert.deepEqual(a, draw(5));
  assert.notDeepEqual(a.map((e) => e.kind), draw(6).map((e) => e.kind));
  assert.deepEqual(new Set(a.map((e) => e.kind)), new Set(KINDS));
  for (const event of a) assert.equal(event.value, brokenValue(event.kind, VALID));
});
