import assert from "node:assert/strict";
import type { Sql } from "postgres";
import { DEFAULT_ALERT_RULE } from "@iot/shared";
import { boundedStore, DatabasePool, DatabaseTimeoutError, withDeadline } from "./database_pool.ts";
import type { BatchWrite } from "./event_store.ts";
import { createConsumerMetrics } from "./metrics.ts";
import { Pipeline } from "./pipeline.ts";
import type { PartitionBatch } from "./source.ts";
import { MemoryStore } from "./testing/memory_store.ts";
import { RECEIVED_AT, SAMPLE_EVENT } from "../testing/payloads.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const never = () => new Promise<never>(() => {});

/** A stand-in for a postgres.js pool: only `end` is called on it here. */
function fakePool(name: string, ended: string[]): Sql {
  return {
    name,
    end: (o: unknown) => (ended.push(`${name} ${JSON.stringify(o)}`), Promise.resolve()),
  } as unknown as Sql;
}

Deno.test("withDeadline() settles as the operation does when it answers in time", async () => {
  let expired = 0;
  assert.equal(await withDeadline("op", 1000, Promise.resolve(7), () => expired++), 7);
  await assert.rejects(
    withDeadline("op", 1000, Promise.reject(new Error("connection lost")), () => expired++),
    /connection lost/,
  );
  assert.equal(expired, 0);
});

Deno.test("withDeadline() rejects with DatabaseTimeoutError once, and ignores a late answer", async () => {
  let expired = 0;
  const late = Promise.withResolvers<number>();
  await assert.rejects(
    withDeadline("write batch", 20, late.promise, () => expired++),
    (error: Error) => {
      assert.ok(error instanceof DatabaseTimeoutError);
      assert.equal(
        error.message,
        "no answer from PostgreSQL within 0.02 s (write batch); connections reset",
      );
      return true;
    },
  );
  late.reject(new Error("CONNECTION_DESTROYED")); // no unhandled rejection
  assert.equal(expired, 1);
});

Deno.test("DatabasePool replaces a stuck pool once, ends it at once, and runs on the new one", async () => {
  const ended: string[] = [];
  let opened = 0;
  const pool = new DatabasePool(() => fakePool(`pool${++opened}`, ended), 20);
  const first = pool.sql;
  // Two operations stuck on the same pool: the second expiry must not replace the new pool.
  const stuck = [pool.run("a", never), pool.run("b", never)];
  for (const op of stuck) await assert.rejects(op, DatabaseTimeoutError);
  assert.notEqual(pool.sql, first);
  assert.equal(opened, 2);
  assert.equal(pool.resets, 1);
  assert.deepEqual(ended, ['pool1 {"timeout":0}']);
  assert.equal(await pool.run("c", (sql) => Promise.resolve(sql)), pool.sql);
});

Deno.test("DatabasePool: an operation cut short by another's timeout reports that timeout", async () => {
  const destroyed = Promise.withResolvers<never>();
  const pool = new DatabasePool(() => {
    const sql = fakePool("pool", []);
    // What postgres.js's end({ timeout: 0 }) does to the queries still on the pool.
    sql.end = () => (destroyed.reject(new Error("write CONNECTION_DESTROYED")), Promise.resolve());
    return sql;
  }, 40);
  const timedOut = pool.run("write batch", never);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const cutShort = pool.run("claim offset", () => destroyed.promise);
  await assert.rejects(timedOut, DatabaseTimeoutError);
  await assert.rejects(cutShort, (error: Error) => {
    assert.ok(error instanceof DatabaseTimeoutError);
    assert.match(error.message, /within 0.04 s \(write batch\); connections reset/);
    assert.match(String(error.cause), /CONNECTION_DESTROYED/);
    return true;
  });
  // On a pool that was not reset, an error stays what it was.
  await assert.rejects(pool.run("x", () => Promise.reject(new Error("ECONNREFUSED"))), {
    message: "ECONNREFUSED",
  });
});

/** A store that writes the first batch and then loses the reply until its pool is ended. */
class LostReplyStore extends MemoryStore {
  constructor(readonly pool: DatabasePool, readonly stuckOn: Sql, readonly onEnd: Promise<void>) {
    super();
  }
  override async writeBatch(batch: BatchWrite) {
    const result = await super.writeBatch(batch);
    if (this.pool.sql !== this.stuckOn) return result;
    await this.onEnd; // committed, but the answer never arrives...
    throw new Error("CONNECTION_DESTROYED"); // ...until the reset destroys the connection
  }
}

Deno.test("Pipeline on a bounded store: a lost reply is reported, then the batch is stored once", async () => {
  const destroyed = Promise.withResolvers<void>();
  let opened = 0;
  const pool = new DatabasePool(() => {
    const sql = fakePool(`pool${++opened}`, []);
    if (opened === 1) sql.end = () => (destroyed.resolve(), Promise.resolve());
    return sql;
  }, 30);
  const store = new LostReplyStore(pool, pool.sql, destroyed.promise);
  const pipeline = new Pipeline({
    store: boundedStore(store, pool),
    groupId: "g",
    alertRule: DEFAULT_ALERT_RULE,
    metrics: createConsumerMetrics(),
    log: quiet,
    now: () => RECEIVED_AT,
    rejectMaxStoredBytes: 65536,
    // Kafka as the pipeline sees it: one topic that was never re-created.
    topicLog: {
      topicId: () => Promise.resolve("5bdfec01-1a90-4b30-8c2f-7fe3937582ee"),
      logStart: () => Promise.resolve("0"),
    },
    offsetMismatch: "stop",
    deviceFutureToleranceS: 300,
  });
  const asked: string[] = [];
  const problems: (string | undefined)[] = [];
  const batch: PartitionBatch = {
    topic: "iot.sensors",
    partition: 0,
    records: [0, 1].map((offset) => ({
      offset: String(offset),
      key: null,
      value: new TextEncoder().encode(
        JSON.stringify({ ...SAMPLE_EVENT, ID: `00000000-0000-4000-8000-00000000000${offset}` }),
      ),
      timestampMs: RECEIVED_AT,
    })),
    highWatermark: "2",
    fetchedAt: performance.now(),
    resolveOffset: (offset) => asked.push(`resolve ${offset}`),
    commit: () => Promise.resolve(),
    seek: (offset) => asked.push(`seek ${offset}`),
    heartbeat: () => (problems.push(pipeline.databaseProblem()), Promise.resolve()),
    isCurrent: () => true,
    pause: () => {},
  };
  await pipeline.handle(batch);
  assert.deepEqual(problems, [
    "no answer from PostgreSQL within 0.03 s (write batch); connections reset",
  ]);
  assert.equal(pipeline.databaseProblem(), undefined, "ready again once the database answers");
  assert.equal(store.rows.size, 2);
  assert.equal(store.offsets.get("iot.sensors/0"), "2");
  // The retry found the offset moved by its own committed attempt: fenced, not written twice.
  assert.deepEqual(asked, ["seek 2"]);
  assert.deepEqual(store.calls, ["batch 2 rows, 0 rejects", "batch 2 rows, 0 rejects"]);
});
