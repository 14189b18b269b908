/**
 * The sender of the run's workload: gets the messages into Kafka in order per partition, through
 * broker crashes and a topic that grows, with every compression codec Kafka has.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { CompressionTypes, type Kafka, type Producer } from "kafkajs";
import type { Ledger } from "./ledger.ts";
import { SEQ_HEADER } from "./stack.ts";
import type { Outgoing } from "./workload.ts";

/** The codecs batches are sent with, in turn (registered with kafkajs by `registerKafkaCodecs`). */
const CODECS: readonly [string, CompressionTypes][] = [
  ["none", CompressionTypes.None],
  ["gzip", CompressionTypes.GZIP],
  ["snappy", CompressionTypes.Snappy],
  ["lz4", CompressionTypes.LZ4],
  ["zstd", CompressionTypes.ZSTD],
];

/** kafkajs's words for a broker that does not know (or no longer accepts) a producer's state. */
const PRODUCER_STATE_LOST = /producer ?id|sequence number|producer.*epoch|UNKNOWN_PRODUCER/i;

/** Gets messages into Kafka in order per partition, retrying through outages. */
export class Sender {
  readonly #queue: Outgoing[] = [];
  #producer: Producer | undefined;
  #stopping = false;
  #done: Promise<void> | undefined;
  #paused: PromiseWithResolvers<void> | undefined;
  #idle = Promise.resolve();
  #renew = false;
  /** Failed send attempts (each retried). */
  failures = 0;
  /** Batches Kafka acknowledged, by compression codec. */
  readonly batchesByCodec: Record<string, number> = {};
  #sends = 0;

  constructor(
    readonly kafka: Kafka,
    readonly topic: string,
    readonly ledger: Ledger,
    readonly note: (msg: string, fields?: Record<string, unknown>) => void,
  ) {}

  /** Messages waiting. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Queues messages. */
  enqueue(messages: Outgoing[]): void {
    this.#queue.push(...messages);
  }

  /** Starts the send loop. */
  start(): void {
    this.#done = this.#loop();
  }

  /**
   * Stops taking batches (messages keep queuing) and resolves once the send in flight, if any,
   * has finished: everything Kafka acknowledged is then in the topic.
   */
  async pause(): Promise<void> {
    this.#paused ??= Promise.withResolvers();
    await this.#idle;
  }

  /**
   * Sends again. With `renew`, through a new producer: after the topic was re-created or the
   * broker's data wiped, the old producer's ID and sequence numbers mean nothing to Kafka.
   */
  resume(opts: { renew?: boolean } = {}): void {
    if (opts.renew) this.#renew = true;
    this.#paused?.resolve();
    this.#paused = undefined;
  }

  /** Sends what is queued, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.resume();
    await this.#done;
    await this.#producer?.disconnect().catch(() => {});
  }

  async #loop(): Promise<void> {
    let failuresInRow = 0;
    while (!this.#stopping || this.#queue.length > 0) {
      if (this.#paused !== undefined) await this.#paused.promise;
      if (this.#renew) {
        this.#renew = false;
        await this.#drop();
      }
      if (this.#queue.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const sent = Promise.withResolvers<void>();
      this.#idle = sent.promise;
      try {
        failuresInRow = await this.#sendOne(failuresInRow);
      } finally {
        sent.resolve();
      }
    }
  }

  /** Sends the oldest batch of one partition once; returns the failures in a row after it. */
  async #sendOne(failuresInRow: number): Promise<number> {
    // The oldest messages of one partition: order within a partition is never changed.
    const partition = this.#queue[0].partition;
    const batch = batchOf(this.#queue.filter((m) => m.partition === partition));
    // Every codec Kafka has, in turn: the consumer must read batches from any producer.
    const codec = CODECS[this.#sends % CODECS.length];
    try {
      this.#producer ??= await this.#connect();
      const written = await withTimeout(
        this.#producer.send({
          topic: this.topic,
          acks: -1,
          compression: codec[1],
          messages: batch.map((m) => ({
            partition,
            key: m.entry.key,
            value: m.value === null ? null : Buffer.from(m.value),
            headers: { [SEQ_HEADER]: String(m.entry.seq) },
          })),
        }),
        15_000,
      );
      if (!written.some((r) => r.partition === partition && r.errorCode === 0)) {
        // kafkajs 2.2.4 drops messages for a partition its metadata does not know (a topic
        // grown since it last looked: findLeaderForPartitions skips it) and resolves the send
        // without sending them. A new producer fetches the metadata afresh.
        throw new UnknownPartition(partition);
      }
      for (const m of batch) this.ledger.acked.add(m.entry.seq);
      this.#sends++;
      this.batchesByCodec[codec[0]] = (this.batchesByCodec[codec[0]] ?? 0) + 1;
      const sent = new Set(batch);
      const rest = this.#queue.filter((m) => !sent.has(m));
      this.#queue.length = 0;
      this.#queue.push(...rest);
      return 0;
    } catch (error) {
      this.failures++;
      failuresInRow++;
      if (failuresInRow === 1 || failuresInRow % 10 === 0) {
        this.note("send failed; retrying", { failuresInRow, error: String(error) });
      }
      // A broker that does not know the producer's ID (its data wiped, the partition new)
      // refuses every later batch of it: start a new producer at once. One that lived through
      // a broker crash can stay wedged too. The failed batch stays first in its partition's
      // queue, and one batch is in flight at a time, so the order is kept.
      if (
        failuresInRow % 5 === 0 || error instanceof UnknownPartition ||
        PRODUCER_STATE_LOST.test(String(error))
      ) await this.#drop();
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * failuresInRow)));
      return failuresInRow;
    }
  }

  /** Disconnects the producer; the next send connects a new one (a new producer ID). */
  async #drop(): Promise<void> {
    const old = this.#producer;
    this.#producer = undefined;
    await old?.disconnect().catch(() => {});
  }

  async #connect(): Promise<Producer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await withTimeout(producer.connect(), 10_000);
    return producer;
  }
}

/**
 * The first messages of a partition's queue that go in one batch: at most 300, and at most 1 MiB
 * of values unless the first alone is larger (it then goes alone), so a backlog (the sender paused,
 * the broker down) sends batches the size of ordinary ones, not the 10 MiB corpus value with
 * hundreds more. (The broker's refusals of lz4 batches first blamed on their size came from the
 * lz4 encoder: shared/lz4_frame.ts.)
 */
function batchOf(queue: Outgoing[]): Outgoing[] {
  let bytes = 0;
  const batch: Outgoing[] = [];
  for (const m of queue) {
    const size = m.value?.length ?? 0;
    if (batch.length === 300 || (batch.length > 0 && bytes + size > 1 << 20)) break;
    batch.push(m);
    bytes += size;
  }
  return batch;
}

/** A send kafkajs resolved without writing to the partition: its metadata predates it. */
class UnknownPartition extends Error {
  constructor(partition: number) {
    super(`partition ${partition} is not in the producer's metadata; nothing was sent`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
