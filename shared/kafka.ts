/**
 * The kafkajs client both services use, with kafkajs's own logs routed into our JSON log lines.
 *
 * @module
 */

import process from "node:process";
import { Kafka, logLevel as KafkaLogLevel } from "kafkajs";
import type { Logger } from "./log.ts";
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
