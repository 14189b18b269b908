/**
 * The dashboard's entry: loads the devices and the open alerts, opens the live stream, and
 * keeps the map, the selected device, the alerts and the counters current. Plain ES modules
 * served as they are (no build step, nothing from outside this origin).
 *
 * @module
 */

import { getAll, getJson, openStream } from "./api_client.js";
import { AlertsPanel } from "./alerts_panel.js";
import { formatFigure, lagSeconds } from "./counters.js";
import { DevicePanel } from "./device_panel.js";
import {
  applyAlert,
  applyReading,
  emptyFleet,
  loadDevices,
  openAlerts,
  statusCounts,
  STATUSES,
} from "./fleet_state.js";
import { FleetMap } from "./map.js";

/** How often the counters are read from `/api/stats`. */
const STATS_INTERVAL_MS = 2000;

/** Readings the lag is the median of. */
const LAG_READINGS = 200;

/** localStorage key of the tiles setting (off unless the user turns it on). */
const TILES_KEY = "iot.mapTiles";

const fleet = emptyFleet();
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const tilesSetting = /** @type {HTMLInputElement} */ ($("tiles-setting"));
tilesSetting.checked = localStorage.getItem(TILES_KEY) === "on";
tilesSetting.addEventListener("change", () => {
  localStorage.setItem(TILES_KEY, tilesSetting.checked ? "on" : "off");
  location.reload();
});

const map = new FleetMap(
  /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($("map"))),
  (id) => select(id),
  { tiles: tilesSetting.checked },
);
const panel = new DevicePanel(document);
const alerts = new AlertsPanel(document, sessionStorage, (alert) => {
  applyAlert(fleet, alert);
  refresh();
}, (id) => select(id));
/** @type {Array<{ time: string, loaded_at: string }>} */
const recent = [];

/** @param {string} id */
function select(id) {
  const device = fleet.devices.get(id);
  if (device === undefined) return;
  map.select(id);
  history.replaceState(null, "", `#device=${encodeURIComponent(id)}`);
  panel.show(device).catch(showError);
}

let scheduled = false;
/** Redraws what depends on the fleet, at most once per frame. */
function refresh() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    map.update(fleet.devices.values());
    const counts = statusCounts(fleet);
    for (const status of STATUSES) $(`count-${status}`).textContent = String(counts[status]);
    $("devices").textContent = formatFigure(fleet.devices.size);
    alerts.render(openAlerts(fleet));
    const shown = panel.id === undefined ? undefined : fleet.devices.get(panel.id);
    if (shown !== undefined) panel.describe(shown);
  });
}

async function readStats() {
  try {
    const stats = await getJson("/api/stats");
    $("rows-per-second").textContent = formatFigure(stats.rows_per_second, 1);
    $("rejects").textContent = formatFigure(stats.rejects);
  } catch (error) {
    showError(error);
  }
}

/** @param {unknown} error */
function showError(error) {
  const box = $("error");
  box.textContent = String(/** @type {Error} */ (error).message ?? error);
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 8000);
}

/** Stream events that arrived while the lists loaded; `undefined` once applied. */
/** @type {Array<() => void> | undefined} */
let early = [];

/** @param {() => void} apply */
function onEvent(apply) {
  if (early === undefined) apply();
  else early.push(apply);
}

async function start() {
  // The stream first, its events held until the lists are in and applied after them: what
  // commits while the lists load is not lost, and a list never overwrites a newer event.
  openStream({
    reading: (reading) =>
      onEvent(() => {
        applyReading(fleet, reading);
        panel.addReading(reading);
        recent.push(reading);
        if (recent.length > LAG_READINGS) recent.splice(0, recent.length - LAG_READINGS);
        const lag = lagSeconds(recent);
        $("lag").textContent = lag === undefined ? "–" : `${formatFigure(lag, 1)} s`;
        refresh();
      }),
    alert: (alert) =>
      onEvent(() => {
        applyAlert(fleet, alert);
        refresh();
      }),
    state(state) {
      $("stream-state").textContent = state;
      document.body.dataset.stream = state;
    },
  });
  const [devices, open] = await Promise.all([
    getAll("/api/devices"),
    getAll("/api/alerts?state=open"),
  ]);
  loadDevices(fleet, devices);
  for (const alert of open) applyAlert(fleet, alert);
  for (const apply of early ?? []) apply();
  early = undefined;
  refresh();
  document.body.dataset.loaded = "true";
  const wanted = new URLSearchParams(location.hash.slice(1)).get("device");
  if (wanted !== null) select(wanted);
  await readStats();
  setInterval(readStats, STATS_INTERVAL_MS);
  // The charts' window slides even when the shown device is quiet.
  setInterval(() => panel.id !== undefined && panel.draw(), 10_000);
}

start().catch(showError);
