/**
 * The producer's Kafka sink: an idempotent kafkajs producer that sends a batch and does not give
 * up on it while the service runs.
 *
 * @module
 */

import type { Kafka, Producer } from "kafkajs";
import type { Counter, Histogram, Logger } from "@iot/shared";
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

/**
 * Connects an idempotent producer (acks from all in-sync replicas, one request in flight, so
 * kafkajs's retries neither duplicate nor reorder a device's events).
 */
export async function connectSink(
  kafka: Kafka,
  topic: string,
  metrics: SinkMetrics,
  stop: StopSignal,
  log: Logger,
): Promise<KafkaSink> {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  let healthy = true;
  return {
    healthy: () => healthy,
    close: () => producer.disconnect(),
    async send(messages) {
      for (let attempt = 1;; attempt++) {
        const started = performance.now();
        try {
          await producer.send({ topic, acks: -1, messages });
          metrics.sendSeconds.observe((performance.now() - started) / 1000);
          metrics.sent.inc(messages.length);
          healthy = true;
          return;
        } catch (error) {
          healthy = false;
          metrics.errors.inc();
          if (stop.stopped) throw error;
          const delay = Math.min(10_000, 250 * 2 ** attempt);
          log.warn("send to kafka failed; retrying the batch", {
            attempt,
            messages: messages.length,
            retryInMs: delay,
            error,
          });
          await Promise.race([stop.promise, new Promise((r) => setTimeout(r, delay))]);
        }
      }
    },
  };
}
