/**
 * [integration] The COPY path of a batch's write (store_write.ts): rows stored exactly as sent,
 * and a COPY PostgreSQL refuses (an id stored already, a value it cannot read) leaves no
 * transaction open and hands the batch to the statement, whose answer is the write's.
 * @module
 */

import assert from "node:assert/strict";
import type { Sql } from "postgres";
import type { BatchRow } from "./event_store.ts";
import { migrate } from "./migrations.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { COPY_MIN_ROWS } from "./store_write.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

const TOPIC_ID = "7c0c8a36-54a4-4b43-9d4a-3a1f0c2e9b11";
const KEY = { groupId: "g", topic: "t", partition: 0 };

let serial = 0;
function reading(extra: Partial<BatchRow> = {}): BatchRow {
  const n = ++serial;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    id_dispositivo: "dev-1",
    timestamp: `2026-03-01T00:00:${String(n % 60).padStart(2, "0")}Z`,
    timestamp_ts: `2026-03-01T00:00:${String(n % 60).padStart(2, "0")}.000000Z`,
    temperatura: 20,
    umidade: 50,
    latitude: 0,
    longitude: 0,
    status: "OK",
    bateria: 80,
    alerta: false,
    ahead: false,
    ...extra,
  };
}

/** Every batch by COPY unless told otherwise (`{}`: the store's default threshold). */
async function setUp(
  prefix: string,
  { copyMinRows }: { copyMinRows?: number } = { copyMinRows: 1 },
) {
  const sql = connectDatabase(await freshDatabase(uniqueName(prefix)), 4, "copy-it");
  await migrate(sql);
  const replans = { version: 0, deadlock: 0, resent: 0, copy: 0 };
  const store = new PostgresStore(
    sql,
    undefined,
    100,
    (reason) => replans[reason]++,
    copyMinRows,
  );
  await store.claimOffset(KEY, { nextOffset: "0", topicId: TOPIC_ID });
  const write = (offset: number, ...rows: BatchRow[]) =>
    store.writeBatch({
      ...KEY,
      topicId: TOPIC_ID,
      expectedOffset: String(offset),
      nextOffset: String(offset + 1),
      rows,
      rejects: [],
    });
  return { sql, write, replans };
}

/** Sessions of this database left inside a transaction (a COPY whose failure was never seen). */
async function openTransactions(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
  return n;
}

async function storedOffset(sql: Sql): Promise<string> {
  const [{ next }] = await sql<{ next: string }[]>`
    SELECT next_offset::text AS next FROM tb_kafka_offset`;
  return next;
}

Deno.test("[integration] rows written by COPY are stored exactly as sent, with their marks", async () => {
  const { sql, write, replans } = await setUp("copy_exact");
  try {
    const rows = [
      reading({ temperatura: 0.1 + 0.2, umidade: 1e-7, latitude: -0, longitude: -179.99999999 }),
      reading({
        id_dispositivo: "ä-device:7/b_c.d",
        timestamp: "2026-03-01T05:30:02+05:30",
        timestamp_ts: "2026-03-01T00:00:02.000000Z",
        temperatura: 123456.789012345,
        status: "WARN",
        bateria: 14.9,
        alerta: true,
      }),
      reading({ timestamp: "1772323203000", status: "ERROR" }),
    ];
    assert.deepEqual(await write(0, ...rows), { kind: "written", inserted: 3 });
    assert.deepEqual(replans, { version: 0, deadlock: 0, resent: 0, copy: 0 }, "no fallback");
    const stored = await sql<Record<string, unknown>[]>`
      SELECT id::text, id_dispositivo, "timestamp",
        to_char(timestamp_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS timestamp_ts,
        temperatura, umidade, latitude, longitude, status, bateria, alerta,
        seq_dispositivo::int AS seq, escore_anomalia
      FROM tb_sensor_evento ORDER BY id`;
    assert.deepEqual(
      [...stored],
      rows.map(({ ahead: _, ...row }, i) => ({
        ...row,
        // -0 is stored as 0, as the statement's JSON writes it.
        latitude: Object.is(row.latitude, -0) ? 0 : row.latitude,
        seq: [1, 1, 2][i], // per device: the second row is another device's first
        escore_anomalia: null,
      })),
    );
    assert.equal(await storedOffset(sql), "1");
    assert.equal(await openTransactions(sql), 0);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] a COPY that meets a stored id rolls back, and the statement writes the batch without it", async () => {
  const { sql, write, replans } = await setUp("copy_resend");
  try {
    const first = reading();
    await write(0, first, reading());
    const next = reading();
    assert.deepEqual(await write(1, first, next), { kind: "written", inserted: 1 });
    assert.deepEqual(replans, { version: 0, deadlock: 0, resent: 1, copy: 1 });
    const [{ rows, ids }] = await sql<{ rows: number; ids: number }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM tb_sensor_evento`;
    assert.deepEqual({ rows, ids }, { rows: 3, ids: 3 });
    const [{ readings }] = await sql<{ readings: number }[]>`
      SELECT qt_leituras::int AS readings FROM tb_dispositivo`;
    assert.equal(readings, 3, "the re-sent reading was folded once");
    assert.equal(await storedOffset(sql), "2");
    assert.equal(await openTransactions(sql), 0);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] by default a batch of COPY_MIN_ROWS rows goes by COPY, a smaller one as the statement", async () => {
  // A stored id in the batch tells the paths apart: COPY fails on it and falls back (copy: 1).
  const { sql, write, replans } = await setUp("copy_threshold", {});
  try {
    const stored = reading();
    await write(0, stored);
    const fresh = (n: number) => Array.from({ length: n }, () => reading());
    await write(1, stored, ...fresh(COPY_MIN_ROWS - 2));
    assert.deepEqual(replans, { version: 0, deadlock: 0, resent: 1, copy: 0 }, "statement");
    await write(2, stored, ...fresh(COPY_MIN_ROWS - 1));
    assert.deepEqual(replans, { version: 0, deadlock: 0, resent: 2, copy: 1 }, "COPY");
    const [{ rows }] = await sql<
      { rows: number }[]
    >`SELECT count(*)::int AS rows FROM tb_sensor_evento`;
    assert.equal(rows, 1 + (COPY_MIN_ROWS - 2) + (COPY_MIN_ROWS - 1));
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] a value PostgreSQL refuses fails the COPY; the statement refuses the batch with its SQLSTATE", async () => {
  const { sql, write, replans } = await setUp("copy_refused");
  try {
    // Text PostgreSQL cannot store (NUL): refused by COPY, and by the statement with its SQLSTATE.
    const bad = reading({ status: "O\u0000K" });
    const result = await write(0, reading(), bad);
    assert.equal(result.kind, "refused");
    assert.equal(result.kind === "refused" && result.sqlstate.slice(0, 2), "22");
    assert.equal(replans.copy, 1);
    const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tb_sensor_evento`;
    assert.equal(n, 0, "nothing of the refused batch is stored");
    assert.equal(await storedOffset(sql), "0", "the offset did not move");
    assert.equal(await openTransactions(sql), 0);
    // The connections are usable: the next write at the same offset goes through COPY.
    assert.deepEqual(await write(0, reading()), { kind: "written", inserted: 1 });
    assert.equal(replans.copy, 1);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] a batch whose fence does not hold stops its COPY: nothing stored, the connection usable", async () => {
  const { sql, write, replans } = await setUp("copy_fenced");
  try {
    assert.deepEqual(await write(0, reading()), { kind: "written", inserted: 1 });
    // A zombie's batch: it expects offset 0, which another writer has moved past.
    assert.deepEqual(await write(0, reading(), reading()), { kind: "fenced" });
    const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tb_sensor_evento`;
    assert.equal(n, 1, "the fenced batch stored nothing");
    assert.equal(await openTransactions(sql), 0);
    for (let offset = 1; offset <= 6; offset++) {
      assert.deepEqual(await write(offset, reading()), { kind: "written", inserted: 1 });
    }
    assert.deepEqual(replans, { version: 0, deadlock: 0, resent: 0, copy: 0 });
    assert.equal(await storedOffset(sql), "7");
  } finally {
    await sql.end();
  }
});
