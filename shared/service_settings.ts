/**
 * The settings both services have: where Kafka is and how it is reached, the operations port,
 * logs and the bound on a graceful stop. Each service adds its own table
 * (consumer/config.ts, producer/config.ts); {@linkcode readServiceSettings} reads both.
 *
 * @module
 */

import {
  checkKafkaName,
  checkKafkaTopic,
  EnvReader,
  KAFKA_NAME_PATTERN,
  KAFKA_TOPIC_PATTERN,
  type ReadTextFile,
} from "./env.ts";
import {
  KAFKA_SECURITY_SETTINGS,
  type KafkaSecurity,
  readKafkaSecurity,
} from "./kafka_security.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import {
  type BrokersSetting,
  type ChoiceSetting,
  type IntegerSetting,
  type NumberSetting,
  readSettings,
  type SettingsTable,
  type SettingValues,
  type StringSetting,
} from "./settings.ts";

/** The defaults that differ between the two services. */
export interface ServiceDefaults {
  /** `KAFKA_CLIENT_ID`, e.g. `iot-consumer`. */
  clientId: string;
  /** `HTTP_PORT`: two services on one host must not collide. */
  httpPort: number;
}

/** The table of {@linkcode kafkaClientSettings}. */
export type KafkaClientTable = {
  readonly KAFKA_BROKERS: BrokersSetting;
  readonly KAFKA_TOPIC: StringSetting & { default: string };
  readonly KAFKA_CLIENT_ID: StringSetting & { default: string };
};

/** The table of {@linkcode processSettings}. */
export type ProcessTable = {
  readonly HTTP_PORT: IntegerSetting & { default: number };
  readonly LOG_LEVEL: ChoiceSetting<LogLevel> & { default: LogLevel };
  readonly LOG_FORMAT: ChoiceSetting<LogFormat>;
  readonly SUMMARY_INTERVAL_S: NumberSetting & { default: number };
  readonly SHUTDOWN_TIMEOUT_S: NumberSetting & { default: number };
};

/** The rows read before the security settings: where Kafka is, and who this client is. */
export function kafkaClientSettings(defaults: ServiceDefaults): KafkaClientTable {
  return {
    KAFKA_BROKERS: {
      type: "brokers",
      default: "localhost:9092",
      chart: "`kafka.create` / `kafka.externalBrokers`",
      description: "Bootstrap brokers.",
    },
    KAFKA_TOPIC: {
      type: "string",
      default: "iot.sensors",
      pattern: KAFKA_TOPIC_PATTERN,
      check: checkKafkaTopic,
      accepts: "1-249 letters, digits, `.`, `_`, `-`",
      chart: "`topic.name`",
      description: "The topic of sensor events.",
    },
    KAFKA_CLIENT_ID: {
      type: "string",
      default: defaults.clientId,
      pattern: KAFKA_NAME_PATTERN,
      check: checkKafkaName,
      accepts: "1-255 printable ASCII, no spaces",
      description: "Kafka client id (also `application_name` in PostgreSQL).",
    },
  };
}

/** The rows read after the service's own: operations endpoints, logs, stopping. */
export function processSettings(defaults: ServiceDefaults): ProcessTable {
  return {
    HTTP_PORT: {
      type: "integer",
      default: defaults.httpPort,
      min: 0,
      max: 65535,
      chart: "`8080`, the probes' port",
      description: "Port of `/healthz`, `/readyz` and `/metrics`; 0 picks a free port.",
    },
    LOG_LEVEL: {
      type: "choice",
      values: LOG_LEVELS,
      default: "info",
      description: "Least severe level logged.",
    },
    LOG_FORMAT: {
      type: "choice",
      values: LOG_FORMATS,
      defaultText: "`pretty` on a terminal, else `json`",
      description: "Log lines as JSON objects (for collectors) or as text for people.",
    },
    SUMMARY_INTERVAL_S: {
      type: "number",
      default: 10,
      min: 0,
      max: 86_400,
      description: "Seconds between summary lines for people; 0 turns them off.",
    },
    SHUTDOWN_TIMEOUT_S: {
      type: "number",
      default: 25,
      min: 1,
      max: 3600,
      description: "Longest graceful stop, in seconds, before the process exits anyway; in " +
        "the chart, below `terminationGracePeriodSeconds`.",
    },
  };
}

/**
 * Every row a service reads, in reading order: for the README and the chart's schema.
 *
 * @param defaults The service's client id and port.
 * @param own The service's own table.
 */
export function allSettings(defaults: ServiceDefaults, own: SettingsTable): SettingsTable {
  return {
    ...kafkaClientSettings(defaults),
    ...KAFKA_SECURITY_SETTINGS,
    ...own,
    ...processSettings(defaults),
  };
}

/** The settings both services have, resolved. */
export interface ServiceSettings {
  /** `KAFKA_BROKERS`: bootstrap brokers. */
  kafkaBrokers: string[];
  /** `KAFKA_TOPIC`: the topic of sensor events. */
  topic: string;
  /** `KAFKA_CLIENT_ID`. */
  clientId: string;
  /** `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_TLS_CA_FILE`: how Kafka is reached. */
  kafkaSecurity: KafkaSecurity;
  /** `HTTP_PORT`: operations endpoints; 0 picks a free port. */
  httpPort: number;
  /** `LOG_LEVEL`. */
  logLevel: LogLevel;
  /** `LOG_FORMAT`; present only when set (unset: decided by whether stdout is a terminal). */
  logFormat?: LogFormat;
  /** `SUMMARY_INTERVAL_S`: seconds between summary lines; 0 turns them off. */
  summaryIntervalS: number;
  /** `SHUTDOWN_TIMEOUT_S`: the longest a graceful stop may take before the process exits. */
  shutdownTimeoutS: number;
}

/**
 * Reads the shared settings and a service's own table, in the order the README lists them:
 * Kafka client, Kafka security, the service's own, then the process settings.
 *
 * @param env Environment variables, usually `Deno.env.toObject()`.
 * @param defaults The service's client id and port.
 * @param own The service's own table.
 * @param readFile Reads the files the settings name.
 * @returns The reader (for cross-checks, then `done()`), the shared settings resolved, and the
 *   own table's values by variable name.
 */
export function readServiceSettings<T extends SettingsTable>(
  env: Readonly<Record<string, string | undefined>>,
  defaults: ServiceDefaults,
  own: T,
  readFile: ReadTextFile,
): { read: EnvReader; shared: ServiceSettings; own: SettingValues<T> } {
  const read = new EnvReader(env);
  const kafka = readSettings(read, kafkaClientSettings(defaults), readFile);
  const kafkaSecurity = readKafkaSecurity(read, readFile);
  const ownValues = readSettings(read, own, readFile);
  const process = readSettings(read, processSettings(defaults), readFile);
  const shared: ServiceSettings = {
    kafkaBrokers: kafka.KAFKA_BROKERS,
    topic: kafka.KAFKA_TOPIC,
    clientId: kafka.KAFKA_CLIENT_ID,
    kafkaSecurity,
    httpPort: process.HTTP_PORT,
    logLevel: process.LOG_LEVEL,
    summaryIntervalS: process.SUMMARY_INTERVAL_S,
    shutdownTimeoutS: process.SHUTDOWN_TIMEOUT_S,
  };
  if (process.LOG_FORMAT !== undefined) shared.logFormat = process.LOG_FORMAT;
  return { read, shared, own: ownValues };
}
