/**
 * [integration] The reject table's bounds on the real server: a large refused message is stored
 * as its first bytes with the whole one's length and SHA-256, and old rejects are deleted in
 * batches, by one replica at a time.
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import postgres from "postgres";
import { Counter, Registry } from "prom-client";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import { migrate } from "./migrations.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { deleteOldRejects, RETENTION_LOCK_KEY, startRetention } from "./retention.ts";
import { planBatch } from "./transform.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function setUp(prefix: string) {
  const url = await freshDatabase(uniqueName(prefix));
  const sql = connectDatabase(url, 4, "rejects-it");
  await migrate(sql);
  return { url, sql };
}

/** `count` rejects stored `days` days ago, at offsets from `from`. */
async function oldRejects(sql: postgres.Sql, count: number, days: number, from = 0) {
  await sql`
    INSERT INTO tb_sensor_evento_rejeitado (topico, particao, offset_kafka, payload, motivos,
      dt_carga)
    SELECT 't', 0, ${from}::bigint + n, '\\x00', '[]', now() - make_interval(days => ${days}::int)
    FROM generate_series(0, ${count - 1}::int) AS n`;
}

Deno.test("[integration] PostgresStore stores a 1 MiB refused message as its first REJECT_MAX_STORED_BYTES, with the whole one's length and SHA-256", async () => {
  const { sql } = await setUp("rejects_bounded");
  try {
    const store = new PostgresStore(sql);
    const key = { groupId: "g", topic: "iot.sensors", partition: 0 };
    const topicId = "7c3d6a0e-5b1f-4e8a-9d2c-1a2b3c4d5e6f";
    await store.claimOffset(key, { nextOffset: "0", topicId });
    const junk = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) % 256);
    const longKey = new Uint8Array(70_000).fill(0x6b);
    const small = new TextEncoder().encode("not json");
    const plan = planBatch(
      { idKey: "test", topicId },
      0,
      [
        { offset: "0", key: longKey, value: junk, timestampMs: Date.now() },
        { offset: "1", key: null, value: small, timestampMs: Date.now() },
      ],
      DEFAULT_ALERT_RULE,
      Date.now(),
      65_536,
      300,
    );
    const result = await store.writeBatch({
      ...key,
      expectedOffset: "0",
      topicId,
      nextOffset: "2",
      rows: [],
      rejects: plan.rejects,
    });
    assert.deepEqual(result, { kind: "written", inserted: 0 });
    const rows = await sql`
      SELECT offset_kafka::int AS o, octet_length(payload) AS stored, payload_bytes,
        encode(payload_sha256, 'hex') AS payload_sha256, encode(sha256(payload), 'hex') AS head,
        octet_length(chave) AS key_stored, chave_bytes, encode(chave_sha256, 'hex') AS chave_sha256
      FROM tb_sensor_evento_rejeitado ORDER BY offset_kafka`;
    assert.deepEqual([...rows], [{
      o: 0,
      stored: 65_536,
      payload_bytes: 1024 * 1024,
      payload_sha256: sha256(junk),
      head: sha256(junk.subarray(0, 65_536)),
      key_stored: 65_536,
      chave_bytes: 70_000,
      chave_sha256: sha256(longKey),
    }, {
      o: 1,
      stored: small.byteLength,
      payload_bytes: small.byteLength,
      payload_sha256: sha256(small),
      head: sha256(small),
      key_stored: null,
      chave_bytes: null,
      chave_sha256: null,
    }]);
    const [{ size }] = await sql<{ size: number }[]>`
      SELECT sum(pg_column_size(t.*))::int AS size FROM tb_sensor_evento_rejeitado t`;
    assert.ok(size < 2 * 65_536 + 4096, `the table holds ${size} bytes for 1.1 MB received`);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] deleteOldRejects() deletes a batch of rejects past the retention, none newer, and nothing while another replica holds the lock", async () => {
  const { url, sql } = await setUp("rejects_retention");
  const other = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await oldRejects(sql, 5, 31);
    await oldRejects(sql, 2, 29, 100);
    const reserved = await other.reserve();
    await reserved`SELECT pg_advisory_lock(${RETENTION_LOCK_KEY.toString()}::bigint)`;
    assert.deepEqual(await deleteOldRejects(sql, 30, 3), { held: false, deleted: 0 });
    await reserved`SELECT pg_advisory_unlock(${RETENTION_LOCK_KEY.toString()}::bigint)`;
    reserved.release();
    assert.deepEqual(await deleteOldRejects(sql, 30, 3), { held: true, deleted: 3 });
    assert.deepEqual(await deleteOldRejects(sql, 30, 3), { held: true, deleted: 2 });
    assert.deepEqual(await deleteOldRejects(sql, 30, 3), { held: true, deleted: 0 });
    const left = await sql`SELECT offset_kafka::int AS o FROM tb_sensor_evento_rejeitado
      ORDER BY offset_kafka`;
    assert.deepEqual(left.map((r) => r.o), [100, 101], "the 29-day-old ones are kept");
  } finally {
    await other.end();
    await sql.end();
  }
});

Deno.test("[integration] startRetention() purges the backlog at start in batches, counts and logs it, and two replicas delete each row once", async () => {
  const { sql } = await setUp("rejects_job");
  const registry = new Registry();
  const deleted = new Counter({ name: "deleted", help: "-", registers: [registry] });
  const infos: [string, Record<string, unknown> | undefined][] = [];
  const log = {
    ...quiet,
    info: (msg: string, f?: Record<string, unknown>) => infos.push([msg, f]),
  };
  try {
    await oldRejects(sql, 2500, 40);
    await oldRejects(sql, 3, 1, 10_000);
    const stops = [
      startRetention({
        run: (statement) => statement(sql),
        days: 30,
        deleted,
        log,
        intervalMs: 3_600_000,
      }),
      startRetention({
        run: (statement) => statement(sql),
        days: 30,
        deleted,
        log,
        intervalMs: 3_600_000,
      }),
    ];
    const deadline = Date.now() + 30_000;
    while ((await deleted.get()).values[0].value < 2500 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const stop of stops) await stop();
    assert.equal((await deleted.get()).values[0].value, 2500, "every old row counted once");
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM tb_sensor_evento_rejeitado`;
    assert.equal(n, 3);
    const logged = infos.filter(([m]) => m === "old rejects deleted");
    assert.equal(logged.reduce((sum, [, f]) => sum + (f!.rows as number), 0), 2500);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] startRetention() with REJECT_RETENTION_DAYS=0 deletes nothing", async () => {
  const { sql } = await setUp("rejects_forever");
  const deleted = new Counter({ name: "deleted", help: "-", registers: [] });
  try {
    await oldRejects(sql, 3, 3650);
    await startRetention({ run: (statement) => statement(sql), days: 0, deleted, log: quiet })();
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM tb_sensor_evento_rejeitado`;
    assert.equal(n, 3);
  } finally {
    await sql.end();
  }
});
