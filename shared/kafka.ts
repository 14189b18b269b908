/**
 * The kafkajs client the consumer uses (the producer sends with @platformatic/kafka:
 * producer/sink.ts), with kafkajs's own logs routed into our JSON log lines and every Kafka
 * compression codec registered (kafkajs alone reads only gzip).
 *
 * @module
 */

import process from "node:process";
import { CompressionCodecs, Kafka, logLevel as KafkaLogLevel } from "kafkajs";
import {
  KAFKA_CODEC_IDS,
  kafkaCodec,
  type KafkaCodecName,
  KafkaDecompressionError,
} from "./kafka_codecs.ts";
import type { Logger } from "./log.ts";
export { KafkaDecompressionError } from "./kafka_codecs.ts";
export { fetchTopicId, TopicIdClient } from "./kafka_topic_id.ts";
import { kafkaConnectionOptions, type KafkaSecurity } from "./kafka_security.ts";

/**
 * Creates a kafkajs client that logs through `log`. Reads the password and CA files of
 * `security` now: create a new client to pick up a rotated password.
 *
 * @param brokers `host:port` list.
 * @param clientId Kafka client id.
 * @param log Where kafkajs's messages go (as `kafkajs: <message>`).
 * @param security TLS and SASL settings; plaintext when omitted.
 */
export function createKafka(
  brokers: string[],
  clientId: string,
  log: Logger,
  security: KafkaSecurity = { protocol: "PLAINTEXT" },
): Kafka {
  routeRuntimeWarnings(log);
  registerKafkaCodecs(log);
  return new Kafka({
    brokers,
    clientId,
    ...kafkaConnectionOptions(security),
    logLevel: KafkaLogLevel.WARN,
    // Bounded retries: callers own the outer retry loop and the decision to exit.
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5_000 },
    logCreator: () => ({ level, log: entry }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry;
      const msg = `kafkajs: ${message}`;
      // kafkajs says ERROR for answers it handles itself (a rebalance under way, a coordinator
      // still loading). Real failures reach us as thrown errors or a CRASH, logged as errors.
      if (level <= KafkaLogLevel.WARN) log.warn(msg, fields);
      else if (level === KafkaLogLevel.INFO) log.info(msg, fields);
      else log.debug(msg, fields);
    },
  });
}

/**
 * Sends Node-compat runtime warnings into the JSON log instead of bare stderr text. kafkajs 2.2.4
 * computes negative timer delays, which the runtime flags with a `TimeoutNegativeWarning` line that
 * would break one-JSON-object-per-line logs; the delay is clamped to 1 ms and harmless.
 */
function routeRuntimeWarnings(log: Logger): void {
  process.removeAllListeners("warning");
  process.emitWarning = ((warning: string | Error) => {
    const error = typeof warning === "string" ? new Error(warning) : warning;
    log.debug("runtime warning", { warning: error.name, message: error.message });
  }) as typeof process.emitWarning;
}

/**
 * Registers snappy, lz4, zstd (and our gzip, for the same error type) with kafkajs. Its codec
 * table is process-wide; registering again only changes the logger.
 *
 * A batch that fails to decompress is logged here, at once: kafkajs logs the failed fetch only
 * at debug level while it retries it. `createKafka` calls it; a plain kafkajs client (the chaos
 * harness's producer) calls it to send compressed batches.
 *
 * @param log Where a batch that cannot be decompressed is reported.
 */
export function registerKafkaCodecs(log: Logger): void {
  const table = CompressionCodecs as Record<number, () => unknown>;
  for (const [name, id] of Object.entries(KAFKA_CODEC_IDS)) {
    const codec = kafkaCodec(name as KafkaCodecName);
    const loud = {
      compress: codec.compress,
      decompress: (buffer: Uint8Array) =>
        codec.decompress(buffer).catch((error) => {
          if (error instanceof KafkaDecompressionError) {
            log.error(
              "cannot decompress a record batch; nothing is skipped, the fetch is retried",
              {
                codec: error.codec,
                compressedBytes: error.compressedBytes,
                error,
              },
            );
          }
          throw error;
        }),
    };
    table[id] = () => loud;
  }
}
