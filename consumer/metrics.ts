/**
 * The consumer's metrics, as served on `/metrics` and summarized in the periodic log line.
 *
 * @module
 */

import { type Counter, type Gauge, type Histogram, Registry } from "@iot/shared/runtime";

/** Every metric of the consumer. */
export interface ConsumerMetrics {
  /** The registry `/metrics` renders. */
  registry: Registry;
  /** Messages read from Kafka and processed (valid or not). */
  consumed: Counter;
  /** Rows inserted into `tb_sensor_evento`. */
  written: Counter;
  /** Messages written to the reject table, by reason code. */
  rejected: Counter;
  /** Re-sent events that were already stored (nothing written). */
  duplicates: Counter;
  /** Inserted rows with `alerta = true`. */
  alerts: Counter;
  /** Batches refused by the offset fence (another member owned the partition). */
  fenced: Counter;
  /** Database failures retried. */
  retries: Counter;
  /** Time to validate and write one batch. */
  batchSeconds: Histogram;
  /** Messages behind the partition's end, per partition. */
  lag: Gauge;
}

/** Creates the consumer's metrics. */
export function createConsumerMetrics(): ConsumerMetrics {
  const registry = new Registry();
  return {
    registry,
    consumed: registry.counter(
      "iot_consumer_events_consumed_total",
      "Messages read from Kafka and processed",
    ),
    written: registry.counter(
      "iot_consumer_rows_written_total",
      "Rows inserted into tb_sensor_evento",
    ),
    rejected: registry.counter(
      "iot_consumer_events_rejected_total",
      "Messages stored in tb_sensor_evento_rejeitado, by first reason code",
      true,
    ),
    duplicates: registry.counter(
      "iot_consumer_duplicates_total",
      "Re-sent events already stored (no row written)",
    ),
    alerts: registry.counter("iot_consumer_alerts_total", "Inserted rows with alerta = true"),
    fenced: registry.counter(
      "iot_consumer_fenced_batches_total",
      "Batches not written because another member owned the partition",
    ),
    retries: registry.counter(
      "iot_consumer_database_retries_total",
      "Database failures that were retried",
    ),
    batchSeconds: registry.histogram(
      "iot_consumer_batch_duration_seconds",
      "Time to validate and write one partition batch",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    lag: registry.gauge("iot_consumer_lag", "Messages behind the end of the partition"),
  };
}
