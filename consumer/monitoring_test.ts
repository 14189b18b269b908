import assert from "node:assert/strict";
import type { Alert } from "./alerts.ts";
import type { DeviceReading } from "./device_state.ts";
import {
  type DeviceSnapshot,
  type MonitoringSettings,
  NEW_DEVICE,
  planDevice,
  planWrite,
  type ReadingMark,
} from "./monitoring.ts";

const SETTINGS: MonitoringSettings = {
  device: { intervalMinS: 1, intervalMaxS: 600 },
  anomaly: { alpha: 0.1, warmup: 5, minStddev: 0.1, driftStep: 0.1 },
  alerts: {
    temperatureMax: 35,
    batteryMin: 15,
    clearReadings: 3,
    temperatureHysteresisC: 1,
    batteryHysteresis: 5,
    anomalyZThreshold: 4,
    anomalyClearZ: 3,
    driftThreshold: 6,
    driftClear: 3,
  },
};
const T0 = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace("Z", "000Z");

let serial = 0;
function reading(s: number, extra: Partial<DeviceReading> = {}): DeviceReading {
  return {
    id: `00000000-0000-4000-8000-${String(++serial).padStart(12, "0")}`,
    id_dispositivo: "d-1",
    timestamp_ts: at(s),
    temperatura: 20,
    umidade: 50,
    latitude: 1,
    longitude: 2,
    status: "OK",
    bateria: 80,
    alerta: false,
    ahead: false,
    ...extra,
  };
}

function plan(before: DeviceSnapshot, ...readings: DeviceReading[]) {
  const marks = new Map<string, ReadingMark>();
  return { ...planDevice(before, readings, SETTINGS, marks), marks };
}

/** A stored snapshot as a write would leave it (opened alerts given ids). */
function stored(after: DeviceSnapshot): DeviceSnapshot {
  const open: DeviceSnapshot["open"] = {};
  for (const a of Object.values(after.open)) open[a.tipo] = { ...a, id: a.id ?? `id-${a.tipo}` };
  return { ...after, open };
}

const offline = (opened: number): Alert => ({
  id: "77",
  tipo: "offline",
  opened_at: at(opened),
  last_triggered_at: at(opened + 60),
  cleared_at: null,
  peak_value: 60,
  trigger_count: 2,
  clear_streak: 0,
  opened_event: null,
  cleared_event: null,
});

Deno.test("planDevice() numbers readings from the stored count, ahead ones too", () => {
  const first = plan(NEW_DEVICE, reading(1), reading(2, { ahead: true }), reading(3));
  assert.deepEqual([...first.marks.values()].map((m) => m.seq), [1, 2, 3]);
  assert.equal(first.after.versao, 1);
  assert.equal(first.after.state?.qt_leituras, 3);
  const next = plan(stored(first.after), reading(4));
  assert.deepEqual([...next.marks.values()].map((m) => m.seq), [4]);
  assert.equal(next.after.versao, 2);
});

Deno.test("planDevice() skips ahead readings: no score, no learning, no alert", () => {
  const warm = plan(NEW_DEVICE, ...Array.from({ length: 6 }, (_, i) => reading(i)));
  const hot = reading(10, { ahead: true, temperatura: 60, bateria: 1 });
  const p = plan(stored(warm.after), hot);
  assert.deepEqual(p.marks.get(hot.id), { seq: 7, score: null });
  assert.deepEqual(p.after.model, warm.after.model);
  assert.deepEqual(p.after.open, {});
  assert.deepEqual([p.inserts, p.updates], [[], []]);
});

Deno.test("planDevice() scores after the warm-up and opens an anomaly alert on a spike", () => {
  const calm = Array.from({ length: 5 }, (_, i) => reading(i));
  const spike = reading(10, { temperatura: 30 });
  const p = plan(NEW_DEVICE, ...calm, spike);
  assert.deepEqual(calm.map((r) => p.marks.get(r.id)?.score), [null, null, null, null, null]);
  const score = p.marks.get(spike.id)!.score!;
  assert.ok(score > 4, `score ${score}`);
  assert.equal(p.after.open.anomaly?.peak_value, score);
  assert.equal(p.after.open.anomaly?.opened_event, spike.id);
  assert.equal(p.inserts.length, 1);
});

Deno.test("planDevice() clears an open offline alert with the next reading not ahead", () => {
  const before = stored(plan(NEW_DEVICE, reading(1)).after);
  const silent = { ...before, open: { offline: offline(100) } };
  const ahead = reading(5000, { ahead: true });
  const late = reading(50);
  const p = plan(silent, ahead, late);
  assert.equal(p.after.open.offline, undefined);
  assert.deepEqual(p.updates, [{
    ...offline(100),
    cleared_at: at(100),
    cleared_event: late.id,
  }], "cleared_at = max(opened_at, ts) for an out-of-order reading");
  const onlyAhead = plan(silent, reading(6000, { ahead: true }));
  assert.equal(onlyAhead.after.open.offline, silent.open.offline, "ahead readings do not clear");
  assert.deepEqual(onlyAhead.updates, []);
});

Deno.test("planDevice() updates a stored alert by id, inserts one opened and cleared in the same write and one opened again", () => {
  const opened = plan(NEW_DEVICE, reading(1, { temperatura: 36 }));
  const before = stored(opened.after);
  const p = plan(
    before,
    reading(2, { temperatura: 30 }),
    reading(3, { temperatura: 30 }),
    reading(4, { temperatura: 30 }), // clears the stored one
    reading(5, { temperatura: 37 }), // opens a second episode
    reading(6, { temperatura: 30 }),
    reading(7, { temperatura: 30 }),
    reading(8, { temperatura: 30 }), // clears it
    reading(9, { temperatura: 38 }), // opens a third, still open
  );
  assert.equal(p.updates.length, 1);
  assert.equal(p.updates[0].id, "id-temperature_high");
  assert.equal(p.updates[0].cleared_at, at(4));
  assert.deepEqual(p.inserts.map((a) => [a.opened_at, a.cleared_at]), [
    [at(5), at(8)],
    [at(9), null],
  ]);
  assert.equal(p.after.open.temperature_high?.id, null);
});

Deno.test("planDevice() writes no update for a stored alert nothing changed", () => {
  const before = stored(plan(NEW_DEVICE, reading(1, { temperatura: 36 })).after);
  const p = plan(before, reading(2, { temperatura: 35 }));
  assert.deepEqual(p.updates, []);
});

Deno.test("planWrite() gives the same marks, state and episodes whatever the writes' boundaries", () => {
  let seed = 9;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const readings = Array.from({ length: 200 }, (_, i) =>
    reading(i * 10 + Math.floor(rnd() * 30), {
      temperatura: 30 + rnd() * 8,
      bateria: 10 + rnd() * 15,
      umidade: 40 + rnd() * 20,
      ahead: rnd() < 0.05,
    }));
  const replay = (cuts: number[]) => {
    let snapshot: DeviceSnapshot = NEW_DEVICE;
    const marks = new Map<string, ReadingMark>();
    const episodes = new Map<string, Alert>();
    let start = 0;
    for (const end of [...cuts, readings.length]) {
      const w = planWrite(readings.slice(start, end), () => snapshot, SETTINGS);
      for (const [id, m] of w.marks) marks.set(id, m);
      const [d] = w.devices;
      for (const a of [...d.updates, ...d.inserts]) episodes.set(`${a.tipo} ${a.opened_event}`, a);
      snapshot = stored(d.after);
      for (const a of Object.values(snapshot.open)) episodes.set(`${a.tipo} ${a.opened_event}`, a);
      start = end;
    }
    const strip = (a: Alert) => ({ ...a, id: null });
    const sorted = [...episodes].sort(([a], [b]) => (a < b ? -1 : 1));
    return { marks, snapshot, episodes: sorted.map(([, a]) => strip(a)) };
  };
  const whole = replay([]);
  const split = replay([1, 7, 50, 51, 120, 199]);
  assert.deepEqual(split.marks, whole.marks);
  assert.deepEqual(split.snapshot.state, whole.snapshot.state);
  assert.deepEqual(split.snapshot.model, whole.snapshot.model);
  assert.deepEqual(split.episodes, whole.episodes);
  assert.ok(whole.episodes.filter((a) => a.cleared_at !== null).length > 3, "episodes cleared");
});
