/**
 * The producer service: a simulated fleet of IoT devices sending JSON readings to Kafka, keyed by
 * device. This file only wires the parts and owns the lifecycle.
 *
 * @module
 */

import {
  createLogger,
  explainKafkaFailure,
  type KafkaSettingFailure,
  loadServiceConfig,
  onShutdownSignal,
  retryUntilStopped,
  runAsProcess,
  startDeadline,
  startOpsServer,
  sumOf,
} from "@iot/shared/runtime";
import { loadProducerConfig } from "./config.ts";
import { type EmitterTotals, runEmitter, type StopSignal } from "./emitter.ts";
import { Fleet } from "./fleet.ts";
import { createProducerMetrics } from "./metrics.ts";
import { connectSink, type KafkaSink } from "./sink.ts";

const SERVICE = "iot-producer";

async function main(): Promise<number> {
  const config = loadServiceConfig(SERVICE, (env) => loadProducerConfig(env));
  if (config === undefined) return 2;
  const log = createLogger(SERVICE, { level: config.logLevel, format: config.logFormat });
  const metrics = createProducerMetrics();
  const stopRequest = Promise.withResolvers<void>();
  const stop: StopSignal & { stopped: boolean } = { stopped: false, promise: stopRequest.promise };
  const removeSignals = onShutdownSignal((signal) => {
    log.info("shutdown requested; flushing", { signal, timeoutS: config.shutdownTimeoutS });
    stop.stopped = true;
    stopRequest.resolve();
    // The batch in flight is waited for, but not past the deadline (Kafka may be down).
    startDeadline(config.shutdownTimeoutS, async () => {
      log.error("flush timed out; exiting with the last batch unacknowledged", {
        sent: await sumOf(metrics.sent),
      });
      Deno.exit(1);
    });
  });
  let sink: KafkaSink | undefined;
  let kafkaSettingFailure: KafkaSettingFailure | undefined;
  const explain = (error: unknown) => {
    kafkaSettingFailure = explainKafkaFailure(error, config.kafkaSecurity);
    return kafkaSettingFailure;
  };
  const ops = startOpsServer(
    config.httpPort,
    {
      notReadyReasons: () =>
        sink?.healthy()
          ? []
          : kafkaSettingFailure !== undefined
          ? [`kafka: ${kafkaSettingFailure.reason}`]
          : sink === undefined
          ? ["kafka: not connected"]
          : ["kafka: last send failed"],
    },
    metrics.registry,
    log,
  );

  const fleet = new Fleet(config.devices, config.seed, config.faults);
  log.info("producer starting", {
    topic: config.topic,
    brokers: config.kafkaBrokers,
    kafkaSecurityProtocol: config.kafkaSecurity.protocol,
    devices: config.devices,
    rate: config.rate,
    count: config.count,
    durationS: config.durationS,
    invalidRatio: config.invalidRatio,
    seed: config.seed,
  });
  const { drifting, silent, settings: faults } = fleet.faults;
  if (drifting.length > 0 || silent.length > 0) {
    // Once, so that an operator can find the devices whose alerts are expected.
    log.info("devices misbehaving on purpose", {
      drifting: drifting.map((i) => fleet.devices[i].id),
      driftAfterS: faults.driftAfterS,
      driftCPerMin: faults.driftCPerMin,
      silent: silent.map((i) => fleet.devices[i].id),
      silentAfterS: faults.silentAfterS,
    });
  }
  await retryUntilStopped(
    {
      what: "kafka connection",
      log,
      stopped: stop.promise,
      isStopped: () => stop.stopped,
      explain,
    },
    async () => {
      // A new client per attempt reads the CA file again; the password file is read at every
      // connection (shared/kafka_platformatic.ts), so a rotated password is used.
      const target = {
        brokers: config.kafkaBrokers,
        clientId: config.clientId,
        topic: config.topic,
        security: config.kafkaSecurity,
      };
      sink = await connectSink(target, metrics, stop, log, { explain });
      kafkaSettingFailure = undefined;
    },
  );
  const started = performance.now();
  let totals: EmitterTotals = { sent: 0, invalid: {} };
  let code = 0;
  if (sink !== undefined) {
    const connected = sink;
    const summary = config.summaryIntervalS > 0
      ? setInterval(async () => {
        const [sent, errors] = [await sumOf(metrics.sent), await sumOf(metrics.errors)];
        log.info(`summary: ${sent} events sent`, { sent, errors });
      }, config.summaryIntervalS * 1000)
      : undefined;
    try {
      totals = await runEmitter(fleet, {
        rate: config.rate,
        count: config.count,
        durationMs: config.durationS * 1000,
        invalidRatio: config.invalidRatio,
        batchSize: config.batchSize,
      }, async (messages) => {
        await connected.send(messages);
      }, stop);
    } catch (error) {
      // Only reachable when a stop interrupted a failing send: that batch was not acknowledged.
      log.error("stopped while kafka was failing; the last batch was not acknowledged", { error });
      code = 1;
    }
    clearInterval(summary);
    // The broker's DescribeProducers shows this id per partition: where an operator looks first.
    const identity = connected.producerIdentity();
    if (identity) {
      log.info("kafka producer id of the run", {
        producerId: String(identity.producerId),
        producerEpoch: identity.producerEpoch,
      });
    }
    await connected.close();
  }
  metrics.invalid.inc(Object.values(totals.invalid).reduce((a, b) => a + (b ?? 0), 0));
  const seconds = (performance.now() - started) / 1000;
  log.info("producer stopped", {
    sent: totals.sent,
    invalid: totals.invalid,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerS: Math.round(totals.sent / Math.max(seconds, 1e-3)),
    seed: config.seed,
  });
  removeSignals();
  await ops.close();
  return code;
}

if (import.meta.main) await runAsProcess(SERVICE, main);
