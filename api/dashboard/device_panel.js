/**
 * The selected device: its latest values and status, and live charts of temperature, humidity
 * and battery over the last {@linkcode WINDOW_MS}. The charts start from the device's
 * downsampled history (`/api/devices/{id}/history`) and grow with the stream's readings.
 *
 * @module
 */

import { getJson } from "./api_client.js";
import { drawChart } from "./chart.js";
import { statusOf } from "./fleet_state.js";

/** The charts' time window. */
export const WINDOW_MS = 15 * 60_000;

/** The shortest span the charts show. */
export const MIN_SPAN_MS = 15_000;

/** Points asked of the history endpoint for the window. */
export const HISTORY_POINTS = 300;

/** The charted metrics: the field of a reading and of a history bucket, and its unit. */
const METRICS = [
  { field: "temperature", unit: "°C" },
  { field: "humidity", unit: "%" },
  { field: "battery", unit: "%" },
];

/** The device panel of one page. */
export class DevicePanel {
  /** @param {Document} doc */
  constructor(doc) {
    this.doc = doc;
    /** @type {string | undefined} */
    this.id = undefined;
    /** @type {Record<string, import("./chart.js").Point[]>} */
    this.series = {};
  }

  /**
   * Shows device `id`: its history first, then live readings.
   * @param {import("./fleet_state.js").Device} device
   */
  async show(device) {
    this.id = device.id;
    this.series = Object.fromEntries(METRICS.map((m) => [m.field, []]));
    this.doc.getElementById("device-panel").hidden = false;
    this.doc.getElementById("device-id").textContent = device.id;
    this.describe(device);
    const to = new Date();
    const from = new Date(to.getTime() - WINDOW_MS);
    const query = `from=${from.toISOString()}&to=${to.toISOString()}&points=${HISTORY_POINTS}`;
    const history = await getJson(`/api/devices/${encodeURIComponent(device.id)}/history?${query}`);
    if (this.id !== device.id) return; // another device was selected meanwhile
    for (const bucket of history.buckets) {
      const t = Date.parse(bucket.start) + history.bucket_s * 500; // the bucket's middle
      for (const { field } of METRICS) {
        const stat = bucket[field];
        this.series[field].push({ t, v: stat.avg, min: stat.min, max: stat.max });
      }
    }
    // Stream readings that came while the history loaded are already in: keep time order.
    for (const { field } of METRICS) this.series[field].sort((a, b) => a.t - b.t);
    this.draw();
  }

  /**
   * Adds a stream reading when it is the shown device's.
   * @param {Record<string, any>} reading
   */
  addReading(reading) {
    if (reading.device !== this.id) return;
    const t = Date.parse(reading.time);
    for (const { field } of METRICS) {
      const points = this.series[field];
      if (points.length > 0 && points[points.length - 1].t >= t) continue; // replayed or late
      points.push({ t, v: Number(reading[field]) });
    }
    this.draw();
  }

  /**
   * Writes the device's status and latest values.
   * @param {import("./fleet_state.js").Device} device
   */
  describe(device) {
    if (device.id !== this.id) return;
    const status = statusOf(device.openTypes);
    const badge = this.doc.getElementById("device-status");
    badge.textContent = status;
    badge.className = `badge ${status}`;
    const l = device.latest;
    this.doc.getElementById("device-latest").textContent = l === null
      ? "no reading yet"
      : `${l.temperature.toFixed(1)} °C · ${l.humidity.toFixed(1)} % · battery ${
        l.battery.toFixed(0)
      } % · at ${new Date(l.time).toLocaleTimeString()} · open: ${
        [...device.openTypes].join(", ") || "none"
      }`;
  }

  /**
   * Redraws the charts over the window ending now, narrowed to the readings there are (at
   * least {@linkcode MIN_SPAN_MS}), so a young device's few points are not squeezed to the edge.
   */
  draw() {
    const to = Date.now();
    const start = to - WINDOW_MS;
    for (const { field } of METRICS) {
      this.series[field] = this.series[field].filter((p) => p.t >= start);
    }
    const first = Math.min(...METRICS.map(({ field }) => this.series[field][0]?.t ?? to));
    const from = Math.max(start, Math.min(first, to - MIN_SPAN_MS));
    for (const { field, unit } of METRICS) {
      const points = this.series[field];
      const svg = /** @type {SVGSVGElement} */ (/** @type {unknown} */ (
        this.doc.getElementById(`chart-${field}`)
      ));
      drawChart(svg, points, { from, to, unit });
    }
  }
}
