/**
 * The consumer's settings, read once from the environment at start-up.
 *
 * @module
 */

import {
  type AlertRule,
  checkKafkaName,
  checkKafkaTopic,
  EnvReader,
  type KafkaSecurity,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  pemCertificate,
  readKafkaSecurity,
  readLogFormat,
  type ReadTextFile,
} from "@iot/shared";

/** Every setting of the consumer, resolved. */
export interface ConsumerConfig {
  /** `KAFKA_BROKERS`: bootstrap brokers. */
  kafkaBrokers: string[];
  /** `KAFKA_TOPIC`: the topic to read. */
  topic: string;
  /** `KAFKA_GROUP_ID`: the consumer group (also the key of the offsets kept in PostgreSQL). */
  groupId: string;
  /** `KAFKA_CLIENT_ID`. */
  clientId: string;
  /** `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_TLS_CA_FILE`: how Kafka is reached. */
  kafkaSecurity: KafkaSecurity;
  /** `KAFKA_SESSION_TIMEOUT_MS`: how long the group waits for a silent member. */
  sessionTimeoutMs: number;
  /** `DATABASE_URL`: PostgreSQL connection URL. */
  databaseUrl: string;
  /**
   * `DATABASE_CA_FILE`: PEM CA that signed PostgreSQL's certificate. When set, connections use TLS
   * and verify the certificate and the host name (libpq's verify-full). Present only when set.
   */
  databaseCaFile?: string;
  /** `DATABASE_POOL_SIZE`: connections to PostgreSQL. */
  databasePoolSize: number;
  /** `ALERT_TEMPERATURE_MAX` and `ALERT_BATTERY_MIN`. */
  alertRule: AlertRule;
  /** `CONSUMER_CONCURRENCY`: partitions processed at once. */
  concurrency: number;
  /** `HTTP_PORT`: operations endpoints; 0 picks a free port. */
  httpPort: number;
  /** `LOG_LEVEL`. */
  logLevel: LogLevel;
  /** `LOG_FORMAT`: `json` or `pretty`; unset, pretty on a terminal and JSON elsewhere. */
  logFormat: LogFormat | undefined;
  /** `SUMMARY_INTERVAL_S`: seconds between summary lines; 0 turns them off. */
  summaryIntervalS: number;
  /** `SHUTDOWN_TIMEOUT_S`: the longest a graceful stop may take before the process exits. */
  shutdownTimeoutS: number;
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
  const read = new EnvReader(env);
  const config: ConsumerConfig = {
    kafkaBrokers: read.brokers("KAFKA_BROKERS", "localhost:9092"),
    topic: read.string("KAFKA_TOPIC", "iot.sensors", checkKafkaTopic),
    groupId: read.string("KAFKA_GROUP_ID", "iot-consumer", checkKafkaName),
    clientId: read.string("KAFKA_CLIENT_ID", "iot-consumer", checkKafkaName),
    kafkaSecurity: readKafkaSecurity(read, readFile),
    sessionTimeoutMs: read.integer("KAFKA_SESSION_TIMEOUT_MS", 30_000, { min: 6000, max: 300_000 }),
    databaseUrl: read.string("DATABASE_URL", "postgres://iot:iot@localhost:5432/iot", checkDbUrl),
    databasePoolSize: read.integer("DATABASE_POOL_SIZE", 4, { min: 1, max: 100 }),
    alertRule: {
      temperatureMax: read.number("ALERT_TEMPERATURE_MAX", 35, { min: -50, max: 100 }),
      batteryMin: read.number("ALERT_BATTERY_MIN", 15, { min: 0, max: 100 }),
    },
    concurrency: read.integer("CONSUMER_CONCURRENCY", 3, { min: 1, max: 64 }),
    httpPort: read.integer("HTTP_PORT", 8080, { min: 0, max: 65535 }),
    logLevel: read.choice("LOG_LEVEL", "info", LOG_LEVELS),
    logFormat: readLogFormat(read),
    summaryIntervalS: read.number("SUMMARY_INTERVAL_S", 10, { min: 0, max: 86_400 }),
    shutdownTimeoutS: read.number("SHUTDOWN_TIMEOUT_S", 25, { min: 1, max: 3600 }),
  };
  const caFile = read.raw("DATABASE_CA_FILE");
  if (caFile !== undefined) {
    config.databaseCaFile = caFile;
    read.checkFile("DATABASE_CA_FILE", caFile, pemCertificate, readFile);
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
