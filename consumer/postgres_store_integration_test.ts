/**
 * [integration] PostgresStore on the real server: the answers the in-memory store of the unit
 * tests (consumer/testing/memory_store.ts) stands in for.
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { DEFAULT_ALERT_RULE, type SensorRow, toRow, validateEvent } from "@iot/shared";
import type { PartitionKey } from "./event_store.ts";
import { migrate } from "./migrations.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";
import { RECEIVED_AT, SAMPLE_EVENT } from "../testing/payloads.ts";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function row(n: number, temperature: number): SensorRow {
  const result = validateEvent(
    JSON.stringify({ ...SAMPLE_EVENT, ID: id(n), TEMPERATURA: temperature }),
    RECEIVED_AT,
  );
  assert.ok(result.ok);
  return toRow(result.event, id(n), DEFAULT_ALERT_RULE);
}

async function setUp(prefix: string) {
  const url = await freshDatabase(uniqueName(prefix));
  const sql = connectDatabase(url, 4, "store-it");
  await migrate(sql);
  const key: PartitionKey = { groupId: "g", topic: "iot.sensors", partition: 0 };
  return { url, sql, store: new PostgresStore(sql), key };
}

Deno.test("[integration] PostgresStore.writeBatch() names every conflicting id of a batch at once", async () => {
  const { sql, store, key } = await setUp("store_conflicts");
  try {
    await store.claimOffset(key, "0");
    const first = [row(1, 20), row(2, 20), row(3, 20)];
    const write = { ...key, expectedOffset: "0", nextOffset: "3", rejects: [] };
    assert.deepEqual(await store.writeBatch({ ...write, rows: first }), {
      kind: "written",
      inserted: 3,
    });
    await sql`UPDATE tb_kafka_offset SET next_offset = 0`;
    const result = await store.writeBatch({
      ...write,
      rows: [row(1, 30), row(2, 20), row(3, 31), row(4, 20)],
    });
    assert.equal(result.kind, "conflict");
    assert.deepEqual(result.kind === "conflict" && [...result.ids].sort(), [id(1), id(3)]);
    const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tb_sensor_evento`;
    assert.equal(n, 3, "nothing of the refused statement was written");
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] PostgresStore.claimOffset() returns the row another member is committing", async () => {
  const { url, sql, store, key } = await setUp("store_claim_race");
  const other = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Another member inserts the same partition's offset row and has not committed yet: the claim
    // waits for it on the primary key, and must then return that row (it threw a TypeError).
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const otherClaim = other.begin(async (tx) => {
      await tx`INSERT INTO tb_kafka_offset (group_id, topic, partition, next_offset)
        VALUES (${key.groupId}, ${key.topic}, ${key.partition}, 7)`;
      await committed;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const claim = store.claimOffset(key, "0");
    await new Promise((resolve) => setTimeout(resolve, 300));
    commit();
    await otherClaim;
    assert.equal(await claim, "7");
  } finally {
    await other.end();
    await sql.end();
  }
});
