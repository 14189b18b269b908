import assert from "node:assert/strict";
// A standard JSON Schema validator (test-only, so not in the import map).
import { Ajv2020 } from "ajv/dist/2020.js";
import {
  DEVICE_ID_PATTERN,
  FIELDS,
  MAX_KEYS,
  sensorEventJsonSchema,
  STATUSES,
  UUID_PATTERN,
} from "./event.ts";
import { validateEvent } from "./validate.ts";
import { SAMPLE_EVENT } from "../testing/payloads.ts";

const CANONICAL: Readonly<Record<string, unknown>> = SAMPLE_EVENT;

/** The Kafka record timestamp the future bound counts from: 2026-11-27T00:00:00Z. */
const NOW = Date.UTC(2026, 10, 27);

function compileSchema() {
  const warnings: unknown[] = [];
  const ajv = new Ajv2020({
    strict: true,
    allErrors: true,
    logger: {
      log: () => {},
      warn: (...args: unknown[]) => warnings.push(args),
      error: (...args: unknown[]) => warnings.push(args),
    },
  });
  const check = ajv.compile(sensorEventJsonSchema());
  return { check, warnings };
}

const { check } = compileSchema();

function withField(key: string, value: unknown): Record<string, unknown> {
  return { ...CANONICAL, [key]: value };
}

function without(key: string): Record<string, unknown> {
  const copy = { ...CANONICAL };
  delete copy[key];
  return copy;
}

function manyKeys(count: number): Record<string, unknown> {
  const payload: Record<string, unknown> = { ...CANONICAL };
  for (let i = 0; Object.keys(payload).length < count; i++) payload[`x${i}`] = i;
  return payload;
}

/**
 * Canonical payloads on which the schema and the validator must agree: everything JSON Schema can
 * say (types, ranges, required keys, the enum, patterns, key count).
 */
const VALID: [string, Record<string, unknown>][] = [
  ["canonical", { ...CANONICAL }],
  ["without ID", without("ID")],
  ["upper-case ID", withField("ID", "0B6F3A52-3F5E-4C8E-9D6A-2F1E0C9B8A7D")],
  ["timestamp Z", withField("TIMESTAMP", "2026-11-26T10:15:30Z")],
  ["timestamp lowercase", withField("TIMESTAMP", "2026-11-26t10:15:30z")],
  ["timestamp with space", withField("TIMESTAMP", "2026-11-26 10:15:30+05:45")],
  ["timestamp without zone", withField("TIMESTAMP", "2026-11-26T10:15:30")],
  ["timestamp with 9 digits", withField("TIMESTAMP", "2026-11-26T10:15:30.123456789Z")],
  ["timestamp epoch ms", withField("TIMESTAMP", Date.UTC(2026, 10, 26))],
  ["timestamp 2000-01-01 in ms", withField("TIMESTAMP", Date.UTC(2000, 0, 1))],
  ["leap second", withField("TIMESTAMP", "2016-12-31T23:59:60Z")],
  ["coldest", withField("TEMPERATURA", -50)],
  ["hottest", withField("TEMPERATURA", 100)],
  ["dry", withField("UMIDADE", 0)],
  ["wet", withField("UMIDADE", 100)],
  ["south pole", withField("LATITUDE", -90)],
  ["north pole", withField("LATITUDE", 90)],
  ["antimeridian west", withField("LONGITUDE", -180)],
  ["antimeridian east", withField("LONGITUDE", 180)],
  ["empty battery", withField("BATERIA", 0)],
  ["full battery", withField("BATERIA", 100)],
  ["integer values", { ...CANONICAL, TEMPERATURA: 20, UMIDADE: 50, LATITUDE: 0, LONGITUDE: 0 }],
  ["status OK", withField("STATUS", "OK")],
  ["status ERROR", withField("STATUS", "ERROR")],
  ["Cyrillic device", withField("ID_DISPOSITIVO", "датчик-7")],
  ["Chinese device", withField("ID_DISPOSITIVO", "温度计_3")],
  ["device of 64 characters", withField("ID_DISPOSITIVO", "a".repeat(64))],
  ["device of 64 astral characters", withField("ID_DISPOSITIVO", "𝒜".repeat(64))],
  ["device with . _ : / -", withField("ID_DISPOSITIVO", "site.a_b:c/d-e")],
  ["unknown key", { ...CANONICAL, firmware: "1.2.3" }],
  [`${MAX_KEYS} keys`, manyKeys(MAX_KEYS)],
];

const INVALID: [string, Record<string, unknown>][] = [
  ...FIELDS.filter((f) => f.required).map((f): [string, Record<string, unknown>] => [
    `missing ${f.key}`,
    without(f.key),
  ]),
  ["ID not a UUID", withField("ID", "not-a-uuid")],
  ["ID without hyphens", withField("ID", "0b6f3a523f5e4c8e9d6a2f1e0c9b8a7d")],
  ["ID number", withField("ID", 42)],
  ["ID null", withField("ID", null)],
  ["device with quote", withField("ID_DISPOSITIVO", "sensor'1")],
  ["device with space", withField("ID_DISPOSITIVO", "sensor 1")],
  ["device with control code", withField("ID_DISPOSITIVO", "sensor\u00071")],
  ["device with trailing newline", withField("ID_DISPOSITIVO", "sensor\n")],
  ["device of 65 characters", withField("ID_DISPOSITIVO", "a".repeat(65))],
  ["device empty", withField("ID_DISPOSITIVO", "")],
  ["device leading hyphen", withField("ID_DISPOSITIVO", "-a")],
  ["device number", withField("ID_DISPOSITIVO", 7)],
  ["timestamp garbage", withField("TIMESTAMP", "yesterday at noon")],
  ["timestamp date only", withField("TIMESTAMP", "2026-11-26")],
  ["timestamp 10 digits", withField("TIMESTAMP", "2026-11-26T10:15:30.1234567890Z")],
  ["timestamp numeric string", withField("TIMESTAMP", "1795688130123")],
  ["timestamp epoch seconds", withField("TIMESTAMP", 1795688130)],
  ["timestamp fractional ms", withField("TIMESTAMP", 1795688130123.5)],
  ["timestamp before 2000 in ms", withField("TIMESTAMP", Date.UTC(1999, 11, 31))],
  ["timestamp null", withField("TIMESTAMP", null)],
  ["timestamp boolean", withField("TIMESTAMP", true)],
  ["too cold", withField("TEMPERATURA", -50.01)],
  ["too hot", withField("TEMPERATURA", 100.01)],
  ["temperature string", withField("TEMPERATURA", "36.2")],
  ["temperature null", withField("TEMPERATURA", null)],
  ["humidity negative", withField("UMIDADE", -0.1)],
  ["humidity above 100", withField("UMIDADE", 140)],
  ["latitude -123.4", withField("LATITUDE", -123.4)],
  ["latitude 90.5", withField("LATITUDE", 90.5)],
  ["longitude 180.5", withField("LONGITUDE", 180.5)],
  ["longitude -181", withField("LONGITUDE", -181)],
  ["battery negative", withField("BATERIA", -1)],
  ["battery 101", withField("BATERIA", 101)],
  ["battery boolean", withField("BATERIA", true)],
  ["status lowercase", withField("STATUS", "ok")],
  ["status unknown", withField("STATUS", "ALERT")],
  ["status number", withField("STATUS", 0)],
  [`${MAX_KEYS + 1} keys`, manyKeys(MAX_KEYS + 1)],
];

Deno.test("sensorEventJsonSchema() compiles under Ajv's strict draft 2020-12 mode without warnings", () => {
  const { warnings } = compileSchema();
  assert.deepEqual(warnings, []);
  const schema = sensorEventJsonSchema();
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(schema.type, "object");
  // Plain JSON: survives a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
});

Deno.test("sensorEventJsonSchema() describes the canonical fields from the FIELDS table", () => {
  const schema = sensorEventJsonSchema() as {
    properties: Record<string, { description: string; pattern?: string; enum?: string[] }>;
    required: string[];
    maxProperties: number;
  };
  assert.deepEqual(Object.keys(schema.properties), FIELDS.map((f) => f.key));
  assert.deepEqual(schema.required, [
    "ID_DISPOSITIVO",
    "TIMESTAMP",
    "TEMPERATURA",
    "UMIDADE",
    "LATITUDE",
    "LONGITUDE",
    "STATUS",
    "BATERIA",
  ]);
  assert.equal(schema.maxProperties, MAX_KEYS);
  assert.equal(schema.properties.ID.pattern, UUID_PATTERN);
  assert.equal(schema.properties.ID_DISPOSITIVO.pattern, DEVICE_ID_PATTERN);
  assert.deepEqual(schema.properties.STATUS.enum, [...STATUSES]);
  for (const field of FIELDS) {
    assert.equal(schema.properties[field.key].description, field.description);
  }
});

Deno.test("sensorEventJsonSchema() accepts what validateEvent() accepts", async (t) => {
  for (const [name, payload] of VALID) {
    await t.step(name, () => {
      const verdict = validateEvent(JSON.stringify(payload), NOW);
      assert.ok(verdict.ok, `validator refused: ${JSON.stringify(!verdict.ok && verdict.reasons)}`);
      assert.equal(check(payload), true, `schema refused: ${JSON.stringify(check.errors)}`);
    });
  }
});

Deno.test("sensorEventJsonSchema() refuses what validateEvent() refuses", async (t) => {
  for (const [name, payload] of INVALID) {
    await t.step(name, () => {
      assert.equal(validateEvent(JSON.stringify(payload), NOW).ok, false, "validator accepted");
      assert.equal(check(payload), false, "schema accepted");
    });
  }
});

Deno.test("sensorEventJsonSchema() points at the same field the validator names", async (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["humidity", withField("UMIDADE", 140), "/UMIDADE"],
    ["status", withField("STATUS", "ok"), "/STATUS"],
    ["device", withField("ID_DISPOSITIVO", "a b"), "/ID_DISPOSITIVO"],
    ["id", withField("ID", "x"), "/ID"],
  ];
  for (const [name, payload, path] of cases) {
    await t.step(name, () => {
      const verdict = validateEvent(JSON.stringify(payload), NOW);
      assert.ok(!verdict.ok);
      assert.deepEqual(verdict.reasons.map((r) => `/${r.field}`), [path]);
      assert.equal(check(payload), false);
      assert.ok(check.errors?.every((e) => e.instancePath === path), JSON.stringify(check.errors));
    });
  }
});
