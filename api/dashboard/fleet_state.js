/**
 * What the page knows about the fleet (pure, no DOM): devices with their latest reading and
 * their open alert types, and the open alerts. Loaded from `/api/devices` and
 * `/api/alerts?state=open`, then kept current by the stream's `reading` and `alert` events.
 *
 * A device's status on the map:
 * - `offline`: it has an open `offline` alert (the consumer's offline job opened it);
 * - `alerting`: it has any other open alert (temperature_high, battery_low, anomaly, drift);
 * - `ok`: no open alert.
 *
 * @module
 */

/** The statuses a device can show, in the legend's order. */
export const STATUSES = Object.freeze(["ok", "alerting", "offline"]);

/**
 * A device's status from its open alert types.
 * @param {Iterable<string>} openTypes
 * @returns {"ok" | "alerting" | "offline"}
 */
export function statusOf(openTypes) {
  const types = [...openTypes];
  if (types.includes("offline")) return "offline";
  return types.length > 0 ? "alerting" : "ok";
}

/**
 * @typedef {{ time: string, latitude: number, longitude: number, temperature: number,
 *   humidity: number, battery: number }} Latest
 * @typedef {{ id: string, latest: Latest | null, openTypes: Set<string> }} Device
 * @typedef {{ id: number, device: string, type: string, open: boolean, opened_at: string,
 *   acknowledged_at: string | null }} Alert
 * @typedef {{ devices: Map<string, Device>, alerts: Map<number, Alert> }} FleetState
 */

/** @returns {FleetState} an empty fleet. */
export function emptyFleet() {
  return { devices: new Map(), alerts: new Map() };
}

/**
 * Adds or replaces devices from `/api/devices` items (`device`, `latest`, `open_alerts`).
 * @param {FleetState} fleet
 * @param {Array<Record<string, unknown>>} items
 */
export function loadDevices(fleet, items) {
  for (const item of items) {
    const id = String(item.device);
    const open = Array.isArray(item.open_alerts) ? item.open_alerts.map(String) : [];
    fleet.devices.set(id, { id, latest: toLatest(item.latest), openTypes: new Set(open) });
  }
}

/**
 * Applies one alert, from `/api/alerts` or the stream: an open alert is listed and its type
 * marks the device; a cleared one is removed from both.
 * @param {FleetState} fleet
 * @param {Alert} alert
 */
export function applyAlert(fleet, alert) {
  const device = deviceFor(fleet, alert.device);
  if (alert.open) {
    fleet.alerts.set(alert.id, alert);
    device.openTypes.add(alert.type);
    return;
  }
  fleet.alerts.delete(alert.id);
  // Another open alert of that type (a later episode) keeps the mark.
  const still = [...fleet.alerts.values()].some((a) =>
    a.device === alert.device && a.type === alert.type
  );
  if (!still) device.openTypes.delete(alert.type);
}

/**
 * Applies a reading from the stream: it becomes the device's latest unless an event-time-newer
 * one is already known (the stream may repeat a batch after a reconnect).
 * @param {FleetState} fleet
 * @param {Record<string, unknown>} reading
 * @returns {boolean} whether the latest changed.
 */
export function applyReading(fleet, reading) {
  const device = deviceFor(fleet, String(reading.device));
  const latest = toLatest(reading);
  if (latest === null) return false;
  if (device.latest !== null && Date.parse(device.latest.time) > Date.parse(latest.time)) {
    return false;
  }
  device.latest = latest;
  return true;
}

/**
 * Open alerts, newest opened first.
 * @param {FleetState} fleet
 * @returns {Alert[]}
 */
export function openAlerts(fleet) {
  return [...fleet.alerts.values()].sort((a, b) =>
    Date.parse(b.opened_at) - Date.parse(a.opened_at) || b.id - a.id
  );
}

/**
 * How many devices show each status.
 * @param {FleetState} fleet
 * @returns {Record<string, number>}
 */
export function statusCounts(fleet) {
  /** @type {Record<string, number>} */
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const device of fleet.devices.values()) counts[statusOf(device.openTypes)] += 1;
  return counts;
}

/**
 * @param {FleetState} fleet
 * @param {string} id
 * @returns {Device}
 */
function deviceFor(fleet, id) {
  let device = fleet.devices.get(id);
  if (device === undefined) {
    device = { id, latest: null, openTypes: new Set() };
    fleet.devices.set(id, device);
  }
  return device;
}

/**
 * @param {unknown} value
 * @returns {Latest | null}
 */
function toLatest(value) {
  if (value === null || typeof value !== "object") return null;
  const r = /** @type {Record<string, unknown>} */ (value);
  if (typeof r.time !== "string") return null;
  return {
    time: r.time,
    latitude: Number(r.latitude),
    longitude: Number(r.longitude),
    temperature: Number(r.temperature),
    humidity: Number(r.humidity),
    battery: Number(r.battery),
  };
}
