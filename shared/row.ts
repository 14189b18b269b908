/**
 * From a valid event to a row of `tb_sensor_evento`: the alert rule, the derived event id and the
 * column mapping.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { HmacSha256 } from "./hmac_sha256.ts";
import type { SensorEvent } from "./validate.ts";

/** Thresholds of the alert rule. */
export interface AlertRule {
  /** Alert when the temperature is strictly above this, in °C. @default {35} */
  temperatureMax: number;
  /** Alert when the battery is strictly below this, in %. @default {15} */
  batteryMin: number;
}

/** The thresholds of the original system. */
export const DEFAULT_ALERT_RULE: Readonly<AlertRule> = Object.freeze({
  temperatureMax: 35,
  batteryMin: 15,
});

/**
 * The alert rule: `TEMPERATURA > temperatureMax OR BATERIA < batteryMin`. Both bounds are strict,
 * so exactly 35 °C and exactly 15 % raise no alert.
 *
 * @example
 * ```ts
 * import { isAlert, DEFAULT_ALERT_RULE } from "./row.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isAlert(35, 50, DEFAULT_ALERT_RULE), false);
 * assert.equal(isAlert(35.1, 50, DEFAULT_ALERT_RULE), true);
 * ```
 */
export function isAlert(temperature: number, battery: number, rule: AlertRule): boolean {
  return temperature > rule.temperatureMax || battery < rule.batteryMin;
}

/**
 * Derives the id of an event that arrived without `ID`, from where it sits in Kafka. The same
 * message always gets the same id, so a redelivery can never make a second row.
 *
 * The id is an HMAC-SHA-256 of the topic's ID (Kafka's UUID of this incarnation of the topic, so
 * a topic deleted and created again under its name never reuses an old row's id), the partition
 * and the offset, keyed with a secret the consumer keeps in PostgreSQL (`tb_derived_id_key`).
 * Without the key, a producer cannot compute the id of a future event and send it first as an
 * explicit `ID`: the topic ID alone would not stop that, any client allowed to describe the
 * topic reads it. The result is a UUID version 8 (RFC 9562 §5.8, application-defined).
 *
 * @param key The derivation key (secret; hex text).
 * @param topicId Kafka's topic ID.
 * @param partition Partition number.
 * @param offset Offset as text (Kafka offsets are 64-bit).
 * @returns A lower-case version 8 UUID.
 */
export function deriveEventId(
  key: string,
  topicId: string,
  partition: number,
  offset: string,
): string {
  if (derivation === undefined || derivation.key !== key) {
    derivation = { key, mac: new HmacSha256(key) };
  }
  return uuidOf(derivation.mac.digest(`${topicId}/${partition}/${offset}`), 0x80);
}

/** The last key's HMAC: a consumer derives every id with one key. */
let derivation: { key: string; mac: HmacSha256 } | undefined;

/** Namespace of {@linkcode nameBasedV7Uuid}'s name hash; fixed forever (it was v5's, RFC 9562 §5.5). */
const NAME_NAMESPACE = uuidBytes("6f1d3c2a-8b4e-5d7f-9a0c-1e2f3a4b5c6d");

/**
 * A time-ordered id that stays deterministic: the RFC 9562 §5.7 version 7 layout with `epochMs` in
 * the first 48 bits and, in the other 74 (after version 7 and variant 10), bytes 6 to 15 of
 * SHA-1(namespace ‖ `name`). The same instant and name always give the same id; ids of later
 * instants sort after earlier ones, so a primary key of them grows at its right edge instead of
 * touching a random leaf per insert (bench/README.md, growth); two different names of one
 * millisecond collide only if their hashes do in those 74 bits. Public and unkeyed: for ids a
 * sender makes (the producer's), never for derived ones.
 *
 * @param epochMs The event's instant, Unix milliseconds (0 ≤ epochMs < 2^48).
 * @param name Any text that identifies one event among those of its millisecond.
 * @returns A lower-case version 7 UUID.
 */
export function nameBasedV7Uuid(epochMs: number, name: string): string {
  if (!Number.isInteger(epochMs) || epochMs < 0 || epochMs >= 2 ** 48) {
    throw new RangeError(
      `nameBasedV7Uuid: epochMs must be an integer in [0, 2^48): got ${epochMs}`,
    );
  }
  const bytes = createHash("sha1").update(NAME_NAMESPACE).update(name).digest();
  // Big-endian by division: 48 bits do not fit JavaScript's 32-bit shifts.
  let ms = epochMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  return uuidOf(bytes, 0x70);
}

/** The first 16 bytes of `hash` as a UUID of the given version nibble and variant 10. */
function uuidOf(hash: Uint8Array, version: number): string {
  hash[6] = (hash[6] & 0x0f) | version;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  // By table, not Array.from/padStart/join: a tenth of the events come without ID (legacy
  // firmware), and the generic form cost more than the HMAC itself.
  let text = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += "-";
    text += HEX[hash[i]];
  }
  return text;
}

/** The two lower-case hex digits of each byte. */
const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replaceAll("-", "");
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

/** One row of `tb_sensor_evento` (`dt_carga` is set by PostgreSQL). */
export interface SensorRow {
  /** Event UUID (primary key). */
  id: string;
  /** Device id. */
  id_dispositivo: string;
  /** `TIMESTAMP` as sent. */
  timestamp: string;
  /** The same instant in UTC, ISO 8601 with microseconds. */
  timestamp_ts: string;
  /** °C. */
  temperatura: number;
  /** %. */
  umidade: number;
  /** Degrees. */
  latitude: number;
  /** Degrees. */
  longitude: number;
  /** OK, WARN or ERROR. */
  status: string;
  /** %. */
  bateria: number;
  /** Result of {@linkcode isAlert}. */
  alerta: boolean;
}

/**
 * Maps a valid event to its row.
 *
 * @param event The validated event.
 * @param id The event's id: its own `ID`, or {@linkcode deriveEventId} when it had none.
 * @param rule Alert thresholds.
 */
export function toRow(event: SensorEvent, id: string, rule: AlertRule): SensorRow {
  return {
    id,
    id_dispositivo: event.deviceId,
    timestamp: event.timestampText,
    timestamp_ts: event.timestamp.iso,
    temperatura: event.temperature,
    umidade: event.humidity,
    latitude: event.latitude,
    longitude: event.longitude,
    status: event.status,
    bateria: event.battery,
    alerta: isAlert(event.temperature, event.battery, rule),
  };
}
