-- Where PostgreSQL's time goes in the consumer's write, part by part, on 200,000 synthetic rows
-- of the event's shape, in one backend (see "What limits us" in bench/README.md). Run it in an
-- empty scratch database; it creates its own tables:
--
--   psql -X -q -d <scratch database> -f bench/statement_cost.sql
--
-- Each \echo names a variant; psql prints its time. Per-row cost = time / 200,000.
\set ON_ERROR_STOP 1
CREATE TABLE t (
  id uuid PRIMARY KEY, id_dispositivo text NOT NULL, "timestamp" text NOT NULL, timestamp_ts timestamptz NOT NULL,
  temperatura float8 NOT NULL, umidade float8 NOT NULL, latitude float8 NOT NULL, longitude float8 NOT NULL,
  status text NOT NULL, bateria float8 NOT NULL, alerta boolean NOT NULL, dt_carga timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON t (id_dispositivo, timestamp_ts DESC);
CREATE INDEX ON t (timestamp_ts) WHERE alerta;
CREATE TABLE src AS SELECT gen_random_uuid() id, 'device-' || (i % 1000) id_dispositivo,
  to_char(now() + i * interval '1 ms', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') "timestamp", now() + i * interval '1 ms' timestamp_ts,
  20 + random() * 20 temperatura, random() * 100 umidade, -23 + random() latitude, -46 + random() longitude,
  'OK' status, random() * 100 bateria, random() < 0.05 alerta
  FROM generate_series(1, 200000) i;
CREATE TABLE docs AS SELECT (row_number() over ()) / 2000 AS b, r.* FROM src r;
CREATE TABLE jdocs AS SELECT b, json_agg(json_build_object('id', id, 'id_dispositivo', id_dispositivo, 'timestamp', "timestamp", 'timestamp_ts', timestamp_ts, 'temperatura', temperatura, 'umidade', umidade, 'latitude', latitude, 'longitude', longitude, 'status', status, 'bateria', bateria, 'alerta', alerta))::text AS doc FROM docs GROUP BY b;
CHECKPOINT;
\timing on
\echo plain insert from table (no parse)
INSERT INTO t (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta) SELECT id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta FROM src;
TRUNCATE t; CHECKPOINT;
\echo json_to_recordset only (parse, no insert)
SELECT count(*) FROM jdocs, json_to_recordset(doc::json) AS r(id uuid, id_dispositivo text, "timestamp" text, timestamp_ts timestamptz, temperatura float8, umidade float8, latitude float8, longitude float8, status text, bateria float8, alerta boolean);
\echo json_to_recordset insert, no on conflict
INSERT INTO t (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta) SELECT r.* FROM jdocs, json_to_recordset(doc::json) AS r(id uuid, id_dispositivo text, "timestamp" text, timestamp_ts timestamptz, temperatura float8, umidade float8, latitude float8, longitude float8, status text, bateria float8, alerta boolean);
TRUNCATE t; CHECKPOINT;
\echo json_to_recordset insert, on conflict do update where distinct
INSERT INTO t AS x (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta) SELECT r.* FROM jdocs, json_to_recordset(doc::json) AS r(id uuid, id_dispositivo text, "timestamp" text, timestamp_ts timestamptz, temperatura float8, umidade float8, latitude float8, longitude float8, status text, bateria float8, alerta boolean)
 ON CONFLICT (id) DO UPDATE SET dt_carga = now() WHERE (x.id_dispositivo, x.temperatura) IS DISTINCT FROM (EXCLUDED.id_dispositivo, EXCLUDED.temperatura);
TRUNCATE t; CHECKPOINT;
\echo plain insert from table, on conflict
INSERT INTO t AS x (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta) SELECT id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta FROM src
 ON CONFLICT (id) DO UPDATE SET dt_carga = now() WHERE (x.id_dispositivo, x.temperatura) IS DISTINCT FROM (EXCLUDED.id_dispositivo, EXCLUDED.temperatura);
TRUNCATE t; CHECKPOINT;
\timing off
CREATE TABLE adocs AS SELECT b, array_agg(id)::text a_id, array_agg(id_dispositivo)::text a_dev, array_agg("timestamp")::text a_ts, array_agg(timestamp_ts)::text a_tsz,
 array_agg(temperatura)::text a_t, array_agg(umidade)::text a_u, array_agg(latitude)::text a_la, array_agg(longitude)::text a_lo, array_agg(status)::text a_s, array_agg(bateria)::text a_b, array_agg(alerta)::text a_al FROM docs GROUP BY b;
\timing on
\echo unnest of text arrays, parse only
SELECT count(*) FROM adocs, unnest(a_id::uuid[], a_dev::text[], a_ts::text[], a_tsz::timestamptz[], a_t::float8[], a_u::float8[], a_la::float8[], a_lo::float8[], a_s::text[], a_b::float8[], a_al::bool[]);
\echo unnest insert + on conflict
INSERT INTO t AS x (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta) SELECT u.* FROM adocs, unnest(a_id::uuid[], a_dev::text[], a_ts::text[], a_tsz::timestamptz[], a_t::float8[], a_u::float8[], a_la::float8[], a_lo::float8[], a_s::text[], a_b::float8[], a_al::bool[]) AS u
 ON CONFLICT (id) DO UPDATE SET dt_carga = now() WHERE (x.id_dispositivo, x.temperatura) IS DISTINCT FROM (EXCLUDED.id_dispositivo, EXCLUDED.temperatura);
