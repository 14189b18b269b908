/**
 * [integration] The consumer as a real process, on the real Kafka and PostgreSQL that the shared
 * fixture (testing/services.ts) starts. Events are sent by a plain kafkajs client, not by our
 * producer, as any other device gateway would.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import postgres from "postgres";
import { deriveEventId } from "@iot/shared";
import { fetchTopicId } from "@iot/shared/kafka";
import { eventually, startConsumer, waitForDrain } from "../testing/processes.ts";
import { KAFKA_CONSUMER_CLIENTS, type KafkaConsumerClient } from "./config.ts";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";

const GROUP = "iot-consumer";
const enc = new TextEncoder();

interface Sent {
  partition: number;
  offset: string;
  value: Uint8Array | null;
}

/** A fresh topic and database, a raw kafkajs producer, and the environment for a consumer. */
async function setUp(prefix: string, partitions = 6) {
  const { kafkaBrokers } = await startServices();
  const topic = uniqueName(prefix);
  await createTopic(topic, partitions);
  const databaseUrl = await freshDatabase(topic);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const producer = (await kafkaClient("it-gateway")).producer();
  await producer.connect();
  const env = { KAFKA_BROKERS: kafkaBrokers, KAFKA_TOPIC: topic, DATABASE_URL: databaseUrl };
  /** Sends one message and returns where it landed. */
  const sendOne = async (key: string, value: Uint8Array | string | null): Promise<Sent> => {
    const bytes = typeof value === "string" ? enc.encode(value) : value;
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: bytes === null ? null : Buffer.from(bytes) }],
    });
    return { partition: meta.partition, offset: meta.baseOffset!, value: bytes };
  };
  /** Sends many messages in batches (offsets not tracked). */
  const sendMany = async (messages: { key: string; value: string }[]) => {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  };
  const tearDown = async () => {
    await producer.disconnect();
    await sql.end();
  };
  return { topic, sql, env, sendOne, sendMany, tearDown };
}

function reading(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ID: crypto.randomUUID(),
    ID_DISPOSITIVO: "gw-device-1",
    TIMESTAMP: "2026-11-26T10:15:30.250Z",
    TEMPERATURA: 21.5,
    UMIDADE: 48.2,
    LATITUDE: -23.5505,
    LONGITUDE: -46.6333,
    STATUS: "OK",
    BATERIA: 88,
    ...overrides,
  };
}

/** Malformed messages and the reason code the consumer must store for each. */
const MALFORMED: [string, Uint8Array | string | null, string][] = [
  ["not JSON", "hello sensor", "not_json"],
  ["truncated JSON", '{"ID_DISPOSITIVO":"d","TEMPERATURA":2', "not_json"],
  ["binary garbage", new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x81]), "not_utf8"],
  ["empty value", "", "payload_empty"],
  ["tombstone", null, "payload_empty"],
  ["JSON array", "[1,2,3]", "not_object"],
  ["JSON null", "null", "not_object"],
  ["oversized", JSON.stringify(reading({ padding: "x".repeat(20_000) })), "payload_too_large"],
  ["temperature as string", JSON.stringify(reading({ TEMPERATURA: "21.5" })), "invalid_type"],
  ["humidity 101", JSON.stringify(reading({ UMIDADE: 101 })), "out_of_range"],
  ["latitude -91", JSON.stringify(reading({ LATITUDE: -91 })), "out_of_range"],
  ["status lowercase", JSON.stringify(reading({ STATUS: "ok" })), "invalid_value"],
  [
    "impossible date",
    JSON.stringify(reading({ TIMESTAMP: "2026-02-30T00:00:00Z" })),
    "invalid_date",
  ],
  ["epoch seconds", JSON.stringify(reading({ TIMESTAMP: 1795688130 })), "out_of_range"],
  ["bad uuid", JSON.stringify(reading({ ID: "not-a-uuid" })), "invalid_format"],
  [
    "SQL in device id",
    JSON.stringify(reading({ ID_DISPOSITIVO: "x'); DROP TABLE t;--" })),
    "invalid_format",
  ],
  ["missing battery", JSON.stringify({ ...reading(), BATERIA: undefined }), "missing_field"],
];

Deno.test({
  name:
    "[integration] consumer stores each valid event once, in every spelling, and each invalid one with its reason",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const it = await setUp("it_corpus");
    const consumer = await startConsumer(it.env);
    try {
      const canonical = reading({ TEMPERATURA: 35, BATERIA: 15 }); // both bounds: no alert
      const hot = reading({ TEMPERATURA: 35.01 });
      const drained = reading({ BATERIA: 14.9, TIMESTAMP: "2026-11-26T07:15:30-03:00" });
      const legacy = {
        device_id: "legacy-7",
        timestamp: "2026-11-26 10:15:30",
        temperature: 19.25,
        humidity: 40,
        latitude: 10,
        longitude: 20,
        status: "WARN",
        battery: 50,
      };
      const humidade: Record<string, unknown> = {
        ...reading(),
        UMIDADE: undefined,
        HUMIDADE: 33.3,
      };
      const epoch = reading({ TIMESTAMP: 1795688130250 });
      const conflicting = { ...canonical, TEMPERATURA: 99 };

      const sent = {
        canonical: await it.sendOne("gw-device-1", JSON.stringify(canonical)),
        resend: await it.sendOne("gw-device-1", JSON.stringify(canonical)),
        hot: await it.sendOne("gw-device-1", JSON.stringify(hot)),
        drained: await it.sendOne("gw-device-1", JSON.stringify(drained)),
        legacy: await it.sendOne("legacy-7", JSON.stringify(legacy)),
        humidade: await it.sendOne("gw-device-1", JSON.stringify(humidade)),
        epoch: await it.sendOne("gw-device-1", JSON.stringify(epoch)),
        conflicting: await it.sendOne("gw-device-1", JSON.stringify(conflicting)),
      };
      const malformed: [string, Sent, string][] = [];
      for (const [name, value, code] of MALFORMED) {
        malformed.push([name, await it.sendOne("bad", value), code]);
      }
      await waitForDrain(it.sql, GROUP, it.topic);

      const rows = await it.sql`SELECT id::text, id_dispositivo, "timestamp", timestamp_ts,
        temperatura, umidade, status, bateria, alerta FROM tb_sensor_evento`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      // Derived from Kafka's topic ID (asked of Kafka here) and the database's derivation key.
      const topicId = await fetchTopicId(await kafkaClient(), it.topic);
      const [{ key }] = await it.sql<{ key: string }[]>`SELECT key FROM tb_derived_id_key`;
      const legacyId = deriveEventId(key, topicId, sent.legacy.partition, sent.legacy.offset);
      const expectedIds = [canonical.ID, hot.ID, drained.ID, humidade.ID, epoch.ID, legacyId];
      assert.deepEqual([...byId.keys()].sort(), (expectedIds as string[]).sort());

      assert.equal(byId.get(canonical.ID)!.alerta, false, "35 °C and 15 % raise no alert");
      assert.equal(byId.get(canonical.ID)!.temperatura, 35, "the first reading of an id wins");
      assert.equal(byId.get(hot.ID)!.alerta, true);
      assert.equal(byId.get(drained.ID)!.alerta, true);
      assert.equal(
        (byId.get(drained.ID)!.timestamp_ts as Date).toISOString(),
        "2026-11-26T10:15:30.000Z",
      );
      assert.equal(byId.get(drained.ID)!.timestamp, "2026-11-26T07:15:30-03:00");
      assert.equal(byId.get(legacyId)!.id_dispositivo, "legacy-7");
      assert.equal(
        (byId.get(legacyId)!.timestamp_ts as Date).toISOString(),
        "2026-11-26T10:15:30.000Z",
        "a timestamp without zone is UTC",
      );
      assert.equal(byId.get(humidade.ID as string)!.umidade, 33.3);
      assert.equal(byId.get(epoch.ID)!.timestamp, "1795688130250");
      assert.equal(
        (byId.get(epoch.ID)!.timestamp_ts as Date).toISOString(),
        "2026-11-26T10:15:30.250Z",
      );

      const rejects = await it.sql`SELECT particao, offset_kafka::text, payload, motivos
        FROM tb_sensor_evento_rejeitado`;
      const rejectAt = new Map(rejects.map((r) => [`${r.particao}/${r.offset_kafka}`, r]));
      assert.equal(rejects.length, malformed.length + 1);
      const conflict = rejectAt.get(`${sent.conflicting.partition}/${sent.conflicting.offset}`);
      assert.equal(conflict?.motivos[0].code, "duplicate_id_conflict");
      for (const [name, where, code] of malformed) {
        const stored = rejectAt.get(`${where.partition}/${where.offset}`);
        assert.ok(stored, `${name}: stored in the reject table`);
        assert.equal(stored.motivos[0].code, code, `${name}: reason`);
        assert.equal(typeof stored.motivos[0].message, "string");
        assert.deepEqual(
          new Uint8Array(stored.payload),
          where.value ?? new Uint8Array(),
          `${name}: payload kept byte for byte`,
        );
      }
      assert.equal(
        await consumer.metric("iot_consumer_events_consumed_total"),
        8 + MALFORMED.length,
      );
      assert.equal(await consumer.metric("iot_consumer_duplicates_total"), 1);
      assert.deepEqual(consumer.otherOutput, [], "every output line is JSON");
      // Kafka's committed offsets follow PostgreSQL's, so lag tools and autoscalers see progress.
      const stored = await it.sql<{ partition: number; next_offset: string; topic_id: string }[]>`
        SELECT partition, next_offset::text, topic_id::text FROM tb_kafka_offset
        WHERE topic = ${it.topic}`;
      assert.ok(stored.length > 0);
      assert.ok(stored.every((row) => row.topic_id === topicId), "offsets kept with the topic ID");
      await eventually(async () => {
        const admin = (await kafkaClient()).admin();
        await admin.connect();
        const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [it.topic] });
        await admin.disconnect();
        return stored.every((row) =>
          committed.partitions.find((p) => p.partition === row.partition)?.offset ===
            row.next_offset
        );
      }, "kafka committed offsets equal to the stored ones");
    } finally {
      consumer.signal("SIGTERM");
      assert.equal((await consumer.exited()).code, 0, "graceful stop exits 0");
      await it.tearDown();
    }
  },
});

Deno.test({
  name:
    "[integration] a re-send of a stored reading is a duplicate even behind a conflicting reading of its id in one batch",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Found by the chaos suite: the batch's first reading of the id (the conflicting one) was
    // refused by the database, and the re-send behind it stayed rejected as its conflict.
    const it = await setUp("it_rival", 1);
    const consumer = await startConsumer(it.env);
    try {
      const stored = reading();
      await it.sendOne("gw-device-1", JSON.stringify(stored));
      await waitForDrain(it.sql, GROUP, it.topic);
      const conflicting = JSON.stringify({ ...stored, TEMPERATURA: 99 });
      // One request: both land in the same fetch, hence the same batch.
      await it.sendMany([
        { key: "gw-device-1", value: conflicting },
        { key: "gw-device-1", value: JSON.stringify(stored) },
        { key: "gw-device-1", value: JSON.stringify(stored) },
      ]);
      await waitForDrain(it.sql, GROUP, it.topic);
      const rows = await it.sql`SELECT temperatura FROM tb_sensor_evento`;
      assert.deepEqual(rows.map((r) => r.temperatura), [21.5]);
      const rejects = await it.sql`SELECT offset_kafka::int AS o, payload, motivos
        FROM tb_sensor_evento_rejeitado`;
      assert.deepEqual(
        rejects.map((r) => [r.o, new TextDecoder().decode(r.payload), r.motivos[0].code]),
        [[1, conflicting, "duplicate_id_conflict"]],
      );
      assert.equal(await consumer.metric("iot_consumer_duplicates_total"), 2);
    } finally {
      await consumer.dispose();
      await it.tearDown();
    }
  },
});

/** `count` valid events over 60 devices; one in ten in the legacy format (no ID). */
function stream(count: number, from = 0): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    const device = `dev-${i % 60}`;
    const timestamp = new Date(Date.UTC(2026, 10, 26) + i * 1000).toISOString();
    const value = i % 10 === 0
      ? {
        device_id: device,
        timestamp,
        temperature: 20 + (i % 17),
        humidity: 50,
        latitude: 1,
        longitude: 2,
        status: "OK",
        battery: 10 + (i % 80),
      }
      : reading({ ID_DISPOSITIVO: device, TIMESTAMP: timestamp, BATERIA: 10 + (i % 80) });
    return { key: device, value: JSON.stringify(value) };
  });
}

/** Rows, distinct ids, and distinct (device, timestamp) pairs: all equal when nothing doubled. */
async function census(sql: postgres.Sql) {
  const [row] = await sql<{ rows: number; ids: number; readings: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids,
      count(DISTINCT (id_dispositivo, "timestamp"))::int AS readings FROM tb_sensor_evento`;
  return row;
}

for (const client of KAFKA_CONSUMER_CLIENTS) {
  Deno.test({
    name:
      `[integration] a consumer (${client}) killed with SIGKILL mid-stream and restarted loses nothing and duplicates nothing`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => killedAndRestarted(client),
  });
}

async function killedAndRestarted(client: KafkaConsumerClient) {
  const it = await setUp("it_sigkill");
  // The killed member holds its partitions until its session expires: keep that short.
  const env = { ...it.env, KAFKA_SESSION_TIMEOUT_MS: "8000", KAFKA_CONSUMER_CLIENT: client };
  const total = 60_000;
  await it.sendMany(stream(total));
  const first = await startConsumer(env);
  try {
    await eventually(async () => (await census(it.sql)).rows >= 3000, "first rows");
    first.signal("SIGKILL");
    await first.exited();
    const atKill = (await census(it.sql)).rows;
    assert.ok(atKill < total, `killed mid-stream (${atKill} of ${total} rows were written)`);

    const second = await startConsumer(env);
    try {
      await waitForDrain(it.sql, GROUP, it.topic);
      assert.deepEqual(await census(it.sql), { rows: total, ids: total, readings: total });
      const [{ rejects }] = await it
        .sql`SELECT count(*)::int AS rejects FROM tb_sensor_evento_rejeitado`;
      assert.equal(rejects, 0);
    } finally {
      second.signal("SIGTERM");
      assert.equal((await second.exited()).code, 0);
    }
  } finally {
    await first.dispose();
    await it.tearDown();
  }
}

// Mixed: the group of a rolling switch of KAFKA_CONSUMER_CLIENT, where one member of each client
// must share the partitions (both name kafkajs's assignment protocol).
for (
  const [clientA, clientB] of [
    ["kafkajs", "kafkajs"],
    ["platformatic", "platformatic"],
    ["platformatic", "kafkajs"],
  ] as const
) {
  Deno.test({
    name:
      `[integration] two consumers (${clientA}, ${clientB}) share a 6-partition topic, and when one leaves the other takes over`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => sharedThenTakenOver(clientA, clientB),
  });
}

async function sharedThenTakenOver(clientA: KafkaConsumerClient, clientB: KafkaConsumerClient) {
  const it = await setUp("it_group");
  const a = await startConsumer({ ...it.env, KAFKA_CONSUMER_CLIENT: clientA });
  const b = await startConsumer({ ...it.env, KAFKA_CONSUMER_CLIENT: clientB });
  try {
    const partitionsOf = (c: typeof a) =>
      (c.logs.findLast((l) => l.msg === "joined consumer group")?.partitions as number[]) ?? [];
    await eventually(
      () => Promise.resolve(partitionsOf(a).length === 3 && partitionsOf(b).length === 3),
      "three partitions each",
    );
    assert.deepEqual([...partitionsOf(a), ...partitionsOf(b)].sort(), [0, 1, 2, 3, 4, 5]);

    await it.sendMany(stream(20_000));
    await waitForDrain(it.sql, GROUP, it.topic);
    const writtenByA = await a.metric("iot_consumer_rows_written_total");
    const writtenByB = await b.metric("iot_consumer_rows_written_total");
    assert.ok(writtenByA > 0 && writtenByB > 0, `both worked: ${writtenByA} and ${writtenByB}`);
    assert.equal(writtenByA + writtenByB, 20_000);

    // B leaves while events keep arriving: A must take B's partitions and miss nothing.
    const more = it.sendMany(stream(20_000, 20_000));
    b.signal("SIGTERM");
    assert.equal((await b.exited()).code, 0, "graceful leave exits 0");
    await more;
    await eventually(() => Promise.resolve(partitionsOf(a).length === 6), "A owns all six");
    await waitForDrain(it.sql, GROUP, it.topic);
    assert.deepEqual(await census(it.sql), { rows: 40_000, ids: 40_000, readings: 40_000 });
    assert.equal(await b.get("/healthz").catch(() => undefined), undefined, "B is gone");
  } finally {
    a.signal("SIGTERM");
    assert.equal((await a.exited()).code, 0);
    await b.dispose();
    await it.tearDown();
  }
}
