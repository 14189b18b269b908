/**
 * The simulated fleet: a model of N devices whose readings drift like real sensors. Pure: the
 * clock is passed in and all randomness comes from one seeded faker, so a seed replays a fleet.
 *
 * - Temperature: a mean-reverting random walk around each device's own baseline, with rare heat
 *   spikes that push it past the alert threshold for a while.
 * - Humidity: a bounded walk that falls a little when the temperature rises.
 * - Battery: drains a little with every reading, then recharges from a low point to nearly full.
 * - Status: derived from the state (ERROR when critical, WARN when alerting, OK otherwise).
 * - A tenth of the devices run the original firmware: lowercase English keys and no event id.
 * - On request (faults.ts), some temperature sensors start drifting and some devices fall silent.
 *
 * @module
 */

import { base, en, Faker } from "@faker-js/faker";
import {
  type Measurements,
  nameBasedV7Uuid,
  type SensorEventPayload,
  type Status,
} from "@iot/shared";
import {
  driftOffsetC,
  type FaultPlan,
  type FaultSettings,
  isSilenced,
  NO_FAULTS,
  planFaults,
  SENSOR_RANGE_C,
} from "./faults.ts";

/** The legacy firmware's payload: lowercase English keys, no `ID`. */
export interface LegacyPayload extends Measurements {
  /** Device id. */
  device_id: string;
  /** RFC 3339 time. */
  timestamp: string;
}

/** One device's fixed identity and changing state. */
export interface Device {
  /** Stable device id. */
  id: string;
  /** Where it is installed. */
  home: { latitude: number; longitude: number };
  /** Whether it sends the legacy payload. */
  legacy: boolean;
  /** The temperature it drifts around, °C. */
  baseline: number;
  /** Current temperature, °C. */
  temperature: number;
  /** The humidity it drifts around, %. */
  humidityBase: number;
  /** Current humidity, %. */
  humidity: number;
  /** Readings sent so far (part of each event id). */
  sent: number;
  /** Current battery, %. */
  battery: number;
  /** Whether the battery is charging. */
  charging: boolean;
  /** Readings left in the current heat spike (0 = none). */
  spikeLeft: number;
  /** Extra °C of the current spike. */
  spikeHeat: number;
  /** Whether its temperature sensor drifts (faults.ts). */
  drifts: boolean;
  /** Whether it falls silent (faults.ts). */
  fallsSilent: boolean;
}

/** A generated reading: the payload and the device that sent it (the Kafka key). */
export interface Reading {
  /** Device id, used as the message key so one device stays on one partition. */
  key: string;
  /** The payload in the device's own format. */
  payload: SensorEventPayload | LegacyPayload;
}

/** Chance per reading that a heat spike starts (about one spike every 500 readings). */
export const SPIKE_CHANCE = 0.002;

/** The simulated fleet. */
export class Fleet {
  /** Devices, in a fixed order. */
  readonly devices: readonly Device[];
  /** Which devices misbehave, and how. */
  readonly faults: FaultPlan;
  readonly #faker: Faker;
  readonly #seed: number;
  #next = 0;
  #startMs: number | undefined;

  /**
   * @param size Number of devices.
   * @param seed Seed of every random choice.
   * @param faults Devices that drift or fall silent; none by default.
   * @throws {RangeError} when the faults do not fit the fleet (see `planFaults`).
   */
  constructor(size: number, seed: number, faults: Readonly<FaultSettings> = NO_FAULTS) {
    this.#faker = new Faker({ locale: [en, base], seed });
    this.#seed = seed;
    this.faults = planFaults(size, seed, faults);
    this.devices = Array.from({ length: size }, (_, i) => this.#newDevice(i));
    for (const i of this.faults.drifting) this.devices[i].drifts = true;
    for (const i of this.faults.silent) this.devices[i].fallsSilent = true;
  }

  /**
   * The next reading, devices taking turns; a device fallen silent is passed over, so the others
   * keep the fleet's rate. Times count from the first call's `nowMs`.
   */
  nextReading(nowMs: number): Reading {
    this.#startMs ??= nowMs;
    const elapsedMs = nowMs - this.#startMs;
    const silenced = isSilenced(elapsedMs, this.faults.settings);
    let device = this.devices[this.#next];
    this.#next = (this.#next + 1) % this.devices.length;
    // planFaults keeps at least one device sending, so this ends.
    while (device.fallsSilent && silenced) {
      device = this.devices[this.#next];
      this.#next = (this.#next + 1) % this.devices.length;
    }
    this.#step(device);
    const drift = device.drifts ? driftOffsetC(elapsedMs, this.faults.settings) : 0;
    return { key: device.id, payload: this.#payload(device, nowMs, drift) };
  }

  /** The faker behind the fleet, for other generators that must share its seed. */
  get faker(): Faker {
    return this.#faker;
  }

  #newDevice(index: number): Device {
    const f = this.#faker;
    const baseline = f.number.float({ min: 16, max: 30, fractionDigits: 1 });
    const humidityBase = f.number.float({ min: 35, max: 75, fractionDigits: 1 });
    return {
      id: `sensor-${String(index + 1).padStart(4, "0")}-${
        f.string.alphanumeric({ length: 6, casing: "lower" })
      }`,
      home: {
        latitude: f.location.latitude({ min: -33.7, max: 5.2, precision: 6 }),
        longitude: f.location.longitude({ min: -73.9, max: -34.8, precision: 6 }),
      },
      legacy: f.number.float({ min: 0, max: 1 }) < 0.1,
      baseline,
      temperature: baseline,
      humidityBase,
      humidity: humidityBase,
      sent: 0,
      battery: f.number.float({ min: 20, max: 100, fractionDigits: 1 }),
      charging: false,
      spikeLeft: 0,
      spikeHeat: 0,
      drifts: false,
      fallsSilent: false,
    };
  }

  #step(d: Device): void {
    const f = this.#faker;
    const noise = (scale: number) => f.number.float({ min: -scale, max: scale });
    if (d.spikeLeft > 0) {
      d.spikeLeft--;
    } else if (f.number.float({ min: 0, max: 1 }) < SPIKE_CHANCE) {
      d.spikeLeft = f.number.int({ min: 10, max: 40 });
      d.spikeHeat = f.number.float({ min: 8, max: 18 });
    }
    const target = d.baseline + (d.spikeLeft > 0 ? d.spikeHeat : 0);
    d.temperature = clamp(d.temperature + 0.2 * (target - d.temperature) + noise(0.4), -40, 90);
    // Reverts to the device's own level like the temperature, and falls a little in the heat.
    const humidityTarget = d.humidityBase - 0.5 * (d.temperature - d.baseline);
    d.humidity = clamp(d.humidity + 0.1 * (humidityTarget - d.humidity) + noise(1), 5, 99);
    if (d.charging) {
      d.battery = Math.min(100, d.battery + f.number.float({ min: 1, max: 3 }));
      if (d.battery >= 98) d.charging = false;
    } else {
      d.battery = Math.max(0, d.battery - f.number.float({ min: 0.02, max: 0.2 }));
      if (d.battery < f.number.float({ min: 5, max: 14 })) d.charging = true;
    }
  }

  /** `driftC`: what a drifting sensor adds to the true temperature. */
  #payload(d: Device, nowMs: number, driftC: number): SensorEventPayload | LegacyPayload {
    const f = this.#faker;
    const latitude = round(d.home.latitude + f.number.float({ min: -5e-4, max: 5e-4 }), 6);
    const longitude = round(d.home.longitude + f.number.float({ min: -5e-4, max: 5e-4 }), 6);
    const temperature = round(
      clamp(d.temperature + driftC, SENSOR_RANGE_C.min, SENSOR_RANGE_C.max),
      2,
    );
    const humidity = round(d.humidity, 1);
    const battery = round(d.battery, 1);
    const status = statusOf(temperature, battery);
    const timestamp = new Date(nowMs).toISOString();
    if (d.legacy) {
      return {
        device_id: d.id,
        timestamp,
        temperature,
        humidity,
        latitude,
        longitude,
        status,
        battery,
      };
    }
    return {
      // Replays with the same seed and clock give the same ids; a later run never reuses one.
      // Time-ordered (v7 layout) so the table's primary key grows at its right edge.
      ID: nameBasedV7Uuid(nowMs, `${this.#seed}/${d.id}/${nowMs}/${d.sent++}`),
      ID_DISPOSITIVO: d.id,
      TIMESTAMP: timestamp,
      TEMPERATURA: temperature,
      UMIDADE: humidity,
      LATITUDE: latitude,
      LONGITUDE: longitude,
      STATUS: status,
      BATERIA: battery,
    };
  }
}

/** The canonical form of any payload the fleet sends (legacy keys renamed, no `ID` added). */
export function canonicalOf(payload: SensorEventPayload | LegacyPayload): Record<string, unknown> {
  if (!("device_id" in payload)) return { ...payload };
  return {
    ID_DISPOSITIVO: payload.device_id,
    TIMESTAMP: payload.timestamp,
    TEMPERATURA: payload.temperature,
    UMIDADE: payload.humidity,
    LATITUDE: payload.latitude,
    LONGITUDE: payload.longitude,
    STATUS: payload.status,
    BATERIA: payload.battery,
  };
}

/** The state a device reports: ERROR when critical, WARN when near a limit, else OK. */
export function statusOf(temperature: number, battery: number): Status {
  if (temperature > 45 || battery < 5) return "ERROR";
  if (temperature > 35 || battery < 15) return "WARN";
  return "OK";
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
