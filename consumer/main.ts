/**
 * The consumer service: Kafka topic `iot.sensors` → validation → PostgreSQL. This file only wires
 * the parts together and owns the process lifecycle (start, readiness, summary, shutdown).
 *
 * @module
 */

import { createKafka } from "@iot/shared/kafka";
import {
  createLogger,
  explainKafkaFailure,
  type KafkaSettingFailure,
  loadServiceConfig,
  onShutdownSignal,
  retryUntilStopped,
  runAsProcess,
  SETTING_RETRY_MS,
  sleepUnless,
  startDeadline,
  startOpsServer,
  sumOf,
} from "@iot/shared/runtime";
import { loadConsumerConfig } from "./config.ts";
import { describeDatabaseError } from "./database_state.ts";
import { boundedStore, DatabasePool } from "./database_pool.ts";
import { createConsumerMetrics } from "./metrics.ts";
import { migrate, SCHEMA_VERSION } from "./migrations.ts";
import type { EventStore } from "./event_store.ts";
import { Pipeline } from "./pipeline.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { sessionSetting } from "@iot/shared/database";
import { startOfflineJob } from "./offline_job.ts";
import { startRetention } from "./retention.ts";
import { kafkaTopicLog, type Source, startSource } from "./source.ts";
import { startSummary } from "./summary.ts";

/** The database seam `main` lets the fault-injection suite wrap, with the types it speaks. */
export type * from "./event_store.ts";
export type { Reason, SensorRow } from "@iot/shared";
export type { RejectRow } from "./transform.ts";

const SERVICE = "iot-consumer";

/**
 * Runs the consumer until SIGTERM or SIGINT; returns the exit code.
 *
 * @param wrapStore Replaces the database seam. Only the fault-injection suite's entry point
 *   (chaos/mutant_consumer.ts) passes one, to plant a bug; nothing in this binary can.
 */
export async function main(
  wrapStore: (store: EventStore) => EventStore = (store) => store,
): Promise<number> {
  const config = loadServiceConfig(SERVICE, (env) => loadConsumerConfig(env));
  if (config === undefined) return 2;
  const log = createLogger(SERVICE, { level: config.logLevel, format: config.logFormat });
  const metrics = createConsumerMetrics();
  const caPem = config.databaseCaFile === undefined
    ? undefined
    : Deno.readTextFileSync(config.databaseCaFile);
  const pool = new DatabasePool(
    () =>
      connectDatabase(
        config.databaseUrl,
        config.databasePoolSize,
        config.clientId,
        caPem,
        config.databaseStatementTimeoutS * 1000,
        { synchronous_commit: config.databaseSynchronousCommit },
      ),
    config.databaseQueryTimeoutS * 1000,
    log,
  );
  const topicLog = kafkaTopicLog(() =>
    createKafka(config.kafkaBrokers, config.clientId, log, config.kafkaSecurity)
  );
  const pipeline = new Pipeline({
    store: wrapStore(
      boundedStore(
        new PostgresStore(
          pool,
          config.monitoring,
          config.deviceCacheSize,
          (reason) => metrics.replans.inc({ reason }),
        ),
        pool,
      ),
    ),
    groupId: config.groupId,
    alertRule: config.alertRule,
    rejectMaxStoredBytes: config.rejectMaxStoredBytes,
    metrics,
    log,
    topicLog,
    offsetMismatch: config.offsetMismatchPolicy,
    deviceFutureToleranceS: config.deviceState.futureToleranceS,
  });
  let source: Source | undefined;
  let kafkaSettingFailure: KafkaSettingFailure | undefined;
  let migrationProblem: string | undefined = "not migrated yet";
  let assigned: number[] = [];
  let stopping = false;
  const ops = startOpsServer(
    config.httpPort,
    {
      notReadyReasons: () => {
        const reasons: string[] = [];
        if (stopping) reasons.push("shutting down");
        const db = migrationProblem ?? pipeline.databaseProblem();
        if (db !== undefined) reasons.push(`database: ${db}`);
        if (kafkaSettingFailure !== undefined) {
          reasons.push(`kafka: ${kafkaSettingFailure.reason}`);
        } else if (source === undefined || !source.isConnected()) {
          reasons.push("kafka: not in the group yet");
        } else if (assigned.length === 0) reasons.push("kafka: no partition assigned");
        reasons.push(...pipeline.stoppedPartitions());
        return reasons;
      },
    },
    metrics.registry,
    log,
  );
  log.info("consumer starting", {
    topic: config.topic,
    groupId: config.groupId,
    brokers: config.kafkaBrokers,
    kafkaSecurityProtocol: config.kafkaSecurity.protocol,
    kafkaClient: config.kafkaConsumerClient,
    alertRule: config.alertRule,
  });

  const exitCode = Promise.withResolvers<number>();
  let cancelDeadline = () => {};
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    // The deadline starts now, whatever the consumer is doing: a start-up step that hangs (a
    // migration waiting for a lock, say) must not outlive it. Past it, exit anyway: the
    // orchestrator would SIGKILL us, and PostgreSQL holds the offsets, so nothing is lost.
    cancelDeadline = startDeadline(config.shutdownTimeoutS, () => {
      log.error("graceful shutdown timed out; exiting", { timeoutS: config.shutdownTimeoutS });
      Deno.exit(code === 0 ? 1 : code);
    });
    exitCode.resolve(code);
  };
  const removeSignals = onShutdownSignal((signal) => {
    log.info("shutdown requested", { signal, timeoutS: config.shutdownTimeoutS });
    stop(0);
  });

  const stopped = exitCode.promise;
  const isStopped = () => stopping;
  await retryUntilStopped({ what: "database migration", log, stopped, isStopped }, async () => {
    try {
      const schema = await pool.run("migration", (sql) => migrate(sql));
      // What the server applied: an operator reading the log knows whether a commit waits for
      // the disk (a pooler in between could drop the start-up setting).
      const synchronousCommit = await pool.run(
        "migration",
        (sql) => sessionSetting(sql, "synchronous_commit"),
      );
      log.info(schema === "current" ? "schema is current" : "schema migrated", {
        version: SCHEMA_VERSION,
        synchronousCommit,
      });
      migrationProblem = undefined;
    } catch (error) {
      migrationProblem = `migration failed: ${describeDatabaseError(error)}`;
      throw error;
    }
  });
  const explain = (error: unknown) => {
    kafkaSettingFailure = explainKafkaFailure(error, config.kafkaSecurity, config.groupId);
    return kafkaSettingFailure;
  };
  const joinGroup = () =>
    retryUntilStopped({ what: "kafka connection", log, stopped, isStopped, explain }, async () => {
      // A new client per attempt: it reads the password file again, so a rotated one is used.
      const starting = config.kafkaConsumerClient === "platformatic"
        // Loaded only when chosen: the default path does not carry the other client.
        ? import("./platformatic_source.ts").then(({ startPlatformaticSource }) =>
          startPlatformaticSource(
            {
              brokers: config.kafkaBrokers,
              clientId: config.clientId,
              security: config.kafkaSecurity,
            },
            sourceOptions,
            handler,
            log,
          )
        )
        : startSource(
          createKafka(config.kafkaBrokers, config.clientId, log, config.kafkaSecurity),
          sourceOptions,
          handler,
          log,
        );
      // kafkajs retries a refused connection on its own for about 20 s; a stop must not wait for
      // that (it outlived SHUTDOWN_TIMEOUT_S and exited 1). A start that completes after the stop
      // leaves the group again.
      const started = await Promise.race([starting, stopped.then(() => undefined)]);
      if (started === undefined) {
        starting.then((late) => late.stop()).catch(() => {});
        return;
      }
      source = started;
    });
  const sourceOptions = {
    topic: config.topic,
    groupId: config.groupId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    metadataMaxAgeMs: config.metadataMaxAgeMs,
    fetchMaxBytes: config.fetchMaxBytes,
    concurrency: config.concurrency,
  };
  const handler = {
    onBatch: (batch: Parameters<Pipeline["handle"]>[0]) => pipeline.handle(batch),
    onAssignment: (partitions: number[]) => {
      // Cleared on joining, not when startSource returns: a denied group crashes the consumer
      // during `run`, before startSource has returned.
      kafkaSettingFailure = undefined;
      assigned = partitions;
      pipeline.onRebalance(partitions);
    },
    onCrash: async (error: Error) => {
      const setting = explain(error);
      if (setting === undefined) {
        log.error("kafka consumer crashed and cannot recover; exiting", { error });
        stop(1);
        return;
      }
      // A denied ACL is fixed by a person, not by a restart: stay up, not ready, and try again.
      log.error(setting.message, { retryInMs: SETTING_RETRY_MS, error });
      await source?.stop().catch(() => {});
      source = undefined;
      await sleepUnless(stopped, SETTING_RETRY_MS);
      if (!stopping) await joinGroup();
    },
  };
  const stopRetention = startRetention({
    run: (statement) => pool.run("reject retention", statement),
    days: config.rejectRetentionDays,
    deleted: metrics.rejectsDeleted,
    log,
  });
  const stopOffline = startOfflineJob({
    run: (statement) => pool.run("offline check", statement),
    settings: config.offline,
    metrics: { opened: metrics.offlineOpened, updated: metrics.offlineUpdated },
    log,
  });
  await joinGroup();
  const stopSummary = startSummary(config.summaryIntervalS, metrics, log);

  const code = await exitCode.promise;
  removeSignals();
  stopSummary();
  try {
    await source?.stop();
    await topicLog.close();
    await stopRetention();
    await stopOffline();
    await pool.end({ timeout: 5 });
    await ops.close();
  } catch (error) {
    log.warn("error during shutdown", { error });
  }
  cancelDeadline();
  log.info("consumer stopped", {
    consumed: await sumOf(metrics.consumed),
    written: await sumOf(metrics.written),
    duplicates: await sumOf(metrics.duplicates),
  });
  return code;
}

if (import.meta.main) await runAsProcess(SERVICE, main);
