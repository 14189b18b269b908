/**
 * Fills `tb_sensor_evento` with N stored readings shaped like the fleet's, inside PostgreSQL, for
 * the growth phase: what a table that has been ingesting for days looks like to the next write.
 *
 * Rows: 1,000 devices named like the fleet's (`sensor-0001-3b7c1a`), one reading every 10 ms
 * across the fleet (each device every 10 s) ending a minute before the fill, readings in the
 * fleet's ranges, `dt_carga` 40 ms after the event, the device's reading count and an anomaly
 * score. Ids are version 7 made from the reading's instant, like the fleet's (its 74 other bits are
 * a name hash, here random: to an index the same, since the instant alone orders the keys), or
 * random version 4 (`gen_random_uuid()`), the comparison.
 *
 * The secondary indexes and the primary key are dropped before the `INSERT … SELECT` and built
 * again after it from their own definitions, read from the catalogue first; the end state is
 * checked to be the migration's exact set of indexes and constraints. Then VACUUM ANALYZE (hint
 * bits set, visibility map and statistics current, as autovacuum leaves a table at rest) and a
 * CHECKPOINT, so the drain after it starts from clean buffers.
 *
 * @module
 */

import postgres from "postgres";
import { migrate } from "../consumer/migrations.ts";
import { round } from "./footprint.ts";

/** Ids of the stored rows. */
export type IdKind = "v4" | "v7";

/** What a fill did. */
export interface FillResult {
  /** Rows stored. */
  rows: number;
  /** Their ids. */
  ids: IdKind;
  /** INSERT … SELECT, s. */
  insertSeconds: number;
  /** Index and primary-key builds, s. */
  indexSeconds: number;
  /** VACUUM ANALYZE and CHECKPOINT, s. */
  vacuumSeconds: number;
  /** The whole fill, migration to checkpoint, s. */
  seconds: number;
  /** Heap (with its TOAST and maps), bytes. */
  tableBytes: number;
  /** Every index of the table, bytes. */
  indexBytes: number;
  /** Largest xid8 the fill used: rows written later have a larger `xid_carga`. */
  lastXid: string;
}

/** A v7 id for the timestamptz expression `ts`: its Unix ms over a random v4's first 6 bytes. */
const V7_SQL = (ts: string) =>
  `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing ` +
  `substring(int8send((extract(epoch FROM ${ts}) * 1000)::bigint) FROM 3) FROM 1 FOR 6), ` +
  `52, 1), 53, 1), 'hex')::uuid`;

/**
 * Migrates the database at `url` and stores `rows` readings (none: only migrates and settles).
 *
 * @param log Progress lines.
 */
export async function fillReadings(
  url: string,
  rows: number,
  ids: IdKind,
  log: (line: string) => void,
): Promise<FillResult> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const started = performance.now();
  const lap = () => (performance.now() - started) / 1000;
  try {
    await migrate(sql);
    const before = await schemaOf(sql);
    let insertAt = lap(), indexAt = insertAt;
    if (rows > 0) {
      await sql.unsafe(`SET maintenance_work_mem = '512MB'`);
      const indexes = await sql<{ name: string; def: string }[]>`
        SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def
        FROM pg_index WHERE indrelid = 'tb_sensor_evento'::regclass AND NOT indisprimary`;
      const [pk] = await sql<{ name: string; def: string }[]>`
        SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'tb_sensor_evento'::regclass AND contype = 'p'`;
      for (const i of indexes) await sql.unsafe(`DROP INDEX ${i.name}`);
      await sql.unsafe(`ALTER TABLE tb_sensor_evento DROP CONSTRAINT ${pk.name}`);
      await sql.unsafe(insertSql(rows, ids));
      insertAt = lap();
      log(`    ${rows} rows inserted in ${round(insertAt, 1)} s`);
      await sql.unsafe(`ALTER TABLE tb_sensor_evento ADD CONSTRAINT ${pk.name} ${pk.def}`);
      for (const i of indexes) await sql.unsafe(i.def);
      indexAt = lap();
      log(`    indexes built in ${round(indexAt - insertAt, 1)} s`);
    }
    const after = await schemaOf(sql);
    if (after !== before) {
      throw new Error(`the fill changed the table's indexes:\n${before}\n---\n${after}`);
    }
    await sql.unsafe("VACUUM ANALYZE tb_sensor_evento");
    await sql`CHECKPOINT`;
    const [size] = await sql<{ table: string; indexes: string; xid: string | null }[]>`
      SELECT pg_table_size('tb_sensor_evento') AS table,
        pg_indexes_size('tb_sensor_evento') AS indexes,
        (SELECT max(xid_carga)::text FROM tb_sensor_evento) AS xid`;
    const seconds = lap();
    return {
      rows,
      ids,
      insertSeconds: round(insertAt, 1),
      indexSeconds: round(indexAt - insertAt, 1),
      vacuumSeconds: round(seconds - indexAt, 1),
      seconds: round(seconds, 1),
      tableBytes: Number(size.table),
      indexBytes: Number(size.indexes),
      lastXid: size.xid ?? "0",
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The table's indexes and constraints as the catalogue defines them, one per line, sorted. */
async function schemaOf(sql: postgres.Sql): Promise<string> {
  const lines = await sql<{ line: string }[]>`
    SELECT pg_get_indexdef(indexrelid) AS line FROM pg_index
    WHERE indrelid = 'tb_sensor_evento'::regclass
    UNION ALL
    SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid = 'tb_sensor_evento'::regclass
    ORDER BY 1`;
  return lines.map((l) => l.line).join("\n");
}

/** The one INSERT … SELECT that makes the rows (the device names are computed once). */
function insertSql(rows: number, ids: IdKind): string {
  const id = ids === "v7" ? V7_SQL("v.ts") : "gen_random_uuid()";
  // Readings in the fleet's ranges; about 8 % of them alerts (7.6 % below 15 % battery, 1 % hot).
  return `
    WITH d AS MATERIALIZED (
      SELECT array_agg('sensor-' || lpad(n::text, 4, '0') || '-' || substr(md5(n::text), 1, 6)
        ORDER BY n) AS names
      FROM generate_series(1, 1000) n
    )
    INSERT INTO tb_sensor_evento (id, id_dispositivo, "timestamp", timestamp_ts, temperatura,
      umidade, latitude, longitude, status, bateria, alerta, dt_carga, seq_dispositivo,
      escore_anomalia)
    SELECT ${id}, d.names[i % 1000 + 1],
      to_char(v.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), v.ts,
      v.temp, round((35 + random() * 40)::numeric, 1)::float8,
      round((-33.7 + (i % 1000) * 0.0389 + random() * 1e-3)::numeric, 6)::float8,
      round((-73.9 + (i % 1000) * 0.0391 + random() * 1e-3)::numeric, 6)::float8,
      CASE WHEN v.temp > 45 OR v.bat < 5 THEN 'ERROR'
        WHEN v.temp > 35 OR v.bat < 15 THEN 'WARN' ELSE 'OK' END,
      v.bat, v.temp > 35 OR v.bat < 15, v.ts + interval '40 ms', i / 1000 + 1, random() * 3
    FROM d, generate_series(1, ${rows}) i,
      LATERAL (SELECT now() - interval '1 minute' - (${rows} - i) * interval '10 ms' AS ts,
        round((16 + random() * 14 + CASE WHEN random() < 0.02 THEN 12 ELSE 0 END)::numeric,
          2)::float8 AS temp,
        round((8 + random() * 92)::numeric, 1)::float8 AS bat) v`;
}
