import assert from "node:assert/strict";
import { BRAZIL_OUTLINE } from "./dashboard/brazil.js";
import { chartPaths } from "./dashboard/chart.js";
import { formatFigure, lagSeconds } from "./dashboard/counters.js";
import {
  applyAlert,
  applyReading,
  emptyFleet,
  loadDevices,
  openAlerts,
  statusCounts,
  statusOf,
} from "./dashboard/fleet_state.js";
import { equirectangular, frame, tilesFor, webMercator } from "./dashboard/map_projection.js";

const alert = (
  id: number,
  device: string,
  type: string,
  open: boolean,
  opened = "2026-12-04T10:00:00Z",
) => ({
  id,
  device,
  type,
  open,
  opened_at: opened,
  acknowledged_at: null,
});

Deno.test("statusOf(): offline wins, any other open alert is alerting, none is ok", () => {
  assert.equal(statusOf([]), "ok");
  assert.equal(statusOf(["battery_low"]), "alerting");
  assert.equal(statusOf(["anomaly", "offline"]), "offline");
});

Deno.test("the fleet state follows alerts opening and clearing", () => {
  const fleet = emptyFleet();
  loadDevices(fleet, [
    { device: "a", latest: null, open_alerts: [] },
    { device: "b", latest: null, open_alerts: ["offline"] },
  ]);
  assert.deepEqual(statusCounts(fleet), { ok: 1, alerting: 0, offline: 1 });
  applyAlert(fleet, alert(1, "a", "temperature_high", true));
  applyAlert(fleet, alert(2, "c", "battery_low", true, "2026-12-04T10:00:01Z"));
  assert.deepEqual(statusCounts(fleet), { ok: 0, alerting: 2, offline: 1 });
  assert.deepEqual(openAlerts(fleet).map((a) => a.id), [2, 1], "newest opened first");
  applyAlert(fleet, alert(1, "a", "temperature_high", false));
  assert.equal(statusOf(fleet.devices.get("a")!.openTypes), "ok");
  assert.deepEqual(openAlerts(fleet).map((a) => a.id), [2]);
  applyAlert(fleet, alert(3, "b", "offline", false));
  assert.equal(statusOf(fleet.devices.get("b")!.openTypes), "ok");
});

Deno.test("a cleared episode does not unmark a newer open one of the same type", () => {
  const fleet = emptyFleet();
  applyAlert(fleet, alert(5, "a", "anomaly", true));
  applyAlert(fleet, alert(4, "a", "anomaly", false));
  assert.equal(statusOf(fleet.devices.get("a")!.openTypes), "alerting");
});

Deno.test("applyReading() keeps the event-time newest reading", () => {
  const fleet = emptyFleet();
  const reading = (time: string, temperature: number) => ({
    device: "a",
    time,
    latitude: -10,
    longitude: -50,
    temperature,
    humidity: 50,
    battery: 80,
  });
  assert.equal(applyReading(fleet, reading("2026-12-04T10:00:02Z", 20)), true);
  assert.equal(applyReading(fleet, reading("2026-12-04T10:00:01Z", 30)), false);
  assert.equal(fleet.devices.get("a")!.latest!.temperature, 20);
  assert.equal(applyReading(fleet, { device: "a" }), false, "a reading without time is ignored");
});

Deno.test("the outline of Brazil spans the fleet's box and closes without crossing itself", () => {
  const lons = BRAZIL_OUTLINE.map((p) => p[0]);
  const lats = BRAZIL_OUTLINE.map((p) => p[1]);
  assert.deepEqual([Math.min(...lons), Math.max(...lons)], [-74, -34.8]);
  assert.deepEqual([Math.min(...lats), Math.max(...lats)], [-33.7, 5.2]);
  const n = BRAZIL_OUTLINE.length;
  const seg = (i: number) => [BRAZIL_OUTLINE[i], BRAZIL_OUTLINE[(i + 1) % n]];
  const cross = (o: readonly number[], a: readonly number[], b: readonly number[]) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // neighbours through the closing edge
      const [p, q] = seg(i);
      const [r, s] = seg(j);
      const proper = cross(p, q, r) * cross(p, q, s) < 0 && cross(r, s, p) * cross(r, s, q) < 0;
      assert.ok(!proper, `edges ${i} and ${j} cross`);
    }
  }
  // Shoelace: clockwise on a y-up plane, as the module says.
  let area = 0;
  for (let i = 0; i < n; i++) {
    const [[x1, y1], [x2, y2]] = seg(i);
    area += x1 * y2 - x2 * y1;
  }
  assert.ok(area < 0, `signed area ${area / 2}`);
  assert.ok(
    Math.abs(area / 2) > 600 && Math.abs(area / 2) < 800,
    `area ${area / 2} square degrees`,
  );
});

Deno.test("projections: equirectangular keeps north up; Web Mercator matches OpenStreetMap's tiles", () => {
  const [x1, y1] = equirectangular(-50, 0);
  const [x2, y2] = equirectangular(-40, -10);
  assert.ok(x2 > x1 && y2 > y1, "east is right, south is down");
  const mercator = webMercator(5);
  assert.deepEqual(mercator(-180, 0), [0, 4096]);
  // Brasília (-47.9, -15.8) lies in tile x 11, y 17 at zoom 5.
  const [bx, by] = mercator(-47.9, -15.8);
  assert.deepEqual([Math.floor(bx / 256), Math.floor(by / 256)], [11, 17]);
  const box = frame(BRAZIL_OUTLINE.map(([lon, lat]) => mercator(lon, lat)), 0);
  const tiles = tilesFor(box);
  assert.ok(tiles.some((t) => t.x === 11 && t.y === 17));
  assert.ok(tiles.length >= 9 && tiles.length <= 30, `${tiles.length} tiles`);
});

Deno.test("frame() pads the points' box and ignores points that are not numbers", () => {
  assert.deepEqual(frame([[0, 0], [10, 5], [NaN, 3]], 0.1), { x: -1, y: -1, width: 12, height: 7 });
  assert.deepEqual(frame([]), { x: 0, y: 0, width: 1, height: 1 });
});

Deno.test("chartPaths() scales time and value into the drawing area", () => {
  const { line, band, low, high } = chartPaths(
    [
      { t: 0, v: 10, min: 9, max: 11 },
      { t: 100, v: 20 },
    ],
    0,
    100,
  );
  assert.equal(low, 9);
  assert.equal(high, 20);
  assert.equal(line, "M34.0,69.8L314.0,8.0");
  assert.equal(band, "M34.0,63.6L314.0,8.0L314.0,8.0L34.0,76.0Z");
  const flat = chartPaths([{ t: 5, v: 3 }], 0, 10);
  assert.deepEqual([flat.low, flat.high], [2, 4], "a flat series gets a range");
  assert.equal(chartPaths([], 0, 10).line, "");
});

Deno.test("lagSeconds() is the median of stored minus event time; formatFigure() shows – for none", () => {
  const r = (time: string, loaded: string) => ({ time, loaded_at: loaded });
  assert.equal(lagSeconds([]), undefined);
  assert.equal(
    lagSeconds([
      r("2026-12-04T10:00:00Z", "2026-12-04T10:00:01Z"),
      r("2026-12-04T10:00:00Z", "2026-12-04T10:00:03Z"),
      r("2026-12-04T10:00:00Z", "2026-12-04T10:01:00Z"),
    ]),
    3,
  );
  assert.equal(formatFigure(null), "–");
  assert.equal(formatFigure(12345.678, 1), "12,345.7");
});
