import assert from "node:assert/strict";
import { driftOffsetC, type FaultSettings, isSilenced, NO_FAULTS, planFaults } from "./faults.ts";
import { canonicalOf, Fleet } from "./fleet.ts";

const START = Date.UTC(2026, 11, 4, 12);
const FAULTS: FaultSettings = {
  driftDevices: 2,
  driftAfterS: 60,
  driftCPerMin: 2,
  silentDevices: 3,
  silentAfterS: 30,
};

Deno.test("planFaults() chooses distinct devices from the seed alone", () => {
  const plan = planFaults(50, 7, FAULTS);
  assert.equal(plan.drifting.length, 2);
  assert.equal(plan.silent.length, 3);
  assert.equal(new Set([...plan.drifting, ...plan.silent]).size, 5);
  for (const i of [...plan.drifting, ...plan.silent]) assert.ok(i >= 0 && i < 50);
  assert.deepEqual(planFaults(50, 7, FAULTS), plan);
  const others = [8, 9, 10].map((seed) => planFaults(50, seed, FAULTS));
  assert.ok(others.some((o) => o.drifting.join() !== plan.drifting.join()));
});

Deno.test("planFaults() refuses a fleet too small and accepts the fullest that fits", () => {
  assert.throws(() => planFaults(4, 1, FAULTS), RangeError);
  assert.throws(() => planFaults(3, 1, { ...NO_FAULTS, silentDevices: 3 }), RangeError);
  const full = planFaults(5, 1, FAULTS);
  assert.deepEqual([...full.drifting, ...full.silent].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(planFaults(5, 1, NO_FAULTS), { settings: NO_FAULTS, drifting: [], silent: [] });
});

Deno.test("driftOffsetC() is 0 until the drift starts, then grows by the rate per minute", () => {
  assert.equal(driftOffsetC(0, FAULTS), 0);
  assert.equal(driftOffsetC(60_000, FAULTS), 0);
  assert.equal(driftOffsetC(90_000, FAULTS), 1);
  assert.equal(driftOffsetC(180_000, FAULTS), 4);
  assert.equal(driftOffsetC(180_000, { ...FAULTS, driftCPerMin: -0.5 }), -1);
});

Deno.test("isSilenced() starts at PRODUCER_SILENT_AFTER_S exactly", () => {
  assert.equal(isSilenced(29_999, FAULTS), false);
  assert.equal(isSilenced(30_000, FAULTS), true);
});

Deno.test("a fleet without faults sends what it sent before faults existed", () => {
  const plain = new Fleet(20, 99);
  const none = new Fleet(20, 99, NO_FAULTS);
  const read = (f: Fleet) => Array.from({ length: 500 }, (_, i) => f.nextReading(START + i * 100));
  assert.deepEqual(read(plain), read(none));
});

Deno.test("a silent device stops at its time, the others keep the fleet's rate, and nothing else changes before", () => {
  const fleet = new Fleet(10, 5, { ...NO_FAULTS, silentDevices: 3, silentAfterS: 30 });
  const plain = new Fleet(10, 5);
  const silentIds = new Set(fleet.faults.silent.map((i) => fleet.devices[i].id));
  // One reading a second: devices take turns, so each reports every 10 s.
  const readings = Array.from({ length: 120 }, (_, i) => fleet.nextReading(START + i * 1000));
  const before = Array.from({ length: 30 }, (_, i) => plain.nextReading(START + i * 1000));
  assert.deepEqual(readings.slice(0, 30), before);
  const after = readings.slice(30);
  assert.equal(after.length, 90);
  assert.ok(after.every((r) => !silentIds.has(r.key)));
  const perDevice = new Map<string, number>();
  for (const r of after) perDevice.set(r.key, (perDevice.get(r.key) ?? 0) + 1);
  assert.equal(perDevice.size, 7);
  for (const n of perDevice.values()) assert.ok(n >= 12 && n <= 13, `${n} readings`);
});

Deno.test("a drifting sensor reads the true temperature plus the drift, saturating at 90 °C", () => {
  const faults = { ...NO_FAULTS, driftDevices: 1, driftAfterS: 60, driftCPerMin: 2 };
  const fleet = new Fleet(5, 3, faults);
  const plain = new Fleet(5, 3);
  const [index] = fleet.faults.drifting;
  const id = fleet.devices[index].id;
  let saturated = 0;
  // Both fleets draw the same random numbers; only the drifting device's reported value differs.
  for (let i = 0; i < 5 * 600; i++) {
    const nowMs = START + i * 1000;
    const [a, b] = [fleet.nextReading(nowMs), plain.nextReading(nowMs)];
    const [ta, tb] = [canonicalOf(a.payload).TEMPERATURA, canonicalOf(b.payload).TEMPERATURA];
    assert.equal(a.key, b.key);
    if (a.key !== id) {
      assert.deepEqual(a, b);
      continue;
    }
    const expected = Math.min(90, (tb as number) + driftOffsetC(i * 1000, faults));
    assert.ok(Math.abs((ta as number) - expected) <= 0.011, `${ta} at ${i} s, want ${expected}`);
    if (ta === 90) saturated++;
  }
  assert.ok(saturated > 0, "the sensor reached its top within 50 minutes at 2 °C/min");
});
