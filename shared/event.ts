/**
 * The sensor event: its fields, their accepted spellings and the rules each value must meet.
 *
 * One table ({@linkcode FIELDS}) drives the validator ({@linkcode validateEvent}) and the JSON
 * Schema ({@linkcode sensorEventJsonSchema}), so the two cannot disagree.
 *
 * @module
 */

/** The values `STATUS` may take, exact case. */
export const STATUSES = ["OK", "WARN", "ERROR"] as const;

/** A device's self-reported state. */
export type Status = typeof STATUSES[number];

/** Canonical wire payload: the keys of the original system's table. */
export interface SensorEventPayload {
  /** UUID of the event; when absent the consumer derives one from the Kafka coordinates. */
  ID?: string;
  /** Device identifier. */
  ID_DISPOSITIVO: string;
  /** RFC 3339 text (a zone-less text is read as UTC) or epoch milliseconds. */
  TIMESTAMP: string | number;
  /** Temperature in °C. */
  TEMPERATURA: number;
  /** Relative humidity in %. */
  UMIDADE: number;
  /** Latitude in degrees. */
  LATITUDE: number;
  /** Longitude in degrees. */
  LONGITUDE: number;
  /** Device state. */
  STATUS: Status;
  /** Battery charge in %. */
  BATERIA: number;
}

/** Largest payload accepted, in bytes. A reading is about 250 bytes; more means a broken sender. */
export const MAX_PAYLOAD_BYTES = 8192;

/** Most keys one event object may carry (unknown keys are ignored, but not without bound). */
export const MAX_KEYS = 32;

/** Longest device identifier, in characters. */
export const MAX_DEVICE_ID_LENGTH = 64;

/**
 * A letter or digit of any script first, then also combining marks (needed by Devanagari, Thai,
 * decomposed accents) and `. _ : / -`; no spaces, quotes or control codes.
 */
export const DEVICE_ID_PATTERN = "^[\\p{L}\\p{N}][\\p{L}\\p{M}\\p{N}._:/-]{0,63}$";

/** Canonical UUID text, any version, either case. */
export const UUID_PATTERN =
  "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/** How a field's value is checked. */
export type FieldRule =
  | { type: "uuid" }
  | { type: "device_id" }
  | { type: "timestamp" }
  | { type: "status" }
  | { type: "number"; min: number; max: number; unit: string };

/** One field of the event: canonical key, accepted spellings, and its rule. */
export interface FieldSpec {
  /** Canonical key on the wire and column name (lower-cased) in PostgreSQL. */
  key: keyof SensorEventPayload;
  /** Other spellings sent by the original devices. */
  aliases: readonly string[];
  /** Whether an event without it is refused. */
  required: boolean;
  /** What its value must be. */
  rule: FieldRule;
  /** One line for people and for the JSON Schema. */
  description: string;
}

/**
 * Every field of the event. Sensor ranges are those of common field hardware
 * (e.g. DS18B20 and SHT3x probes): a value outside them is a broken sensor or a broken sender.
 */
export const FIELDS: readonly FieldSpec[] = [
  {
    key: "ID",
    aliases: [],
    required: false,
    rule: { type: "uuid" },
    description: "UUID of the event. Absent: derived from the Kafka topic, partition and offset.",
  },
  {
    key: "ID_DISPOSITIVO",
    aliases: ["device_id"],
    required: true,
    rule: { type: "device_id" },
    description:
      "Device id: 1-64 letters or digits of any script, or . _ : / -; stored in Unicode NFC.",
  },
  {
    key: "TIMESTAMP",
    aliases: ["timestamp"],
    required: true,
    rule: { type: "timestamp" },
    description:
      "RFC 3339 date-time (no zone means UTC) or integer epoch milliseconds; 2000-01-01 to 24 h after the Kafka record's timestamp.",
  },
  {
    key: "TEMPERATURA",
    aliases: ["temperature"],
    required: true,
    rule: { type: "number", min: -50, max: 100, unit: "°C" },
    description: "Temperature in degrees Celsius.",
  },
  {
    key: "UMIDADE",
    aliases: ["HUMIDADE", "humidity"],
    required: true,
    rule: { type: "number", min: 0, max: 100, unit: "%" },
    description: "Relative humidity in percent.",
  },
  {
    key: "LATITUDE",
    aliases: ["latitude"],
    required: true,
    rule: { type: "number", min: -90, max: 90, unit: "°" },
    description: "Latitude in decimal degrees (WGS 84).",
  },
  {
    key: "LONGITUDE",
    aliases: ["longitude"],
    required: true,
    rule: { type: "number", min: -180, max: 180, unit: "°" },
    description: "Longitude in decimal degrees (WGS 84).",
  },
  {
    key: "STATUS",
    aliases: ["status"],
    required: true,
    rule: { type: "status" },
    description: "Device state: OK, WARN or ERROR (exact case).",
  },
  {
    key: "BATERIA",
    aliases: ["battery"],
    required: true,
    rule: { type: "number", min: 0, max: 100, unit: "%" },
    description: "Battery charge in percent.",
  },
];

/**
 * Builds the JSON Schema (draft 2020-12) of the canonical payload, for other producers and for
 * schema registries. Aliases are accepted by the consumer but are not part of the canonical form.
 *
 * @returns A plain JSON-serializable object.
 */
export function sensorEventJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const field of FIELDS) {
    properties[field.key] = { description: field.description, ...jsonSchemaOf(field.rule) };
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "urn:iot-pipeline:sensor-event:v1",
    title: "SensorEvent",
    description:
      `One reading of one IoT device, as a UTF-8 JSON object of at most ${MAX_PAYLOAD_BYTES} bytes. ` +
      "Unknown keys are ignored (at most 32 keys in all).",
    type: "object",
    properties,
    required: FIELDS.filter((f) => f.required).map((f) => f.key),
    maxProperties: MAX_KEYS,
  };
}

function jsonSchemaOf(rule: FieldRule): Record<string, unknown> {
  switch (rule.type) {
    case "uuid":
      return { type: "string", pattern: UUID_PATTERN };
    case "device_id":
      return { type: "string", pattern: DEVICE_ID_PATTERN, maxLength: MAX_DEVICE_ID_LENGTH };
    case "timestamp":
      return {
        oneOf: [
          {
            type: "string",
            // Same grammar as shared/timestamp.ts; calendar and range checks are the validator's.
            pattern:
              "^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})?$",
          },
          { type: "integer", minimum: Date.UTC(2000, 0, 1) },
        ],
      };
    case "status":
      return { type: "string", enum: [...STATUSES] };
    case "number":
      return { type: "number", minimum: rule.min, maximum: rule.max };
  }
}
