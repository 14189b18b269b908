/**
 * [integration] The malformed-input corpus against a real consumer process, on the shared fixture
 * (testing/services.ts): every class gets its specified outcome, checked by the same checker as
 * the chaos run, and none crashes the consumer or stalls its partition. Also the isolation of an
 * event the database itself refuses.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import postgres from "postgres";
import { startConsumer, waitForDrain } from "../testing/processes.ts";
import { fetchTopicId } from "@iot/shared/kafka";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";
import { CONSUMER_SETTINGS } from "../consumer/config.ts";
import { check, type LogMessage } from "./checker.ts";
import { CORPUS, CORPUS_TOPIC_CONFIG, randomReading } from "./corpus.ts";
import { digestOf, Ledger } from "./ledger.ts";
import { monitoringEnv, RUN_MONITORING } from "./monitoring.ts";
import { Rng } from "./rng.ts";
import { prepareDatabase, readDatabase, storedOffsets, storedTopicIds } from "./stack.ts";

const GROUP = "iot-consumer";
const PARTITIONS = 3;

async function setUp(prefix: string) {
  const { kafkaBrokers } = await startServices();
  const topic = uniqueName(prefix);
  await createTopic(topic, PARTITIONS, CORPUS_TOPIC_CONFIG);
  const databaseUrl = await freshDatabase(topic);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const producer = (await kafkaClient("chaos-corpus")).producer();
  await producer.connect();
  const env = { KAFKA_BROKERS: kafkaBrokers, KAFKA_TOPIC: topic, DATABASE_URL: databaseUrl };
  return { topic, sql, producer, env };
}

Deno.test({
  name:
    "[integration] every corpus class gets its specified outcome, and none crashes or stalls the consumer",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const it = await setUp("chaos_corpus");
    await prepareDatabase(it.sql); // the consumer's own migration, plus the offset audit
    // The monitoring settings the checker's replay follows (chaos/monitoring.ts).
    const consumer = await startConsumer({ ...it.env, ...monitoringEnv() });
    try {
      const rng = new Rng(4242);
      const ledger = new Ledger();
      const log: LogMessage[] = [];
      const nowMs = Date.now();
      for (const cls of CORPUS) {
        const base = randomReading(rng, `corpus-${log.length}`, nowMs);
        const ctx = { base, baseMs: Date.parse(base.TIMESTAMP), nowMs, rng, hugeBytes: 900_000 };
        for (const m of cls.make(ctx)) {
          const key = m.key === undefined ? base.ID_DISPOSITIVO : m.key;
          const entry = ledger.add({
            key,
            digest: digestOf(m.value),
            size: m.value?.length ?? 0,
            class: cls.name,
            intent: "corpus",
            expect: m.expect,
          });
          // The record's timestamp is set here, so the checker knows which readings are ahead.
          const timestampMs = Date.now();
          const [meta] = await it.producer.send({
            topic: it.topic,
            acks: -1,
            // The partition is chosen here: kafkajs's default partitioner hashes a 1 MiB string
            // key in about 200 s (measured; a 1 MiB value or a given partition takes 30-60 ms).
            messages: [{
              partition: partitionOf(key),
              key,
              value: m.value === null ? null : Buffer.from(m.value),
              timestamp: String(timestampMs),
            }],
          });
          ledger.acked.add(entry.seq);
          log.push({
            partition: meta.partition,
            offset: meta.baseOffset!,
            seq: entry.seq,
            digest: entry.digest,
            timestampMs,
          });
        }
      }
      await waitForDrain(it.sql, GROUP, it.topic);
      const topicId = await fetchTopicId(await kafkaClient(), it.topic);
      const db = await readDatabase(it.sql, it.topic, 0, [topicId]);
      const end = Object.fromEntries(
        [...Map.groupBy(log, (m) => m.partition)].map((
          [p, ms],
        ) => [p, String(Math.max(...ms.map((m) => Number(m.offset))) + 1)]),
      );
      const result = check({
        topic: it.topic,
        topicIds: [topicId],
        idKey: db.idKey,
        ledger: ledger.entries,
        acked: ledger.acked,
        log,
        rows: db.rows,
        rejects: db.rejects,
        devices: db.devices,
        monitoring: { ...db.monitoring, settings: RUN_MONITORING },
        deviceFutureToleranceS: CONSUMER_SETTINGS.DEVICE_FUTURE_TOLERANCE_S.default,
        storedOffsets: await storedOffsets(it.sql, GROUP, it.topic),
        storedTopicIds: await storedTopicIds(it.sql, GROUP, it.topic),
        endOffsets: end,
        transitions: db.transitions,
        faults: [],
        exits: [],
        memory: [],
        // One consumer, no faults, no memory samples: nothing to recover from or to measure.
        notApplicable: ["recovered", "memory-stable"],
        drain: { ok: true, healedAtMs: Infinity, tookMs: 0 },
        limits: {
          recoveryMs: 0,
          memoryMaxBytes: Infinity,
          memoryGrowthRatio: Infinity,
          crashLoopExits: 1,
          crashLoopWindowMs: 0,
        },
      });
      const byClass = result.violations.map((v) => `${v.class ?? "-"}: ${v.message}`);
      assert.deepEqual(byClass, [], "every class has its specified outcome");
      assert.ok(CORPUS.length >= 40, `${CORPUS.length} classes`);
      assert.equal(await consumer.metric("iot_consumer_events_consumed_total"), log.length);
      assert.deepEqual(consumer.otherOutput, [], "every output line is JSON: nothing crashed");
      assert.equal(consumer.logs.filter((l) => l.level === "error").length, 0, "no error logged");
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0, "graceful stop exits 0");
      await it.producer.disconnect();
      await it.sql.end();
    }
  },
});

Deno.test({
  name:
    "[integration] an event the database refuses goes to the reject table and the rest of its batch is written",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const it = await setUp("chaos_refused");
    const consumer = await startConsumer(it.env);
    try {
      // A constraint the validator knows nothing about: only PostgreSQL can refuse this event.
      await it.sql`ALTER TABLE tb_sensor_evento
        ADD CONSTRAINT chaos_refuses_one_device CHECK (id_dispositivo <> 'refused-by-db')`;
      const rng = new Rng(7);
      const readings = Array.from(
        { length: 20 },
        (_, i) => randomReading(rng, i === 9 ? "refused-by-db" : `batch-${i}`, Date.now()),
      );
      // One send to one partition: they arrive in one batch, the refused event twice (an exact
      // re-send must be rejected with it, not dropped as a duplicate of a row never stored).
      const [meta] = await it.producer.send({
        topic: it.topic,
        acks: -1,
        messages: [...readings, readings[9]].map((r) => ({
          partition: 1,
          key: r.ID_DISPOSITIVO,
          value: JSON.stringify(r),
        })),
      });
      await waitForDrain(it.sql, GROUP, it.topic);
      const rows = await it.sql<
        { id: string }[]
      >`SELECT id::text FROM tb_sensor_evento ORDER BY id`;
      assert.deepEqual(
        rows.map((r) => r.id),
        readings.filter((_, i) => i !== 9).map((r) => r.ID).sort(),
        "the other 19 events are written",
      );
      const rejects = await it.sql<
        { offset: string; motivos: { code: string; message: string }[]; payload: Uint8Array }[]
      >`
        SELECT offset_kafka::text AS offset, motivos, payload FROM tb_sensor_evento_rejeitado`;
      const base = BigInt(meta.baseOffset!);
      assert.deepEqual(rejects.map((r) => r.offset).sort(), [
        String(base + 20n),
        String(base + 9n),
      ]);
      for (const reject of rejects) {
        assert.equal(reject.motivos[0].code, "database_refused");
        assert.match(reject.motivos[0].message, /chaos_refuses_one_device/);
        assert.equal(new TextDecoder().decode(reject.payload), JSON.stringify(readings[9]));
      }
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await it.producer.disconnect();
      await it.sql.end();
    }
  },
});

Deno.test({
  name:
    "[integration] a conflicting reading sent twice in one batch is rejected twice, not dropped once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const it = await setUp("chaos_twice");
    const consumer = await startConsumer(it.env);
    try {
      const original = randomReading(new Rng(9), "twice-1", Date.now());
      const send = (values: unknown[]) =>
        it.producer.send({
          topic: it.topic,
          acks: -1,
          messages: values.map((v) => ({ partition: 0, key: "twice-1", value: JSON.stringify(v) })),
        });
      await send([original]);
      await waitForDrain(it.sql, GROUP, it.topic);
      // The same other reading of that id, twice, in one later batch.
      const other = { ...original, TEMPERATURA: original.TEMPERATURA + 1 };
      const [meta] = await send([other, other]);
      await waitForDrain(it.sql, GROUP, it.topic);
      const rejects = await it.sql<{ offset: string; code: string }[]>`
        SELECT offset_kafka::text AS offset, motivos -> 0 ->> 'code' AS code
        FROM tb_sensor_evento_rejeitado ORDER BY offset_kafka`;
      const base = BigInt(meta.baseOffset!);
      assert.deepEqual(rejects.map((r) => [r.offset, r.code]), [
        [String(base), "duplicate_id_conflict"],
        [String(base + 1n), "duplicate_id_conflict"],
      ]);
      const [row] = await it.sql`SELECT temperatura FROM tb_sensor_evento`;
      assert.equal(row.temperatura, original.TEMPERATURA, "the first reading is kept");
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0);
      await it.producer.disconnect();
      await it.sql.end();
    }
  },
});

/** The same partition for the same key, as a key partitioner gives (FNV-1a over its text). */
function partitionOf(key: string | null): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < (key ?? "").length; i++) {
    hash = Math.imul(hash ^ key!.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % PARTITIONS;
}
