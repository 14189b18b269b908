/**
 * The producer's settings, read once from the environment at start-up.
 *
 * @module
 */

import {
  readServiceSettings,
  type ReadTextFile,
  type ServiceSettings,
  type SettingsTable,
} from "@iot/shared/runtime";
import type { FaultSettings } from "./faults.ts";

/** The producer's client id and operations port. */
export const PRODUCER_DEFAULTS = { clientId: "iot-producer", httpPort: 8081 } as const;

/**
 * The simulated fleet: its size, pace, end, share of invalid events, seed and batching. The Kafka
 * and process rows are shared/service_settings.ts's; this table is the only place these names,
 * defaults and bounds are written (the README and the chart get them from `deno task settings`).
 */
export const PRODUCER_SETTINGS = {
  PRODUCER_DEVICES: {
    type: "integer",
    default: 50,
    min: 1,
    max: 1_000_000,
    description: "Simulated devices (fleet size).",
  },
  PRODUCER_RATE: {
    type: "number",
    default: 10,
    min: 0.001,
    max: 1_000_000,
    description: "Events per second, whole fleet.",
  },
  PRODUCER_COUNT: {
    type: "integer",
    default: 0,
    min: 0,
    description: "Stop after this many events; 0: no limit.",
  },
  PRODUCER_DURATION_S: {
    type: "number",
    default: 0,
    min: 0,
    description: "Stop after this many seconds; 0: no limit.",
  },
  PRODUCER_INVALID_RATIO: {
    type: "number",
    default: 0,
    min: 0,
    max: 1,
    description: "Share of deliberately invalid events, to exercise the consumer's rejections.",
  },
  PRODUCER_SEED: {
    type: "integer",
    min: 0,
    max: 2 ** 32 - 1,
    defaultText: "random, logged",
    description: "Seed of the fleet: the same seed replays the same fleet.",
  },
  PRODUCER_DRIFT_DEVICES: {
    type: "integer",
    default: 0,
    min: 0,
    max: 1_000_000,
    description: "Devices whose temperature sensor starts drifting (chosen by the seed, logged " +
      "at start), to see how the consumer's alerts meet it (README: what the anomaly score catches).",
  },
  PRODUCER_DRIFT_AFTER_S: {
    type: "number",
    default: 60,
    min: 0,
    max: 31_536_000,
    description: "Seconds after the first reading the drift starts.",
  },
  PRODUCER_DRIFT_C_PER_MIN: {
    type: "number",
    default: 1,
    min: -100,
    max: 100,
    description: "°C per minute a drifting sensor adds to what it reads (it saturates at -40 " +
      "and 90 °C).",
  },
  PRODUCER_SILENT_DEVICES: {
    type: "integer",
    default: 0,
    min: 0,
    max: 1_000_000,
    description: "Devices that stop sending (chosen by the seed, distinct from the drifting " +
      "ones, logged at start), to see the consumer's offline alerts at work; fewer than " +
      "`PRODUCER_DEVICES`.",
  },
  PRODUCER_SILENT_AFTER_S: {
    type: "number",
    default: 60,
    min: 0,
    max: 31_536_000,
    description: "Seconds after the first reading the silent devices stop.",
  },
  PRODUCER_BATCH_SIZE: {
    type: "integer",
    default: 500,
    min: 1,
    max: 100_000,
    description: "Most messages per send.",
  },
} as const satisfies SettingsTable;

/** Every setting of the producer, resolved. */
export interface ProducerConfig extends ServiceSettings {
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
  /** `PRODUCER_DRIFT_*` and `PRODUCER_SILENT_*`: devices that misbehave on purpose. */
  faults: FaultSettings;
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
  const { read, shared, own } = readServiceSettings(
    env,
    PRODUCER_DEFAULTS,
    PRODUCER_SETTINGS,
    readFile,
  );
  const config: ProducerConfig = {
    ...shared,
    devices: own.PRODUCER_DEVICES,
    rate: own.PRODUCER_RATE,
    count: own.PRODUCER_COUNT,
    durationS: own.PRODUCER_DURATION_S,
    invalidRatio: own.PRODUCER_INVALID_RATIO,
    seed: own.PRODUCER_SEED ?? randomSeed,
    batchSize: own.PRODUCER_BATCH_SIZE,
    faults: Object.freeze({
      driftDevices: own.PRODUCER_DRIFT_DEVICES,
      driftAfterS: own.PRODUCER_DRIFT_AFTER_S,
      driftCPerMin: own.PRODUCER_DRIFT_C_PER_MIN,
      silentDevices: own.PRODUCER_SILENT_DEVICES,
      silentAfterS: own.PRODUCER_SILENT_AFTER_S,
    }),
  };
  const { driftDevices, silentDevices } = config.faults;
  if (silentDevices >= config.devices) {
    read.problem(
      `PRODUCER_SILENT_DEVICES (${silentDevices}) must be below PRODUCER_DEVICES ` +
        `(${config.devices}): one device at least keeps sending`,
    );
  } else if (driftDevices + silentDevices > config.devices) {
    read.problem(
      `PRODUCER_DRIFT_DEVICES + PRODUCER_SILENT_DEVICES (${driftDevices + silentDevices}) must ` +
        `be at most PRODUCER_DEVICES (${config.devices}): they are distinct devices`,
    );
  }
  read.done();
  return Object.freeze(config);
}
