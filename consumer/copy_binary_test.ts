import assert from "node:assert/strict";
import type { SensorRow } from "@iot/shared";
import { COPY_COLUMNS, copyBinary } from "./copy_binary.ts";
import type { ReadingMark } from "./monitoring.ts";

const ROW: SensorRow = {
  id: "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
  id_dispositivo: "sensor-0001",
  timestamp: "2026-03-01T09:00:00.123-03:00",
  timestamp_ts: "2026-03-01T12:00:00.123456Z",
  temperatura: 21.5,
  umidade: 0.1 + 0.2,
  latitude: -23.55,
  longitude: -46.63,
  status: "OK",
  bateria: 87,
  alerta: false,
};

const marksOf = (entries: [string, ReadingMark][]) => {
  const map = new Map(entries);
  return (id: string) => map.get(id);
};

/** A field: null (length -1) or its bytes. */
type Field = Uint8Array | null;

/** Reads the format back (a reader written for this test from PostgreSQL's documentation). */
function decode(bytes: Uint8Array): Field[][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.deepEqual([...bytes.subarray(0, 11)], [
    ...new TextEncoder().encode("PGCOPY\n"),
    0xff,
    0x0d,
    0x0a,
    0,
  ]);
  assert.equal(view.getInt32(11), 0, "flags");
  assert.equal(view.getInt32(15), 0, "header extension");
  let at = 19;
  const rows: Field[][] = [];
  for (;;) {
    const count = view.getInt16(at);
    at += 2;
    if (count === -1) break;
    const fields: Field[] = [];
    for (let f = 0; f < count; f++) {
      const length = view.getInt32(at);
      at += 4;
      fields.push(length === -1 ? null : bytes.subarray(at, at + length));
      if (length > 0) at += length;
    }
    rows.push(fields);
  }
  assert.equal(at, bytes.length, "nothing after the trailer");
  return rows;
}

const text = (f: Field) => new TextDecoder().decode(f!);
const float8 = (f: Field) => new DataView(f!.buffer, f!.byteOffset, 8).getFloat64(0);
const int64 = (f: Field) => new DataView(f!.buffer, f!.byteOffset, 8).getBigInt64(0);
const hex = (f: Field) => [...f!].map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("copyBinary writes each row's 13 fields in COPY_COLUMNS' order, as PostgreSQL reads them", () => {
  const bytes = copyBinary(
    [ROW, { ...ROW, id: ROW.id.toUpperCase() }],
    marksOf([
      [ROW.id, { seq: 7, score: 1.25 }],
      [ROW.id.toUpperCase(), { seq: 8, score: null }],
    ]),
  )!;
  const [first, second] = decode(bytes);
  assert.equal(first.length, COPY_COLUMNS.split(",").length);
  assert.equal(hex(first[0]), ROW.id.replaceAll("-", ""));
  assert.equal(hex(second[0]), ROW.id.replaceAll("-", ""), "upper-case hex digits read alike");
  assert.deepEqual([text(first[1]), text(first[2]), text(first[8])], [
    "sensor-0001",
    "2026-03-01T09:00:00.123-03:00",
    "OK",
  ]);
  // Microseconds since 2000-01-01T00:00:00Z.
  assert.equal(
    int64(first[3]),
    BigInt(Date.UTC(2026, 2, 1, 12) - Date.UTC(2000, 0, 1)) * 1000n + 123456n,
  );
  assert.deepEqual(
    [first[4], first[5], first[6], first[7], first[9]].map(float8),
    [21.5, 0.1 + 0.2, -23.55, -46.63, 87],
  );
  assert.deepEqual([...first[10]!], [0]);
  assert.deepEqual([int64(first[11]), float8(first[12])], [7n, 1.25]);
  assert.deepEqual([int64(second[11]), second[12]], [8n, null], "a score in warm-up is NULL");
});

Deno.test("copyBinary writes text as UTF-8, a number not finite as NULL, -0 as 0, and times before 2000 negative", () => {
  const [row] = decode(
    copyBinary(
      [{
        ...ROW,
        id_dispositivo: "ä-device:7/b_c.d",
        status: "O\tK\\",
        timestamp_ts: "1999-12-31T23:59:59.999999Z",
        temperatura: Infinity,
        umidade: NaN,
        latitude: -0,
        alerta: true,
      }],
      marksOf([[ROW.id, { seq: 2 ** 40 + 3, score: 0 }]]),
    )!,
  );
  assert.deepEqual([text(row[1]), text(row[8])], ["ä-device:7/b_c.d", "O\tK\\"]);
  assert.equal(int64(row[3]), -1n);
  assert.deepEqual([row[4], row[5]], [null, null]);
  assert.ok(Object.is(float8(row[6]), 0), "-0 is written 0, as the statement's JSON has it");
  assert.deepEqual([...row[10]!], [1]);
  assert.equal(int64(row[11]), 2n ** 40n + 3n);
});

Deno.test("copyBinary grows past its first estimate for long texts", () => {
  const long = "é".repeat(5000);
  const [row] = decode(
    copyBinary([{ ...ROW, status: long }], marksOf([[ROW.id, { seq: 1, score: 0 }]]))!,
  );
  assert.equal(text(row[8]), long);
});

Deno.test("copyBinary gives up on a row it cannot write exactly, and refuses a row without a mark", () => {
  const mark = marksOf([[ROW.id, { seq: 1, score: 0 }], ["not-a-uuid", { seq: 1, score: 0 }]]);
  assert.equal(copyBinary([{ ...ROW, id: "not-a-uuid" }], mark), undefined);
  assert.equal(
    copyBinary(
      [{ ...ROW, id: ROW.id.replace("3f", "3g") }],
      marksOf([[ROW.id.replace("3f", "3g"), { seq: 1, score: 0 }]]),
    ),
    undefined,
  );
  assert.equal(
    copyBinary([{ ...ROW, timestamp_ts: "2300-01-01T00:00:00.000000Z" }], mark),
    undefined,
  );
  assert.throws(() => copyBinary([ROW], marksOf([])), /no mark for row 3f1c2a4e/);
});
