-- Where PostgreSQL's time goes in the consumer's write of readings, and what a COPY path would
-- save, on 200,000 synthetic rows of the event's shape in one backend (see "The write path" in
-- bench/README.md). The table has tb_sensor_evento's columns, its five indexes and its statement
-- trigger. Run it in an empty scratch database; it creates its own tables and writes its COPY
-- files under /tmp:
--
--   psql -X -q -d <scratch database> -f bench/statement_cost.sql
--
-- Run it as a superuser (or a role with pg_read_server_files): besides psql's wall time, each
-- variant prints the CPU seconds its backend spent (/proc/self/stat, read through pg_read_file),
-- the figure that other work on the machine disturbs least. Per-row cost = time / 200,000.
\set ON_ERROR_STOP 1
CREATE TABLE t (
  id uuid PRIMARY KEY, id_dispositivo text NOT NULL, "timestamp" text NOT NULL,
  timestamp_ts timestamptz NOT NULL, temperatura float8 NOT NULL, umidade float8 NOT NULL,
  latitude float8 NOT NULL, longitude float8 NOT NULL, status text NOT NULL,
  bateria float8 NOT NULL, alerta boolean NOT NULL, dt_carga timestamptz NOT NULL DEFAULT now(),
  seq_dispositivo bigint, escore_anomalia float8, xid_carga xid8 DEFAULT pg_current_xact_id());
CREATE INDEX ON t (id_dispositivo, timestamp_ts DESC);
CREATE INDEX ON t (timestamp_ts) WHERE alerta;
CREATE INDEX ON t (xid_carga) WHERE xid_carga IS NOT NULL;
CREATE INDEX ON t (timestamp_ts, id);
CREATE FUNCTION notify_t() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('t', TG_TABLE_NAME); RETURN NULL; END $$;
CREATE TRIGGER t_notify AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION notify_t();
CREATE TABLE src AS SELECT gen_random_uuid() id, 'device-' || (i % 1000) id_dispositivo,
  to_char(now() + i * interval '1 ms', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') "timestamp",
  now() + i * interval '1 ms' timestamp_ts, 20 + random() * 20 temperatura,
  random() * 100 umidade, -23 + random() latitude, -46 + random() longitude, 'OK' status,
  random() * 100 bateria, random() < 0.05 alerta, (i / 1000)::bigint seq_dispositivo,
  random() * 3 escore_anomalia
  FROM generate_series(1, 200000) i;
CREATE TABLE docs AS SELECT (row_number() over ()) / 2000 AS b, r.* FROM src r;
CREATE TABLE jdocs AS SELECT b, json_agg(json_build_object('id', id, 'id_dispositivo',
  id_dispositivo, 'timestamp', "timestamp", 'timestamp_ts', timestamp_ts, 'temperatura',
  temperatura, 'umidade', umidade, 'latitude', latitude, 'longitude', longitude, 'status',
  status, 'bateria', bateria, 'alerta', alerta, 'seq_dispositivo', seq_dispositivo,
  'escore_anomalia', escore_anomalia))::text AS doc FROM docs GROUP BY b;
\copy (SELECT id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo, escore_anomalia FROM src) TO '/tmp/statement_cost.copy'
\copy (SELECT id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo, escore_anomalia FROM src) TO '/tmp/statement_cost.bin' WITH (FORMAT binary)
CREATE TEMP TABLE stage (LIKE t INCLUDING DEFAULTS);
CHECKPOINT;
\set cols 'id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo, escore_anomalia'
\set distinct '(x.id_dispositivo, x."timestamp", x.temperatura, x.umidade, x.latitude, x.longitude, x.status, x.bateria) IS DISTINCT FROM (EXCLUDED.id_dispositivo, EXCLUDED."timestamp", EXCLUDED.temperatura, EXCLUDED.umidade, EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.status, EXCLUDED.bateria)'
\set recordset 'r(id uuid, id_dispositivo text, "timestamp" text, timestamp_ts timestamptz, temperatura float8, umidade float8, latitude float8, longitude float8, status text, bateria float8, alerta boolean, seq_dispositivo bigint, escore_anomalia float8)'
\set stat 'SELECT split_part(s, '' '', 14)::bigint + split_part(s, '' '', 15)::bigint AS ticks, clock_timestamp() AS t0 FROM pg_read_file(''/proc/self/stat'') s'
\set report 'SELECT round(((SELECT split_part(s, '' '', 14)::bigint + split_part(s, '' '', 15)::bigint FROM pg_read_file(''/proc/self/stat'') s) - :ticks) * 10000.0 / 200000, 1) AS backend_cpu_us_per_row, round(extract(epoch FROM clock_timestamp() - :''t0'') * 1e6 / 200000, 1) AS wall_us_per_row'
\pset footer off
\echo 1 plain INSERT from a table (no parse, no conflict check): the floor
:stat \gset
INSERT INTO t (:cols) SELECT :cols FROM src;
:report;
TRUNCATE t; CHECKPOINT;
\echo 2 json_to_recordset, parse only
:stat \gset
SELECT count(*) FROM jdocs, json_to_recordset(doc::json) AS :recordset \g /dev/null
:report;
\echo 3 json_to_recordset INSERT, ON CONFLICT DO UPDATE WHERE IS DISTINCT FROM (the write before the COPY path)
:stat \gset
INSERT INTO t AS x (:cols) SELECT r.* FROM jdocs, json_to_recordset(doc::json) AS :recordset ON CONFLICT (id) DO UPDATE SET dt_carga = now() WHERE :distinct;
:report;
TRUNCATE t; CHECKPOINT;
\echo 4 COPY text straight into the table
:stat \gset
\copy t (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo, escore_anomalia) FROM '/tmp/statement_cost.copy'
:report;
TRUNCATE t; CHECKPOINT;
\echo 5 COPY binary straight into the table
:stat \gset
\copy t (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo, escore_anomalia) FROM '/tmp/statement_cost.bin' WITH (FORMAT binary)
:report;
TRUNCATE t; CHECKPOINT;
\echo 6 COPY text into a temporary table, then INSERT ... SELECT ... ON CONFLICT DO UPDATE WHERE IS DISTINCT FROM
:stat \gset
\copy stage (id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude, longitude, status, bateria, alerta, seq_dispositivo, escore_anomalia) FROM '/tmp/statement_cost.copy'
INSERT INTO t AS x (:cols) SELECT :cols FROM stage ON CONFLICT (id) DO UPDATE SET dt_carga = now() WHERE :distinct;
:report;
TRUNCATE t, stage; CHECKPOINT;
