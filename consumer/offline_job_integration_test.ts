/**
 * [integration] The offline job on the real server: one alert per silent device however many
 * replicas check at once, none for a backlog, the open one updated by later checks, each change
 * incrementing the device's version, and the statement agreeing with offline.ts's rule.
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { Counter } from "prom-client";
import { migrate } from "./migrations.ts";
import { decideOffline, type DeviceSilence, type OfflineSettings } from "./offline.ts";
import { checkOffline, OFFLINE_LOCK_KEY, startOfflineJob } from "./offline_job.ts";
import { connectDatabase } from "./postgres_store.ts";
import { freshDatabase, uniqueName } from "../testing/services.ts";

const SETTINGS: OfflineSettings = { checkIntervalS: 10, factor: 3, minS: 30, maxS: 3600 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function setUp(prefix: string) {
  const url = await freshDatabase(uniqueName(prefix));
  const sql = connectDatabase(url, 4, "offline-it");
  await migrate(sql);
  return { url, sql };
}

/** A device row: last event `silentS` ago, last loaded `unloadedS` ago, usual interval `intervalS`. */
async function device(
  sql: postgres.Sql,
  id: string,
  silentS: number,
  unloadedS: number = silentS,
  intervalS: number | null = 5,
) {
  await sql`
    INSERT INTO tb_dispositivo (id_dispositivo, id_evento, timestamp_ts, dt_ultima_carga,
      qt_leituras, intervalo_s)
    VALUES (${id}, gen_random_uuid(), now() - make_interval(secs => ${silentS}::float8),
      now() - make_interval(secs => ${unloadedS}::float8), 10, ${intervalS}::float8)`;
}

async function alerts(sql: postgres.Sql) {
  return [
    ...await sql<{ id_dispositivo: string; open: boolean; trigger_count: number }[]>`
    SELECT id_dispositivo, cleared_at IS NULL AS open, trigger_count::int AS trigger_count
    FROM tb_alerta WHERE tipo = 'offline' ORDER BY id_dispositivo, id`,
  ];
}

async function versions(sql: postgres.Sql): Promise<Record<string, number>> {
  const rows = await sql<{ id: string; v: number }[]>`
    SELECT id_dispositivo AS id, versao::int AS v FROM tb_dispositivo`;
  return Object.fromEntries(rows.map((r) => [r.id, r.v]));
}

Deno.test("[integration] checkOffline() opens exactly one alert for the one silent device among reporting ones, increments its version, and a second round updates it", async () => {
  const { sql } = await setUp("offline_silent");
  try {
    for (let i = 0; i < 5; i++) await device(sql, `ok-${i}`, i);
    await device(sql, "silent", 600);
    const first = await checkOffline(sql, SETTINGS);
    assert.equal(first.held, true);
    assert.deepEqual(first.changes.map((c) => [c.id, c.kind, c.limitS, c.triggerCount]), [
      ["silent", "open", 90, 1],
    ]);
    const [row] = await sql<
      {
        opened_s: number;
        peak_value: number;
        silent_s: number;
        lag_s: number;
        folded_before: number;
      }[]
    >`
      SELECT extract(epoch FROM a.opened_at - d.timestamp_ts)::float8 AS opened_s, a.peak_value,
        a.qt_leituras_abertura::int AS folded_before,
        extract(epoch FROM w.watermark - d.timestamp_ts)::float8 AS silent_s,
        extract(epoch FROM a.last_triggered_at - w.watermark)::float8 AS lag_s
      FROM tb_alerta a JOIN tb_dispositivo d USING (id_dispositivo)
      CROSS JOIN (SELECT max(timestamp_ts) AS watermark FROM tb_dispositivo) w`;
    assert.equal(row.opened_s, 90, "opened when the silence passed the limit");
    assert.equal(row.peak_value, row.silent_s, "peak: the silence up to the watermark");
    assert.ok(Math.abs(row.peak_value - 600) < 1, `peak ${row.peak_value} s`);
    assert.equal(row.lag_s, 0, "last triggered at the watermark, the newest event time");
    assert.equal(row.folded_before, 10, "the device's reading count when it was created");
    assert.deepEqual(await versions(sql), {
      "ok-0": 0,
      "ok-1": 0,
      "ok-2": 0,
      "ok-3": 0,
      "ok-4": 0,
      silent: 1,
    });

    const second = await checkOffline(sql, SETTINGS);
    assert.deepEqual(second.changes.map((c) => [c.id, c.kind, c.triggerCount]), [
      ["silent", "update", 2],
    ]);
    assert.deepEqual(await alerts(sql), [{
      id_dispositivo: "silent",
      open: true,
      trigger_count: 2,
    }]);
    assert.equal((await versions(sql)).silent, 2);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] checkOffline() opens nothing for a backlog: old event times loaded just now, or a fleet whose event time stopped with the consumer", async () => {
  const { sql } = await setUp("offline_backlog");
  try {
    // Catching up: readings an hour or two old, every device's loaded within the last second.
    for (let i = 0; i < 5; i++) await device(sql, `d-${i}`, 3600 + 600 * i, 0.5);
    assert.deepEqual((await checkOffline(sql, SETTINGS)).changes, []);
    // The consumer was down for two hours: nothing loaded, but the watermark is two hours old too.
    await sql`UPDATE tb_dispositivo SET dt_ultima_carga = now() - interval '2 hours',
      timestamp_ts = now() - interval '2 hours' - make_interval(secs => ordinality * 10)
      FROM unnest(ARRAY['d-0','d-1','d-2','d-3','d-4']) WITH ORDINALITY AS u(id, ordinality)
      WHERE id_dispositivo = u.id`;
    assert.deepEqual((await checkOffline(sql, SETTINGS)).changes, []);
    assert.deepEqual(await alerts(sql), []);
    assert.deepEqual(Object.values(await versions(sql)), [0, 0, 0, 0, 0]);
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] checkOffline() does nothing while another replica holds the lock, and two replicas checking at once open one alert", async () => {
  const { url, sql } = await setUp("offline_replicas");
  const other = postgres(url, { max: 1, onnotice: () => {} });
  const replicas = Array.from({ length: 4 }, () => postgres(url, { max: 1, onnotice: () => {} }));
  try {
    await device(sql, "ok", 1);
    await device(sql, "silent", 600);
    const reserved = await other.reserve();
    await reserved`SELECT pg_advisory_lock(${OFFLINE_LOCK_KEY.toString()}::bigint)`;
    assert.deepEqual((await checkOffline(sql, SETTINGS)).held, false);
    assert.deepEqual(await alerts(sql), []);
    await reserved`SELECT pg_advisory_unlock(${OFFLINE_LOCK_KEY.toString()}::bigint)`;
    reserved.release();

    const checks = await Promise.all(replicas.map((r) => checkOffline(r, SETTINGS)));
    const opened = checks.flatMap((c) => c.changes).filter((c) => c.kind === "open");
    assert.equal(opened.length, 1, JSON.stringify(checks));
    const open = await alerts(sql);
    assert.equal(open.length, 1);
    // A replica whose statement began before another's commit gets the lock after it but reads
    // the device as it was: the version guard makes it change nothing (seen in some runs), so
    // every change reported is one trigger and one version.
    const changes = checks.flatMap((c) => c.changes).length;
    assert.ok(changes <= checks.filter((c) => c.held).length);
    assert.equal(open[0].trigger_count, changes, "each change counted once");
    assert.equal((await versions(sql)).silent, changes);
  } finally {
    await other.end();
    for (const r of replicas) await r.end();
    await sql.end();
  }
});

Deno.test("[integration] checkOffline() leaves a device a batch is writing (its row locked) for the next round, without waiting", async () => {
  const { url, sql } = await setUp("offline_locked");
  const batch = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await device(sql, "ok", 1);
    await device(sql, "silent", 600);
    const inFlight = Promise.withResolvers<void>();
    const locked = Promise.withResolvers<void>();
    const writing = batch.begin(async (tx) => {
      await tx`SELECT 1 FROM tb_dispositivo WHERE id_dispositivo = 'silent' FOR UPDATE`;
      locked.resolve();
      await inFlight.promise;
    });
    await locked.promise;
    const started = performance.now();
    assert.deepEqual((await checkOffline(sql, SETTINGS)).changes, []);
    assert.ok(performance.now() - started < 2000, "did not wait for the batch");
    inFlight.resolve();
    await writing;
    assert.deepEqual(await alerts(sql), []);
    assert.deepEqual((await checkOffline(sql, SETTINGS)).changes.map((c) => c.id), ["silent"]);
  } finally {
    await batch.end();
    await sql.end();
  }
});

Deno.test("[integration] checkOffline() agrees with decideOffline() on 300 devices of every kind", async () => {
  const { sql } = await setUp("offline_agree");
  try {
    // A seeded walk through silences around each device's limit, loads around it, unknown and
    // clamped intervals, and open alerts.
    let state = 12345;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = Math.floor(Date.now() / 1000) * 1000 - 1000;
    const devices: DeviceSilence[] = [];
    for (let i = 0; i < 300; i++) {
      const intervalS = random() < 0.1 ? null : Math.round(1 + random() * 5000);
      const limitMs = 3 * Math.min(Math.max(intervalS ?? 3600, 30), 3600) * 1000;
      const lastEventMs = base - Math.round(random() * 2 * limitMs);
      const lastLoadMs = random() < 0.5 ? lastEventMs : base - Math.round(random() * 2 * limitMs);
      devices.push({
        id: `d-${String(i).padStart(3, "0")}`,
        lastEventMs,
        lastLoadMs,
        intervalS,
        open: null,
      });
    }
    for (const d of devices) {
      await sql`
        INSERT INTO tb_dispositivo (id_dispositivo, id_evento, timestamp_ts, dt_ultima_carga,
          qt_leituras, intervalo_s)
        VALUES (${d.id}, gen_random_uuid(), ${new Date(d.lastEventMs!)},
          ${new Date(d.lastLoadMs)}, 10, ${d.intervalS})`;
    }
    for (const d of devices.filter((_, i) => i % 7 === 0)) {
      d.open = { lastTriggeredMs: base - 5000, peakS: 1, triggerCount: 3 };
      await sql`
        INSERT INTO tb_alerta (id_dispositivo, tipo, opened_at, last_triggered_at, peak_value,
          trigger_count)
        VALUES (${d.id}, 'offline', ${new Date(base - 10_000)}, ${new Date(base - 5000)}, 1, 3)`;
    }
    const check = await checkOffline(sql, SETTINGS);
    const expected = decideOffline(devices, check.nowMs, SETTINGS);
    assert.ok(
      expected.filter((a) => a.kind === "open").length > 20 &&
        expected.filter((a) => a.kind === "update").length > 5 &&
        expected.length < 250,
      `the sample covers both sides of the rule: ${expected.length} changes`,
    );
    assert.equal(check.changes.length, expected.length);
    for (const [i, got] of check.changes.entries()) {
      const want = expected[i];
      assert.deepEqual(
        [got.id, got.kind, got.limitS, got.lastTriggeredMs, got.peakS, got.triggerCount],
        [want.id, want.kind, want.limitS, want.lastTriggeredMs, want.peakS, want.triggerCount],
      );
      if (got.kind === "open") assert.ok(Math.abs(got.openedAtMs - want.openedAtMs) < 0.001);
    }
  } finally {
    await sql.end();
  }
});

Deno.test("[integration] startOfflineJob() checks at once, counts and logs each opened alert, and with OFFLINE_CHECK_INTERVAL_S=0 does nothing", async () => {
  const { sql } = await setUp("offline_job");
  const opened = new Counter({ name: "opened", help: "-", registers: [] });
  const updated = new Counter({ name: "updated", help: "-", registers: [] });
  const infos: [string, Record<string, unknown> | undefined][] = [];
  const log = { ...quiet, info: (m: string, f?: Record<string, unknown>) => infos.push([m, f]) };
  try {
    await device(sql, "ok", 1);
    await device(sql, "silent", 600);
    await startOfflineJob({
      run: (statement) => statement(sql),
      settings: { ...SETTINGS, checkIntervalS: 0 },
      metrics: { opened, updated },
      log,
    })();
    assert.deepEqual(await alerts(sql), []);
    const stop = startOfflineJob({
      run: (statement) => statement(sql),
      settings: SETTINGS,
      metrics: { opened, updated },
      log,
    });
    const deadline = Date.now() + 10_000;
    while ((await opened.get()).values[0].value < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await stop();
    assert.equal((await opened.get()).values[0].value, 1);
    const lines = infos.filter(([m]) => m === "device offline: alert opened");
    assert.equal(lines.length, 1);
    assert.equal(lines[0][1]!.device, "silent");
    assert.equal(lines[0][1]!.limitS, 90);
  } finally {
    await sql.end();
  }
});
