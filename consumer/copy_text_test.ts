import assert from "node:assert/strict";
import type { SensorRow } from "@iot/shared";
import { COPY_COLUMNS, copyText } from "./copy_text.ts";
import type { ReadingMark } from "./monitoring.ts";

const ROW: SensorRow = {
  id: "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
  id_dispositivo: "sensor-0001",
  timestamp: "2026-03-01T12:00:00.123Z",
  timestamp_ts: "2026-03-01T12:00:00.123000Z",
  temperatura: 21.5,
  umidade: 0.1 + 0.2,
  latitude: -23.55,
  longitude: -46.63,
  status: "OK",
  bateria: 87,
  alerta: false,
};

const marks = (entries: [string, ReadingMark][]) => {
  const map = new Map(entries);
  return (id: string) => map.get(id);
};

Deno.test("copyText writes one tab-separated line per row, in COPY_COLUMNS' order", () => {
  const text = copyText([ROW], marks([[ROW.id, { seq: 7, score: 1.25 }]]));
  assert.equal(
    text,
    "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b\tsensor-0001\t2026-03-01T12:00:00.123Z\t" +
      "2026-03-01T12:00:00.123000Z\t21.5\t0.30000000000000004\t-23.55\t-46.63\tOK\t87\tf\t7\t1.25\n",
  );
  assert.equal(text.split("\t").length, COPY_COLUMNS.split(",").length);
});

Deno.test("copyText writes a score in warm-up as NULL and an alert as t", () => {
  const text = copyText([{ ...ROW, alerta: true }], marks([[ROW.id, { seq: 1, score: null }]]));
  assert.match(text, /\tt\t1\t\\N\n$/);
});

Deno.test("copyText escapes backslash, tab, newline and carriage return in text fields", () => {
  const text = copyText(
    [{ ...ROW, id_dispositivo: "a\tb\\c", timestamp: "x\ny\rz" }],
    marks([[ROW.id, { seq: 1, score: 0 }]]),
  );
  const fields = text.slice(0, -1).split("\t");
  assert.equal(fields[1], "a\\tb\\\\c");
  assert.equal(fields[2], "x\\ny\\rz");
});

Deno.test("copyText writes numbers as their shortest exact text and a number not finite as NULL", () => {
  const text = copyText(
    [{ ...ROW, temperatura: 1e21, umidade: 5e-324, bateria: Infinity, latitude: -0 }],
    marks([[ROW.id, { seq: 2 ** 53 - 1, score: NaN }]]),
  );
  const fields = text.slice(0, -1).split("\t");
  assert.deepEqual(
    [fields[4], fields[5], fields[6], fields[9], fields[11], fields[12]],
    ["1e+21", "5e-324", "0", "\\N", "9007199254740991", "\\N"],
  );
});

Deno.test("copyText refuses a row the plan has no mark for", () => {
  assert.throws(() => copyText([ROW], marks([])), /no mark for row 3f1c2a4e/);
});
