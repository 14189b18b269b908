/**
 * [integration] `tb_dispositivo` as PostgresStore writes it equals the pure fold of
 * device_state.ts over the readings each write actually inserted: batches with replays, re-sends,
 * late, tied and ahead readings, a fenced write, writes of one row, and writers of two partitions
 * racing on the same devices.
 * @module
 */

import assert from "node:assert/strict";
import type { Sql } from "postgres";
import { type DeviceState, epochMicros, foldDevice } from "./device_state.ts";
import type { BatchRow, BatchWrite, PartitionKey } from "./event_store.ts";
import { migrate } from "./migrations.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

const BOUNDS = { intervalMinS: 1, intervalMaxS: 600 };
const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const T0_MICROS = Date.parse("2026-03-01T00:00:00Z") * 1000;

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isoOf(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const base = new Date(ms - (ms % 1000)).toISOString().slice(0, 19);
  return `${base}.${String(micros % 1_000_000).padStart(6, "0")}Z`;
}

let serial = 0;
function reading(device: string, micros: number, ahead: boolean, rnd: () => number): BatchRow {
  const n = ++serial;
  const iso = isoOf(micros);
  return {
    // Ids in random order, so ties by event time are not decided by the order of writes.
    id: `${Math.floor(rnd() * 0xffffffff).toString(16).padStart(8, "0")}-0000-4000-8000-${
      String(n).padStart(12, "0")
    }`,
    id_dispositivo: device,
    timestamp: iso,
    timestamp_ts: iso,
    temperatura: Math.round(rnd() * 5000) / 100,
    umidade: rnd() * 100,
    latitude: -23.5,
    longitude: -46.6,
    status: rnd() < 0.9 ? "OK" : "WARN",
    bateria: rnd() * 100,
    alerta: rnd() < 0.1,
    ahead,
  };
}

/** The pure model: which ids are stored, and each device's state. */
class Model {
  readonly stored = new Set<string>();
  readonly devices = new Map<string, DeviceState>();

  /** Folds the rows a write would insert (those not stored yet), in write order. */
  write(rows: readonly BatchRow[]): void {
    const fresh = rows.filter((r) => !this.stored.has(r.id));
    for (const r of fresh) this.stored.add(r.id);
    for (const [device, readings] of Map.groupBy(fresh, (r) => r.id_dispositivo)) {
      this.devices.set(device, foldDevice(this.devices.get(device), readings, BOUNDS));
    }
  }
}

interface Stored {
  id_dispositivo: string;
  id_evento: string | null;
  timestamp_ts: string | null;
  temperatura: number | null;
  status: string | null;
  bateria: number | null;
  alerta: boolean | null;
  primeiro_timestamp_ts: string | null;
  qt_leituras: number;
  intervalo_s: number | null;
  loads_ordered: boolean;
}

async function storedDevices(sql: Sql): Promise<Map<string, Stored>> {
  const rows = await sql<Stored[]>`
    SELECT id_dispositivo, id_evento::text,
      to_char(timestamp_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS timestamp_ts,
      temperatura, status, bateria, alerta,
      to_char(primeiro_timestamp_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        AS primeiro_timestamp_ts,
      qt_leituras::int AS qt_leituras, intervalo_s,
      dt_primeira_carga <= dt_ultima_carga AS loads_ordered
    FROM tb_dispositivo`;
  return new Map(rows.map((r) => [r.id_dispositivo, r]));
}

function assertAgree(stored: Map<string, Stored>, model: Model): void {
  assert.deepEqual([...stored.keys()].sort(), [...model.devices.keys()].sort());
  for (const [device, want] of model.devices) {
    const got = stored.get(device)!;
    const where = `device ${device}`;
    assert.equal(got.id_evento, want.latest?.id ?? null, where);
    assert.equal(got.timestamp_ts, want.latest?.timestamp_ts ?? null, where);
    assert.equal(got.temperatura, want.latest?.temperatura ?? null, where);
    assert.equal(got.status, want.latest?.status ?? null, where);
    assert.equal(got.bateria, want.latest?.bateria ?? null, where);
    assert.equal(got.alerta, want.latest?.alerta ?? null, where);
    assert.equal(got.primeiro_timestamp_ts, want.primeiro_timestamp_ts, where);
    assert.equal(got.qt_leituras, want.qt_leituras, where);
    assert.equal(got.loads_ordered, true, where);
    if (want.intervalo_s === null || got.intervalo_s === null) {
      assert.equal(got.intervalo_s, want.intervalo_s, where);
    } else {
      // The SQL sums the mean in closed form: the same number up to rounding.
      const error = Math.abs(got.intervalo_s - want.intervalo_s) / want.intervalo_s;
      assert.ok(error < 1e-9, `${where}: interval ${got.intervalo_s} vs ${want.intervalo_s}`);
    }
  }
}

async function setUp(prefix: string) {
  const sql = connectDatabase(await freshDatabase(uniqueName(prefix)), 4, "device-it");
  await migrate(sql);
  return { sql, store: new PostgresStore(sql, BOUNDS) };
}

Deno.test("[integration] tb_dispositivo equals the pure fold over the readings each write stored", async () => {
  const { sql, store } = await setUp("device_fold");
  try {
    const rnd = random(12);
    const model = new Model();
    const devices = ["d-a", "d-b", "d-c", "d-d"];
    const clock = new Map(devices.map((d) => [d, T0_MICROS]));
    const key: PartitionKey = { groupId: "g", topic: "iot.sensors", partition: 0 };
    await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const history: BatchRow[] = [];
    let offset = 0;
    let sawAhead = 0, sawLate = 0, sawTie = 0, sawReplay = 0;
    for (let batch = 0; batch < 60; batch++) {
      const rows: BatchRow[] = [];
      for (let i = Math.floor(rnd() * 12); i >= 0; i--) {
        const device = devices[Math.floor(rnd() * devices.length)];
        const now = clock.get(device)!;
        const kind = rnd();
        let micros: number;
        if (kind < 0.1) [micros, sawLate] = [now - Math.floor(rnd() * 120e6), sawLate + 1];
        else if (kind < 0.15) [micros, sawTie] = [now, sawTie + 1];
        else micros = now + Math.floor(rnd() * (kind < 0.2 ? 2000e6 : 30e6)) + 1;
        if (micros > now) clock.set(device, micros);
        const ahead = rnd() < 0.08;
        if (ahead) sawAhead++;
        // An ahead reading is far in the future, as it would be: it must not move the clock.
        const row = reading(device, ahead ? micros + 86_000e6 : micros, ahead, rnd);
        if (ahead) clock.set(device, now);
        rows.push(row);
      }
      if (batch === 0) {
        // A new device with several gaps in its first batch: the mean starts inside the batch.
        for (const s of [0, 4, 11, 30]) {
          rows.push(reading("d-new", T0_MICROS + s * 1e6, false, rnd));
        }
      }
      // Replays and re-sends: readings stored before come back, in among the new ones.
      if (history.length > 0 && rnd() < 0.4) {
        sawReplay++;
        for (let k = 0; k < 3; k++) {
          rows.splice(
            Math.floor(rnd() * rows.length),
            0,
            history[Math.floor(rnd() * history.length)],
          );
        }
      }
      const unique = [...new Map(rows.map((r) => [r.id, r])).values()];
      const write: BatchWrite = {
        ...key,
        topicId: TOPIC_ID,
        expectedOffset: String(offset),
        nextOffset: String(offset + 1),
        rows: unique,
        rejects: [],
      };
      if (batch % 13 === 5) {
        // A member that lost the partition: fenced, nothing of it counts.
        const stale = { ...write, expectedOffset: String(offset - 1) };
        assert.deepEqual(await store.writeBatch(stale), { kind: "fenced" });
      }
      if (batch % 7 === 3 && unique.length > 0) {
        // Isolation writes rows one by one under the fence before the batch write.
        const [first] = unique;
        const result = await store.writeRow({
          ...key,
          topicId: TOPIC_ID,
          expectedOffset: String(offset),
        }, first);
        assert.equal(result.kind, "written");
        model.write([first]);
      }
      const result = await store.writeBatch(write);
      assert.equal(result.kind, "written", JSON.stringify(result));
      const before = model.stored.size;
      model.write(unique);
      assert.equal(result.kind === "written" && result.inserted, model.stored.size - before);
      history.push(...unique);
      offset++;
      assertAgree(await storedDevices(sql), model);
    }
    assert.ok(sawAhead > 3 && sawLate > 3 && sawTie > 3 && sawReplay > 3, "every case was fed");
    const learned = [...model.devices.values()].filter((d) => d.intervalo_s !== null);
    assert.equal(learned.length, devices.length + 1, "every device learned an interval");
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] tb_dispositivo counts every reading when two partitions write one device at once", async () => {
  const { sql, store } = await setUp("device_race");
  try {
    const rnd = random(7);
    const keys = [0, 1].map((partition) => ({ groupId: "g", topic: "t", partition }));
    for (const key of keys) await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const all: BatchRow[] = [];
    let retried = 0;
    // Each partition writes 15 batches of readings of the same two devices, both at once; the
    // devices are new, so the first writes race to create their rows.
    await Promise.all(keys.map(async (key) => {
      for (let offset = 0; offset < 15; offset++) {
        const rows = ["r-1", "r-2"].map((d) =>
          reading(d, T0_MICROS + Math.floor(rnd() * 3600e6), false, rnd)
        );
        all.push(...rows);
        const write = { ...key, topicId: TOPIC_ID, rows, rejects: [] };
        for (;;) {
          try {
            const result = await store.writeBatch({
              ...write,
              expectedOffset: String(offset),
              nextOffset: String(offset + 1),
            });
            assert.equal(result.kind, "written");
            break;
          } catch (error) {
            // A write that raced another to create a device's row is retried, as the pipeline does.
            const code = (error as { code?: string }).code;
            if (code !== "40001" && code !== "40P01") throw error;
            retried++;
          }
        }
      }
    }));
    const stored = await storedDevices(sql);
    for (const device of ["r-1", "r-2"]) {
      const mine = all.filter((r) => r.id_dispositivo === device);
      const newest = mine.reduce((a, b) =>
        epochMicros(b.timestamp_ts) > epochMicros(a.timestamp_ts) ||
          (b.timestamp_ts === a.timestamp_ts && b.id > a.id)
          ? b
          : a
      );
      assert.equal(stored.get(device)?.qt_leituras, 30);
      assert.equal(stored.get(device)?.id_evento, newest.id);
    }
    console.log(`writes retried after a race: ${retried}`);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] a write racing another to create a device's row fails with 40001, and its retry folds into the row", async () => {
  const { sql, store } = await setUp("device_new_race");
  try {
    const rnd = random(3);
    const key = { groupId: "g", topic: "t", partition: 0 };
    await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const row = reading("late-comer", T0_MICROS, false, rnd);
    const write = { ...key, topicId: TOPIC_ID, expectedOffset: "0", nextOffset: "1" };
    // Another writer has inserted the device's row and not committed yet.
    const other = await sql.reserve();
    await other`BEGIN`;
    await other`INSERT INTO tb_dispositivo (id_dispositivo, qt_leituras) VALUES ('late-comer', 5)`;
    const pending = store.writeBatch({ ...write, rows: [row], rejects: [] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other`COMMIT`;
    other.release();
    await assert.rejects(pending, (error: { code?: string }) => error.code === "40001");
    const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tb_sensor_evento`;
    assert.equal(n, 0, "the failed statement wrote nothing");
    assert.deepEqual(await store.writeBatch({ ...write, rows: [row], rejects: [] }), {
      kind: "written",
      inserted: 1,
    });
    const stored = (await storedDevices(sql)).get("late-comer");
    assert.equal(stored?.qt_leituras, 6);
    assert.equal(stored?.id_evento, row.id);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] tb_dispositivo folds a batch of 8000 gaps of one device (weights past 5000 cut)", async () => {
  const { sql, store } = await setUp("device_long");
  try {
    const rnd = random(5);
    const key = { groupId: "g", topic: "t", partition: 0 };
    await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const rows = Array.from(
      { length: 8001 },
      (_, i) => reading("busy", T0_MICROS + i * 2_000_000 + Math.floor(rnd() * 1e6), false, rnd),
    );
    const model = new Model();
    for (const [offset, part] of [rows.slice(0, 1), rows.slice(1)].entries()) {
      const write = {
        ...key,
        topicId: TOPIC_ID,
        expectedOffset: String(offset),
        nextOffset: String(offset + 1),
        rows: part,
        rejects: [],
      };
      assert.equal((await store.writeBatch(write)).kind, "written");
      model.write(part);
    }
    assertAgree(await storedDevices(sql), model);
  } finally {
    await sql.end();
  }
});
