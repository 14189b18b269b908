/**
 * Corpus classes about single fields: types, presence, ranges, STATUS, ids, numbers, aliases and
 * hostile strings.
 *
 * @module
 */

import { type CorpusClass, rawJson, utf8, withFields } from "./_corpus_kit.ts";
import { accepted, type Reading, rejected } from "./ledger.ts";

const REQUIRED = [
  "ID_DISPOSITIVO",
  "TIMESTAMP",
  "TEMPERATURA",
  "UMIDADE",
  "LATITUDE",
  "LONGITUDE",
  "STATUS",
  "BATERIA",
] as const;

/** A class that changes fields of the base reading and expects one outcome. */
function change(
  name: string,
  spec: string,
  fields: (base: Reading) => Record<string, unknown>,
  expect: (base: Reading) => ReturnType<typeof accepted>,
): CorpusClass {
  return {
    name,
    spec,
    make: ({ base }) => [{ value: withFields(base, fields(base)), expect: expect(base) }],
  };
}

/** A class whose change must be refused with `code`. */
const refuse = (name: string, code: string, fields: Record<string, unknown>): CorpusClass =>
  change(name, `rejected: ${code}`, () => fields, () => rejected(code));

/** A class whose raw JSON text for some fields must be accepted with the given columns. */
function rawAccepted(
  name: string,
  spec: string,
  raw: Record<string, string>,
  columns: Record<string, number>,
): CorpusClass {
  return {
    name,
    spec,
    make: (
      { base },
    ) => [{ value: utf8(rawJson({ ...base }, raw)), expect: accepted(base, columns) }],
  };
}

/** Field-level classes. */
export const FIELD_CLASSES: CorpusClass[] = [
  // Wrong type for each field, numbers as strings.
  refuse("temperature-as-string", "invalid_type", { TEMPERATURA: "21.5" }),
  refuse("humidity-as-string", "invalid_type", { UMIDADE: "48" }),
  refuse("battery-as-boolean", "invalid_type", { BATERIA: true }),
  refuse("latitude-null", "invalid_type", { LATITUDE: null }),
  refuse("longitude-as-array", "invalid_type", { LONGITUDE: [-46.6] }),
  refuse("temperature-as-object", "invalid_type", { TEMPERATURA: { value: 21 } }),
  refuse("status-as-number", "invalid_type", { STATUS: 1 }),
  refuse("device-id-as-number", "invalid_type", { ID_DISPOSITIVO: 1234 }),
  refuse("timestamp-as-boolean", "invalid_type", { TIMESTAMP: false }),
  refuse("id-as-number", "invalid_type", { ID: 42 }),
  {
    name: "non-finite-number",
    spec: "rejected: invalid_type (1e400 parses as Infinity)",
    make: (
      { base },
    ) => [{
      value: utf8(rawJson({ ...base }, { UMIDADE: "1e400" })),
      expect: rejected("invalid_type"),
    }],
  },
  {
    name: "number-underflow",
    spec: "accepted (1e-400 parses as 0, as any decimal is rounded to the nearest double)",
    make: ({ base }) => [{
      value: utf8(rawJson({ ...base }, { UMIDADE: "1e-400" })),
      expect: accepted(base, { umidade: 0 }),
    }],
  },
  {
    name: "duplicate-id-keys-disagreeing",
    spec: "rejected: conflicting_alias (JSON.parse keeps the last ID, other readers the first)",
    make: ({ base }) => [{
      value: utf8(
        rawJson({ ...base }).slice(0, -1) + ',"ID":"00000000-0000-4000-8000-0000000000ff"}',
      ),
      expect: rejected("conflicting_alias"),
    }],
  },
  // Every required field missing in turn; ID is optional.
  ...REQUIRED.map((field) => refuse(`missing-${field}`, "missing_field", { [field]: undefined })),
  {
    name: "missing-ID",
    spec: "accepted (id derived from topic, partition and offset)",
    make: (
      { base },
    ) => [{
      value: withFields(base, { ID: undefined }),
      expect: accepted(base, { id: undefined }),
    }],
  },
  // Each field out of range, and the bounds themselves.
  refuse("temperature-above-100", "out_of_range", { TEMPERATURA: 100.5 }),
  refuse("temperature-below-minus-50", "out_of_range", { TEMPERATURA: -50.01 }),
  refuse("humidity-negative", "out_of_range", { UMIDADE: -0.1 }),
  refuse("humidity-above-100", "out_of_range", { UMIDADE: 100.1 }),
  refuse("latitude-above-90", "out_of_range", { LATITUDE: 90.000001 }),
  refuse("longitude-below-minus-180", "out_of_range", { LONGITUDE: -180.5 }),
  refuse("battery-above-100", "out_of_range", { BATERIA: 101 }),
  refuse("battery-negative", "out_of_range", { BATERIA: -1 }),
  change(
    "range-bounds-inclusive",
    "accepted (every bound is inclusive), alerta true",
    () => ({ TEMPERATURA: 100, UMIDADE: 0, LATITUDE: -90, LONGITUDE: 180, BATERIA: 0 }),
    (b) => accepted(b, { temperatura: 100, umidade: 0, latitude: -90, longitude: 180, bateria: 0 }),
  ),
  change(
    "alert-thresholds-exact",
    "accepted, alerta false (35 °C and 15 % are not alerts)",
    () => ({ TEMPERATURA: 35, BATERIA: 15 }),
    (b) => accepted(b, { temperatura: 35, bateria: 15, alerta: false }),
  ),
  change(
    "alert-just-above-temperature",
    "accepted, alerta true",
    () => ({ TEMPERATURA: 35.000001, BATERIA: 90 }),
    (b) => accepted(b, { temperatura: 35.000001, bateria: 90, alerta: true }),
  ),
  change(
    "alert-just-below-battery",
    "accepted, alerta true",
    () => ({ TEMPERATURA: 20, BATERIA: 14.999 }),
    (b) => accepted(b, { temperatura: 20, bateria: 14.999, alerta: true }),
  ),
  // STATUS spelling.
  refuse("status-lowercase", "invalid_value", { STATUS: "ok" }),
  refuse("status-mixed-case", "invalid_value", { STATUS: "Warn" }),
  refuse("status-padded", "invalid_value", { STATUS: " OK" }),
  refuse("status-unknown", "invalid_value", { STATUS: "FINE" }),
  // Ids.
  change(
    "id-uppercase",
    "accepted (id stored in lower case)",
    (b) => ({ ID: b.ID.toUpperCase() }),
    (b) => accepted(b),
  ),
  refuse("id-malformed", "invalid_format", { ID: "not-a-uuid" }),
  refuse("id-without-dashes", "invalid_format", { ID: "0b6f3a523f5e4c8e9d6a2f1e0c9b8a7d" }),
  // Numbers in other spellings.
  rawAccepted("negative-zero", "accepted (-0 stored as 0)", { TEMPERATURA: "-0" }, {
    temperatura: 0,
  }),
  rawAccepted("exponent-notation", "accepted (2.15e1 = 21.5)", { TEMPERATURA: "2.15e1" }, {
    temperatura: 21.5,
  }),
  rawAccepted("integer-written-as-float", "accepted", { UMIDADE: "48.000" }, { umidade: 48 }),
  rawAccepted("subnormal-number", "accepted (5e-324 kept exactly)", { LONGITUDE: "5e-324" }, {
    longitude: 5e-324,
  }),
  rawAccepted("seventeen-digit-precision", "accepted (kept exactly)", {
    LATITUDE: "-23.550520000000001",
  }, { latitude: -23.550520000000001 }),
  // Spellings of the original devices.
  {
    name: "legacy-aliases",
    spec: "accepted (lower-case English keys, id derived)",
    make: ({ base }) => [{
      value: utf8(JSON.stringify({
        device_id: base.ID_DISPOSITIVO,
        timestamp: base.TIMESTAMP,
        temperature: base.TEMPERATURA,
        humidity: base.UMIDADE,
        latitude: base.LATITUDE,
        longitude: base.LONGITUDE,
        status: base.STATUS,
        battery: base.BATERIA,
      })),
      expect: accepted(base, { id: undefined }),
    }],
  },
  change(
    "humidade-alias",
    "accepted (HUMIDADE for UMIDADE)",
    (b) => ({ UMIDADE: undefined, HUMIDADE: b.UMIDADE }),
    (b) => accepted(b),
  ),
  change(
    "agreeing-aliases",
    "accepted (the same value under two spellings)",
    (b) => ({ temperature: b.TEMPERATURA }),
    (b) => accepted(b),
  ),
  // Off by one degree from the reading itself: a fixed value met a base reading of exactly -3 °C
  // once (long run, seed 13), agreed with it and was rightly stored.
  change(
    "conflicting-aliases",
    "rejected: conflicting_alias",
    (b) => ({ temperature: Number(b.TEMPERATURA) + (Number(b.TEMPERATURA) > 0 ? -1 : 1) }),
    () => rejected("conflicting_alias"),
  ),
  {
    name: "multiple-errors",
    spec: "rejected: invalid_type + invalid_value + missing_field, all reported",
    make: ({ base }) => [{
      value: withFields(base, { TEMPERATURA: "hot", STATUS: "ok", BATERIA: undefined }),
      expect: rejected("invalid_type", "invalid_value", "missing_field"),
    }],
  },
  // Hostile and unusual strings.
  refuse("sql-in-device-id", "invalid_format", {
    ID_DISPOSITIVO: "x'); DROP TABLE tb_sensor_evento;--",
  }),
  refuse("sql-in-status", "invalid_value", { STATUS: "OK' OR '1'='1" }),
  change(
    "sql-in-unknown-field",
    "accepted (unknown field ignored)",
    () => ({ comment: "'; DELETE FROM tb_kafka_offset; --" }),
    (b) => accepted(b),
  ),
  refuse("control-characters-in-device-id", "invalid_format", {
    ID_DISPOSITIVO: "dev\u0007\u0000\u001b[2J",
  }),
  refuse("device-id-65-characters", "invalid_format", { ID_DISPOSITIVO: "d".repeat(65) }),
  change(
    "device-id-64-characters",
    "accepted",
    () => ({ ID_DISPOSITIVO: "d".repeat(64) }),
    (b) => accepted(b, { id_dispositivo: "d".repeat(64) }),
  ),
  change(
    "device-id-cyrillic",
    "accepted",
    () => ({ ID_DISPOSITIVO: "датчик-7" }),
    (b) => accepted(b, { id_dispositivo: "датчик-7" }),
  ),
  change(
    "device-id-cjk",
    "accepted",
    () => ({ ID_DISPOSITIVO: "温度计.3" }),
    (b) => accepted(b, { id_dispositivo: "温度计.3" }),
  ),
  change(
    "device-id-with-combining-marks",
    "accepted (Devanagari vowel signs are combining marks)",
    () => ({ ID_DISPOSITIVO: "सेंसर-1" }),
    (b) => accepted(b, { id_dispositivo: "सेंसर-1" }),
  ),
  refuse("device-id-emoji", "invalid_format", { ID_DISPOSITIVO: "sensor-\u{1F525}" }),
  refuse("device-id-lone-surrogate", "invalid_format", { ID_DISPOSITIVO: "dev-\ud800" }),
  refuse("device-id-empty", "invalid_format", { ID_DISPOSITIVO: "" }),
  refuse("very-long-status", "invalid_value", { STATUS: "W".repeat(5000) }),
];
