/**
 * The consumer's settings, read once from the environment at start-up.
 *
 * @module
 */

import type { AlertRule } from "@iot/shared";
import {
  checkKafkaName,
  KAFKA_NAME_PATTERN,
  readServiceSettings,
  type ReadTextFile,
  type ServiceSettings,
  type SettingsTable,
} from "@iot/shared/runtime";
import type { DeviceStateSettings } from "./device_state.ts";
import type { OfflineSettings } from "./offline.ts";
import type { MonitoringSettings } from "./monitoring.ts";
import { monitoringSettings } from "./monitoring_settings.ts";
import { OFFSET_MISMATCH_POLICIES, type OffsetMismatchPolicy } from "./log_guard.ts";

/** The Kafka clients the consumer can read with (`KAFKA_CONSUMER_CLIENT`). */
export const KAFKA_CONSUMER_CLIENTS = ["kafkajs", "platformatic"] as const;

/** One of {@linkcode KAFKA_CONSUMER_CLIENTS}. */
export type KafkaConsumerClient = typeof KAFKA_CONSUMER_CLIENTS[number];

/**
 * PostgreSQL's `synchronous_commit` levels, least waiting first. Any of them keeps the consumer's
 * exactly-once effect: a batch's rows and its stored offset commit in one transaction, so a
 * commit the server loses loses its offset too, and the batch is read from Kafka again.
 */
export const SYNCHRONOUS_COMMIT_LEVELS = [
  "off",
  "local",
  "remote_write",
  "on",
  "remote_apply",
] as const;

/** One of {@linkcode SYNCHRONOUS_COMMIT_LEVELS}. */
export type SynchronousCommit = typeof SYNCHRONOUS_COMMIT_LEVELS[number];

/** The consumer's client id and operations port. */
export const CONSUMER_DEFAULTS = { clientId: "iot-consumer", httpPort: 8080 } as const;

/**
 * What only the consumer reads: its group, PostgreSQL, the alert rule and how many partitions it
 * works on at once. Rows of both services: shared/service_settings.ts. Names, defaults and bounds
 * live here alone; `deno task settings` copies them to the README and the chart.
 */
export const CONSUMER_SETTINGS = {
  KAFKA_GROUP_ID: {
    type: "string",
    default: "iot-consumer",
    pattern: KAFKA_NAME_PATTERN,
    check: checkKafkaName,
    accepts: "1-255 printable ASCII, no spaces",
    description: "Consumer group; also the key of the offsets kept in PostgreSQL.",
  },
  KAFKA_SESSION_TIMEOUT_MS: {
    type: "integer",
    default: 30_000,
    min: 6000,
    max: 300_000,
    description: "How long the group waits for a silent member, in milliseconds.",
  },
  KAFKA_METADATA_MAX_AGE_MS: {
    type: "integer",
    default: 30_000,
    min: 1000,
    max: 300_000,
    description: "How often the topic's partitions are looked up again, in milliseconds: " +
      "partitions added to the topic are read within about this long (kafkajs's own " +
      "default, 300000, left them unread for up to 5 minutes).",
  },
  KAFKA_FETCH_MAX_BYTES: {
    type: "integer",
    default: 1_048_576,
    min: 65_536,
    max: 67_108_864,
    description: "Most bytes one fetch from Kafka holds, a quarter of it per partition. Larger " +
      "fetches make larger batches and fewer transactions: 2097152 drained uncompressed events " +
      "about a quarter faster with a fifth less CPU per event and 8 MiB more memory. The bytes " +
      "are counted compressed: with 3145728, a consumer catching up on batches of every codec " +
      "peaked at 433 MB, above the chart's memory request (bench/README.md, Tuning record).",
  },
  KAFKA_CONSUMER_CLIENT: {
    type: "choice",
    values: KAFKA_CONSUMER_CLIENTS,
    default: "kafkajs",
    description: "The Kafka client that reads the topic: `kafkajs`, or `platformatic` " +
      "(@platformatic/kafka with the consumer's own fetch loop: the same guarantees under the " +
      "fault-injection suite and the same rate, a higher memory peak after large compressed " +
      'batches; bench/README.md, "The consumer\'s Kafka client"). Both can share a group ' +
      "during a rolling switch.",
  },
  DATABASE_URL: {
    type: "string",
    default: "postgres://iot:iot@localhost:5432/iot",
    check: checkDbUrl,
    accepts: "`postgres://` or `postgresql://` URL",
    chart: "the `postgresql` Secret",
    description: "PostgreSQL connection URL.",
  },
  DATABASE_CA_FILE: {
    type: "file",
    holds: "PEM certificates",
    chart: "`postgresql.create`",
    description: "CA of PostgreSQL's certificate (CloudNativePG: `<cluster>-ca`); when set, " +
      "TLS with the certificate and host name verified (`verify-full`).",
  },
  DATABASE_POOL_SIZE: {
    type: "integer",
    default: 4,
    min: 1,
    max: 100,
    description: "Connections to PostgreSQL; at least `CONSUMER_CONCURRENCY`.",
  },
  DATABASE_STATEMENT_TIMEOUT_S: {
    type: "number",
    default: 15,
    min: 1,
    max: 3600,
    description: "PostgreSQL cancels a statement running longer (`statement_timeout`), in seconds.",
  },
  DATABASE_QUERY_TIMEOUT_S: {
    type: "number",
    default: 30,
    min: 1,
    max: 3600,
    description: "Longest wait for PostgreSQL's answer, in seconds; then the connections are " +
      "reset and `/readyz` says why. Above `DATABASE_STATEMENT_TIMEOUT_S`.",
  },
  DATABASE_SYNCHRONOUS_COMMIT: {
    type: "choice",
    values: SYNCHRONOUS_COMMIT_LEVELS,
    default: "off",
    description: "PostgreSQL's `synchronous_commit` for the consumer's sessions. `off`: a " +
      "commit does not wait for its WAL to reach the disk; a crash of the database host can " +
      "undo the last commits (up to three times the server's `wal_writer_delay`, 0.6 s by " +
      "default), each with its stored offset, so they are read from Kafka again: nothing lost, " +
      "nothing doubled. `on` waits for every flush (and a synchronous standby's).",
  },
  ALERT_TEMPERATURE_MAX: {
    type: "number",
    default: 35,
    min: -50,
    max: 100,
    description: "Alert when the temperature is above this, in °C.",
  },
  ALERT_BATTERY_MIN: {
    type: "number",
    default: 15,
    min: 0,
    max: 100,
    description: "Alert when the battery is below this, in %.",
  },
  CONSUMER_CONCURRENCY: {
    type: "integer",
    default: 3,
    min: 1,
    max: 64,
    description: "Partitions processed at once.",
  },
  REJECT_MAX_STORED_BYTES: {
    type: "integer",
    default: 65_536,
    min: 1024,
    max: 16_777_216,
    description: "Most bytes kept of a refused message's value and of its key; beyond it, the " +
      "first bytes are kept with the whole length and SHA-256.",
  },
  REJECT_RETENTION_DAYS: {
    type: "integer",
    default: 30,
    min: 0,
    max: 36_500,
    description: "Refused messages older than this many days are deleted (0: kept forever). " +
      "Readings are never deleted by the consumer.",
  },
  OFFLINE_CHECK_INTERVAL_S: {
    type: "number",
    default: 10,
    min: 0,
    max: 3600,
    description: "Seconds between two checks for silent devices (one replica checks at a time); " +
      "0: no device is ever declared offline.",
  },
  OFFLINE_FACTOR: {
    type: "number",
    default: 3,
    min: 1,
    max: 1000,
    description: "A device is offline after this many usual intervals of silence, in event time " +
      "and in load time alike.",
  },
  OFFLINE_MIN_S: {
    type: "number",
    default: 30,
    min: 0.001,
    max: 2_592_000,
    description: "Least usual interval the offline limit is computed from, in seconds (a device " +
      "reporting every second is offline after `OFFLINE_FACTOR` times this).",
  },
  OFFLINE_MAX_S: {
    type: "number",
    default: 3600,
    min: 0.001,
    max: 2_592_000,
    description:
      "Greatest usual interval the offline limit is computed from, in seconds, and the " +
      "one of a device seen once; at least `OFFLINE_MIN_S`.",
  },
  DEVICE_FUTURE_TOLERANCE_S: {
    type: "number",
    default: 300,
    min: 0,
    max: 86_400,
    description: "A reading more than this many seconds past its Kafka record's timestamp is " +
      "stored and counted but never becomes its device's latest in `tb_dispositivo`.",
  },
  DEVICE_INTERVAL_MIN_S: {
    type: "number",
    default: 1,
    min: 0.001,
    max: 86_400,
    description: "Least usual reporting interval learned per device, in seconds (shorter gaps " +
      "count as this).",
  },
  DEVICE_INTERVAL_MAX_S: {
    type: "number",
    default: 3600,
    min: 0.001,
    max: 2_592_000,
    description: "Greatest usual reporting interval learned per device, in seconds (longer gaps " +
      "count as this); at least `DEVICE_INTERVAL_MIN_S`.",
  },
  ALERT_CLEAR_READINGS: {
    type: "integer",
    default: 3,
    min: 1,
    max: 1000,
    description: "Consecutive calm readings (outside the hysteresis band) that clear an open " +
      "`temperature_high`, `battery_low`, `anomaly` or `drift` alert in `tb_alerta`.",
  },
  ALERT_TEMPERATURE_HYSTERESIS_C: {
    type: "number",
    default: 1,
    min: 0,
    max: 50,
    description: "A temperature at or below `ALERT_TEMPERATURE_MAX` minus this is calm for an " +
      "open `temperature_high` alert, in °C.",
  },
  ALERT_BATTERY_HYSTERESIS: {
    type: "number",
    default: 5,
    min: 0,
    max: 100,
    description: "A battery at or above `ALERT_BATTERY_MIN` plus this is calm for an open " +
      "`battery_low` alert, in %.",
  },
  ANOMALY_ALPHA: {
    type: "number",
    default: 0.05,
    min: 0.0001,
    max: 0.9999,
    description: "Weight of a new reading in each device's anomaly model (exponentially " +
      "weighted mean and variance of temperature and humidity).",
  },
  ANOMALY_WARMUP: {
    type: "integer",
    default: 30,
    min: 0,
    max: 1_000_000,
    description: "Readings a device's anomaly model learns from before its readings get a score " +
      "(`escore_anomalia` is NULL until then).",
  },
  ANOMALY_MIN_STDDEV: {
    type: "number",
    default: 0.1,
    min: 0.000001,
    max: 1000,
    description: "Least standard deviation an anomaly score divides by, so a device whose " +
      "readings never change does not score a tiny wobble as huge.",
  },
  ANOMALY_Z_THRESHOLD: {
    type: "number",
    default: 4,
    min: 0,
    max: 1000,
    description: "An `anomaly` alert opens (or keeps triggering) when a reading's score is above " +
      "this.",
  },
  ANOMALY_CLEAR_Z: {
    type: "number",
    default: 3,
    min: 0,
    max: 1000,
    description: "A score at or below this is calm for an open `anomaly` alert; at most " +
      "`ANOMALY_Z_THRESHOLD`.",
  },
  ANOMALY_DRIFT_STEP: {
    type: "number",
    default: 0.1,
    min: 0.001,
    max: 1,
    description: "How far each device's fast median of a metric moves per reading, in spreads " +
      "(its slow median moves a tenth of that): larger flags a drift sooner and lets a longer " +
      "spike look like one.",
  },
  ANOMALY_DRIFT_THRESHOLD: {
    type: "number",
    default: 6,
    min: 0,
    max: 1000,
    description: "A `drift` alert opens (or keeps triggering) when the fast and slow medians of " +
      "a metric are more than this many spreads apart.",
  },
  ANOMALY_DRIFT_CLEAR: {
    type: "number",
    default: 3,
    min: 0,
    max: 1000,
    description: "A drift at or below this is calm for an open `drift` alert; at most " +
      "`ANOMALY_DRIFT_THRESHOLD`.",
  },
  DEVICE_CACHE_SIZE: {
    type: "integer",
    default: 10_000,
    min: 0,
    max: 10_000_000,
    description: "Devices whose stored state, anomaly model and open alerts each consumer keeps " +
      "in memory (least recently written go first; 0 reads them for every batch).",
  },
  OFFSET_MISMATCH_POLICY: {
    type: "choice",
    values: OFFSET_MISMATCH_POLICIES,
    default: "stop",
    description: "A topic re-created under its name (its topic ID changed): `stop` the " +
      "partition (not ready, error log, metric) until an operator fixes its stored offset, or " +
      "read the new log from its beginning. A stored offset past the log end always stops.",
  },
} as const satisfies SettingsTable;

/** Every setting of the consumer, resolved. */
export interface ConsumerConfig extends ServiceSettings {
  /** `KAFKA_GROUP_ID`: the consumer group (also the key of the offsets kept in PostgreSQL). */
  groupId: string;
  /** `KAFKA_SESSION_TIMEOUT_MS`: how long the group waits for a silent member. */
  sessionTimeoutMs: number;
  /**
   * `KAFKA_METADATA_MAX_AGE_MS`: age after which the consumer asks Kafka for the topic's
   * partitions again; a partition added to the topic is joined into the group on the next look.
   */
  metadataMaxAgeMs: number;
  /** `KAFKA_FETCH_MAX_BYTES`: most bytes, as stored, one fetch holds (a quarter per partition). */
  fetchMaxBytes: number;
  /** `KAFKA_CONSUMER_CLIENT`: the Kafka client that reads the topic. */
  kafkaConsumerClient: KafkaConsumerClient;
  /** `DATABASE_URL`: PostgreSQL connection URL. */
  databaseUrl: string;
  /**
   * `DATABASE_CA_FILE`: PEM CA that signed PostgreSQL's certificate. When set, connections use TLS
   * and verify the certificate and the host name (libpq's verify-full). Present only when set.
   */
  databaseCaFile?: string;
  /** `DATABASE_POOL_SIZE`: connections to PostgreSQL. */
  databasePoolSize: number;
  /** `DATABASE_STATEMENT_TIMEOUT_S`: the server cancels statements running longer. */
  databaseStatementTimeoutS: number;
  /** `DATABASE_QUERY_TIMEOUT_S`: longest wait for an answer before the connections are reset. */
  databaseQueryTimeoutS: number;
  /** `DATABASE_SYNCHRONOUS_COMMIT`: whether a commit waits for its WAL flush. */
  databaseSynchronousCommit: SynchronousCommit;
  /** `ALERT_TEMPERATURE_MAX` and `ALERT_BATTERY_MIN`. */
  alertRule: AlertRule;
  /** `CONSUMER_CONCURRENCY`: partitions processed at once. */
  concurrency: number;
  /** `REJECT_MAX_STORED_BYTES`: most bytes of a refused value (and key) stored whole. */
  rejectMaxStoredBytes: number;
  /** `REJECT_RETENTION_DAYS`: age past which rejects are deleted; 0 keeps them forever. */
  rejectRetentionDays: number;
  /** `OFFLINE_CHECK_INTERVAL_S`, `OFFLINE_FACTOR`, `OFFLINE_MIN_S`, `OFFLINE_MAX_S`. */
  offline: OfflineSettings;
  /** `OFFSET_MISMATCH_POLICY`: what to do when the topic's ID changed. */
  offsetMismatchPolicy: OffsetMismatchPolicy;
  /** `DEVICE_FUTURE_TOLERANCE_S`, `DEVICE_INTERVAL_MIN_S`, `DEVICE_INTERVAL_MAX_S`. */
  deviceState: DeviceStateSettings;
  /** The fold of monitoring.ts: interval bounds, anomaly model, alert thresholds. */
  monitoring: MonitoringSettings;
  /** `DEVICE_CACHE_SIZE`: devices whose stored state is kept in memory. */
  deviceCacheSize: number;
}

/**
 * Reads and validates the consumer's settings.
 *
 * @param env Environment variables, usually `Deno.env.toObject()`.
 * @param readFile Reads the files settings name (CA, password); tests pass a fake.
 * @throws {ConfigError} naming every invalid variable and its value.
 */
export function loadConsumerConfig(
  env: Record<string, string | undefined>,
  readFile: ReadTextFile = Deno.readTextFileSync,
): ConsumerConfig {
  const settings = readServiceSettings(env, CONSUMER_DEFAULTS, CONSUMER_SETTINGS, readFile);
  const { read, shared, own } = settings;
  const config: ConsumerConfig = {
    ...shared,
    groupId: own.KAFKA_GROUP_ID,
    sessionTimeoutMs: own.KAFKA_SESSION_TIMEOUT_MS,
    metadataMaxAgeMs: own.KAFKA_METADATA_MAX_AGE_MS,
    fetchMaxBytes: own.KAFKA_FETCH_MAX_BYTES,
    kafkaConsumerClient: own.KAFKA_CONSUMER_CLIENT,
    databaseUrl: own.DATABASE_URL,
    databasePoolSize: own.DATABASE_POOL_SIZE,
    databaseStatementTimeoutS: own.DATABASE_STATEMENT_TIMEOUT_S,
    databaseQueryTimeoutS: own.DATABASE_QUERY_TIMEOUT_S,
    databaseSynchronousCommit: own.DATABASE_SYNCHRONOUS_COMMIT,
    alertRule: { temperatureMax: own.ALERT_TEMPERATURE_MAX, batteryMin: own.ALERT_BATTERY_MIN },
    concurrency: own.CONSUMER_CONCURRENCY,
    rejectMaxStoredBytes: own.REJECT_MAX_STORED_BYTES,
    rejectRetentionDays: own.REJECT_RETENTION_DAYS,
    offline: Object.freeze({
      checkIntervalS: own.OFFLINE_CHECK_INTERVAL_S,
      factor: own.OFFLINE_FACTOR,
      minS: own.OFFLINE_MIN_S,
      maxS: own.OFFLINE_MAX_S,
    }),
    offsetMismatchPolicy: own.OFFSET_MISMATCH_POLICY,
    deviceState: Object.freeze({
      futureToleranceS: own.DEVICE_FUTURE_TOLERANCE_S,
      intervalMinS: own.DEVICE_INTERVAL_MIN_S,
      intervalMaxS: own.DEVICE_INTERVAL_MAX_S,
    }),
    monitoring: monitoringSettings(own),
    deviceCacheSize: own.DEVICE_CACHE_SIZE,
  };
  if (own.DATABASE_CA_FILE !== undefined) {
    config.databaseCaFile = own.DATABASE_CA_FILE;
    const sslmode = sslmodeOf(config.databaseUrl);
    if (sslmode !== undefined && sslmode !== "verify-full") {
      read.problem(
        `DATABASE_URL asks for sslmode=${sslmode}, which contradicts DATABASE_CA_FILE ` +
          "(the certificate and host name are verified): drop sslmode or say verify-full",
      );
    }
  }
  if (/[?&]sslrootcert=(?!system(&|$))/.test(config.databaseUrl)) {
    // postgres.js reads only sslrootcert=system: a file named there would be ignored silently.
    read.problem("DATABASE_URL's sslrootcert is not read: name the CA file in DATABASE_CA_FILE");
  }
  if (config.databasePoolSize < config.concurrency) {
    read.problem(
      `DATABASE_POOL_SIZE (${config.databasePoolSize}) must be at least CONSUMER_CONCURRENCY ` +
        `(${config.concurrency}): each partition in flight holds one connection`,
    );
  }
  if (config.deviceState.intervalMaxS < config.deviceState.intervalMinS) {
    read.problem(
      `DEVICE_INTERVAL_MAX_S (${config.deviceState.intervalMaxS}) must be at least ` +
        `DEVICE_INTERVAL_MIN_S (${config.deviceState.intervalMinS})`,
    );
  }
  if (config.offline.maxS < config.offline.minS) {
    read.problem(
      `OFFLINE_MAX_S (${config.offline.maxS}) must be at least OFFLINE_MIN_S ` +
        `(${config.offline.minS})`,
    );
  }
  if (own.ANOMALY_DRIFT_CLEAR > own.ANOMALY_DRIFT_THRESHOLD) {
    read.problem(
      `ANOMALY_DRIFT_CLEAR (${own.ANOMALY_DRIFT_CLEAR}) must be at most ANOMALY_DRIFT_THRESHOLD ` +
        `(${own.ANOMALY_DRIFT_THRESHOLD})`,
    );
  }
  if (own.ANOMALY_CLEAR_Z > own.ANOMALY_Z_THRESHOLD) {
    read.problem(
      `ANOMALY_CLEAR_Z (${own.ANOMALY_CLEAR_Z}) must be at most ANOMALY_Z_THRESHOLD ` +
        `(${own.ANOMALY_Z_THRESHOLD})`,
    );
  }
  if (config.databaseQueryTimeoutS <= config.databaseStatementTimeoutS) {
    // A slow statement should end with the server's own error on a connection that stays usable,
    // not with every connection reset by the client.
    read.problem(
      `DATABASE_QUERY_TIMEOUT_S (${config.databaseQueryTimeoutS}) must be above ` +
        `DATABASE_STATEMENT_TIMEOUT_S (${config.databaseStatementTimeoutS})`,
    );
  }
  read.done();
  return Object.freeze(config);
}

function checkDbUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
      return "must be a postgres:// or postgresql:// URL";
    }
    return undefined;
  } catch {
    return "must be a postgres:// or postgresql:// URL";
  }
}

function sslmodeOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get("sslmode") ?? undefined;
  } catch {
    return undefined; // reported by checkDbUrl
  }
}
