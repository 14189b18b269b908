/**
 * Validation of raw Kafka message values into typed sensor events.
 *
 * Hand-written, table-driven from {@linkcode FIELDS} (one field's rules: field_rules.ts). What a
 * general library (zod, valibot) would need a custom step for: accepted aliases and the refusal of
 * two aliases that disagree, stable reason codes the reject table and the metrics are keyed by, and
 * a strict RFC 3339 grammar with leap seconds. (Reporting every failure at once and exporting a
 * JSON Schema, zod 4 does too.)
 *
 * @module
 */

import { FIELDS, type FieldSpec, MAX_KEYS, MAX_PAYLOAD_BYTES, type Status } from "./event.ts";
import { checkField } from "./field_rules.ts";
import { repeatedKeys } from "./repeated_keys.ts";
import { kind, type NormalizedTimestamp } from "./timestamp.ts";

/** Machine-readable reason codes, stable across releases (dashboards and tests count on them). */
export type ReasonCode =
  | "payload_empty"
  | "payload_too_large"
  | "not_utf8"
  | "not_json"
  | "not_object"
  | "too_many_keys"
  | "missing_field"
  | "conflicting_alias"
  | "invalid_type"
  | "invalid_format"
  | "invalid_date"
  | "invalid_value"
  | "out_of_range"
  | "duplicate_id_conflict"
  | "database_refused";

/** Why an event was refused: which field, a stable code, and a sentence for people. */
export interface Reason {
  /** Canonical field name, or `payload` when the message as a whole is at fault. */
  field: string;
  /** Stable machine-readable code. */
  code: ReasonCode;
  /** What was wrong, in words, with the offending value quoted. */
  message: string;
}

/** A valid event, normalized: canonical names, UTC timestamp, lower-case UUID. */
export interface SensorEvent extends Measurements {
  /** Lower-case UUID, or `undefined` when the sender gave none (see `deriveEventId`). */
  id: string | undefined;
  /** Device identifier. */
  deviceId: string;
  /** `TIMESTAMP` exactly as sent (a number is kept as its decimal text). */
  timestampText: string;
  /** The same instant in UTC. */
  timestamp: NormalizedTimestamp;
}

/** What a device measures and reports, under the names the legacy firmware also uses. */
export interface Measurements {
  /** °C. */
  temperature: number;
  /** %. */
  humidity: number;
  /** Degrees. */
  latitude: number;
  /** Degrees. */
  longitude: number;
  /** Device state. */
  status: Status;
  /** %. */
  battery: number;
}

/** The outcome of validation: the event, or every reason it fails. */
export type ValidationResult =
  | { ok: true; event: SensorEvent }
  | { ok: false; reasons: Reason[] };

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/**
 * The same decoding, but replacing what is not UTF-8 with U+FFFD instead of throwing: Deno runs it
 * 2-3 times faster than the fatal one (bench/README.md). Its text is the strict one's whenever it
 * holds no U+FFFD; only then is the strict decoder needed, to tell a U+FFFD sent from a broken byte.
 */
const LENIENT_UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Validates a raw message value (bytes as received from Kafka, or text).
 *
 * @param payload The message value; `null` (a Kafka tombstone) is refused as empty.
 * @param referenceMs The instant the timestamp's future bound counts from: the Kafka record's
 *   timestamp (see consumer/transform.ts), so a replay judges an event as the first read did.
 * @returns The normalized event or every reason it is refused.
 *
 * @example
 * ```ts
 * import { validateEvent } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const r = validateEvent('{"ID_DISPOSITIVO":"d-1"}', Date.now());
 * assert.ok(!r.ok && r.reasons.some((x) => x.field === "TEMPERATURA"));
 * ```
 */
export function validateEvent(
  payload: Uint8Array | string | null,
  referenceMs: number,
): ValidationResult {
  const parsed = parsePayload(payload);
  if (!parsed.ok) return parsed;
  const result = validateObject(parsed.value, referenceMs);
  const repeated = repeatedIdentity(parsed.text);
  if (repeated.length === 0) return result;
  return { ok: false, reasons: [...repeated, ...(result.ok ? [] : result.reasons)] };
}

/** The spellings of the fields that name the event and the device. */
const IDENTITY_KEYS = FIELDS.filter((f) => f.rule.type === "uuid" || f.rule.type === "device_id")
  .flatMap((f) => [f.key, ...f.aliases]);

/**
 * An identity key given twice with different values: `JSON.parse` keeps the last one, another
 * reader may keep the first, so the event is refused rather than stored under one of them.
 */
function repeatedIdentity(text: string): Reason[] {
  const reasons: Reason[] = [];
  for (const [key, values] of repeatedKeys(text, IDENTITY_KEYS)) {
    if (new Set(values.map((v) => JSON.stringify(v))).size < 2) continue;
    const field = FIELDS.find((f) => f.key === key || f.aliases.includes(key))!;
    reasons.push({
      field: field.key,
      code: "conflicting_alias",
      message: `${key} is given ${values.length} times with different values`,
    });
  }
  return reasons;
}

/** Decodes and parses a payload into a JSON object, or says why it cannot be. */
export function parsePayload(
  payload: Uint8Array | string | null,
): { ok: true; value: Record<string, unknown>; text: string } | { ok: false; reasons: Reason[] } {
  if (payload === null || payload.length === 0) {
    return refuse("payload", "payload_empty", "payload is empty (a JSON object was expected)");
  }
  let text: string;
  if (typeof payload === "string") {
    text = payload;
  } else {
    if (payload.length > MAX_PAYLOAD_BYTES) return tooLarge(payload.length);
    try {
      text = LENIENT_UTF8.decode(payload);
      if (text.includes("\uFFFD")) text = STRICT_UTF8.decode(payload);
    } catch {
      return refuse("payload", "not_utf8", "payload is not valid UTF-8 text");
    }
  }
  // Bytes and characters differ; the limit is on bytes, so recount only when it could matter.
  if (text.length * 3 > MAX_PAYLOAD_BYTES) {
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > MAX_PAYLOAD_BYTES) return tooLarge(bytes);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
    return refuse("payload", "not_json", `payload is not valid JSON${detail}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return refuse("payload", "not_object", `payload must be a JSON object: got ${kind(value)}`);
  }
  return { ok: true, value: value as Record<string, unknown>, text };
}

/**
 * Validates an already parsed JSON object, collecting every reason it fails.
 *
 * @param object The decoded payload.
 * @param referenceMs The instant the timestamp's future bound counts from: the Kafka record's
 *   timestamp (see consumer/transform.ts), so a replay judges an event as the first read did.
 */
export function validateObject(
  object: Record<string, unknown>,
  referenceMs: number,
): ValidationResult {
  const reasons: Reason[] = [];
  const keyCount = Object.keys(object).length;
  if (keyCount > MAX_KEYS) {
    reasons.push({
      field: "payload",
      code: "too_many_keys",
      message: `payload has ${keyCount} keys; at most ${MAX_KEYS} are accepted`,
    });
  }
  // Each field's value at its place in FIELDS: no Map, and no object per field looked up.
  const values: unknown[] = new Array(FIELDS.length);
  for (let i = 0; i < FIELDS.length; i++) {
    const field = FIELDS[i];
    const spelling = lookUp(object, i, reasons);
    if (spelling < 0) continue;
    const sentAs = SPELLINGS[i][spelling];
    const checked = checkField(field, object[sentAs], sentAs, referenceMs, reasons);
    if (checked !== undefined) values[i] = checked;
  }
  if (reasons.length > 0) return { ok: false, reasons };
  const timestamp = values[AT.TIMESTAMP] as NormalizedTimestamp;
  const rawTimestamp = object.TIMESTAMP ?? object.timestamp;
  const id = values[AT.ID] as string | undefined;
  return {
    ok: true,
    event: {
      id: id?.toLowerCase(),
      deviceId: values[AT.ID_DISPOSITIVO] as string,
      timestampText: String(rawTimestamp),
      timestamp,
      temperature: values[AT.TEMPERATURA] as number,
      humidity: values[AT.UMIDADE] as number,
      latitude: values[AT.LATITUDE] as number,
      longitude: values[AT.LONGITUDE] as number,
      status: values[AT.STATUS] as Status,
      battery: values[AT.BATERIA] as number,
    },
  };
}

/** Every field's spellings, canonical key first, built once from FIELDS. */
const SPELLINGS: readonly (readonly string[])[] = FIELDS.map((f) => [f.key, ...f.aliases]);

/** Each canonical key's place in FIELDS. */
const AT = Object.fromEntries(FIELDS.map((f, i) => [f.key, i])) as Record<FieldSpec["key"], number>;

/**
 * Finds field `index` of FIELDS under its canonical key or an alias: the place of the spelling
 * found in {@linkcode SPELLINGS}, or -1 when it is absent or given twice with different values
 * (a reason is pushed then, and for a required field that is missing).
 */
function lookUp(object: Record<string, unknown>, index: number, reasons: Reason[]): number {
  const spellings = SPELLINGS[index];
  let found = -1;
  for (let s = 0; s < spellings.length; s++) {
    const name = spellings[s];
    if (!Object.hasOwn(object, name)) continue;
    if (found < 0) {
      found = s;
    } else if (object[spellings[found]] !== object[name]) {
      const key = FIELDS[index].key;
      reasons.push({
        field: key,
        code: "conflicting_alias",
        message: `${key} is given twice with different values, as ${spellings[found]} and ${name}`,
      });
      return -1;
    }
  }
  if (found < 0 && FIELDS[index].required) {
    const key = FIELDS[index].key;
    reasons.push({
      field: key,
      code: "missing_field",
      message: `${key} is missing (send it as ${spellings.join(" or ")})`,
    });
  }
  return found;
}

function tooLarge(bytes: number): { ok: false; reasons: Reason[] } {
  return refuse(
    "payload",
    "payload_too_large",
    `payload is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are accepted`,
  );
}

function refuse(
  field: string,
  code: ReasonCode,
  message: string,
): { ok: false; reasons: Reason[] } {
  return { ok: false, reasons: [{ field, code, message }] };
}
