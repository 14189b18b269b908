/**
 * Types and helpers shared by the corpus files (private to chaos/).
 *
 * @module
 */

import type { Expectation, Reading } from "./ledger.ts";
import type { Rng } from "./rng.ts";

/** What a corpus class builds its messages from. */
export interface CorpusContext {
  /** A valid canonical reading to break or re-spell. */
  base: Reading;
  /** `base.TIMESTAMP` as epoch ms. */
  baseMs: number;
  /** The harness clock when the message is built. */
  nowMs: number;
  /** Seeded randomness. */
  rng: Rng;
  /** Largest size for "far over the limit" payloads, in bytes (Kafka's own limit is ~1 MB). */
  hugeBytes: number;
}

/** One message of a class, with the contract's outcome. */
export interface CorpusMessage {
  /** The value bytes; `null` is a tombstone. */
  value: Uint8Array | null;
  /** What must become of it. */
  expect: Expectation;
  /** Key; defaults to the base reading's device id. */
  key?: string | null;
}

/** One class of input. */
export interface CorpusClass {
  /** Stable kebab-case name (reports and tests use it). */
  name: string;
  /** The specified outcome in words, e.g. `rejected: not_json` or `accepted (UTC)`. */
  spec: string;
  /** Builds the class's messages (usually one; duplicates build two). */
  make(ctx: CorpusContext): CorpusMessage[];
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a text. */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** A JSON object with some values written as raw JSON text (for spellings JSON.stringify avoids). */
export function rawJson(fields: Record<string, unknown>, raw: Record<string, string> = {}): string {
  const parts = Object.entries(fields).filter(([k, v]) => v !== undefined && !(k in raw))
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  for (const [k, text] of Object.entries(raw)) parts.push(`${JSON.stringify(k)}:${text}`);
  return `{${parts.join(",")}}`;
}

/** The base reading with fields replaced (`undefined` removes a field), as UTF-8 JSON. */
export function withFields(base: Reading, fields: Record<string, unknown>): Uint8Array {
  return utf8(rawJson({ ...base, ...fields }));
}

/**
 * A wall-clock text of the instant `epochMs` (whole seconds) as seen in a UTC offset.
 *
 * @param epochMs The instant (its milliseconds are ignored).
 * @param offsetMinutes The zone's offset; `null` writes no zone at all.
 * @param fraction Fraction digits to write after the seconds ("" for none).
 * @param style Separator and zone letter spelling.
 */
export function zoned(
  epochMs: number,
  offsetMinutes: number | null,
  fraction = "",
  style: { sep?: string; z?: string } = {},
): string {
  const whole = Math.floor(epochMs / 1000) * 1000;
  const local = new Date(whole + (offsetMinutes ?? 0) * 60_000).toISOString();
  const frac = fraction === "" ? "" : `.${fraction}`;
  let zone = "";
  if (offsetMinutes === 0) zone = style.z ?? "Z";
  else if (offsetMinutes !== null) {
    const abs = Math.abs(offsetMinutes);
    const hh = String(Math.floor(abs / 60)).padStart(2, "0");
    const mm = String(abs % 60).padStart(2, "0");
    zone = `${offsetMinutes < 0 ? "-" : "+"}${hh}:${mm}`;
  }
  return `${local.slice(0, 10)}${style.sep ?? "T"}${local.slice(11, 19)}${frac}${zone}`;
}

/** The epoch ms of `epochMs` cut to whole seconds. */
export const wholeSeconds = (epochMs: number): number => Math.floor(epochMs / 1000) * 1000;
