/**
 * [integration] PostgresStore on the real server: the answers the in-memory store of the unit
 * tests (consumer/testing/memory_store.ts) stands in for.
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { DEFAULT_ALERT_RULE, toRow, validateEvent } from "@iot/shared";
import type { BatchRow, PartitionKey } from "./event_store.ts";
import { migrate } from "./migrations.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";
import { RECEIVED_AT, SAMPLE_EVENT } from "../testing/payloads.ts";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function row(n: number, temperature: number): BatchRow {
  const result = validateEvent(
    JSON.stringify({ ...SAMPLE_EVENT, ID: id(n), TEMPERATURA: temperature }),
    RECEIVED_AT,
  );
  assert.ok(result.ok);
  return { ...toRow(result.event, id(n), DEFAULT_ALERT_RULE), ahead: false };
}

async function setUp(prefix: string) {
  const url = await freshDatabase(uniqueName(prefix));
  const sql = connectDatabase(url, 4, "store-it");
  await migrate(sql);
  const key: PartitionKey = { groupId: "g", topic: "iot.sensors", partition: 0 };
  return { url, sql, store: new PostgresStore(sql), key };
}

const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const NEW_TOPIC_ID = "f5a04b6c-0ba6-4e82-b31d-045c33d45347";

function at(nextOffset: string, topicId = TOPIC_ID) {
  return { nextOffset, topicId };
}

Deno.test("[integration] PostgresStore.writeBatch() names every conflicting id of a batch at once", async () => {
  const { sql, store, key } = await setUp("store_conflicts");
  try {
    await store.claimOffset(key, at("0"));
    const first = [row(1, 20), row(2, 20), row(3, 20)];
    const write = { ...key, expectedOffset: "0", topicId: TOPIC_ID, nextOffset: "3", rejects: [] };
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
    // waits for it on the primary key, and must then return that row (it threw a TypeError). The
    // other member runs a release from before topic IDs: its row is given the claimed one.
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const otherClaim = other.begin(async (tx) => {
      await tx`INSERT INTO tb_kafka_offset (group_id, topic, partition, next_offset)
        VALUES (${key.groupId}, ${key.topic}, ${key.partition}, 7)`;
      await committed;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const claim = store.claimOffset(key, at("0"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    commit();
    await otherClaim;
    assert.deepEqual(await claim, at("7"));
  } finally {
    await other.end();
    await sql.end();
  }
});

Deno.test("[integration] PostgresStore keeps the topic ID with the offset and fences on it", async (t) => {
  const { sql, store, key } = await setUp("store_topic_id");
  try {
    await t.step(
      "a first claim stores the topic ID, a later one returns the stored one",
      async () => {
        assert.deepEqual(await store.claimOffset(key, at("4")), at("4"));
        assert.deepEqual(await store.claimOffset(key, at("0", NEW_TOPIC_ID)), at("4"));
      },
    );
    await t.step(
      "a write expecting another topic ID is fenced, the same offset notwithstanding",
      async () => {
        const write = {
          ...key,
          expectedOffset: "4",
          nextOffset: "5",
          rows: [row(1, 20)],
          rejects: [],
        };
        assert.deepEqual(await store.writeBatch({ ...write, topicId: NEW_TOPIC_ID }), {
          kind: "fenced",
        });
        assert.deepEqual(await store.writeRow({ ...write, topicId: NEW_TOPIC_ID }, row(1, 20)), {
          kind: "fenced",
        });
        assert.deepEqual(await store.writeBatch({ ...write, topicId: TOPIC_ID }), {
          kind: "written",
          inserted: 1,
        });
      },
    );
    await t.step("resetOffset() moves only from the fence's offset and topic ID", async () => {
      const fence = { ...key, expectedOffset: "5", topicId: TOPIC_ID };
      assert.equal(
        await store.resetOffset({ ...fence, expectedOffset: "4" }, at("0", NEW_TOPIC_ID)),
        false,
      );
      assert.equal(
        await store.resetOffset({ ...fence, topicId: NEW_TOPIC_ID }, at("0", NEW_TOPIC_ID)),
        false,
      );
      assert.equal(await store.resetOffset(fence, at("0", NEW_TOPIC_ID)), true);
      assert.deepEqual(await store.claimOffset(key, at("9")), at("0", NEW_TOPIC_ID));
    });
    await t.step(
      "a row without topic ID (an operator's fix, an old release) takes the claimed one",
      async () => {
        await sql`UPDATE tb_kafka_offset SET topic_id = NULL, next_offset = 2`;
        assert.deepEqual(await store.claimOffset(key, at("7")), at("2"));
        const [stored] = await sql`SELECT topic_id::text FROM tb_kafka_offset`;
        assert.equal(stored.topic_id, TOPIC_ID);
      },
    );
    await t.step("idKey() is made once by the migration and stays", async () => {
      const first = await store.idKey();
      assert.match(first, /^[0-9a-f]{64}$/);
      await migrate(sql);
      await sql`DELETE FROM tb_schema_version`;
      await migrate(sql); // runs the whole script again
      assert.equal(await store.idKey(), first);
    });
  } finally {
    await sql.end();
  }
});
