/**
 * [integration] Batches compressed with every codec Kafka has, written by Kafka's own Java
 * producer (not by our code or kafkajs), are all consumed: each event stored once, offsets
 * committed, and the consumer keeps running. Uncompressed batches share the fetches with the
 * compressed ones, so one codec the consumer cannot read would stall them too.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { CACHE_DIR } from "../scripts/repo.ts";
import { KAFKA_VERSION } from "../scripts/services/kafka.ts";
import { javaBinary } from "../scripts/services/util.ts";
import { startConsumer, waitForDrain } from "../testing/processes.ts";
import { KAFKA_CONSUMER_CLIENTS, type KafkaConsumerClient } from "./config.ts";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  kafkaDataDir,
  startServices,
  uniqueName,
} from "../testing/services.ts";

const GROUP = "iot-consumer";
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
/** Per codec: enough bytes for several xerial-snappy chunks (32 KiB) and LZ4 blocks (64 KiB). */
const EVENTS_PER_CODEC = 600;
const KEYS_PER_CODEC = 4;

function reading(codec: string, i: number): Record<string, unknown> {
  return {
    ID: crypto.randomUUID(),
    ID_DISPOSITIVO: `gw-${codec}-${i % KEYS_PER_CODEC}`,
    TIMESTAMP: "2026-11-26T10:15:30.250Z",
    TEMPERATURA: 20 + (i % 10) / 10,
    UMIDADE: 48.2,
    LATITUDE: -23.5505,
    LONGITUDE: -46.6333,
    STATUS: "OK",
    BATERIA: 88,
  };
}

/**
 * Writes `lines` ("key|value") to `topic` with Kafka's ConsoleProducer and `codec`, in large
 * batches (one JVM run per codec).
 */
async function javaProduce(brokers: string, topic: string, codec: string, lines: string[]) {
  const java = await javaBinary(17, "Kafka's console producer");
  const child = new Deno.Command(java, {
    args: [
      "-Xmx256m",
      "-cp",
      `${CACHE_DIR}/kafka/${KAFKA_VERSION}/libs/*`,
      "org.apache.kafka.tools.ConsoleProducer",
      "--bootstrap-server",
      brokers,
      "--topic",
      topic,
      "--compression-codec",
      codec,
      "--producer-property",
      "batch.size=262144",
      "--producer-property",
      "linger.ms=200",
      "--producer-property",
      "acks=all",
      "--property",
      "parse.key=true",
      "--property",
      "key.separator=|",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `ConsoleProducer (${codec}) exited with ${code}:\n${output}`);
}

/**
 * The codec ids (attributes & 7) of the record batches the local broker holds for `topic`, read
 * from its segment files: proof that the Java producer really compressed what the test expects.
 */
async function codecsOnDisk(topic: string, partitions: number): Promise<Set<number>> {
  const codecs = new Set<number>();
  for (let p = 0; p < partitions; p++) {
    const path = `${kafkaDataDir()}/${topic}-${p}/00000000000000000000.log`;
    const log = await Deno.readFile(path);
    const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
    // Batch header: baseOffset int64, length int32, leaderEpoch int32, magic int8, crc int32,
    // attributes int16; `length` counts the bytes after itself.
    for (let at = 0; at + 23 <= log.length; at += 12 + view.getInt32(at + 8)) {
      codecs.add(view.getInt16(at + 21) & 7);
    }
  }
  return codecs;
}

/** The offsets the consumer group committed to Kafka, per partition. */
async function committedOffsets(topic: string): Promise<Map<number, string>> {
  const admin = (await kafkaClient("it-codecs-offsets")).admin();
  await admin.connect();
  try {
    const [{ partitions }] = await admin.fetchOffsets({ groupId: GROUP, topics: [topic] });
    return new Map(partitions.map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** The end offset of each partition. */
async function endOffsets(topic: string): Promise<Map<number, string>> {
  const admin = (await kafkaClient("it-codecs-offsets")).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, p.high]));
  } finally {
    await admin.disconnect();
  }
}

for (const client of KAFKA_CONSUMER_CLIENTS) {
  Deno.test({
    name:
      `[integration] consumer (${client}) stores every event of batches compressed with none, gzip, snappy, lz4 and zstd by Kafka's Java producer`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => everyCodecStored(client),
  });
}

async function everyCodecStored(client: KafkaConsumerClient) {
  const { kafkaBrokers } = await startServices();
  const topic = uniqueName("it_codecs");
  await createTopic(topic, 6);
  const databaseUrl = await freshDatabase(topic);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const ids: string[] = [];
  for (const codec of CODECS) {
    const lines: string[] = [];
    for (let i = 0; i < EVENTS_PER_CODEC; i++) {
      const event = reading(codec, i);
      ids.push(event.ID as string);
      lines.push(`${event.ID_DISPOSITIVO}|${JSON.stringify(event)}`);
    }
    await javaProduce(kafkaBrokers, topic, codec, lines);
  }
  assert.deepEqual([...await codecsOnDisk(topic, 6)].sort(), [0, 1, 2, 3, 4]);

  // Started after everything was written, so its first fetches mix every codec.
  const consumer = await startConsumer({
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_TOPIC: topic,
    DATABASE_URL: databaseUrl,
    KAFKA_CONSUMER_CLIENT: client,
  });
  try {
    // Watches for an early exit for as long as the drain may take (dispose() ends it).
    const exited = consumer.exited(10 * 60_000).then(async (status) => {
      const [{ stored }] = await sql<{ stored: number }[]>`
          SELECT count(*)::int AS stored FROM tb_sensor_evento`;
      const errors = consumer.logs.filter((l) => l.level === "error").map((l) => l.error ?? l.msg);
      throw new Error(
        `the consumer exited with code ${status.code} before draining, ` +
          `${stored} of ${ids.length} events stored; errors: ${JSON.stringify(errors)}`,
      );
    });
    await Promise.race([waitForDrain(sql, GROUP, topic, 90_000), exited]);

    const rows = await sql<{ id: string; n: number }[]>`
        SELECT id::text, count(*)::int AS n FROM tb_sensor_evento GROUP BY id`;
    assert.equal(rows.length, ids.length, "one row per event");
    assert.ok(rows.every((r) => r.n === 1), "no event stored twice");
    assert.deepEqual(rows.map((r) => r.id).sort(), [...ids].sort());
    const [{ rejected }] = await sql<{ rejected: number }[]>`
        SELECT count(*)::int AS rejected FROM tb_sensor_evento_rejeitado`;
    assert.equal(rejected, 0, "no event refused");

    // Kafka's committed offsets (for lag tools) follow PostgreSQL's within a commit interval.
    const ends = await endOffsets(topic);
    const deadline = Date.now() + 30_000;
    let committed = await committedOffsets(topic);
    while (Date.now() < deadline && [...ends].some(([p, end]) => committed.get(p) !== end)) {
      await new Promise((r) => setTimeout(r, 250));
      committed = await committedOffsets(topic);
    }
    assert.deepEqual(committed, ends, "Kafka's committed offsets reach the end offsets");

    assert.equal(consumer.logs.filter((l) => l.level === "error").length, 0, "no error logged");
    consumer.signal("SIGTERM");
    assert.equal((await consumer.exited()).code, 0, "the consumer was running until SIGTERM");
  } finally {
    await consumer.dispose();
    await sql.end();
  }
}
