/**
 * Proves the shared fixture against the real servers: Kafka round trip through a created
 * topic, and a fresh, isolated PostgreSQL database.
 * @module
 */

import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import postgres from "postgres";
import {
  createTopic,
  dropDatabase,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "./services.ts";

/** Rejects after `ms`: a hung consumer must fail the test, not stall CI. */
function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("[integration] startServices() is memoized and returns usable addresses", async () => {
  const first = startServices();
  assert.equal(startServices(), first, "second call must reuse the same promise");
  const { kafkaBrokers, databaseUrl } = await first;
  assert.match(kafkaBrokers, /^[^,\s]+:\d+(,[^,\s]+:\d+)*$/);
  assert.match(databaseUrl, /^postgres(ql)?:\/\//);
});

Deno.test("[integration] createTopic() then produce and consume one message", async () => {
  const topic = uniqueName("fixture_roundtrip");
  await createTopic(topic, 3);
  await createTopic(topic, 3); // idempotent with the same partition count
  await assert.rejects(createTopic(topic, 4), /already exists with 3 partitions/);

  const kafka = await kafkaClient("fixture-test");
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(meta.topics[0].partitions.length, 3);
  } finally {
    await admin.disconnect();
  }

  const key = crypto.randomUUID();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: JSON.stringify({ hello: key }) }],
    });
    assert.equal(meta.errorCode, 0);
  } finally {
    await producer.disconnect();
  }

  const consumer = kafka.consumer({ groupId: uniqueName("fixture_group") });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Promise<{ key?: string; value?: string }>((resolve) => {
      consumer.run({
        eachMessage: ({ message }) => {
          resolve({ key: message.key?.toString(), value: message.value?.toString() });
          return Promise.resolve();
        },
      });
    });
    const message = await deadline(received, 60_000, "consume");
    assert.equal(message.key, key);
    assert.deepEqual(JSON.parse(message.value ?? "null"), { hello: key });
  } finally {
    await consumer.disconnect();
  }
});

Deno.test("[integration] freshDatabase() returns an empty, writable, isolated database", async () => {
  const name = uniqueName("fixture_db");
  const url = await freshDatabase(name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ db }] = await sql<{ db: string }[]>`select current_database() as db`;
    assert.equal(db, name);
    await sql`create table probe (id int primary key, v text not null)`;
    await sql`insert into probe values (1, 'one'), (2, 'two')`;
    const rows = await sql<{ v: string }[]>`select v from probe order by id`;
    assert.deepEqual(rows.map((r) => r.v), ["one", "two"]);
  } finally {
    await sql.end();
  }

  // Asking again for the same name yields an empty database, even with the old one populated.
  const again = postgres(await freshDatabase(name), { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = await again<{ n: number }[]>`
      select count(*)::int as n from pg_tables where schemaname = 'public'`;
    assert.equal(n, 0);
  } finally {
    await again.end();
  }

  await dropDatabase(name);
  const { databaseUrl } = await startServices();
  const base = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const gone = await base`select 1 from pg_database where datname = ${name}`;
    assert.equal(gone.length, 0);
  } finally {
    await base.end();
  }
});
