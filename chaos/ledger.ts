/**
 * The ground truth of a run: every message the harness meant to send, what the pipeline must do
 * with it, and whether Kafka acknowledged it. The expectations are written here from the
 * contract, independently of the consumer's code, so a bug there cannot hide in both.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Alert thresholds of the contract (ALERT_TEMPERATURE_MAX, ALERT_BATTERY_MIN defaults). */
export const ALERT = { temperatureMax: 35, batteryMin: 15 } as const;

/** A row of `tb_sensor_evento` as the contract says it must be stored. */
export interface ExpectedRow {
  /** Lower-case UUID; absent when the event has no `ID` (derived from its Kafka coordinates). */
  id?: string;
  /** Device id. */
  id_dispositivo: string;
  /** `TIMESTAMP` exactly as sent (a number as its decimal text). */
  timestamp: string;
  /** The instant in UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
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
  /** `temperatura > 35 OR bateria < 15`. */
  alerta: boolean;
}

/** What must become of one message. */
export type Expectation =
  | { outcome: "accepted"; row: ExpectedRow }
  | { outcome: "rejected"; codes: readonly string[] };

/** Why the harness sent a message. */
export type Intent = "valid" | "corpus" | "resend" | "conflict";

/** One message of the ledger. */
export interface LedgerEntry {
  /** Sequence number, also sent as the `chaos-seq` header. */
  seq: number;
  /** Message key (device id), `null` for none. */
  key: string | null;
  /** SHA-256 of the value (hex), or `"null"` for a tombstone. */
  digest: string;
  /** Value size in bytes. */
  size: number;
  /** Corpus class or `reading`. */
  class: string;
  /** Why it was sent. */
  intent: Intent;
  /** The contract's outcome. */
  expect: Expectation;
  /** For a re-send or a conflicting duplicate: the seq of the original. */
  of?: number;
  /** Milliseconds since the run started when it was first handed to Kafka. */
  sentAt?: number;
}

/** SHA-256 of a message value, hex; tombstones get `"null"`. */
export function digestOf(value: Uint8Array | null): string {
  if (value === null) return "null";
  return createHash("sha256").update(value).digest("hex");
}

/** The alert rule of the contract, written again here on purpose. */
export function alertOf(temperature: number, battery: number): boolean {
  return temperature > ALERT.temperatureMax || battery < ALERT.batteryMin;
}

/** An instant as `YYYY-MM-DDTHH:MM:SS.ffffffZ`: epoch ms plus extra microseconds (0-999). */
export function isoMicros(epochMs: number, extraMicros = 0): string {
  return `${new Date(epochMs).toISOString().slice(0, 23)}${String(extraMicros).padStart(3, "0")}Z`;
}

/** The fields of a canonical reading (what the workload generates before breaking anything). */
export interface Reading {
  /** Lower-case UUID. */
  ID: string;
  /** Device id. */
  ID_DISPOSITIVO: string;
  /** `toISOString()` text (milliseconds, `Z`). */
  TIMESTAMP: string;
  /** °C. */
  TEMPERATURA: number;
  /** %. */
  UMIDADE: number;
  /** Degrees. */
  LATITUDE: number;
  /** Degrees. */
  LONGITUDE: number;
  /** OK, WARN or ERROR. */
  STATUS: "OK" | "WARN" | "ERROR";
  /** %. */
  BATERIA: number;
}

/**
 * The row a canonical reading must become; `overrides` changes what a corpus class changed.
 *
 * @param reading The reading as sent.
 * @param overrides Columns that differ (e.g. a timestamp sent in another spelling).
 */
export function expectedRowOf(reading: Reading, overrides: Partial<ExpectedRow> = {}): ExpectedRow {
  const row: ExpectedRow = {
    id: reading.ID.toLowerCase(),
    id_dispositivo: reading.ID_DISPOSITIVO,
    timestamp: reading.TIMESTAMP,
    timestamp_ts: isoMicros(Date.parse(reading.TIMESTAMP)),
    temperatura: reading.TEMPERATURA,
    umidade: reading.UMIDADE,
    latitude: reading.LATITUDE,
    longitude: reading.LONGITUDE,
    status: reading.STATUS,
    bateria: reading.BATERIA,
    alerta: false,
    ...overrides,
  };
  if (!("alerta" in overrides)) row.alerta = alertOf(row.temperatura, row.bateria);
  return row;
}

/** `accepted` with the row of `reading` (plus overrides). */
export function accepted(reading: Reading, overrides: Partial<ExpectedRow> = {}): Expectation {
  return { outcome: "accepted", row: expectedRowOf(reading, overrides) };
}

/** `rejected` with every reason code that must be among the stored reasons. */
export function rejected(...codes: string[]): Expectation {
  return { outcome: "rejected", codes };
}

/** The ledger of a run: entries by seq, and the seqs Kafka acknowledged. */
export class Ledger {
  /** Every entry, index = seq. */
  readonly entries: LedgerEntry[] = [];
  /** Seqs acknowledged by Kafka (acks=all). */
  readonly acked = new Set<number>();

  /** Appends an entry and returns it with its seq. */
  add(entry: Omit<LedgerEntry, "seq">): LedgerEntry {
    const full = { ...entry, seq: this.entries.length };
    this.entries.push(full);
    return full;
  }

  /** JSON lines, one entry each, for the run directory. */
  toJsonl(): string {
    return this.entries.map((e) => JSON.stringify({ ...e, acked: this.acked.has(e.seq) }))
      .join("\n") + "\n";
  }
}
