/**
 * Pre-loads a topic with M events from the simulated fleet (producer/fleet.ts), keyed by device
 * and partitioned with Kafka's murmur2 like the producer service, as fast as one process can.
 *
 * Events are generated in chunks and sent in batches with several sends in flight; the
 * payloads are exactly what the producer service would send (10 % legacy firmware included),
 * unless `canonical` asks for one payload shape (the peers' topic).
 *
 * @module
 */

import {
  compatibilityPartitioner,
  ProduceAcks,
  Producer,
  stringSerializers,
} from "@platformatic/kafka";
import { canonicalOf, Fleet } from "../producer/fleet.ts";
import { round } from "./footprint.ts";
import type { Stack } from "./stack.ts";

/** How to fill the topic. */
export interface PreloadOptions {
  /** Topic (must exist). */
  topic: string;
  /** Number of events. */
  events: number;
  /** Fleet size (more devices spread keys evenly over partitions). @default {1000} */
  devices?: number;
  /** Fleet seed. @default {5} */
  seed?: number;
  /** Messages per send. @default {1000} */
  batchSize?: number;
  /** Sends in flight. @default {4} */
  inFlight?: number;
  /**
   * Legacy-firmware events renamed to the canonical keys and given a random `ID`, for the peers
   * (Kafka Connect, Flink), which map one payload shape and need an id. @default {false}
   */
  canonical?: boolean;
  /**
   * `fleet`: the ids the producer sends (time-ordered, version 7 over a name hash); `v4`: the same
   * events with random ids instead (the growth phase's comparison). Legacy events keep having no
   * ID either way. @default {"fleet"}
   */
  ids?: "fleet" | "v4";
}

/** What the preload did. */
export interface PreloadResult {
  /** Events written. */
  events: number;
  /** Seconds, generation included. */
  seconds: number;
  /** Events per second. */
  eventsPerS: number;
  /** Bytes of message values. */
  valueBytes: number;
}

/** Generates and writes the events; resolves once Kafka acknowledged all of them. */
export async function preload(
  stack: Stack,
  options: PreloadOptions,
  progress: (done: number) => void = () => {},
): Promise<PreloadResult> {
  const batchSize = options.batchSize ?? 1000;
  const inFlight = options.inFlight ?? 4;
  const fleet = new Fleet(options.devices ?? 1000, options.seed ?? 5);
  // @platformatic/kafka: about twice as fast as kafkajs here (see bench/kafka_clients.ts).
  // The compatibility partitioner is Java's murmur2 (kafkajs's DefaultPartitioner, too).
  const producer = new Producer({
    clientId: "iot-bench-preload",
    bootstrapBrokers: stack.kafkaBrokers.split(","),
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
  const started = performance.now();
  let valueBytes = 0;
  let generated = 0;
  let acked = 0;
  const pending = new Set<Promise<void>>();
  try {
    while (generated < options.events) {
      const size = Math.min(batchSize, options.events - generated);
      const now = Date.now();
      const messages = Array.from({ length: size }, () => {
        const reading = fleet.nextReading(now);
        if (options.ids === "v4" && "ID" in reading.payload) {
          reading.payload.ID = crypto.randomUUID();
        }
        const value = JSON.stringify(
          options.canonical && "device_id" in reading.payload
            ? { ID: crypto.randomUUID(), ...canonicalOf(reading.payload) }
            : reading.payload,
        );
        valueBytes += value.length;
        return { topic: options.topic, key: reading.key, value };
      });
      generated += size;
      const send: Promise<void> = producer.send({ messages }).then(() => {
        acked += size;
        progress(acked);
        pending.delete(send);
      });
      pending.add(send);
      if (pending.size >= inFlight) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    await producer.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    events: options.events,
    seconds: round(seconds, 2),
    eventsPerS: Math.round(options.events / seconds),
    valueBytes,
  };
}
