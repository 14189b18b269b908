/**
 * The consumer's metrics, as served on `/metrics` and summarized in the periodic log line.
 *
 * @module
 */

import { addProcessMetrics } from "@iot/shared/runtime";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ReplanReason } from "./store_write.ts";

/** Every metric of the consumer. */
export interface ConsumerMetrics {
  /** What `/metrics` renders: these metrics and the process metrics. */
  registry: Registry;
  /** Stops the event-loop probe (tests; a service just exits). */
  close(): void;
  /** Messages read from Kafka and processed (valid or not). */
  consumed: Counter;
  /** Rows inserted into `tb_sensor_evento`. */
  written: Counter;
  /** Messages written to the reject table, by reason code. */
  rejected: Counter<"reason">;
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
  lag: Gauge<"partition">;
  /** 1 for the database's current condition (database_state.ts), 0 for the others. */
  databaseState: Gauge<"state">;
  /** Rejects deleted by the retention job (retention.ts). */
  rejectsDeleted: Counter;
  /** `offline` alerts opened by the offline job (offline_job.ts). */
  offlineOpened: Counter;
  /** Open `offline` alerts the offline job found still silent and updated. */
  offlineUpdated: Counter;
  /** Writes planned again, by reason (store_write.ts's ReplanReason). */
  replans: Counter<"reason">;
  /** 1 for each partition stopped because its stored offset does not fit the log. */
  blocked: Gauge<"partition" | "reason">;
}

/** Creates the consumer's metrics in a registry of their own, with the process metrics. */
export function createConsumerMetrics(): ConsumerMetrics {
  const registers = [new Registry()];
  const metrics: ConsumerMetrics = {
    registry: registers[0],
    close: addProcessMetrics(registers[0]),
    consumed: new Counter({
      name: "iot_consumer_events_consumed_total",
      help: "Messages read from Kafka and processed",
      registers,
    }),
    written: new Counter({
      name: "iot_consumer_rows_written_total",
      help: "Rows inserted into tb_sensor_evento",
      registers,
    }),
    rejected: new Counter({
      name: "iot_consumer_events_rejected_total",
      help: "Messages stored in tb_sensor_evento_rejeitado, by first reason code",
      labelNames: ["reason"],
      registers,
    }),
    duplicates: new Counter({
      name: "iot_consumer_duplicates_total",
      help: "Re-sent events already stored (no row written)",
      registers,
    }),
    alerts: new Counter({
      name: "iot_consumer_alerts_total",
      help: "Inserted rows with alerta = true",
      registers,
    }),
    fenced: new Counter({
      name: "iot_consumer_fenced_batches_total",
      help: "Batches not written because another member owned the partition",
      registers,
    }),
    retries: new Counter({
      name: "iot_consumer_database_retries_total",
      help: "Database failures that were retried",
      registers,
    }),
    batchSeconds: new Histogram({
      name: "iot_consumer_batch_duration_seconds",
      help: "Time to validate and write one partition batch",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    lag: new Gauge({
      name: "iot_consumer_lag",
      help: "Messages behind the end of the partition",
      labelNames: ["partition"],
      registers,
    }),
    databaseState: new Gauge({
      name: "iot_consumer_database_state",
      help: "1 for the database's condition as the last operation found it " +
        "(ok, disk_full = SQLSTATE 53100, read_only = 25006, failing = any other error)",
      labelNames: ["state"],
      registers,
    }),
    rejectsDeleted: new Counter({
      name: "iot_consumer_rejects_deleted_total",
      help: "Rows of tb_sensor_evento_rejeitado deleted past REJECT_RETENTION_DAYS",
      registers,
    }),
    offlineOpened: new Counter({
      name: "iot_consumer_offline_alerts_opened_total",
      help: "offline alerts opened by the offline job (devices found silent)",
      registers,
    }),
    offlineUpdated: new Counter({
      name: "iot_consumer_offline_alerts_updated_total",
      help: "Checks that found a device with an open offline alert still silent",
      registers,
    }),
    replans: new Counter({
      name: "iot_consumer_write_replans_total",
      help: "Batch writes planned again: reason version (a device or alert changed under the " +
        "write, e.g. two partitions' writers on one device), deadlock, resent (rows stored " +
        "already), or copy (PostgreSQL refused the batch's COPY: the statement writes it instead)",
      labelNames: ["reason"],
      registers,
    }),
    blocked: new Gauge({
      name: "iot_consumer_partition_blocked",
      help: "1 while a partition is stopped: its stored offset does not fit the log " +
        "(reason topic_id_changed or offset_past_log_end)",
      labelNames: ["partition", "reason"],
      registers,
    }),
  };
  // Every reason shows 0 before the first re-plan, so rate() sees that one.
  const reasons: ReplanReason[] = ["version", "deadlock", "resent", "copy"];
  for (const reason of reasons) metrics.replans.inc({ reason }, 0);
  return metrics;
}
