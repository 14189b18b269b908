/**
 * The per-process cache of devices as stored (state, anomaly model, open alerts), so a write in
 * steady state plans without reading them first. An entry is only ever a guess: the write is
 * guarded by the entry's `versao`, and a guess that is wrong (another writer, the offline job)
 * fails the write with SQLSTATE 40001, after which the store drops it and reads the device again.
 *
 * Bounded: the least recently used device goes first (a Map keeps insertion order, and a hit
 * moves the entry to its end).
 *
 * @module
 */

import type { DeviceSnapshot } from "./monitoring.ts";

/** An LRU cache of {@link DeviceSnapshot}s by device id. */
export class DeviceCache {
  readonly #entries = new Map<string, DeviceSnapshot>();

  /** @param capacity DEVICE_CACHE_SIZE: most devices kept (0 keeps none). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`Cannot size a device cache to ${capacity}: not a whole number >= 0`);
    }
  }

  /** Devices kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** The device as last written or read by this process, if kept. */
  get(device: string): DeviceSnapshot | undefined {
    const entry = this.#entries.get(device);
    if (entry !== undefined) {
      this.#entries.delete(device);
      this.#entries.set(device, entry);
    }
    return entry;
  }

  /**
   * Keeps a device as stored, unless a newer version is kept already (two writes of one device
   * finishing out of order must not bring back the older).
   */
  set(device: string, snapshot: DeviceSnapshot): void {
    if (this.capacity === 0) return;
    const kept = this.#entries.get(device);
    if (kept?.versao != null && snapshot.versao != null && kept.versao > snapshot.versao) return;
    this.#entries.delete(device);
    this.#entries.set(device, snapshot);
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets a device (its entry proved stale). */
  delete(device: string): void {
    this.#entries.delete(device);
  }
}
