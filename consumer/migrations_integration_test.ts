/**
 * [integration] Migrations on the real server: they run once per schema version, and a migration
 * that cannot get its locks gives up instead of queueing every writer behind it.
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { migrate, SCHEMA_VERSION } from "./migrations.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

/** Holds `statement`'s lock in another session until the returned function is called. */
async function holding(url: string, statement: string): Promise<() => Promise<void>> {
  const other = postgres(url, { max: 1, onnotice: () => {} });
  const locked = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const done = other.begin(async (tx) => {
    await tx.unsafe(statement);
    locked.resolve();
    await release.promise;
  });
  await locked.promise;
  return async () => {
    release.resolve();
    await done;
    await other.end();
  };
}

Deno.test("[integration] migrate() runs the DDL once per version, then locks nothing", async () => {
  const url = await freshDatabase(uniqueName("migrate_once"));
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    assert.equal(await migrate(sql), "migrated");
    const [row] = await sql`SELECT version FROM tb_schema_version`;
    assert.equal(row.version, SCHEMA_VERSION);
    // A replica restarting while the table is locked (a long write, a VACUUM FULL): the DDL would
    // wait for the lock, with every write queued behind it. At the current version it is skipped.
    const release = await holding(url, "LOCK TABLE tb_sensor_evento IN ACCESS EXCLUSIVE MODE");
    try {
      const started = performance.now();
      assert.equal(await migrate(sql, 60_000), "current");
      assert.ok(performance.now() - started < 5_000, "returned without waiting for the lock");
    } finally {
      await release();
    }
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] migrate() gives up on a lock it cannot get, with SQLSTATE 55P03", async () => {
  const url = await freshDatabase(uniqueName("migrate_lock"));
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    await migrate(sql);
    await sql`DELETE FROM tb_schema_version`; // as if this release's schema were new
    const release = await holding(url, "LOCK TABLE tb_sensor_evento IN ACCESS EXCLUSIVE MODE");
    try {
      await assert.rejects(() => migrate(sql, 300), (error: { code?: string }) => {
        assert.equal(error.code, "55P03");
        return true;
      });
    } finally {
      await release();
    }
    assert.equal(await migrate(sql), "migrated", "and succeeds once the lock is free");
  } finally {
    await sql.end();
  }
});
