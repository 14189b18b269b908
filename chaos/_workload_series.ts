/**
 * Each simulated device's own series (private to chaos/; see workload.ts): a steady temperature
 * and humidity with a little noise, heat spikes of a few readings above the alert limit, now and
 * then a reading inside the clearing band, and a battery that drains reading by reading until it
 * is low for a while and is recharged. So a run's devices open alert episodes and clear them
 * (temperature, battery, and the anomaly score, which a spike on a quiet series sets off), and the
 * checker's replay has episodes to judge, not just rows. Some devices' temperature also ramps up
 * for a while and then holds, so `drift` episodes open and clear.
 *
 * @module
 */

import { ALERT } from "./ledger.ts";
import type { Rng } from "./rng.ts";

/** The metrics of one reading of a device. */
export interface SeriesValues {
  TEMPERATURA: number;
  UMIDADE: number;
  BATERIA: number;
}

interface DeviceSeries {
  /** Usual temperature, °C: well below the limit minus the band, so normal readings are calm. */
  temperature: number;
  humidity: number;
  battery: number;
  /** Readings left in the current heat spike. */
  spike: number;
  /** Battery level at which it is recharged (below the alert threshold). */
  rechargeAt: number;
  /** °C its usual temperature rises per reading while it ramps. */
  ramp: number;
  /** Readings left in the ramp. */
  rampLeft: number;
  /** Readings so far, counted while a ramp is due. */
  seen: number;
}

/** Chance that a reading starts a heat spike. */
const SPIKE_CHANCE = 0.03;
/** Chance of a reading just under the limit (inside the clearing band: resets a calm streak). */
const BAND_CHANCE = 0.02;
/** Chance that a device's temperature ramps up (from its 5th reading, for 8 to 20 readings). */
const RAMP_CHANCE = 0.25;

/** The series of every device seen so far, each started at random on its first reading. */
export class FleetSeries {
  readonly #devices = new Map<string, DeviceSeries>();

  constructor(readonly rng: Rng) {}

  /** The next reading's metrics of `device`. */
  next(device: string): SeriesValues {
    const rng = this.rng;
    let s = this.#devices.get(device);
    if (s === undefined) {
      s = {
        temperature: rng.float(10, 28),
        humidity: rng.float(30, 80),
        battery: rng.float(ALERT.batteryMin, 100),
        spike: 0,
        rechargeAt: rng.float(2, ALERT.batteryMin - 3),
        ramp: rng.chance(RAMP_CHANCE) ? rng.float(0.3, 0.8) : 0,
        rampLeft: rng.int(8, 20),
        seen: 0,
      };
      this.#devices.set(device, s);
    }
    if (s.spike === 0 && rng.chance(SPIKE_CHANCE)) s.spike = rng.int(2, 6);
    // Readings 5 on: past the run's warm-up, so the medians start from a settled mean.
    if (s.ramp > 0 && s.rampLeft > 0 && ++s.seen > 5) {
      s.temperature += s.ramp;
      s.rampLeft--;
    }
    let temperature: number;
    if (s.spike > 0) {
      s.spike--;
      temperature = rng.float(ALERT.temperatureMax + 0.01, ALERT.temperatureMax + 8);
    } else if (rng.chance(BAND_CHANCE)) {
      temperature = rng.float(ALERT.temperatureMax - 0.99, ALERT.temperatureMax);
    } else {
      temperature = round(s.temperature + rng.float(-0.5, 0.5));
    }
    s.battery = round(Math.max(0, s.battery - rng.float(0.1, 0.8)));
    if (s.battery < s.rechargeAt) s.battery = rng.float(90, 100);
    return {
      TEMPERATURA: temperature,
      UMIDADE: round(Math.min(100, Math.max(0, s.humidity + rng.float(-1, 1)))),
      BATERIA: s.battery,
    };
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
