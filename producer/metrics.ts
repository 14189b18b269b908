/**
 * The producer's metrics, as served on `/metrics` and summarized in the periodic log line.
 *
 * @module
 */

import { addProcessMetrics } from "@iot/shared/runtime";
import { Counter, Histogram, Registry } from "prom-client";

/** Every metric of the producer. */
export interface ProducerMetrics {
  /** What `/metrics` renders: these metrics and the process metrics. */
  registry: Registry;
  /** Stops the event-loop probe (tests; a service just exits). */
  close(): void;
  /** Events Kafka acknowledged. */
  sent: Counter;
  /** Deliberately invalid events among them (counted when the producer stops). */
  invalid: Counter;
  /** Failed attempts to send (each retried; an outage counts one per attempt). */
  errors: Counter;
  /** Time for Kafka to acknowledge one batch. */
  sendSeconds: Histogram;
}

/** Creates the producer's metrics in a registry of their own, with the process metrics. */
export function createProducerMetrics(): ProducerMetrics {
  const registers = [new Registry()];
  return {
    registry: registers[0],
    close: addProcessMetrics(registers[0]),
    sent: new Counter({
      name: "iot_producer_events_sent_total",
      help: "Events acknowledged by Kafka",
      registers,
    }),
    invalid: new Counter({
      name: "iot_producer_invalid_events_sent_total",
      help: "Deliberately invalid events sent",
      registers,
    }),
    errors: new Counter({
      name: "iot_producer_send_errors_total",
      help: "Failed attempts to send a batch, each retried",
      registers,
    }),
    sendSeconds: new Histogram({
      name: "iot_producer_send_duration_seconds",
      help: "Time for Kafka to acknowledge one batch",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
  };
}
