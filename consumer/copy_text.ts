/**
 * A batch's readings as the text of `COPY tb_sensor_evento FROM STDIN`: the write path's fast way
 * to insert them (store_write.ts). PostgreSQL spends about 11 µs of CPU a row on this against
 * about 19 µs for the same rows read from a JSON document and inserted `ON CONFLICT`
 * (bench/statement_cost.sql, figures in bench/README.md).
 *
 * Pure: no I/O. The text is PostgreSQL's default COPY text format: one line per row, columns
 * separated by tabs, `\N` for NULL, and backslash, tab, newline and carriage return escaped.
 *
 * @module
 */

import type { SensorRow } from "@iot/shared";
import type { ReadingMark } from "./monitoring.ts";

/** The columns of {@linkcode copyText}'s lines, in order, as a COPY column list. */
export const COPY_COLUMNS =
  'id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, ' +
  "status, bateria, alerta, seq_dispositivo, escore_anomalia";

/** The statement that reads {@linkcode copyText}'s lines into the table. */
export const COPY_ROWS = `COPY tb_sensor_evento (${COPY_COLUMNS}) FROM STDIN`;

/** Characters COPY's text format gives a meaning to. */
const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** A text field: as is unless it holds a character COPY would read as syntax. */
function text(value: string): string {
  return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : value;
}

/**
 * A number field. Not finite is written NULL, as `JSON.stringify` writes it in the statement
 * path, so both paths refuse such a row alike (the columns are NOT NULL). `String(n)` is the
 * shortest text that reads back as the same double, which PostgreSQL's float8 input parses exactly.
 */
function number(value: number | null): string {
  return value !== null && Number.isFinite(value) ? String(value) : "\\N";
}

/**
 * The rows as COPY text, each with its mark.
 *
 * @param rows The readings, in the order they are written.
 * @param markOf Each row's mark (the write plan's).
 * @throws Error when a row has no mark: the plan and the rows disagree, a bug.
 */
export function copyText(
  rows: readonly SensorRow[],
  markOf: (id: string) => ReadingMark | undefined,
): string {
  let out = "";
  for (const row of rows) {
    const mark = markOf(row.id);
    if (mark === undefined) throw new Error(`the write plan has no mark for row ${row.id}`);
    out += `${row.id}\t${text(row.id_dispositivo)}\t${text(row.timestamp)}\t${
      text(row.timestamp_ts)
    }\t${number(row.temperatura)}\t${number(row.umidade)}\t${number(row.latitude)}\t${
      number(row.longitude)
    }\t${text(row.status)}\t${number(row.bateria)}\t${row.alerta ? "t" : "f"}\t${
      number(mark.seq)
    }\t${number(mark.score)}\n`;
  }
  return out;
}
