/**
 * Devices of the simulated fleet that misbehave on purpose, so that the consumer's anomaly and
 * offline alerts can be seen working: a temperature sensor that starts drifting, and a device
 * that falls silent. Pure: which devices is decided by the seed alone (from a generator of its
 * own, so a fleet without faults sends exactly what it sent before faults existed), and when by
 * the time since the fleet's first reading, which the caller's clock gives.
 *
 * @module
 */

import { base, en, Faker } from "@faker-js/faker";

/** What misbehaves, and from when. */
export interface FaultSettings {
  /** PRODUCER_DRIFT_DEVICES: devices whose temperature sensor drifts. */
  driftDevices: number;
  /** PRODUCER_DRIFT_AFTER_S: seconds after the fleet's first reading the drift starts. */
  driftAfterS: number;
  /** PRODUCER_DRIFT_C_PER_MIN: °C per minute the drifting sensors add to what they read. */
  driftCPerMin: number;
  /** PRODUCER_SILENT_DEVICES: devices that stop sending. */
  silentDevices: number;
  /** PRODUCER_SILENT_AFTER_S: seconds after the fleet's first reading they stop. */
  silentAfterS: number;
}

/** No device misbehaves. */
export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  driftDevices: 0,
  driftAfterS: 0,
  driftCPerMin: 0,
  silentDevices: 0,
  silentAfterS: 0,
});

/** The lowest and highest temperature a drifting sensor reports: it saturates, like a real one. */
export const SENSOR_RANGE_C = { min: -40, max: 90 } as const;

/** Which devices (by index in the fleet) misbehave; the two sets never meet. */
export interface FaultPlan {
  /** The settings the plan was made from. */
  settings: Readonly<FaultSettings>;
  /** Indices of drifting devices, ascending. */
  drifting: readonly number[];
  /** Indices of devices that fall silent, ascending. */
  silent: readonly number[];
}

/**
 * Chooses the misbehaving devices of a fleet of `size` from `seed`.
 *
 * @throws {RangeError} when the fleet is too small: drifting and silent devices are distinct,
 *   and at least one device keeps sending.
 */
export function planFaults(
  size: number,
  seed: number,
  settings: Readonly<FaultSettings>,
): FaultPlan {
  const { driftDevices, silentDevices } = settings;
  if (driftDevices + silentDevices > size || (silentDevices >= size && size > 0)) {
    throw new RangeError(
      `${driftDevices} drifting and ${silentDevices} silent devices do not fit a fleet of ` +
        `${size} with one device still sending`,
    );
  }
  if (driftDevices === 0 && silentDevices === 0) return { settings, drifting: [], silent: [] };
  // Its own generator: the fleet's stream of readings is the same whatever is chosen here.
  const faker = new Faker({ locale: [en, base] });
  faker.seed([seed, 0x66617574]);
  const order = faker.helpers.shuffle(Array.from({ length: size }, (_, i) => i));
  const ascending = (a: number, b: number) => a - b;
  return {
    settings,
    drifting: order.slice(0, driftDevices).sort(ascending),
    silent: order.slice(driftDevices, driftDevices + silentDevices).sort(ascending),
  };
}

/**
 * °C a drifting sensor adds to the true temperature, `elapsedMs` after the fleet's first reading:
 * 0 until PRODUCER_DRIFT_AFTER_S, then growing by PRODUCER_DRIFT_C_PER_MIN per minute.
 */
export function driftOffsetC(elapsedMs: number, settings: Readonly<FaultSettings>): number {
  const driftingMs = elapsedMs - settings.driftAfterS * 1000;
  return driftingMs <= 0 ? 0 : settings.driftCPerMin * driftingMs / 60_000;
}

/** Whether a silent device has stopped sending, `elapsedMs` after the fleet's first reading. */
export function isSilenced(elapsedMs: number, settings: Readonly<FaultSettings>): boolean {
  return elapsedMs >= settings.silentAfterS * 1000;
}
