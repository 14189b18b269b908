/**
 * The producer's Kafka sink: an idempotent @platformatic/kafka producer that sends a batch and
 * does not give up on it while the service runs.
 *
 * @module
 */

import { type Partitioner, ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";
import {
  backoffDelay,
  CONNECT_BACKOFF,
  type KafkaSecurity,
  type KafkaSettingFailure,
  type Logger,
} from "@iot/shared/runtime";
import { platformaticConnectionOptions } from "@iot/shared/kafka-platformatic";
import type { Counter, Histogram } from "prom-client";
import { keyPartitionHash } from "./murmur2.ts";
import type { OutgoingMessage, StopSignal } from "./emitter.ts";

/** Metrics the sink updates. */
export interface SinkMetrics {
  /** Acknowledged messages. */
  sent: Counter;
  /** Failed attempts (each retried). */
  errors: Counter;
  /** Time for Kafka to acknowledge a batch. */
  sendSeconds: Histogram;
}

/** Where the sink sends, and how it reaches Kafka. */
export interface SinkTarget {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** Kafka client id. */
  clientId: string;
  /** The topic of sensor events. */
  topic: string;
  /** TLS and SASL settings. */
  security: KafkaSecurity;
}

/** A connected sink. */
export interface KafkaSink {
  /** Sends one batch; retries until acknowledged or the stop signal fires (then throws). */
  send(messages: OutgoingMessage[]): Promise<void>;
  /** Whether the last send succeeded. */
  healthy(): boolean;
  /** The producer id and epoch the broker gave (undefined before the first send). */
  producerIdentity(): { producerId: bigint; producerEpoch: number } | undefined;
  /** Disconnects. */
  close(): Promise<void>;
}

/** A send pending longer than this makes the producer report not ready. */
export const SEND_STALL_MS = 10_000;

/**
 * Most messages one producer id sends before the sink takes a new one. A partition's sequence
 * number is an int32 that Kafka wraps to 0 after 2^31 - 1; @platformatic/kafka 2.12.1 does not
 * wrap it (it would fail to encode the batch), so the sink starts a new producer, with a new id
 * and sequences from 0, between two acknowledged batches. Counting every message, whatever its
 * partition, bounds each partition's sequence.
 */
export const SEQUENCE_LIMIT = 2 ** 31 - 1;

/**
 * How a key picks its partition: Kafka's murmur2 of the key's UTF-8 bytes, masked positive; the
 * client takes it modulo the partition count. That is what Java's and kafkajs's default
 * partitioners do, so a device keeps the partition it had before the move to @platformatic/kafka
 * (murmur2_test.ts on Kafka's own vectors; sink_integration_test.ts against kafkajs on the fleet's
 * keys and on a real topic). The client's own `defaultPartitioner` takes the hash unsigned (`>>> 0`): with a
 * partition count that is not a power of two it would move about half of the devices.
 */
export const PARTITIONER: Partitioner<string, string, string, string> = (_message, key) => {
  // Every reading is keyed by its device: a message without a key is a bug upstream.
  if (key === undefined) throw new TypeError("Cannot partition a message without a key");
  return keyPartitionHash(key);
};

/** Metadata attempts when connecting: a broker that does not answer is retried by the caller. */
const CONNECT_RETRIES = 3;

/** Options tests change. */
export interface SinkOptions {
  /** Explains a failure caused by a setting (an ACL, a password), or returns undefined. */
  explain?: (error: unknown) => KafkaSettingFailure | undefined;
  /** See {@linkcode SEQUENCE_LIMIT}. @default {SEQUENCE_LIMIT} */
  sequenceLimit?: number;
}

/**
 * Connects an idempotent producer: acks from all in-sync replicas, one request in flight, a
 * producer id and epoch from the broker and a sequence number per partition, so a retried request
 * is recognised by the broker and neither duplicates nor reorders a device's events. Keys go to
 * partitions by Kafka's murmur2 ({@linkcode PARTITIONER}: the partition kafkajs's and Java's
 * default partitioners pick). Retries inside the client are unbounded, as idempotence requires:
 * giving up resets the producer id, and a request the broker had written would then be written
 * again. A send waits out a broker outage, each failed attempt is logged and counted, and
 * readiness reports the stall. A send refused for good (an ACL that does not allow the write) is
 * retried here, logged as an error in the words of `explain`.
 *
 * @throws what the first metadata request met, after a few attempts (the caller retries).
 */
export async function connectSink(
  target: SinkTarget,
  metrics: SinkMetrics,
  stop: StopSignal,
  log: Logger,
  options: SinkOptions = {},
): Promise<KafkaSink> {
  const { explain = () => undefined, sequenceLimit = SEQUENCE_LIMIT } = options;
  let failing = false;
  let pendingSince: number | undefined;
  const onRetry = (operation: string, attempt: number, error: Error): number => {
    failing = true;
    metrics.errors.inc();
    const delay = backoffDelay(CONNECT_BACKOFF, attempt);
    const fields = { operation, attempt, retryInMs: delay, error };
    const setting = explain(error);
    if (setting) log.error(`${setting.message}; retrying`, fields);
    else log.warn("kafka request failed; retrying", fields);
    return delay;
  };
  let producer = createProducer(target, onRetry);
  try {
    await producer.metadata({ topics: [target.topic], retries: CONNECT_RETRIES });
  } catch (error) {
    await producer.close(true).catch(() => {});
    throw error;
  }
  // Messages sent with the current producer id: bounds every partition's sequence number.
  let sequenced = 0;
  return {
    healthy: () =>
      !failing && (pendingSince === undefined || performance.now() - pendingSince < SEND_STALL_MS),
    producerIdentity: () =>
      producer.producerId === undefined || producer.producerEpoch === undefined
        ? undefined
        : { producerId: producer.producerId, producerEpoch: producer.producerEpoch },
    close: () => producer.close(true),
    async send(messages) {
      if (sequenced + messages.length > sequenceLimit) {
        // Every batch of the old id is acknowledged: none can be written twice by the switch.
        log.info("taking a new producer id before the sequence numbers wrap", { sequenced });
        await producer.close(true);
        producer = createProducer(target, onRetry);
        sequenced = 0;
      }
      const records = messages.map((m) => ({ topic: target.topic, key: m.key, value: m.value }));
      for (let attempt = 1;; attempt++) {
        const started = performance.now();
        pendingSince = started;
        sequenced += messages.length;
        try {
          await producer.send({ messages: records });
          metrics.sendSeconds.observe((performance.now() - started) / 1000);
          metrics.sent.inc(messages.length);
          failing = false;
          pendingSince = undefined;
          return;
        } catch (error) {
          // Only errors the client does not retry reach here (the broker refused the batch, or it
          // could not be built); the client has dropped its producer id, the next attempt gets one.
          failing = true;
          pendingSince = undefined;
          metrics.errors.inc();
          if (stop.stopped) throw error;
          const delay = backoffDelay(CONNECT_BACKOFF, attempt);
          const fields = { attempt, messages: messages.length, retryInMs: delay, error };
          const setting = explain(error);
          if (setting) log.error(`${setting.message}; retrying the batch`, fields);
          else log.warn("send to kafka failed; retrying the batch", fields);
          await Promise.race([stop.promise, new Promise((r) => setTimeout(r, delay))]);
        }
      }
    },
  };
}

function createProducer(
  target: SinkTarget,
  onRetry: (operation: string, attempt: number, error: Error) => number,
): Producer<string, string, string, string> {
  return new Producer({
    clientId: target.clientId,
    bootstrapBrokers: target.brokers,
    ...platformaticConnectionOptions(target.security),
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: PARTITIONER,
    autocreateTopics: false,
    retries: Number.MAX_SAFE_INTEGER,
    retryDelay: (_client, operation, attempt, _retries, error) =>
      onRetry(operation, attempt, error),
  });
}
