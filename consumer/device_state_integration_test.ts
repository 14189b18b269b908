/**
 * [integration] What PostgresStore stores for each device (tb_dispositivo, tb_alerta, each
 * reading's seq_dispositivo and escore_anomalia) equals the pure fold of monitoring.ts replayed
 * over the device's stored readings in seq order: batches with replays, re-sends, late, tied and
 * ahead readings, fenced writes, writes of one row, a restart with an empty cache, a stale cache,
 * and writers of two partitions racing on the same devices.
 * @module
 */

import assert from "node:assert/strict";
import type { Sql } from "postgres";
import type { BatchRow, BatchWrite, PartitionKey } from "./event_store.ts";
import { migrate } from "./migrations.ts";
import type { MonitoringSettings } from "./monitoring.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { assertStoredEqualsReplay } from "./testing/monitoring_replay.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

/** Small warm-up and wide thresholds' hysteresis, so every rule turns often in a short run. */
const SETTINGS: MonitoringSettings = {
  device: { intervalMinS: 1, intervalMaxS: 600 },
  anomaly: { alpha: 0.2, warmup: 4, minStddev: 0.1, driftStep: 0.1 },
  alerts: {
    temperatureMax: 35,
    batteryMin: 15,
    clearReadings: 2,
    temperatureHysteresisC: 1,
    batteryHysteresis: 5,
    anomalyZThreshold: 2,
    anomalyClearZ: 1.5,
    driftThreshold: 6,
    driftClear: 3,
  },
};
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

/** Ids of the readings written as ahead (`ahead` is not stored; the replay needs it). */
const AHEAD = new Set<string>();
function track(row: BatchRow): BatchRow {
  if (row.ahead) AHEAD.add(row.id);
  return row;
}

/** A store whose writes planned again are counted, by reason. */
function countingStore(sql: Sql) {
  const replans = { version: 0, deadlock: 0, resent: 0, copy: 0 };
  const store = new PostgresStore(sql, SETTINGS, 1000, (reason) => replans[reason]++);
  return { store, replans };
}

async function setUp(prefix: string) {
  const sql = connectDatabase(await freshDatabase(uniqueName(prefix)), 4, "device-it");
  await migrate(sql);
  return { sql, ...countingStore(sql) };
}

async function count(sql: Sql, query: string): Promise<number> {
  const [{ n }] = await sql.unsafe<{ n: number }[]>(`SELECT (${query})::int AS n`);
  return n;
}

/** Writes a batch, retrying class-40 failures as the pipeline's retry loop does. */
async function writeRetrying(store: PostgresStore, write: BatchWrite) {
  for (let attempt = 0;; attempt++) {
    try {
      return await store.writeBatch(write);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!code?.startsWith("40") || attempt > 50) throw error;
    }
  }
}

Deno.test("[integration] tb_dispositivo and tb_alerta equal the pure fold replayed over the stored readings", async () => {
  const { sql, store: first, replans } = await setUp("device_fold");
  let store = first;
  try {
    const rnd = random(12);
    const devices = ["d-a", "d-b", "d-c", "d-d"];
    const clock = new Map(devices.map((d) => [d, T0_MICROS]));
    const key: PartitionKey = { groupId: "g", topic: "iot.sensors", partition: 0 };
    await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const history: BatchRow[] = [];
    let offset = 0;
    let sawAhead = 0, sawLate = 0, sawTie = 0, sawReplay = 0, inserted = 0;
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
        const row = track(reading(device, ahead ? micros + 86_000e6 : micros, ahead, rnd));
        if (ahead) clock.set(device, now);
        rows.push(row);
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
        // Isolation writes rows one by one under the fence before the batch write, which then
        // finds them stored (IOT02) and plans again without them.
        const result = await store.writeRow({
          ...key,
          topicId: TOPIC_ID,
          expectedOffset: String(offset),
        }, unique[0]);
        assert.equal(result.kind, "written");
        if (result.kind === "written" && result.inserted) inserted++;
      }
      if (batch === 20) {
        // A consumer restart: a new store, its cache empty.
        store = new PostgresStore(sql, SETTINGS, 1000, (reason) => replans[reason]++);
      }
      if (batch === 30 || batch === 45) {
        // Another writer (the offline job) changed every device since this store cached them.
        await sql`UPDATE tb_dispositivo SET versao = versao + 1`;
      }
      const racesBefore = replans.version;
      const result = await store.writeBatch(write);
      assert.equal(result.kind, "written", JSON.stringify(result));
      if (result.kind === "written") inserted += result.inserted;
      if (batch === 30 && unique.some((r) => !history.includes(r))) {
        assert.ok(replans.version > racesBefore, "the stale cache made the write plan again");
      }
      history.push(...unique);
      offset++;
      assert.equal(await count(sql, "SELECT count(*) FROM tb_sensor_evento"), inserted);
      if (batch % 5 === 4) await assertStoredEqualsReplay(sql, SETTINGS, AHEAD);
    }
    const compared = await assertStoredEqualsReplay(sql, SETTINGS, AHEAD);
    assert.ok(sawAhead > 3 && sawLate > 3 && sawTie > 3 && sawReplay > 3, "every case was fed");
    assert.ok(compared.alerts > 10, `alerts compared: ${compared.alerts}`);
    for (const tipo of ["temperature_high", "battery_low", "anomaly"]) {
      const cleared = await count(
        sql,
        `SELECT count(*) FROM tb_alerta WHERE tipo = '${tipo}' AND cleared_at IS NOT NULL`,
      );
      assert.ok(cleared > 0, `a ${tipo} alert was cleared`);
    }
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] two partitions writing one device at once: every reading folded once, in one order", async () => {
  const { sql } = await setUp("device_race");
  try {
    const rnd = random(7);
    const keys = [0, 1].map((partition) => ({ groupId: "g", topic: "t", partition }));
    // Two consumers, each with its own cache: each one's cache goes stale at every write of the
    // other, so most writes plan again at least once.
    const counted = keys.map(() => countingStore(sql));
    const stores = counted.map((c) => c.store);
    for (const key of keys) {
      await stores[0].claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    }
    await Promise.all(keys.map(async (key, k) => {
      for (let offset = 0; offset < 15; offset++) {
        const rows = ["r-1", "r-2"].map((d) =>
          track(reading(d, T0_MICROS + Math.floor(rnd() * 3600e6), rnd() < 0.1, rnd))
        );
        const result = await writeRetrying(stores[k], {
          ...key,
          topicId: TOPIC_ID,
          rows,
          rejects: [],
          expectedOffset: String(offset),
          nextOffset: String(offset + 1),
        });
        assert.equal(result.kind, "written");
      }
    }));
    await assertStoredEqualsReplay(sql, SETTINGS, AHEAD);
    assert.equal(await count(sql, "SELECT sum(qt_leituras) FROM tb_dispositivo"), 60);
    const races = counted.reduce((sum, c) => sum + c.replans.version, 0);
    console.log(`writes planned again after a race: ${races}`);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] a write racing another to create a device's row gets 40001, reads the row and folds into it", async () => {
  const { sql, store, replans } = await setUp("device_new_race");
  try {
    const rnd = random(3);
    const key = { groupId: "g", topic: "t", partition: 0 };
    await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const row = reading("late-comer", T0_MICROS, false, rnd);
    // Another writer has inserted the device's row and not committed yet.
    const other = await sql.reserve();
    await other`BEGIN`;
    await other`INSERT INTO tb_dispositivo (id_dispositivo, qt_leituras, versao)
      VALUES ('late-comer', 5, 7)`;
    const pending = store.writeBatch({
      ...key,
      topicId: TOPIC_ID,
      expectedOffset: "0",
      nextOffset: "1",
      rows: [row],
      rejects: [],
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(replans.version, 0, "the write waits for the other one");
    await other`COMMIT`;
    other.release();
    assert.deepEqual(await pending, { kind: "written", inserted: 1 });
    assert.deepEqual(
      replans,
      { version: 1, deadlock: 0, resent: 0, copy: 0 },
      "40001 once, then planned again on the row as committed",
    );
    const [stored] = await sql<{ qt: number; versao: number; seq: number }[]>`
      SELECT d.qt_leituras::int AS qt, d.versao::int AS versao, e.seq_dispositivo::int AS seq
      FROM tb_dispositivo d JOIN tb_sensor_evento e ON e.id_dispositivo = d.id_dispositivo`;
    assert.deepEqual(stored, { qt: 6, versao: 8, seq: 6 });
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] a batch of 8000 readings of one device is folded like the replay", async () => {
  const { sql, store } = await setUp("device_long");
  try {
    const rnd = random(5);
    const key = { groupId: "g", topic: "t", partition: 0 };
    await store.claimOffset(key, { nextOffset: "0", topicId: TOPIC_ID });
    const rows = Array.from(
      { length: 8001 },
      (_, i) => reading("busy", T0_MICROS + i * 2_000_000 + Math.floor(rnd() * 1e6), false, rnd),
    );
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
    }
    await assertStoredEqualsReplay(sql, SETTINGS, AHEAD);
  } finally {
    await sql.end();
  }
});
