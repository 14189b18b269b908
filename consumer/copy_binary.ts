/**
 * A batch's readings in PostgreSQL's binary COPY format: the write path's fast way to insert them
 * (store_write.ts). In bench/statement_cost.sql PostgreSQL spends about 9 µs of CPU a row on a
 * binary COPY, 11 µs on the same rows as COPY text, and 19 µs read from a JSON document and
 * inserted `ON CONFLICT`; and the consumer writes each number as 8 bytes instead of formatting it
 * as text (figures in bench/README.md, "The write path").
 *
 * Pure: no I/O. The format: a signature, flags and header extension (both 0); per row the number
 * of fields, then each field as its length in bytes (-1 for NULL) and its bytes, big-endian:
 * uuid 16 bytes, text UTF-8, timestamptz microseconds since 2000-01-01 UTC as int64, float8 IEEE
 * 754, boolean 1 byte, bigint int64; a trailer of -1.
 *
 * @module
 */

import type { SensorRow } from "@iot/shared";
import { epochMicros } from "./device_state.ts";
import type { ReadingMark } from "./monitoring.ts";

/** The columns of {@linkcode copyBinary}'s rows, in order, as a COPY column list. */
export const COPY_COLUMNS =
  'id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, ' +
  "status, bateria, alerta, seq_dispositivo, escore_anomalia";

/** The statement that reads {@linkcode copyBinary}'s bytes into the table. */
export const COPY_ROWS = `COPY tb_sensor_evento (${COPY_COLUMNS}) FROM STDIN WITH (FORMAT binary)`;

/** "PGCOPY\n\377\r\n\0", then flags and header extension length, both 0. */
const HEADER = [
  0x50,
  0x47,
  0x43,
  0x4f,
  0x50,
  0x59,
  0x0a,
  0xff,
  0x0d,
  0x0a,
  0x00,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
];
const FIELDS = 13;
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since 1970. */
const POSTGRES_EPOCH_MICROS = 946_684_800_000_000;
const TWO_32 = 4_294_967_296;
/** A row's bytes besides its three texts: field count, 13 lengths, uuid, 2 int64, 6 float8, bool. */
const ROW_FIXED_BYTES = 2 + FIELDS * 4 + 16 + 2 * 8 + 6 * 8 + 1;

/** Each hex digit's value by character code, -1 for any other character. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

/** Bytes appended at `at`, growing as needed. */
class Bytes {
  bytes: Uint8Array;
  view: DataView;
  at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  int16(v: number): void {
    this.view.setInt16(this.at, v);
    this.at += 2;
  }

  int32(v: number): void {
    this.view.setInt32(this.at, v);
    this.at += 4;
  }

  /** A safe integer as int64, in two halves (no BigInt per value). */
  int64(v: number): void {
    const high = Math.floor(v / TWO_32);
    this.view.setInt32(this.at, high);
    this.view.setUint32(this.at + 4, v - high * TWO_32);
    this.at += 8;
  }

  /**
   * A float8 field, or NULL when not finite (see {@linkcode copyBinary}). -0 is written 0, as
   * `JSON.stringify` writes it in the statement, so both paths store the same value.
   */
  float8(v: number | null): void {
    if (v === null || !Number.isFinite(v)) return this.int32(-1);
    this.int32(8);
    this.view.setFloat64(this.at, v + 0);
    this.at += 8;
  }

  /** A text field, UTF-8; ASCII byte by byte, anything else by TextEncoder. */
  text(s: string): void {
    this.room(4 + s.length * 3);
    const start = this.at + 4;
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.bytes[start + i] = c;
    }
    let length = i;
    if (i < s.length) {
      length += ENCODER.encodeInto(s.slice(i), this.bytes.subarray(start + i)).written;
    }
    this.view.setInt32(this.at, length);
    this.at = start + length;
  }

  /** A uuid field from its 36-character text; false when it is not one. */
  uuid(s: string): boolean {
    if (s.length !== 36) return false;
    this.int32(16);
    for (let i = 0; i < 36; i += 2) {
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (s.charCodeAt(i++) !== 45) return false; // the dash; the pair starts after it
      }
      const a = s.charCodeAt(i), b = s.charCodeAt(i + 1);
      const hi = a < 128 ? HEX[a] : -1, lo = b < 128 ? HEX[b] : -1;
      if (hi < 0 || lo < 0) return false;
      this.bytes[this.at++] = (hi << 4) | lo;
    }
    return true;
  }
}

const ENCODER = new TextEncoder();

/**
 * The rows as one binary COPY, each with its mark; `undefined` when a row cannot be written
 * exactly (an id that is not a uuid, an event time too far out for a microsecond count in a
 * double): the caller then writes the batch by the statement, which says what is wrong with it.
 * A number not finite is written NULL, as `JSON.stringify` writes it in the statement, so both
 * refuse such a row alike (the columns are NOT NULL).
 *
 * @param rows The readings, in the order they are written.
 * @param markOf Each row's mark (the write plan's).
 * @throws Error when a row has no mark: the plan and the rows disagree, a bug.
 */
export function copyBinary(
  rows: readonly SensorRow[],
  markOf: (id: string) => ReadingMark | undefined,
): Uint8Array | undefined {
  const out = new Bytes(HEADER.length + 2 + rows.length * (ROW_FIXED_BYTES + 64));
  out.bytes.set(HEADER);
  out.at = HEADER.length;
  for (const row of rows) {
    const mark = markOf(row.id);
    if (mark === undefined) throw new Error(`the write plan has no mark for row ${row.id}`);
    const micros = epochMicros(row.timestamp_ts) - POSTGRES_EPOCH_MICROS;
    if (!Number.isSafeInteger(micros) || !Number.isSafeInteger(mark.seq)) return undefined;
    // Room for the row's fixed-size fields before its first text, and again after each text
    // (text() makes room for itself only).
    out.room(ROW_FIXED_BYTES);
    out.int16(FIELDS);
    if (!out.uuid(row.id)) return undefined;
    out.text(row.id_dispositivo);
    out.text(row.timestamp);
    out.room(ROW_FIXED_BYTES);
    out.int32(8);
    out.int64(micros);
    out.float8(row.temperatura);
    out.float8(row.umidade);
    out.float8(row.latitude);
    out.float8(row.longitude);
    out.text(row.status);
    out.room(ROW_FIXED_BYTES);
    out.float8(row.bateria);
    out.int32(1);
    out.bytes[out.at++] = row.alerta ? 1 : 0;
    out.int32(8);
    out.int64(mark.seq);
    out.float8(mark.score);
  }
  out.room(2);
  out.int16(-1);
  return out.bytes.subarray(0, out.at);
}
