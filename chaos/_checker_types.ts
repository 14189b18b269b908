/**
 * Types of the checker's input and output, the shape of one invariant's check, and the
 * contract's derived id (private to chaos/; checker.ts re-exports what callers need).
 *
 * @module
 */

import { createHmac } from "node:crypto";
import type { ExpectedRow, LedgerEntry } from "./ledger.ts";
import type { RuntimeInput } from "./_checker_runtime.ts";
import type { Monitoring } from "./_checker_monitoring.ts";

/** A message as read back from the topic. */
export interface LogMessage {
  /** Partition. */
  partition: number;
  /** Offset (64-bit, as text). */
  offset: string;
  /** The `chaos-seq` header, if the message has one. */
  seq?: number;
  /** SHA-256 of the value (see `digestOf`). */
  digest: string;
  /**
   * Which incarnation of the topic held it: 0 for the one the run created, one more for each
   * time it was deleted and created again (or wiped with the broker's data). Absent: 0. A
   * message's position is (generation, partition, offset).
   */
  generation?: number;
  /** The record's timestamp in epoch ms (negative: none; absent: not read back). */
  timestampMs?: number;
}

/** A row of `tb_sensor_evento` as read back (timestamp_ts as `…ffffffZ` text). */
export type StoredRow = Omit<ExpectedRow, "id"> & { id: string };

/** A row of `tb_dispositivo` as read back (timestamp_ts as `…ffffffZ` text). */
export interface StoredDevice {
  /** Device id. */
  id_dispositivo: string;
  /** The latest reading's id, `null` while none. */
  id_evento: string | null;
  /** The latest reading's event time. */
  timestamp_ts: string | null;
  /** The latest reading's values. */
  temperatura: number | null;
  /** %. */
  umidade: number | null;
  /** Degrees. */
  latitude: number | null;
  /** Degrees. */
  longitude: number | null;
  /** OK, WARN or ERROR. */
  status: string | null;
  /** %. */
  bateria: number | null;
  /** The latest reading's alert flag. */
  alerta: boolean | null;
  /** Readings counted. */
  qt_leituras: number;
}

/** A row of `tb_sensor_evento_rejeitado` as read back. */
export interface StoredReject {
  /** Partition. */
  partition: number;
  /** Offset as text. */
  offset: string;
  /** Reason codes in stored order. */
  codes: string[];
  /**
   * SHA-256 of the whole payload as the row records it (`payload_sha256`; for rows without it, of
   * the stored bytes). `"null"` never: a tombstone is stored as empty bytes.
   */
  digest: string;
  /** Length of the whole payload as the row records it (`payload_bytes`, else the stored one). */
  bytes: number;
  /** What `payload` holds: the whole payload, or its first bytes when over the bound. */
  stored: { bytes: number; digest: string };
  /**
   * The topic generation its `topic_id` names (see {@linkcode LogMessage.generation}); absent: 0;
   * -1 for a topic ID the run never had.
   */
  generation?: number;
}

/** Everything the checker looks at. */
export interface CheckInput extends RuntimeInput {
  /** Topic of the run. */
  topic: string;
  /** The database's derivation key, `tb_derived_id_key` (derived ids depend on it). */
  idKey: string;
  /** Every entry, index = seq. */
  ledger: readonly LedgerEntry[];
  /** Seqs Kafka acknowledged. */
  acked: ReadonlySet<number>;
  /** The whole topic as read back. */
  log: readonly LogMessage[];
  /** Every row of `tb_sensor_evento`. */
  rows: readonly StoredRow[];
  /** Every row of the reject table for the topic. */
  rejects: readonly StoredReject[];
  /** Every row of `tb_dispositivo`. */
  devices: readonly StoredDevice[];
  /** The consumers' DEVICE_FUTURE_TOLERANCE_S: readings further past their record are not latest. */
  deviceFutureToleranceS: number;
  /** Readings' fold places and scores, devices' models, alerts, and the settings they follow. */
  monitoring: Monitoring;
  /**
   * Invariants this run gives nothing to judge, by design (no faults: nothing to recover from).
   * Reported as not applicable. Any other invariant that checked nothing fails: a check that saw
   * nothing proves nothing.
   */
  notApplicable?: readonly Invariant[];
}

/** The invariants, in report order. */
export const INVARIANTS = {
  "kafka-kept-acked": "every event Kafka acknowledged is in the topic",
  "log-matches-ledger": "every message in the topic was sent by the harness, byte for byte",
  "valid-stored-once": "every valid event is in tb_sensor_evento (once: id is the key)",
  "values-correct": "every stored row has the sent values, the UTC instant and the right alerta",
  "invalid-rejected-once": "every invalid event is in the reject table once, with its reasons",
  "no-valid-rejected": "no valid event (nor re-send) is in the reject table",
  "no-extra-rows": "no row or reject that no message explains",
  "payload-kept":
    "each reject keeps the message bytes exactly, or its first bytes past the bound with its length and hash",
  "device-state":
    "each device's state is its newest stored reading by event time (not one ahead of its record), and counts its stored readings",
  "alert-episodes":
    "every temperature, battery, anomaly and drift alert is an episode of the replay of its device's readings, opened once; offline alerts cleared by the first reading folded after their creation",
  "one-open-alert": "never two open alerts for one (device, type)",
  "anomaly-replay":
    "every anomaly score and model equals a replay from scratch; each device's readings numbered 1..n in an order each partition keeps",
  "offsets-at-end": "stored offsets equal the topic's end offsets",
  "offsets-only-forward":
    "offsets only move forward, from the log's start: no write by a member that lost the partition",
  "drained": "everything was processed within the drain bound after healing",
  "recovered": "every fault was recovered from within the bound",
  "no-crash-loop": "no crash loop, no unexpected exit after healing",
  "memory-stable": "consumer memory stays bounded",
} as const;

/** An invariant's name. */
export type Invariant = keyof typeof INVARIANTS;

/** One broken promise. */
export interface Violation {
  /** Which invariant. */
  invariant: Invariant;
  /** What, in words. */
  message: string;
  /** When (ms since the run started), for attributing it to a fault. */
  atMs?: number;
  /** Corpus class of the message concerned, if any. */
  class?: string;
  /** Counted as a lost / duplicated / mis-rejected event in the figures. */
  tally?: "lost" | "duplicated" | "misRejected" | "wrongValue";
}

/** A violation before it is named: the check that finds it knows its invariant. */
export type Problem = Omit<Violation, "invariant">;

/** What one invariant's check found: how many things it looked at, and what was wrong. */
export interface Finding {
  /** How many things were checked. */
  checked: number;
  /** Every violation, in the order found. */
  violations: Violation[];
}

/**
 * The usual shape of a check: each item is one thing checked, and `judge` says what, if anything,
 * is wrong with it.
 */
export function judgeEach<T>(
  invariant: Invariant,
  items: Iterable<T>,
  judge: (item: T) => Problem | Problem[] | undefined,
): Finding {
  const found: Finding = { checked: 0, violations: [] };
  for (const item of items) {
    found.checked++;
    const problems = judge(item) ?? [];
    for (const p of Array.isArray(problems) ? problems : [problems]) {
      found.violations.push({ invariant, ...p });
    }
  }
  return found;
}

/** One invariant's outcome. */
export interface Verdict {
  /** Name. */
  invariant: Invariant;
  /** Whether it held (a not-applicable invariant holds). */
  ok: boolean;
  /** False when the run gave it nothing to judge by design (`CheckInput.notApplicable`). */
  applicable: boolean;
  /** How many things were checked. */
  checked: number;
  /** How many failed. */
  violations: number;
  /** A few violations, for people. */
  examples: string[];
}

/** Counts for the report. */
export interface Figures {
  events: number;
  acked: number;
  logMessages: number;
  expectedRows: number;
  storedRows: number;
  expectedRejects: number;
  storedRejects: number;
  lost: number;
  duplicated: number;
  misRejected: number;
  wrongValues: number;
}

/** The checker's answer. */
export interface CheckResult {
  /** All invariants held. */
  ok: boolean;
  verdicts: Verdict[];
  violations: Violation[];
  figures: Figures;
}

/**
 * The id of an event sent without `ID` (contract): HMAC-SHA-256 keyed with the database's
 * derivation key over "topicId/partition/offset", its first 16 bytes as a UUID version 8.
 */
export function derivedId(
  idKey: string,
  topicId: string,
  partition: number,
  offset: string,
): string {
  const hash = createHmac("sha256", idKey).update(`${topicId}/${partition}/${offset}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x80;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
