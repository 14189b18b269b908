/**
 * The producer's settings, read once from the environment at start-up.
 *
 * @module
 */

import {
  checkKafkaName,
  checkKafkaTopic,
  EnvReader,
  type KafkaSecurity,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  readKafkaSecurity,
  readLogFormat,
  type ReadTextFile,
} from "@iot/shared";

/** Every setting of the producer, resolved. */
export interface ProducerConfig {
  /** `KAFKA_BROKERS`: bootstrap brokers. */
  kafkaBrokers: string[];
  /** `KAFKA_TOPIC`: the topic to write. */
  topic: string;
  /** `KAFKA_CLIENT_ID`. */
  clientId: string;
  /** `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_TLS_CA_FILE`: how Kafka is reached. */
  kafkaSecurity: KafkaSecurity;
  /** `PRODUCER_DEVICES`: fleet size. */
  devices: number;
  /** `PRODUCER_RATE`: events per second. */
  rate: number;
  /** `PRODUCER_COUNT`: stop after this many events; 0 means no limit. */
  count: number;
  /** `PRODUCER_DURATION_S`: stop after this many seconds; 0 means no limit. */
  durationS: number;
  /** `PRODUCER_INVALID_RATIO`: share of deliberately invalid events, 0 to 1. */
  invalidRatio: number;
  /** `PRODUCER_SEED`: seed of the fleet; random when unset (and logged, to replay it). */
  seed: number;
  /** `PRODUCER_BATCH_SIZE`: most messages in one send. */
  batchSize: number;
  /** `HTTP_PORT`: operations endpoints; 0 picks a free port. */
  httpPort: number;
  /** `LOG_LEVEL`. */
  logLevel: LogLevel;
  /** `LOG_FORMAT`: `json` or `pretty`; unset, pretty on a terminal and JSON elsewhere. */
  logFormat: LogFormat | undefined;
  /** `SUMMARY_INTERVAL_S`: seconds between summary lines; 0 turns them off. */
  summaryIntervalS: number;
  /** `SHUTDOWN_TIMEOUT_S`: the longest the final flush may take before the process exits. */
  shutdownTimeoutS: number;
}

/**
 * Reads and validates the producer's settings.
 *
 * @param env Environment variables, usually `Deno.env.toObject()`.
 * @param readFile Reads the files settings name (CA, password); tests pass a fake.
 * @param randomSeed Seed used when `PRODUCER_SEED` is unset.
 * @throws {ConfigError} naming every invalid variable and its value.
 */
export function loadProducerConfig(
  env: Record<string, string | undefined>,
  randomSeed: number = Math.floor(Math.random() * 2 ** 31),
  readFile: ReadTextFile = Deno.readTextFileSync,
): ProducerConfig {
  const read = new EnvReader(env);
  const config: ProducerConfig = {
    kafkaBrokers: read.brokers("KAFKA_BROKERS", "localhost:9092"),
    topic: read.string("KAFKA_TOPIC", "iot.sensors", checkKafkaTopic),
    clientId: read.string("KAFKA_CLIENT_ID", "iot-producer", checkKafkaName),
    kafkaSecurity: readKafkaSecurity(read, readFile),
    devices: read.integer("PRODUCER_DEVICES", 50, { min: 1, max: 1_000_000 }),
    rate: read.number("PRODUCER_RATE", 10, { min: 0.001, max: 1_000_000 }),
    count: read.integer("PRODUCER_COUNT", 0, { min: 0 }),
    durationS: read.number("PRODUCER_DURATION_S", 0, { min: 0 }),
    invalidRatio: read.number("PRODUCER_INVALID_RATIO", 0, { min: 0, max: 1 }),
    seed: read.integer("PRODUCER_SEED", randomSeed, { min: 0, max: 2 ** 32 - 1 }),
    batchSize: read.integer("PRODUCER_BATCH_SIZE", 500, { min: 1, max: 100_000 }),
    httpPort: read.integer("HTTP_PORT", 8081, { min: 0, max: 65535 }),
    logLevel: read.choice("LOG_LEVEL", "info", LOG_LEVELS),
    logFormat: readLogFormat(read),
    summaryIntervalS: read.number("SUMMARY_INTERVAL_S", 10, { min: 0, max: 86_400 }),
    shutdownTimeoutS: read.number("SHUTDOWN_TIMEOUT_S", 25, { min: 1, max: 3600 }),
  };
  read.done();
  return Object.freeze(config);
}
