import assert from "node:assert/strict";
import {
  type DeviceReading,
  type DeviceState,
  epochMicros,
  foldDevice,
  INTERVAL_ALPHA,
} from "./device_state.ts";
import { isAhead } from "./transform.ts";

const BOUNDS = { intervalMinS: 1, intervalMaxS: 600 };
const T0 = Date.parse("2026-01-01T00:00:00Z");

/** A reading `s` seconds after T0 (fractions kept to the microsecond). */
function reading(n: number, s: number, extra: Partial<DeviceReading> = {}): DeviceReading {
  const ms = T0 + Math.floor(s * 1000);
  const micros = Math.round((s * 1_000_000) % 1000);
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    id_dispositivo: "d-1",
    timestamp_ts: new Date(ms).toISOString().slice(0, 23) + String(micros).padStart(3, "0") + "Z",
    temperatura: 20 + n,
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

const fold = (previous: DeviceState | undefined, ...readings: DeviceReading[]) =>
  foldDevice(previous, readings, BOUNDS);

Deno.test("foldDevice() takes a first reading as latest and first seen, with no interval", () => {
  const state = fold(undefined, reading(1, 0));
  assert.equal(state.latest?.id, reading(1, 0).id);
  assert.equal(state.latest?.temperatura, 21);
  assert.equal(state.primeiro_timestamp_ts, "2026-01-01T00:00:00.000000Z");
  assert.equal(state.qt_leituras, 1);
  assert.equal(state.intervalo_s, null);
});

Deno.test("foldDevice() sets the interval from the first gap, then moves it by alpha", () => {
  const state = fold(undefined, reading(1, 0), reading(2, 10), reading(3, 30));
  assert.equal(state.intervalo_s, INTERVAL_ALPHA * 20 + (1 - INTERVAL_ALPHA) * 10);
  assert.equal(state.latest?.id, reading(3, 30).id);
  assert.equal(state.qt_leituras, 3);
});

Deno.test("foldDevice() gives the same state whatever the batches", () => {
  const all = [reading(1, 0), reading(2, 10), reading(3, 5), reading(4, 40), reading(5, 40)];
  const once = fold(undefined, ...all);
  const split = all.reduce<DeviceState | undefined>((s, r) => fold(s, r), undefined);
  assert.deepEqual(split, once);
});

Deno.test("foldDevice() with equal event times: no gap, the greater id is latest in any order", () => {
  const a = reading(1, 0);
  const b = reading(2, 0);
  for (const order of [[a, b], [b, a]]) {
    const state = fold(undefined, ...order);
    assert.equal(state.latest?.id, b.id);
    assert.equal(state.intervalo_s, null);
    assert.equal(state.qt_leituras, 2);
  }
});

Deno.test("foldDevice() counts a late reading but neither makes it latest nor counts a gap", () => {
  const before = fold(undefined, reading(1, 0), reading(2, 10));
  const state = fold(before, reading(3, 5));
  assert.equal(state.latest?.id, reading(2, 10).id);
  assert.equal(state.intervalo_s, 10);
  assert.equal(state.qt_leituras, 3);
  // The next in-order reading's gap counts from the newest (10 s), not from the late one.
  assert.equal(fold(state, reading(4, 20)).intervalo_s, 10);
  // A late reading still sets first seen when it is the earliest.
  assert.equal(fold(before, reading(5, -3)).primeiro_timestamp_ts, reading(5, -3).timestamp_ts);
});

Deno.test("foldDevice() clamps each gap at both bounds", () => {
  assert.equal(fold(undefined, reading(1, 0), reading(2, 0.25)).intervalo_s, 1);
  assert.equal(fold(undefined, reading(1, 0), reading(2, 86_400)).intervalo_s, 600);
  const high = fold(undefined, reading(1, 0), reading(2, 86_400), reading(3, 86_400 + 7200));
  assert.equal(high.intervalo_s, 600);
});

Deno.test("foldDevice() brings an interval learned under other bounds back inside them", () => {
  const state = fold(undefined, reading(1, 0), reading(2, 1000));
  const narrow = foldDevice(state, [reading(3, 1010)], { intervalMinS: 1, intervalMaxS: 100 });
  assert.equal(narrow.intervalo_s, INTERVAL_ALPHA * 10 + (1 - INTERVAL_ALPHA) * 100);
});

Deno.test("foldDevice() counts a reading ahead but never makes it latest, first seen or a gap", () => {
  const ahead = reading(9, 7200, { ahead: true });
  const alone = fold(undefined, ahead);
  assert.deepEqual(alone, {
    id_dispositivo: "d-1",
    latest: null,
    primeiro_timestamp_ts: null,
    qt_leituras: 1,
    intervalo_s: null,
  });
  const state = fold(alone, reading(1, 0), reading(2, 10));
  assert.equal(state.latest?.id, reading(2, 10).id);
  assert.equal(state.intervalo_s, 10);
  assert.equal(state.qt_leituras, 3);
});

Deno.test("foldDevice() refuses a reading of another device", () => {
  assert.throws(
    () => fold(undefined, reading(1, 0), reading(2, 1, { id_dispositivo: "d-2" })),
    new RangeError("Cannot fold a reading of d-2 into the state of d-1"),
  );
});

Deno.test("isAhead() bounds a reading at its record's timestamp plus the tolerance", () => {
  assert.equal(isAhead(T0 + 300_000, T0, 300), false);
  assert.equal(isAhead(T0 + 300_001, T0, 300), true);
  assert.equal(isAhead(T0 + 300_001, T0 + 1, 300), false);
  assert.equal(isAhead(T0 + 500, T0, 0.25), true);
});

Deno.test("epochMicros() keeps microseconds and reads offsets", () => {
  assert.equal(epochMicros("2026-01-01T00:00:00.000001Z"), T0 * 1000 + 1);
  assert.equal(epochMicros("2026-01-01T01:00:00.5+01:00"), T0 * 1000 + 500_000);
  assert.throws(
    () => epochMicros("yesterday"),
    new SyntaxError("Cannot parse an event time as ISO 8601: current value is 'yesterday'"),
  );
});

Deno.test("epochMicros() reads the consumer's own form from its digits exactly as the general parse", () => {
  const general = (iso: string) => {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6})\d*)?(Z|[+-]\d\d:\d\d)$/.exec(iso)!;
    return Date.parse(`${m[1]}${m[3]}`) * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
  };
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 2000; i++) {
    const ms = Date.UTC(1970 + Math.floor(rnd() * 300), 0, 1) + Math.floor(rnd() * 366 * 86400e3);
    const iso = new Date(ms).toISOString().replace(
      "Z",
      `${Math.floor(rnd() * 1000)}`.padStart(3, "0") + "Z",
    );
    assert.equal(epochMicros(iso), general(iso), iso);
  }
  for (
    const iso of [
      "2024-02-29T23:59:59.999999Z",
      "2000-02-29T00:00:00.000000Z",
      "2026-12-31T23:59:59.000001Z",
      "2026-03-01T00:00:00.5Z",
      "2026-03-01T00:00:00+02:00",
    ]
  ) assert.equal(epochMicros(iso), general(iso), iso);
  // Past the fast form's checks, the general parse decides: V8 takes Feb 29 of a common year for
  // Mar 1, refuses month 13; the fast form must agree either way.
  for (
    const iso of [
      "2023-02-29T00:00:00.000000Z",
      "2026-04-31T00:00:00.000000Z",
      "2026-13-01T00:00:00.000000Z",
      "2026-03-01T0x:00:00.000000Z",
      "0099-03-01T00:00:00.000000Z",
    ]
  ) {
    const want = Date.parse(iso.slice(0, 19) + "Z");
    if (Number.isNaN(want)) assert.throws(() => epochMicros(iso), SyntaxError, iso);
    else assert.equal(epochMicros(iso), general(iso), iso);
  }
});
