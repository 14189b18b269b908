/**
 * Deliberately invalid events, for demos of the reject path (`PRODUCER_INVALID_RATIO`). Each one
 * is a valid reading broken in one way a real sender breaks it. Pure and seeded.
 *
 * @module
 */

import type { Faker } from "@faker-js/faker";

/** The ways a reading is broken, each with the reason code the consumer must give. */
export const INVALID_KINDS = {
  not_json: "not_json",
  truncated_json: "not_json",
  empty: "payload_empty",
  array: "not_object",
  missing_temperature: "missing_field",
  temperature_as_string: "invalid_type",
  humidity_out_of_range: "out_of_range",
  latitude_out_of_range: "out_of_range",
  status_lowercase: "invalid_value",
  timestamp_garbage: "invalid_format",
  timestamp_impossible_date: "invalid_date",
  epoch_seconds: "out_of_range",
  device_id_with_quote: "invalid_format",
} as const;

/** A kind of breakage. */
export type InvalidKind = keyof typeof INVALID_KINDS;

/** A broken message value and how it was broken. */
export interface InvalidEvent {
  /** How it was broken. */
  kind: InvalidKind;
  /** The message value (text; the consumer gets its UTF-8 bytes). */
  value: string;
}

/**
 * Breaks a valid canonical payload in one way picked by `faker`.
 *
 * @param valid A valid canonical payload.
 * @param faker The fleet's seeded faker.
 */
export function breakEvent(valid: Record<string, unknown>, faker: Faker): InvalidEvent {
  const kind = faker.helpers.arrayElement(Object.keys(INVALID_KINDS) as InvalidKind[]);
  return { kind, value: brokenValue(kind, valid) };
}

/** The message value of `valid` broken in the way `kind` names. */
export function brokenValue(kind: InvalidKind, valid: Record<string, unknown>): string {
  const json = JSON.stringify(valid);
  const withField = (key: string, value: unknown) => JSON.stringify({ ...valid, [key]: value });
  switch (kind) {
    case "not_json":
      return `ID_DISPOSITIVO=${valid.ID_DISPOSITIVO};TEMPERATURA=${valid.TEMPERATURA}`;
    case "truncated_json":
      return json.slice(0, Math.floor(json.length / 2));
    case "empty":
      return "";
    case "array":
      return JSON.stringify([valid]);
    case "missing_temperature": {
      const { TEMPERATURA: _dropped, ...rest } = valid;
      return JSON.stringify(rest);
    }
    case "temperature_as_string":
      return withField("TEMPERATURA", String(valid.TEMPERATURA));
    case "humidity_out_of_range":
      return withField("UMIDADE", 140);
    case "latitude_out_of_range":
      return withField("LATITUDE", -123.4);
    case "status_lowercase":
      return withField("STATUS", String(valid.STATUS).toLowerCase());
    case "timestamp_garbage":
      return withField("TIMESTAMP", "yesterday at noon");
    case "timestamp_impossible_date":
      return withField("TIMESTAMP", "2026-02-30T12:00:00Z");
    case "epoch_seconds":
      return withField("TIMESTAMP", 1_764_000_000);
    case "device_id_with_quote":
      return withField("ID_DISPOSITIVO", "sensor'; DROP TABLE tb_sensor_evento; --");
  }
}
