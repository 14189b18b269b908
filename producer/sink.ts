/**
 * The producer's Kafka sink: an idempotent kafkajs producer that sends a batch and does not give
 * up on it while the service runs.
 *
 * @module
 */

import { type Kafka, Partitioners, type Producer } from "kafkajs";
import {
  backoffDelay,
  CONNECT_BACKOFF,
  type KafkaSettingFailure,
  type Logger,
} from "@iot/shared/runtime";
import type { Counter, Histogram } from "prom-client";
import type { OutgoingMessage, StopSignal } from "./emitter.ts";

/** Metrics the sink updates. */
export interface SinkMetrics {
  /** Acknowledged messages. */
  sent: Counter;
  /** Failed sends (each retried). */
  errors: Counter;
  /** Time for Kafka to acknowledge a batch. */
  sendSeconds: Histogram;
}

/** A connected sink. */
export interface KafkaSink {
  /** Sends one batch; retries until acknowledged or the stop signal fires (then throws). */
  send(messages: OutgoingMessage[]): Promise<void>;
  /** Whether the last send succeeded. */
  healthy(): boolean;
  /** Disconnects. */
  close(): Promise<void>;
}

/** A send pending longer than this makes the producer report not ready. */
export const SEND_STALL_MS = 10_000;

/**
 * Connects an idempotent producer (acks from all in-sync replicas, one request in flight, so
 * kafkajs's retries neither duplicate nor reorder a device's events). Its retries are unbounded,
 * as kafkajs requires for idempotence: a send waits out a broker outage instead of failing, and
 * readiness reports the stall. A send refused because of a setting (an ACL that does not allow
 * the write) is logged as an error in the words of `explain`.
 */
export async function connectSink(
  kafka: Kafka,
  topic: string,
  metrics: SinkMetrics,
  stop: StopSignal,
  log: Logger,
  explain: (error: unknown) => KafkaSettingFailure | undefined = () => undefined,
): Promise<KafkaSink> {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Kafka's own murmur2 partitioner: a device lands on the partition Java clients would pick.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  await producer.connect();
  let failing = false;
  let pendingSince: number | undefined;
  return {
    healthy: () =>
      !failing && (pendingSince === undefined || performance.now() - pendingSince < SEND_STALL_MS),
    close: () => producer.disconnect(),
    async send(messages) {
      for (let attempt = 1;; attempt++) {
        const started = performance.now();
        pendingSince = started;
        try {
          await producer.send({ topic, acks: -1, messages });
          metrics.sendSeconds.observe((performance.now() - started) / 1000);
          metrics.sent.inc(messages.length);
          failing = false;
          pendingSince = undefined;
          return;
        } catch (error) {
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
