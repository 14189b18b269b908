/**
 * One Kafka client workload in its own process, so its RSS and CPU can be read from /proc.
 * Run by bench/kafka_clients.ts; prints one JSON line with the result on stdout.
 *
 *     deno run -A bench/kafka_client_worker.ts <kafkajs|platformatic> <consume|produce|produce-bulk>
 *       <brokers> <topic> <count>
 *
 * - consume: a new consumer group reads `count` messages of `topic` from the earliest offset
 *   (kafkajs with the consumer's own settings: 1 MiB per partition, 3 partitions at once).
 * - produce: the producer service's pattern: batches of 500, idempotent, acks=all, one send at a
 *   time; the fleet's messages are generated before the clock starts.
 * - produce-bulk: batches of 5000, acks=all, 4 sends in flight (the preload's pattern).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  compatibilityPartitioner,
  Consumer as PlatConsumer,
  ProduceAcks,
  Producer as PlatProducer,
  stringSerializers,
} from "@platformatic/kafka";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { Fleet } from "../producer/fleet.ts";

/** The line the worker prints. */
export interface WorkerResult {
  /** Messages handled. */
  messages: number;
  /** Seconds from connected to done (consumers: from before connecting, join included). */
  seconds: number;
  /** Messages per second. */
  msgsPerS: number;
  /** Connecting, ms (consumers: until the first message, group join included). */
  connectMs: number;
  /** Per-send acknowledgement time, ms (producers). */
  sendP50Ms?: number;
  /** Per-send acknowledgement time, ms (producers). */
  sendP99Ms?: number;
}

type Client = "kafkajs" | "platformatic";
type Mode = "consume" | "produce" | "produce-bulk";

function messages(count: number): { key: string; value: string }[] {
  const fleet = new Fleet(1000, 11);
  const now = Date.now();
  return Array.from({ length: count }, () => {
    const reading = fleet.nextReading(now);
    return { key: reading.key, value: JSON.stringify(reading.payload) };
  });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function consumeKafkajs(brokers: string[], topic: string, count: number) {
  const kafka = new Kafka({ clientId: "bench-kafkajs", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `bench-kafkajs-${crypto.randomUUID()}`,
    maxBytesPerPartition: 1024 * 1024,
  });
  const t0 = performance.now();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = Promise.withResolvers<void>();
  let seen = 0;
  let bytes = 0;
  let first = 0;
  await consumer.run({
    autoCommit: true,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (first === 0) first = performance.now();
      for (const m of batch.messages) bytes += m.value?.length ?? 0;
      seen += batch.messages.length;
      resolveOffset(batch.lastOffset());
      if (seen >= count) done.resolve();
      await Promise.resolve();
    },
  });
  await done.promise;
  const end = performance.now();
  await consumer.disconnect();
  return { seen, bytes, first, end, t0 };
}

async function consumePlatformatic(brokers: string[], topic: string, count: number) {
  const consumer = new PlatConsumer({
    clientId: "bench-platformatic",
    groupId: `bench-plat-${crypto.randomUUID()}`,
    bootstrapBrokers: brokers,
    maxBytesPerPartition: 1024 * 1024,
  });
  const t0 = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: true });
  const done = Promise.withResolvers<void>();
  let seen = 0;
  let bytes = 0;
  let first = 0;
  stream.on("data", (message) => {
    if (first === 0) first = performance.now();
    bytes += (message.value as Buffer | undefined)?.length ?? 0;
    seen++;
    if (seen >= count) done.resolve();
  });
  stream.on("error", (error) => done.reject(error));
  await done.promise;
  const end = performance.now();
  await stream.close();
  await consumer.close(true);
  return { seen, bytes, first, end, t0 };
}

async function produce(
  client: Client,
  brokers: string[],
  topic: string,
  count: number,
  bulk: boolean,
): Promise<WorkerResult> {
  const all = messages(count);
  const batchSize = bulk ? 5000 : 500;
  const inFlight = bulk ? 4 : 1;
  const t0 = performance.now();
  let send: (batch: { key: string; value: string }[]) => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (client === "kafkajs") {
    const producer = new Kafka({ clientId: "bench-kafkajs", brokers, logLevel: logLevel.NOTHING })
      .producer({
        idempotent: !bulk,
        maxInFlightRequests: bulk ? undefined : 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
    await producer.connect();
    send = (batch) => producer.send({ topic, acks: -1, messages: batch });
    close = () => producer.disconnect();
  } else {
    const producer = new PlatProducer({
      clientId: "bench-platformatic",
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      idempotent: !bulk,
      acks: ProduceAcks.ALL,
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
    });
    await producer.metadata({ topics: [topic] });
    send = (batch) => producer.send({ messages: batch.map((m) => ({ ...m, topic })) });
    close = () => producer.close();
  }
  const connected = performance.now();
  const times: number[] = [];
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < all.length; i += batchSize) {
    const started = performance.now();
    const p: Promise<unknown> = send(all.slice(i, i + batchSize)).then(() => {
      times.push(performance.now() - started);
      pending.delete(p);
    });
    pending.add(p);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  const end = performance.now();
  await close();
  times.sort((a, b) => a - b);
  const seconds = (end - connected) / 1000;
  return {
    messages: count,
    seconds: Math.round(seconds * 100) / 100,
    msgsPerS: Math.round(count / seconds),
    connectMs: Math.round(connected - t0),
    sendP50Ms: Math.round(quantile(times, 0.5) * 10) / 10,
    sendP99Ms: Math.round(quantile(times, 0.99) * 10) / 10,
  };
}

async function main(args: string[]): Promise<WorkerResult> {
  const [client, mode, brokerList, topic, countText] = args as [
    Client,
    Mode,
    string,
    string,
    string,
  ];
  const brokers = brokerList.split(",");
  const count = Number(countText);
  if (mode === "consume") {
    const r = client === "kafkajs"
      ? await consumeKafkajs(brokers, topic, count)
      : await consumePlatformatic(brokers, topic, count);
    // Timed from before connecting: group join included (connectMs says how long it took to the
    // first message), so both clients are timed the same way whatever their batching.
    const seconds = (r.end - r.t0) / 1000;
    return {
      messages: r.seen,
      seconds: Math.round(seconds * 100) / 100,
      msgsPerS: Math.round(r.seen / seconds),
      connectMs: Math.round(r.first - r.t0),
    };
  }
  return await produce(client, brokers, topic, count, mode === "produce-bulk");
}

if (import.meta.main) {
  // kafkajs's negative-timer warning is harmless noise on stderr; stdout carries the result.
  console.log(JSON.stringify(await main(Deno.args)));
  Deno.exit(0);
}
