/**
 * The consumer's tables, created at start-up. Every statement is idempotent and the whole script
 * runs under one advisory lock, so many replicas may start at once. It runs only when the schema
 * is not at this version yet: DDL (even `CREATE INDEX IF NOT EXISTS`) locks a table before it
 * finds there is nothing to do, and would queue the other replicas' writes behind it at every
 * start.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Sql } from "postgres";

/** Key of the advisory lock that serializes migrations across replicas ("iot-migr" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x696f742d6d696772n;

/** SQLSTATE raised when an event reuses a stored id with different values. */
export const CONFLICTING_DUPLICATE_SQLSTATE = "IOT01";

/**
 * SQLSTATE raised when a write planned a row as new (and folded it into its device) but the row
 * was stored already: the write is planned again without it.
 */
export const PLANNED_ROWS_STORED_SQLSTATE = "IOT02";

/** The DDL, in order. Statements only ever add: old replicas keep working during an upgrade. */
export const MIGRATION_SQL = `
CREATE TABLE IF NOT EXISTS tb_sensor_evento (
  id             uuid PRIMARY KEY,
  id_dispositivo text NOT NULL,
  "timestamp"    text NOT NULL,
  timestamp_ts   timestamptz NOT NULL,
  temperatura    double precision NOT NULL,
  umidade        double precision NOT NULL,
  latitude       double precision NOT NULL,
  longitude      double precision NOT NULL,
  status         text NOT NULL,
  bateria        double precision NOT NULL,
  alerta         boolean NOT NULL,
  dt_carga       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tb_sensor_evento IS 'Valid sensor events, one row per event id (written by iot-consumer).';
COMMENT ON COLUMN tb_sensor_evento."timestamp" IS 'TIMESTAMP exactly as the device sent it';
COMMENT ON COLUMN tb_sensor_evento.timestamp_ts IS 'The same instant in UTC';
COMMENT ON COLUMN tb_sensor_evento.dt_carga IS 'When the row was written';

-- "Latest readings of a device": ORDER BY timestamp_ts DESC for one id_dispositivo.
CREATE INDEX IF NOT EXISTS ix_sensor_evento_dispositivo_ts
  ON tb_sensor_evento (id_dispositivo, timestamp_ts DESC);
-- "Alerts in a time range": small, because alerts are a few percent of the rows.
CREATE INDEX IF NOT EXISTS ix_sensor_evento_alerta_ts
  ON tb_sensor_evento (timestamp_ts) WHERE alerta;

CREATE TABLE IF NOT EXISTS tb_sensor_evento_rejeitado (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topico       text NOT NULL,
  particao     integer NOT NULL,
  offset_kafka bigint NOT NULL,
  chave        bytea,
  payload      bytea NOT NULL,
  motivos      jsonb NOT NULL,
  dt_carga     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topico, particao, offset_kafka)
);
COMMENT ON TABLE tb_sensor_evento_rejeitado IS 'Refused messages, as received, with every reason';
COMMENT ON COLUMN tb_sensor_evento_rejeitado.motivos IS 'Array of {field, code, message}';
CREATE INDEX IF NOT EXISTS ix_sensor_evento_rejeitado_dt_carga
  ON tb_sensor_evento_rejeitado (dt_carga);

CREATE TABLE IF NOT EXISTS tb_kafka_offset (
  group_id    text NOT NULL,
  topic       text NOT NULL,
  partition   integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);
COMMENT ON TABLE tb_kafka_offset IS
  'Next offset to process per group and partition; advanced in the same statement as the rows';

-- Raised from ON CONFLICT when an id comes back with other values: the consumer then refuses
-- that event and writes the rest (see consumer/refusals.ts).
CREATE OR REPLACE FUNCTION iot_conflicting_duplicate(event_id uuid) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '${CONFLICTING_DUPLICATE_SQLSTATE}',
    MESSAGE = 'conflicting duplicate', DETAIL = event_id::text;
END
$$;

-- Refused messages are kept whole up to REJECT_MAX_STORED_BYTES, cut to their first bytes beyond
-- it; the whole one's length and SHA-256 are always recorded. NULL in rows of older versions.
ALTER TABLE tb_sensor_evento_rejeitado
  ADD COLUMN IF NOT EXISTS payload_bytes integer,
  ADD COLUMN IF NOT EXISTS payload_sha256 bytea,
  ADD COLUMN IF NOT EXISTS chave_bytes integer,
  ADD COLUMN IF NOT EXISTS chave_sha256 bytea;
COMMENT ON COLUMN tb_sensor_evento_rejeitado.payload IS
  'The message value, or its first bytes when octet_length(payload) < payload_bytes';
COMMENT ON COLUMN tb_sensor_evento_rejeitado.payload_bytes IS 'Length of the whole value';
COMMENT ON COLUMN tb_sensor_evento_rejeitado.payload_sha256 IS 'SHA-256 of the whole value';
COMMENT ON COLUMN tb_sensor_evento_rejeitado.chave IS
  'The message key, or its first bytes when octet_length(chave) < chave_bytes';
COMMENT ON COLUMN tb_sensor_evento_rejeitado.chave_bytes IS 'Length of the whole key';
COMMENT ON COLUMN tb_sensor_evento_rejeitado.chave_sha256 IS 'SHA-256 of the whole key';
-- Kafka's ID of the topic the offsets belong to: a topic deleted and created again under its name
-- gets a new one, and its log must not be read against the old one's offsets (consumer/pipeline.ts).
-- Rows stored before this column are given the current ID on their next claim.
ALTER TABLE tb_kafka_offset ADD COLUMN IF NOT EXISTS topic_id uuid;

-- A refused message's position includes the topic's ID: a topic deleted and created again under
-- its name reuses offsets, and its refused messages must not be taken for the old ones' (the
-- insert's ON CONFLICT would drop them). Rows stored before this column keep NULL, still unique.
ALTER TABLE tb_sensor_evento_rejeitado ADD COLUMN IF NOT EXISTS topic_id uuid;
CREATE UNIQUE INDEX IF NOT EXISTS ux_sensor_evento_rejeitado_posicao
  ON tb_sensor_evento_rejeitado (topico, topic_id, particao, offset_kafka) NULLS NOT DISTINCT;
ALTER TABLE tb_sensor_evento_rejeitado
  DROP CONSTRAINT IF EXISTS tb_sensor_evento_rejeitado_topico_particao_offset_kafka_key;
COMMENT ON COLUMN tb_sensor_evento_rejeitado.topic_id IS
  'Kafka''s ID of the topic the message was read from (NULL: stored before this column)';

-- The secret key of derived event ids (shared/row.ts, deriveEventId): one row, made once, so every
-- replica and every restart derives the same ids. Keep it with the data: a new key gives the
-- events without ID that are read again other ids.
CREATE TABLE IF NOT EXISTS tb_derived_id_key (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key        text NOT NULL DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tb_derived_id_key IS
  'Secret key of the ids derived for events sent without ID; never change it';
INSERT INTO tb_derived_id_key DEFAULT VALUES ON CONFLICT DO NOTHING;

-- Each device's state, kept by the statement that stores its readings (consumer/device_state.ts
-- says how). A database of an older version gets the table empty: it fills as readings arrive.
CREATE TABLE IF NOT EXISTS tb_dispositivo (
  id_dispositivo        text PRIMARY KEY,
  id_evento             uuid,
  timestamp_ts          timestamptz,
  temperatura           double precision,
  umidade               double precision,
  latitude              double precision,
  longitude             double precision,
  status                text,
  bateria               double precision,
  alerta                boolean,
  primeiro_timestamp_ts timestamptz,
  dt_primeira_carga     timestamptz NOT NULL DEFAULT now(),
  dt_ultima_carga       timestamptz NOT NULL DEFAULT now(),
  qt_leituras           bigint NOT NULL,
  intervalo_s           double precision,
  CHECK ((id_evento IS NULL) = (timestamp_ts IS NULL))
) WITH (fillfactor = 50); -- room on each page for updates in place (HOT), one per batch and device
COMMENT ON TABLE tb_dispositivo IS
  'State of each device, updated with its readings (written by iot-consumer)';
COMMENT ON COLUMN tb_dispositivo.id_evento IS
  'The latest reading: greatest (timestamp_ts, id) not ahead of its Kafka record; NULL while none';
COMMENT ON COLUMN tb_dispositivo.timestamp_ts IS
  'Event time of the latest reading: the device last seen, in event time';
COMMENT ON COLUMN tb_dispositivo.primeiro_timestamp_ts IS
  'Earliest event time of a reading not ahead: the device first seen, in event time';
COMMENT ON COLUMN tb_dispositivo.dt_primeira_carga IS 'When its first reading was written';
COMMENT ON COLUMN tb_dispositivo.dt_ultima_carga IS 'When its last reading was written';
COMMENT ON COLUMN tb_dispositivo.qt_leituras IS 'Readings stored, those ahead included';
COMMENT ON COLUMN tb_dispositivo.intervalo_s IS
  'Usual reporting interval in seconds: EWMA of the gaps, bounded; NULL until a first gap';

-- Raised when a device's row was inserted or changed by another write while a batch folded readings
-- into it (the device's readings come on two partitions, written at the same moment): class 40, so
-- the consumer retries the batch, which then folds into the stored row.
CREATE OR REPLACE FUNCTION iot_device_race(device text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '40001',
    MESSAGE = 'device state changed by a concurrent write; retry', DETAIL = device;
END
$$;

-- Monitoring in the stream (consumer/monitoring.ts says how each is computed). Readings carry
-- their place in their device's fold (1-based, the device's reading count once it was counted) and
-- their anomaly score; both are NULL in rows stored before these columns, and the score is NULL
-- while the device's model warms up and for readings ahead of their record.
ALTER TABLE tb_sensor_evento
  ADD COLUMN IF NOT EXISTS seq_dispositivo bigint,
  ADD COLUMN IF NOT EXISTS escore_anomalia double precision;
COMMENT ON COLUMN tb_sensor_evento.seq_dispositivo IS
  'Place of the reading in its device''s fold: tb_dispositivo.qt_leituras once it was counted';
COMMENT ON COLUMN tb_sensor_evento.escore_anomalia IS
  'Largest |z| of temperature and humidity against the device''s model before it; NULL in warm-up';

-- The device's anomaly model (an exponentially weighted mean and variance per metric) and a
-- version every change of the row or of the device's alert lifecycle increments: a writer that
-- read the row at one version writes only if it is still that version.
ALTER TABLE tb_dispositivo
  ADD COLUMN IF NOT EXISTS versao bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS anomalia_n bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS temperatura_media double precision,
  ADD COLUMN IF NOT EXISTS temperatura_var double precision,
  ADD COLUMN IF NOT EXISTS umidade_media double precision,
  ADD COLUMN IF NOT EXISTS umidade_var double precision;
COMMENT ON COLUMN tb_dispositivo.versao IS
  'Incremented by every change of the row or of the device''s alerts'' lifecycle';
COMMENT ON COLUMN tb_dispositivo.anomalia_n IS 'Readings the anomaly model has learned from';

-- Alerts with a lifecycle: opened when a rule holds, updated while it keeps holding, cleared with
-- hysteresis (or, for offline, by the device's next reading). Times named *_at are event times;
-- created_at and updated_at are load times.
CREATE TABLE IF NOT EXISTS tb_alerta (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id_dispositivo    text NOT NULL,
  tipo              text NOT NULL
    CHECK (tipo IN ('temperature_high', 'battery_low', 'offline', 'anomaly')),
  opened_at         timestamptz NOT NULL,
  last_triggered_at timestamptz NOT NULL,
  cleared_at        timestamptz,
  peak_value        double precision NOT NULL,
  trigger_count     bigint NOT NULL DEFAULT 1,
  clear_streak      integer NOT NULL DEFAULT 0,
  opened_event      uuid,
  cleared_event     uuid,
  acknowledged_at   timestamptz,
  acknowledged_by   text,
  acknowledge_note  text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (cleared_at IS NULL OR cleared_at >= opened_at)
);
COMMENT ON TABLE tb_alerta IS
  'Alert episodes per device and type (written by iot-consumer; acknowledged through the API)';
COMMENT ON COLUMN tb_alerta.opened_at IS 'Event time of the reading that opened it (offline: when the silence began to count)';
COMMENT ON COLUMN tb_alerta.last_triggered_at IS 'Latest event time at which its rule held';
COMMENT ON COLUMN tb_alerta.cleared_at IS 'Event time of the reading that cleared it; NULL while open';
COMMENT ON COLUMN tb_alerta.peak_value IS
  'Worst value while open: highest °C, lowest battery %, highest anomaly score, longest silence in s';
COMMENT ON COLUMN tb_alerta.trigger_count IS 'Readings (or checks) at which its rule held';
COMMENT ON COLUMN tb_alerta.clear_streak IS 'Consecutive readings inside the clearing band so far';
-- At most one open alert per device and type: a second writer's insert conflicts here.
CREATE UNIQUE INDEX IF NOT EXISTS ux_alerta_aberto
  ON tb_alerta (id_dispositivo, tipo) WHERE cleared_at IS NULL;
CREATE INDEX IF NOT EXISTS ix_alerta_dispositivo_opened ON tb_alerta (id_dispositivo, opened_at DESC);
CREATE INDEX IF NOT EXISTS ix_alerta_opened ON tb_alerta (opened_at DESC);

-- Raised by a write that planned rows as new (their devices' fold counted them) when some of them
-- were stored already (a re-send of a stored id): the consumer finds those and plans again
-- without them (consumer/store_write.ts).
CREATE OR REPLACE FUNCTION iot_planned_rows_stored(missing bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '${PLANNED_ROWS_STORED_SQLSTATE}',
    MESSAGE = 'rows planned as new are stored already', DETAIL = missing::text;
END
$$;

-- The api's live stream (api/stream_feed.ts) and its resumption with Last-Event-ID. Neither
-- dt_carga nor updated_at is in commit order (a transaction that commits later can carry an
-- earlier now()), so each row records the transaction that wrote it (a reading) or last changed it
-- (an alert), and the api compares those with PostgreSQL snapshots (pg_visible_in_snapshot): the
-- rows visible in one snapshot and not in the previous are exactly those committed in between.
-- NULL in rows stored before these columns (older than any stream position). Setting a default
-- rewrites nothing; the index leaves those rows out.
ALTER TABLE tb_sensor_evento ADD COLUMN IF NOT EXISTS xid_carga xid8;
ALTER TABLE tb_sensor_evento ALTER COLUMN xid_carga SET DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS ix_sensor_evento_xid_carga
  ON tb_sensor_evento (xid_carga) WHERE xid_carga IS NOT NULL;
COMMENT ON COLUMN tb_sensor_evento.xid_carga IS 'Transaction that wrote the row (the api''s stream)';
ALTER TABLE tb_alerta ADD COLUMN IF NOT EXISTS xid_alteracao xid8;
CREATE OR REPLACE FUNCTION iot_alerta_xid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.xid_alteracao := pg_current_xact_id();
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER tg_alerta_xid BEFORE INSERT OR UPDATE ON tb_alerta
  FOR EACH ROW EXECUTE FUNCTION iot_alerta_xid();
CREATE INDEX IF NOT EXISTS ix_alerta_xid ON tb_alerta (xid_alteracao)
  WHERE xid_alteracao IS NOT NULL;
COMMENT ON COLUMN tb_alerta.xid_alteracao IS
  'Transaction that last changed the alert, acknowledging included (the api''s stream)';
-- Wakes the api's stream at the commit of a write (delivered only once committed, in commit
-- order); one notification per statement, not per row. The stream stays correct without it: it
-- also polls.
CREATE OR REPLACE FUNCTION iot_stream_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('iot_stream', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER tg_sensor_evento_notify AFTER INSERT ON tb_sensor_evento
  FOR EACH STATEMENT EXECUTE FUNCTION iot_stream_notify();
CREATE OR REPLACE TRIGGER tg_alerta_notify AFTER INSERT OR UPDATE ON tb_alerta
  FOR EACH STATEMENT EXECUTE FUNCTION iot_stream_notify();
-- The api's "recent readings" of the whole fleet, newest first by event time, in keyset pages
-- (api/queries.ts); a device's and the alerts' pages have their indexes above.
CREATE INDEX IF NOT EXISTS ix_sensor_evento_timestamp_ts ON tb_sensor_evento (timestamp_ts, id);
-- offline: how many readings its device had folded when the job created it, so the first
-- reading folded after the creation (the one that must clear it) is known exactly.
ALTER TABLE tb_alerta ADD COLUMN IF NOT EXISTS qt_leituras_abertura bigint;
COMMENT ON COLUMN tb_alerta.qt_leituras_abertura IS
  'offline: the device''s qt_leituras when the alert was created (NULL for the other types)';
-- The anomaly model's drift part (consumer/anomaly.ts): per metric a fast and a slow median and
-- the spread they are measured in, and the alert type it opens. A model stored before these
-- existed starts them from its mean.
ALTER TABLE tb_dispositivo
  ADD COLUMN IF NOT EXISTS temperatura_nivel float8,
  ADD COLUMN IF NOT EXISTS temperatura_base float8,
  ADD COLUMN IF NOT EXISTS temperatura_dispersao float8,
  ADD COLUMN IF NOT EXISTS umidade_nivel float8,
  ADD COLUMN IF NOT EXISTS umidade_base float8,
  ADD COLUMN IF NOT EXISTS umidade_dispersao float8;
COMMENT ON COLUMN tb_dispositivo.temperatura_nivel IS
  'Temperature''s fast median (ANOMALY_DRIFT_STEP spreads a reading)';
COMMENT ON COLUMN tb_dispositivo.temperatura_base IS
  'Temperature''s slow median (a tenth of the fast one''s step)';
COMMENT ON COLUMN tb_dispositivo.temperatura_dispersao IS
  'Median |temperature - slow median|: the unit of the drift';
COMMENT ON COLUMN tb_dispositivo.umidade_nivel IS 'Humidity''s fast median';
COMMENT ON COLUMN tb_dispositivo.umidade_base IS 'Humidity''s slow median';
COMMENT ON COLUMN tb_dispositivo.umidade_dispersao IS 'Median |humidity - slow median|';
ALTER TABLE tb_alerta DROP CONSTRAINT IF EXISTS tb_alerta_tipo_check;
ALTER TABLE tb_alerta ADD CONSTRAINT tb_alerta_tipo_check
  CHECK (tipo IN ('temperature_high', 'battery_low', 'offline', 'anomaly', 'drift'));
-- The api's read-only role (README, "The read API"): the role itself is made by whoever may make
-- roles (the local stack as superuser, CloudNativePG's managed roles in the chart); the tables'
-- owner grants here, when the role exists at migration time (api/read_only_role.sql grants the
-- same by hand). Reading everything, and changing only an alert's acknowledgement.
DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'iot_api') THEN
    GRANT SELECT ON tb_sensor_evento, tb_dispositivo, tb_alerta, tb_sensor_evento_rejeitado,
      tb_kafka_offset TO iot_api;
    GRANT UPDATE (acknowledged_at, acknowledged_by, acknowledge_note) ON tb_alerta TO iot_api;
  END IF;
END $$;
`;

/** The schema's version: a digest of {@linkcode MIGRATION_SQL}, stored once it has run. */
export const SCHEMA_VERSION: string = createHash("sha256").update(MIGRATION_SQL).digest("hex")
  .slice(0, 16);

/**
 * How long a migration waits for a lock before it gives up (and the caller retries later): a
 * replica that cannot lock a busy table must not hold up the others' writes queued behind it.
 */
export const MIGRATION_LOCK_TIMEOUT_MS = 10_000;

/**
 * Creates or completes the schema, unless it is at {@linkcode SCHEMA_VERSION} already (then
 * nothing is locked). Safe to run concurrently from many replicas: a multi-statement simple query
 * runs as one implicit transaction, and the transaction-scoped advisory lock taken first makes the
 * others wait, then find everything in place. Any lock waited for longer than `lockTimeoutMs`
 * fails the migration with SQLSTATE 55P03.
 *
 * @returns Whether the schema was current already or has just been migrated.
 */
export async function migrate(
  sql: Sql,
  lockTimeoutMs: number = MIGRATION_LOCK_TIMEOUT_MS,
): Promise<"current" | "migrated"> {
  if (await isCurrent(sql)) return "current";
  await sql.unsafe(`
    SELECT set_config('lock_timeout', '${Math.round(lockTimeoutMs)}ms', true);
    SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY});
    ${MIGRATION_SQL}
    CREATE TABLE IF NOT EXISTS tb_schema_version (
      version    text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO tb_schema_version (version) VALUES ('${SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
  `).simple();
  return "migrated";
}

async function isCurrent(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ current: boolean }[]>`
    SELECT to_regclass('tb_schema_version') IS NOT NULL AS current`;
  if (!row.current) return false;
  const found = await sql`SELECT 1 FROM tb_schema_version WHERE version = ${SCHEMA_VERSION}`;
  return found.length > 0;
}
