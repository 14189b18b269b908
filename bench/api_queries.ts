/**
 * The api's queries over a seeded database: N readings (default 1,000,000) of 1000 devices one
 * second apart, ~19,000 alerts (100 open), then each endpoint called 50 times (event pages follow
 * their cursor), printing p50 and p99 as the client saw them. Figures, never a test.
 *
 *   deno run -A bench/api_queries.ts [--rows 1000000]
 *
 * Uses the local stack (SERVICES_DIR, POSTGRES_PORT, ...) and a throw-away database.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startApi, testDatabase } from "../api/testing/fixture.ts";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" } } });
const rows = Number(values.rows);
const db = await testDatabase("bench_api_queries");
const t0 = performance.now();
await db.owner.unsafe(
  `INSERT INTO tb_sensor_evento (id, id_dispositivo, "timestamp", timestamp_ts,
  temperatura, umidade, latitude, longitude, status, bateria, alerta)
  SELECT gen_random_uuid(), 'dev-' || (g % 1000), '', timestamp '2026-12-01' + (g || ' s')::interval,
    20 + (g % 20), 50, 0, 0, 'OK', 80, g % 30 = 0 FROM generate_series(1, $1::int) g`,
  [rows],
);
await db.owner.unsafe(
  `INSERT INTO tb_dispositivo (id_dispositivo, id_evento, timestamp_ts, qt_leituras)
  SELECT id_dispositivo, (array_agg(id ORDER BY timestamp_ts DESC))[1], max(timestamp_ts), count(*) FROM tb_sensor_evento GROUP BY 1`,
);
await db.owner.unsafe(
  `INSERT INTO tb_alerta (id_dispositivo, tipo, opened_at, last_triggered_at, cleared_at, peak_value)
  SELECT 'dev-' || (g % 1000), 'temperature_high', timestamp '2026-12-01' + (g || ' min')::interval,
   timestamp '2026-12-01' + (g || ' min')::interval, CASE WHEN g > 19000 THEN NULL ELSE timestamp '2026-12-01' + (g+1 || ' min')::interval END, 36
  FROM generate_series(1, 20000) g WHERE g <= 19000 OR g % 1000 < 100 AND g > 19000 AND g <= 19100`,
);
for (const t of ["tb_sensor_evento", "tb_dispositivo", "tb_alerta"]) {
  await db.owner.unsafe(`VACUUM ANALYZE ${t}`);
}
console.log(`seeded ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const api = await startApi(db.apiUrl);
const paths = [
  "/api/events?limit=100",
  "/api/events?device=dev-7&limit=100",
  "/api/events?alert=true&limit=100",
  "/api/devices?limit=1000",
  "/api/devices/dev-7/history?from=2026-12-01T00:00:00Z&to=2026-12-13T00:00:00Z&points=200",
  "/api/alerts?state=open&limit=100",
  "/api/alerts?limit=100",
  "/api/stats",
];
for (const path of paths) {
  const times: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    const url: string = cursor && path.includes("events") ? `${path}&cursor=${cursor}` : path;
    const r = await fetch(`${api.base}${url}`);
    const body = await r.json();
    if (r.status !== 200) throw new Error(JSON.stringify(body));
    cursor = body.next_cursor ?? null;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`${path.padEnd(90)} p50 ${times[25].toFixed(1)} ms  p99 ${times[49].toFixed(1)} ms`);
}
api.signal("SIGTERM");
await api.exited();
await db.owner.end({ timeout: 5 });
