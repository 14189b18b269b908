import assert from "node:assert/strict";
import { DEFAULT_ALERT_RULE, isAlert, validateEvent } from "@iot/shared";
import { canonicalOf, Fleet, type LegacyPayload, type Reading, statusOf } from "./fleet.ts";

const START = Date.UTC(2026, 10, 26, 12);
const SEED = 42;

interface Canonical {
  ID?: string;
  ID_DISPOSITIVO: string;
  TIMESTAMP: string;
  TEMPERATURA: number;
  UMIDADE: number;
  LATITUDE: number;
  LONGITUDE: number;
  STATUS: "OK" | "WARN" | "ERROR";
  BATERIA: number;
}

function readings(fleet: Fleet, count: number, stepMs = 100, start = START): Reading[] {
  return Array.from({ length: count }, (_, i) => fleet.nextReading(start + i * stepMs));
}

/** 100 000 readings of a fleet of 50, shared by the statistical tests (about a second to make). */
const LONG_RUN = (() => {
  const fleet = new Fleet(50, SEED);
  const homes = new Map(fleet.devices.map((d) => [d.id, { ...d.home }]));
  const legacyIds = new Set(fleet.devices.filter((d) => d.legacy).map((d) => d.id));
  const initialHumidity = fleet.devices.map((d) => d.humidity);
  const list = readings(fleet, 100_000);
  return {
    fleet,
    homes,
    legacyIds,
    initialHumidity,
    list,
    canon: list.map((r) => canonicalOf(r.payload) as unknown as Canonical),
  };
})();

Deno.test("Fleet replays the same readings for the same seed and clock", () => {
  const a = new Fleet(20, 1234);
  const b = new Fleet(20, 1234);
  assert.deepEqual(a.devices, b.devices);
  assert.deepEqual(readings(a, 2000), readings(b, 2000));
});

Deno.test("Fleet gives different devices and readings for different seeds", () => {
  const a = new Fleet(20, 1);
  const b = new Fleet(20, 2);
  assert.notDeepEqual(a.devices.map((d) => d.id), b.devices.map((d) => d.id));
  const ra = readings(a, 200).map((r) => canonicalOf(r.payload).TEMPERATURA);
  const rb = readings(b, 200).map((r) => canonicalOf(r.payload).TEMPERATURA);
  assert.notDeepEqual(ra, rb);
});

Deno.test("Fleet devices take turns in a fixed order and keep their ids", () => {
  const fleet = new Fleet(7, SEED);
  const ids = fleet.devices.map((d) => d.id);
  assert.equal(new Set(ids).size, 7);
  ids.forEach((id, i) =>
    assert.match(id, new RegExp(`^sensor-${String(i + 1).padStart(4, "0")}-[a-z0-9]{6}$`))
  );
  const keys = readings(fleet, 70).map((r) => r.key);
  assert.deepEqual(keys, Array.from({ length: 70 }, (_, i) => ids[i % 7]));
  for (const r of readings(fleet, 70)) {
    assert.equal(
      canonicalOf(r.payload).ID_DISPOSITIVO,
      r.key,
      "the Kafka key is the payload's device",
    );
  }
  assert.deepEqual(fleet.devices.map((d) => d.id), ids);
});

Deno.test("Fleet of 50 has both canonical and legacy devices, each sending its own format", () => {
  const { fleet, list, legacyIds } = LONG_RUN;
  assert.ok(legacyIds.size > 0 && legacyIds.size < 50, `legacy devices: ${legacyIds.size}`);
  for (const reading of list.slice(0, 500)) {
    const device = fleet.devices.find((d) => d.id === reading.key)!;
    if (device.legacy) {
      assert.deepEqual(Object.keys(reading.payload).sort(), [
        "battery",
        "device_id",
        "humidity",
        "latitude",
        "longitude",
        "status",
        "temperature",
        "timestamp",
      ]);
    } else {
      assert.deepEqual(Object.keys(reading.payload), [
        "ID",
        "ID_DISPOSITIVO",
        "TIMESTAMP",
        "TEMPERATURA",
        "UMIDADE",
        "LATITUDE",
        "LONGITUDE",
        "STATUS",
        "BATERIA",
      ]);
    }
  }
});

Deno.test("Fleet readings all pass validateEvent(), canonical and legacy alike", () => {
  const { list } = LONG_RUN;
  let legacy = 0;
  list.forEach((reading, i) => {
    const nowMs = START + i * 100;
    const result = validateEvent(JSON.stringify(reading.payload), nowMs);
    if (!result.ok) assert.fail(`reading ${i} refused: ${JSON.stringify(result.reasons)}`);
    assert.equal(result.event.deviceId, reading.key);
    assert.equal(result.event.timestamp.epochMs, nowMs, "the reading is stamped with the clock");
    if (result.event.id === undefined) legacy++;
  });
  assert.ok(legacy > 0 && legacy < list.length, `legacy readings: ${legacy}`);
});

Deno.test("Fleet canonical readings carry unique event ids", () => {
  const ids = LONG_RUN.canon.map((c) => c.ID).filter((id) => id !== undefined);
  assert.ok(ids.length > 50_000);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("Fleet event ids are time-ordered: version 7 over the reading's instant", () => {
  const ids = LONG_RUN.canon.filter((c) => c.ID !== undefined).map((c) => c.ID!);
  for (const [i, c] of LONG_RUN.canon.entries()) {
    if (c.ID === undefined) continue;
    assert.match(c.ID, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(c.ID.slice(0, 8) + c.ID.slice(9, 13), 16);
    assert.equal(ms, START + i * 100, "the id's first 48 bits are the reading's instant");
    assert.equal(ms, Date.parse(c.TIMESTAMP));
  }
  // One reading every 100 ms: each id sorts after the one before it.
  assert.deepEqual([...ids].sort(), ids);
});

Deno.test(
  {
    name: "Fleet with the same seed started later does not reuse event ids",
  },
  () => {
    const first = readings(new Fleet(10, 7), 1000).map((r) => canonicalOf(r.payload).ID);
    const later = readings(new Fleet(10, 7), 1000, 100, START + 3_600_000).map((r) =>
      canonicalOf(r.payload).ID
    );
    const taken = new Set(first.filter((id) => id !== undefined));
    assert.deepEqual(later.filter((id) => id !== undefined && taken.has(id)), []);
  },
);

Deno.test("Fleet readings stay within realistic ranges", () => {
  for (const c of LONG_RUN.canon) {
    assert.ok(c.TEMPERATURA >= -40 && c.TEMPERATURA <= 90, `temperature ${c.TEMPERATURA}`);
    assert.ok(c.UMIDADE >= 5 && c.UMIDADE <= 99, `humidity ${c.UMIDADE}`);
    assert.ok(c.BATERIA >= 0 && c.BATERIA <= 100, `battery ${c.BATERIA}`);
    // Brazil, roughly: the fleet's installation area.
    assert.ok(c.LATITUDE >= -33.701 && c.LATITUDE <= 5.201, `latitude ${c.LATITUDE}`);
    assert.ok(c.LONGITUDE >= -73.901 && c.LONGITUDE <= -34.799, `longitude ${c.LONGITUDE}`);
    // Rounded as a device would send them.
    assert.equal(Math.round(c.TEMPERATURA * 100) / 100, c.TEMPERATURA);
    assert.equal(Math.round(c.UMIDADE * 10) / 10, c.UMIDADE);
    assert.equal(Math.round(c.BATERIA * 10) / 10, c.BATERIA);
  }
  for (const d of LONG_RUN.fleet.devices) {
    assert.ok(d.baseline >= 16 && d.baseline <= 30, `baseline ${d.baseline}`);
  }
});

Deno.test("Fleet alert rate is realistic: a few percent of readings", () => {
  const { canon } = LONG_RUN;
  let alerts = 0;
  let hot = 0;
  let low = 0;
  for (const c of canon) {
    if (isAlert(c.TEMPERATURA, c.BATERIA, DEFAULT_ALERT_RULE)) alerts++;
    if (c.TEMPERATURA > DEFAULT_ALERT_RULE.temperatureMax) hot++;
    if (c.BATERIA < DEFAULT_ALERT_RULE.batteryMin) low++;
  }
  const rate = alerts / canon.length;
  console.log(
    `alert rate over ${canon.length} readings (seed ${SEED}): ${(rate * 100).toFixed(2)} % ` +
      `(temperature > 35: ${(hot / canon.length * 100).toFixed(2)} %, ` +
      `battery < 15: ${(low / canon.length * 100).toFixed(2)} %)`,
  );
  assert.ok(rate > 0.01 && rate < 0.15, `alert rate ${rate}`);
  // Both causes occur: heat spikes and low batteries.
  assert.ok(hot / canon.length > 0.005, `hot share ${hot / canon.length}`);
  assert.ok(low / canon.length > 0.005, `low battery share ${low / canon.length}`);
});

Deno.test("Fleet alert rate stays in the same band for other seeds", () => {
  for (const seed of [1, 2026]) {
    const fleet = new Fleet(50, seed);
    let alerts = 0;
    const n = 30_000;
    for (let i = 0; i < n; i++) {
      const c = canonicalOf(fleet.nextReading(START + i).payload) as unknown as Canonical;
      if (isAlert(c.TEMPERATURA, c.BATERIA, DEFAULT_ALERT_RULE)) alerts++;
    }
    assert.ok(alerts / n > 0.01 && alerts / n < 0.15, `seed ${seed}: alert rate ${alerts / n}`);
  }
});

Deno.test("Fleet devices stay within 5e-4 degrees of home", () => {
  const { canon, homes } = LONG_RUN;
  const tolerance = 5e-4 + 1e-6; // jitter plus rounding to 6 decimals
  for (const c of canon) {
    const home = homes.get(c.ID_DISPOSITIVO)!;
    assert.ok(Math.abs(c.LATITUDE - home.latitude) <= tolerance);
    assert.ok(Math.abs(c.LONGITUDE - home.longitude) <= tolerance);
  }
  // And the jitter is real: a device does not report one fixed point.
  const first = canon.filter((c) => c.ID_DISPOSITIVO === canon[0].ID_DISPOSITIVO).slice(0, 20);
  assert.ok(new Set(first.map((c) => c.LATITUDE)).size > 1);
});

Deno.test("Fleet temperature drifts around each device's baseline", () => {
  const { canon, fleet } = LONG_RUN;
  for (const device of fleet.devices) {
    const temps = canon.filter((c) => c.ID_DISPOSITIVO === device.id).map((c) => c.TEMPERATURA);
    const sorted = [...temps].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    assert.ok(
      Math.abs(median - device.baseline) < 1.5,
      `${device.id}: median ${median} vs ${device.baseline}`,
    );
    // Consecutive readings of one device move smoothly except during spikes.
    let jumps = 0;
    for (let i = 1; i < temps.length; i++) if (Math.abs(temps[i] - temps[i - 1]) > 4) jumps++;
    assert.ok(jumps < temps.length * 0.02, `${device.id}: ${jumps} jumps`);
  }
});

Deno.test("Fleet batteries drain slowly and recharge to nearly full", () => {
  const { canon, fleet } = LONG_RUN;
  for (const device of fleet.devices) {
    const levels = canon.filter((c) => c.ID_DISPOSITIVO === device.id).map((c) => c.BATERIA);
    let drops = 0;
    let rises = 0;
    let recharges = 0;
    let charging = false;
    let lowest = Infinity;
    for (let i = 1; i < levels.length; i++) {
      const delta = levels[i] - levels[i - 1];
      if (delta < 0) {
        drops++;
        assert.ok(delta >= -0.25, `${device.id}: drained ${delta} in one reading`);
        if (charging) charging = false;
      } else if (delta > 0) {
        rises++;
        if (!charging) {
          recharges++;
          charging = true;
          lowest = Math.min(lowest, levels[i - 1]);
        }
      }
    }
    assert.ok(drops > rises, `${device.id}: drains more often than it charges`);
    assert.ok(recharges >= 1, `${device.id}: never recharged in ${levels.length} readings`);
    assert.ok(lowest < 15, `${device.id}: recharged only from ${lowest} %`);
    assert.ok(Math.max(...levels) >= 98, `${device.id}: never nearly full`);
  }
});

Deno.test("Fleet STATUS is derived from the reported temperature and battery", () => {
  const counts = { OK: 0, WARN: 0, ERROR: 0 };
  for (const c of LONG_RUN.canon) {
    assert.equal(c.STATUS, statusOf(c.TEMPERATURA, c.BATERIA));
    // Under the default rule, a device reports OK exactly when the consumer raises no alert.
    assert.equal(c.STATUS === "OK", !isAlert(c.TEMPERATURA, c.BATERIA, DEFAULT_ALERT_RULE));
    counts[c.STATUS]++;
  }
  assert.ok(counts.OK > counts.WARN && counts.WARN > counts.ERROR, JSON.stringify(counts));
  assert.ok(counts.ERROR > 0, "heat spikes past 45 °C occur");
});

Deno.test(
  {
    name: "Fleet humidity reverts to each device's level instead of drifting to the 5 % floor",
  },
  () => {
    const { canon, initialHumidity } = LONG_RUN;
    const atClamp = canon.filter((c) => c.UMIDADE <= 5 || c.UMIDADE >= 99).length;
    assert.ok(atClamp / canon.length < 0.005, `${atClamp} readings on a clamp`);
    const startMean = initialHumidity.reduce((a, b) => a + b, 0) / initialHumidity.length;
    const tail = canon.slice(-5000).map((c) => c.UMIDADE);
    const endMean = tail.reduce((a, b) => a + b, 0) / tail.length;
    assert.ok(Math.abs(endMean - startMean) < 15, `mean ${startMean} -> ${endMean}`);
  },
);

Deno.test("statusOf() is ERROR when critical, WARN near a limit, else OK", () => {
  assert.equal(statusOf(20, 50), "OK");
  assert.equal(statusOf(35, 15), "OK");
  assert.equal(statusOf(35.01, 50), "WARN");
  assert.equal(statusOf(20, 14.9), "WARN");
  assert.equal(statusOf(45, 50), "WARN");
  assert.equal(statusOf(45.01, 50), "ERROR");
  assert.equal(statusOf(20, 5), "WARN");
  assert.equal(statusOf(20, 4.9), "ERROR");
});

Deno.test("canonicalOf() renames legacy keys and keeps canonical payloads as they are", () => {
  const legacy: LegacyPayload = {
    device_id: "d-1",
    timestamp: "2026-11-26T12:00:00.000Z",
    temperature: 20.5,
    humidity: 50,
    latitude: -10,
    longitude: -50,
    status: "OK",
    battery: 90,
  };
  assert.deepEqual(canonicalOf(legacy), {
    ID_DISPOSITIVO: "d-1",
    TIMESTAMP: "2026-11-26T12:00:00.000Z",
    TEMPERATURA: 20.5,
    UMIDADE: 50,
    LATITUDE: -10,
    LONGITUDE: -50,
    STATUS: "OK",
    BATERIA: 90,
  });
  const canonical = { ...canonicalOf(legacy), ID: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d" };
  const copy = canonicalOf(canonical as never);
  assert.deepEqual(copy, canonical);
  assert.notEqual(copy, canonical, "a copy, so breaking it leaves the reading intact");
});
