/**
 * [integration] The alert lifecycle as PostgresStore writes it into tb_alerta: opened by one
 * batch and cleared by a later one, cleared and opened again in one statement, an offline alert
 * cleared by the next reading, a re-sent reading not folded twice, an acknowledgement kept, and a
 * stale cache planned again.
 * @module
 */

import assert from "node:assert/strict";
import type { Sql } from "postgres";
import type { BatchRow } from "./event_store.ts";
import { CONFLICTING_DUPLICATE_SQLSTATE, migrate } from "./migrations.ts";
import { DeviceCache } from "./device_cache.ts";
import { StoreWriter } from "./store_write.ts";
import { RESENT_IDS } from "./store_write_sql.ts";
import type { MonitoringSettings } from "./monitoring.ts";
import { connectDatabase, PostgresStore } from "./postgres_store.ts";
import { assertStoredEqualsReplay } from "./testing/monitoring_replay.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

const SETTINGS: MonitoringSettings = {
  device: { intervalMinS: 1, intervalMaxS: 600 },
  anomaly: { alpha: 0.05, warmup: 30, minStddev: 0.1, driftStep: 0.1 },
  alerts: {
    temperatureMax: 35,
    batteryMin: 15,
    clearReadings: 2,
    temperatureHysteresisC: 1,
    batteryHysteresis: 5,
    anomalyZThreshold: 4,
    anomalyClearZ: 3,
    driftThreshold: 6,
    driftClear: 3,
  },
};
const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const KEY = { groupId: "g", topic: "t", partition: 0 };
const at = (s: number) =>
  `2026-03-01T00:${String(Math.floor(s / 60)).padStart(2, "0")}:${
    String(s % 60).padStart(2, "0")
  }.000000Z`;

let serial = 0;
function reading(s: number, temperatura: number, extra: Partial<BatchRow> = {}): BatchRow {
  return {
    id: `00000000-0000-4000-8000-${String(++serial).padStart(12, "0")}`,
    id_dispositivo: "dev",
    timestamp: at(s),
    timestamp_ts: at(s),
    temperatura,
    umidade: 50,
    latitude: 0,
    longitude: 0,
    status: "OK",
    bateria: 80,
    alerta: temperatura > 35,
    ahead: false,
    ...extra,
  };
}

/** `copyMinRows`: 1 sends every batch by COPY; the default sends these small ones as the statement. */
async function setUp(prefix: string, copyMinRows?: number) {
  const sql = connectDatabase(await freshDatabase(uniqueName(prefix)), 4, "alerts-it");
  await migrate(sql);
  const replans = { version: 0, deadlock: 0, resent: 0, copy: 0 };
  const store = new PostgresStore(sql, SETTINGS, 100, (reason) => replans[reason]++, copyMinRows);
  await store.claimOffset(KEY, { nextOffset: "0", topicId: TOPIC_ID });
  let offset = 0;
  const write = async (...rows: BatchRow[]) => {
    const result = await store.writeBatch({
      ...KEY,
      topicId: TOPIC_ID,
      expectedOffset: String(offset),
      nextOffset: String(offset + 1),
      rows,
      rejects: [],
    });
    offset++;
    return result;
  };
  return { sql, store, write, replans };
}

interface AlertRow {
  tipo: string;
  opened_at: string;
  last_triggered_at: string;
  cleared_at: string | null;
  peak_value: number;
  trigger_count: number;
  clear_streak: number;
  opened_event: string | null;
  cleared_event: string | null;
  acknowledged_by: string | null;
}

async function alerts(sql: Sql): Promise<AlertRow[]> {
  const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  return await sql.unsafe<AlertRow[]>(`
    SELECT tipo, ${iso("opened_at")} AS opened_at, ${iso("last_triggered_at")} AS last_triggered_at,
      ${iso("cleared_at")} AS cleared_at, peak_value, trigger_count::int AS trigger_count,
      clear_streak, opened_event::text AS opened_event, cleared_event::text AS cleared_event,
      acknowledged_by
    FROM tb_alerta ORDER BY id`);
}

async function versao(sql: Sql): Promise<number> {
  const [{ v }] = await sql<{ v: number }[]>`SELECT versao::int AS v FROM tb_dispositivo`;
  return v;
}

Deno.test("[integration] tb_alerta: a batch opens temperature_high, a later one updates it, a third clears it", async () => {
  const { sql, write } = await setUp("alert_open_clear");
  try {
    const hot = reading(1, 36);
    assert.deepEqual(await write(reading(0, 20), hot), { kind: "written", inserted: 2 });
    assert.equal(await versao(sql), 1);
    const hotter = reading(2, 38);
    const calm = reading(3, 34);
    await write(hotter, calm);
    assert.equal(await versao(sql), 2);
    const [open] = await alerts(sql);
    assert.deepEqual(open, {
      tipo: "temperature_high",
      opened_at: at(1),
      last_triggered_at: at(2),
      cleared_at: null,
      peak_value: 38,
      trigger_count: 2,
      clear_streak: 1,
      opened_event: hot.id,
      cleared_event: null,
      acknowledged_by: null,
    });
    // Acknowledged (the API's update): neither the version nor the lifecycle changes.
    await sql`UPDATE tb_alerta SET acknowledged_at = now(), acknowledged_by = 'op'`;
    const clearer = reading(4, 30);
    await write(clearer);
    const [cleared] = await alerts(sql);
    assert.deepEqual(cleared, {
      ...open,
      cleared_at: at(4),
      clear_streak: 2,
      cleared_event: clearer.id,
      acknowledged_by: "op",
    });
    assert.equal(await versao(sql), 3);
    await assertStoredEqualsReplay(sql, SETTINGS, new Set());
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] tb_alerta: one statement clears an open alert and opens the next episode of the same type", async () => {
  const { sql, write } = await setUp("alert_reopen");
  try {
    await write(reading(1, 36));
    const again = reading(4, 37);
    await write(reading(2, 30), reading(3, 30), again);
    const rows = await alerts(sql);
    assert.deepEqual(rows.map((a) => [a.opened_at, a.cleared_at]), [[at(1), at(3)], [at(4), null]]);
    assert.equal(rows[1].opened_event, again.id);
    await assertStoredEqualsReplay(sql, SETTINGS, new Set());
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] tb_alerta: an open offline alert is cleared by the next reading not ahead, at max(opened_at, ts)", async () => {
  const { sql, write, replans } = await setUp("alert_offline");
  try {
    await write(reading(1, 20));
    // What the offline job does: open the alert and move the device's version.
    await sql`
      INSERT INTO tb_alerta (id_dispositivo, tipo, opened_at, last_triggered_at, peak_value)
      VALUES ('dev', 'offline', ${at(100)}::timestamptz, ${at(200)}::timestamptz, 199)`;
    await sql`UPDATE tb_dispositivo SET versao = versao + 1`;
    const ahead = reading(3000, 20, { ahead: true });
    await write(ahead);
    assert.deepEqual(
      replans,
      { version: 1, deadlock: 0, resent: 0, copy: 0 },
      "the cached version was stale: read again, planned again",
    );
    assert.equal((await alerts(sql))[0].cleared_at, null, "an ahead reading does not clear it");
    const late = reading(50, 20);
    await write(late);
    const [offline] = await alerts(sql);
    assert.equal(offline.cleared_at, at(100), "an older reading clears it at its opening");
    assert.equal(offline.cleared_event, late.id);
    assert.equal(await versao(sql), 4);
  } finally {
    await sql.end();
  }
});

for (const path of ["COPY", "statement"] as const) {
  Deno.test(`[integration] a re-sent reading is not folded twice: the write plans again without it (${path})`, async () => {
    const { sql, store, write, replans } = await setUp(
      "alert_resend",
      path === "COPY" ? 1 : undefined,
    );
    try {
      const a = reading(1, 36);
      await write(a, reading(2, 20));
      const c = reading(3, 20);
      assert.deepEqual(await write(a, c), { kind: "written", inserted: 1 });
      // Isolation's one-row write, then the batch that holds the same row.
      const d = reading(4, 20);
      assert.deepEqual(
        await store.writeRow({ ...KEY, topicId: TOPIC_ID, expectedOffset: "2" }, d),
        { kind: "written", inserted: true },
      );
      assert.deepEqual(await write(d, reading(5, 20)), { kind: "written", inserted: 1 });
      const seqs = await sql<{ id: string; seq: number }[]>`
        SELECT id::text, seq_dispositivo::int AS seq FROM tb_sensor_evento ORDER BY seq_dispositivo`;
      assert.deepEqual(seqs.map((r) => r.seq), [1, 2, 3, 4, 5]);
      assert.equal(seqs[2].id, c.id);
      assert.deepEqual(
        replans,
        { version: 0, deadlock: 0, resent: 2, copy: path === "COPY" ? 2 : 0 },
        path === "COPY"
          ? "each re-send failed the COPY, then planned the statement's write again"
          : "each re-send planned the statement's write again",
      );
      const [alert] = await alerts(sql);
      assert.equal(alert.trigger_count, 1, "the re-sent hot reading was not counted again");
      await assertStoredEqualsReplay(sql, SETTINGS, new Set());
    } finally {
      await sql.end();
    }
  });
}

Deno.test("[integration] an id stored with another reading while a write plans again is refused, not dropped", async () => {
  const { sql, write } = await setUp("alert_resend_race");
  try {
    const resent = reading(1, 20);
    await write(resent);
    const late = reading(2, 20);
    // The race the chaos suite found: the write fails on the re-send (IOT02), and before it looks
    // the re-sends up, another partition commits `late`'s id with another reading.
    const twin = { ...late, temperatura: 21 };
    const pool = new Proxy(sql, {
      get(target, name) {
        if (name !== "unsafe") return Reflect.get(target, name);
        return async (query: string, ...rest: unknown[]) => {
          if (query === RESENT_IDS) {
            await sql`INSERT INTO tb_sensor_evento (id, id_dispositivo, "timestamp", timestamp_ts,
              temperatura, umidade, latitude, longitude, status, bateria, alerta)
              VALUES (${twin.id}, ${twin.id_dispositivo}, ${twin.timestamp}, ${twin.timestamp_ts},
                ${twin.temperatura}, 50, 0, 0, 'OK', 80, false)`;
          }
          return await (target.unsafe as (...a: unknown[]) => Promise<unknown>)(query, ...rest);
        };
      },
    });
    const writer = new StoreWriter(() => pool, SETTINGS, new DeviceCache(10));
    const fence = { ...KEY, topicId: TOPIC_ID, expectedOffset: "1" };
    await assert.rejects(
      writer.write({ fence, rows: [resent, late], batch: { nextOffset: "2", rejects: "[]" } }),
      (error: { code?: string }) => error.code === CONFLICTING_DUPLICATE_SQLSTATE,
      "the conflicting id reaches the insert, which refuses it for the pipeline to reject",
    );
    const [offset] = await sql`SELECT next_offset::int AS n FROM tb_kafka_offset`;
    assert.equal(offset.n, 1, "nothing of the batch was written");
  } finally {
    await sql.end();
  }
});
