/**
 * The SQL of the consumer's writes (store_write.ts runs it): one statement that, only while the
 * partition's fence holds, inserts the rows with their place and score, the rejects, and writes
 * each device's row and alerts as the fold planned them, every one guarded; and the query that
 * reads devices as stored. Parameters travel as JSON documents (see postgres_store.ts for why).
 *
 * The statement's guards, checked in its final `SELECT` (PostgreSQL runs every data-modifying
 * CTE to completion first):
 * - fewer rows inserted than planned (a re-send of a stored id): SQLSTATE IOT02;
 * - a device row updated only `WHERE versao = <as read>`, a new one inserted (`ON CONFLICT`
 *   raises), alerts updated by id only while open, inserted unless one of the type is open: any
 *   of them matching fewer rows than planned raises SQLSTATE 40001 (`iot_device_race`).
 *
 * @module
 */

/** The columns that make a reading: an id stored with others is a conflict, not a re-send. */
const READING = [
  "id_dispositivo",
  '"timestamp"',
  "temperatura",
  "umidade",
  "latitude",
  "longitude",
  "status",
  "bateria",
];

/** `(a.c1, a.c2, …) IS DISTINCT FROM (b.c1, b.c2, …)` over {@link READING}. */
export const readingDiffers = (a: string, b: string): string =>
  `(${READING.map((c) => `${a}.${c}`).join(", ")}) IS DISTINCT FROM (${
    READING.map((c) => `${b}.${c}`).join(", ")
  })`;

/** `AS <alias>(c type, …)` for `json_to_recordset`. */
const recordset = (alias: string, columns: readonly (readonly [string, string])[]) =>
  `${alias}(${columns.map(([c, t]) => `${c} ${t}`).join(", ")})`;

/** A timestamptz as the fold writes event times: ISO 8601 in UTC with microseconds. */
const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The reading columns inserted into `tb_sensor_evento`, with their types in the document. */
const ROW_COLUMNS = [
  ["id", "uuid"],
  ["id_dispositivo", "text"],
  ['"timestamp"', "text"],
  ["timestamp_ts", "timestamptz"],
  ["temperatura", "float8"],
  ["umidade", "float8"],
  ["latitude", "float8"],
  ["longitude", "float8"],
  ["status", "text"],
  ["bateria", "float8"],
  ["alerta", "boolean"],
] as const;

/** The rows of a write's document, as in `FROM json_to_recordset(…) AS <this>`. */
export const ROWS_OF_DOCUMENT: string = recordset("r", ROW_COLUMNS);

/** The columns of `tb_dispositivo` a write sets, with their types in the document. */
export const DEVICE_COLUMNS = [
  ["id_evento", "uuid"],
  ["timestamp_ts", "timestamptz"],
  ["temperatura", "float8"],
  ["umidade", "float8"],
  ["latitude", "float8"],
  ["longitude", "float8"],
  ["status", "text"],
  ["bateria", "float8"],
  ["alerta", "boolean"],
  ["primeiro_timestamp_ts", "timestamptz"],
  ["qt_leituras", "bigint"],
  ["intervalo_s", "float8"],
  ["anomalia_n", "bigint"],
  ["temperatura_media", "float8"],
  ["temperatura_var", "float8"],
  ["umidade_media", "float8"],
  ["umidade_var", "float8"],
  ["temperatura_nivel", "float8"],
  ["temperatura_base", "float8"],
  ["temperatura_dispersao", "float8"],
  ["umidade_nivel", "float8"],
  ["umidade_base", "float8"],
  ["umidade_dispersao", "float8"],
] as const;

/** The lifecycle columns of `tb_alerta` an update sets (never the acknowledgement). */
const ALERT_UPDATED = [
  ["last_triggered_at", "timestamptz"],
  ["cleared_at", "timestamptz"],
  ["peak_value", "float8"],
  ["trigger_count", "bigint"],
  ["clear_streak", "integer"],
  ["cleared_event", "uuid"],
] as const;

/** The columns of `tb_alerta` an insert sets. */
const ALERT_INSERTED = [
  ["id_dispositivo", "text"],
  ["tipo", "text"],
  ["opened_at", "timestamptz"],
  ["opened_event", "uuid"],
  ...ALERT_UPDATED,
] as const;

const names = (columns: readonly (readonly [string, string])[]) => columns.map(([c]) => c);

/**
 * An id seen again with the same reading is a re-send: nothing is inserted. With another reading
 * it raises SQLSTATE IOT01 (`iot_conflicting_duplicate`), checked against the committed row under its
 * lock, so even a twin written at the same moment by another partition is caught.
 */
const ON_CONFLICT_REFUSE_CHANGES = `
  ON CONFLICT (id) DO UPDATE SET dt_carga = iot_conflicting_duplicate(EXCLUDED.id)
  WHERE ${readingDiffers("t", "EXCLUDED")}`;

/**
 * The parameters of {@linkcode writeStatement}, in order: `$1` group, `$2` topic, `$3` partition,
 * `$4` expected offset, `$5` topic ID, `$6` rows, `$7` devices, `$8` alert updates, `$9` alert
 * inserts (JSON documents), `$10`…`$13` how many rows, devices, updates and inserts the plan
 * counts on, `$14` each row's `[seq, score]` in the rows' order (a JSON array: cheaper than a
 * copy of every row with two more fields); for a batch, `$15` the next offset and `$16` the
 * rejects document.
 */
export type WriteParameters = (string | number)[];

/**
 * The write statement's text.
 *
 * @param gate `fence`: a batch, which moves the offset and inserts rejects; `owner`: one row,
 *   written only while the offset is the expected one, without moving it.
 */
export function writeStatement(gate: "fence" | "owner"): string {
  const gated = "EXISTS (SELECT 1 FROM gate)";
  const rowNames = names(ROW_COLUMNS).join(", ");
  const deviceNames = names(DEVICE_COLUMNS);
  const where = `group_id = $1 AND topic = $2 AND partition = $3::int
      AND next_offset = $4::bigint AND topic_id = $5::uuid`;
  const gateCte = gate === "fence"
    ? `gate AS (
      UPDATE tb_kafka_offset SET next_offset = $15::bigint, updated_at = now()
      WHERE ${where} RETURNING 1)`
    : `gate AS (SELECT 1 FROM tb_kafka_offset WHERE ${where})`;
  const rejects = gate === "fence"
    ? `, new_rejects AS (
      INSERT INTO tb_sensor_evento_rejeitado (topico, topic_id, particao, offset_kafka,
        chave, chave_bytes, chave_sha256, payload, payload_bytes, payload_sha256, motivos)
      SELECT $2, $5::uuid, $3::int, r.offset_kafka, decode(r.chave, 'hex'), r.chave_bytes,
        decode(r.chave_sha256, 'hex'), decode(r.payload, 'hex'), r.payload_bytes,
        decode(r.payload_sha256, 'hex'), r.motivos
      FROM json_to_recordset($16::text::json)
        AS r(offset_kafka bigint, chave text, chave_bytes integer, chave_sha256 text,
          payload text, payload_bytes integer, payload_sha256 text, motivos jsonb)
      WHERE ${gated}
      ON CONFLICT (topico, topic_id, particao, offset_kafka) DO NOTHING
      RETURNING 1)`
    : "";
  return `
    WITH ${gateCte}
    , new_rows AS (
      INSERT INTO tb_sensor_evento AS t (${rowNames}, seq_dispositivo, escore_anomalia)
      SELECT ${names(ROW_COLUMNS).map((c) => `r.${c}`).join(", ")},
        (m.v ->> 0)::bigint, (m.v ->> 1)::float8
      FROM ROWS FROM (json_to_recordset($6::text::json) AS (${
    ROW_COLUMNS.map(([c, t]) => `${c} ${t}`).join(", ")
  })) WITH ORDINALITY AS r(${rowNames}, n)
      JOIN json_array_elements($14::text::json) WITH ORDINALITY AS m(v, n) USING (n)
      WHERE ${gated}
      ${ON_CONFLICT_REFUSE_CHANGES}
      RETURNING t.id)
    ${rejects}
    , dev AS (
      SELECT * FROM json_to_recordset($7::text::json)
        AS ${recordset("d", [["id_dispositivo", "text"], ["versao", "bigint"], ...DEVICE_COLUMNS])})
    , dev_updated AS (
      UPDATE tb_dispositivo t SET ${deviceNames.map((c) => `${c} = d.${c}`).join(", ")},
        versao = t.versao + 1, dt_ultima_carga = now()
      FROM dev d
      WHERE ${gated} AND d.versao IS NOT NULL AND t.id_dispositivo = d.id_dispositivo
        AND t.versao = d.versao
      RETURNING 1)
    , dev_inserted AS (
      INSERT INTO tb_dispositivo (id_dispositivo, ${deviceNames.join(", ")}, versao)
      SELECT id_dispositivo, ${deviceNames.join(", ")}, 1 FROM dev
      WHERE ${gated} AND versao IS NULL
      ON CONFLICT (id_dispositivo) DO UPDATE
      SET id_dispositivo = iot_device_race(EXCLUDED.id_dispositivo)
      RETURNING 1)
    , alert_updated AS (
      UPDATE tb_alerta a SET ${
    names(ALERT_UPDATED).map((c) => `${c} = u.${c}`).join(", ")
  }, updated_at = now()
      FROM json_to_recordset($8::text::json)
        AS ${recordset("u", [["id", "bigint"], ...ALERT_UPDATED])}
      WHERE ${gated} AND a.id = u.id AND a.cleared_at IS NULL
      RETURNING 1)
    , alert_inserted AS (
      -- After the updates (the count reads them all first): an alert cleared here and one of the
      -- same type opened again must not meet in the index of open alerts.
      INSERT INTO tb_alerta (${names(ALERT_INSERTED).join(", ")})
      SELECT ${names(ALERT_INSERTED).join(", ")}
      FROM json_to_recordset($9::text::json) AS ${recordset("i", ALERT_INSERTED)}
      WHERE ${gated} AND (SELECT count(*) FROM alert_updated) >= 0
      ON CONFLICT (id_dispositivo, tipo) WHERE cleared_at IS NULL DO NOTHING
      RETURNING id, id_dispositivo, tipo, cleared_at IS NULL AS open)
    SELECT (SELECT count(*) FROM gate)::int AS gated,
      (SELECT count(*) FROM new_rows)::int AS inserted,
      (SELECT coalesce(json_agg(json_build_array(id::text, id_dispositivo, tipo))
        FILTER (WHERE open), '[]') FROM alert_inserted)::text AS opened,
      CASE
        WHEN NOT ${gated} THEN NULL
        WHEN (SELECT count(*) FROM new_rows) < $10::int
        THEN iot_planned_rows_stored($10::int - (SELECT count(*) FROM new_rows))
        WHEN (SELECT count(*) FROM dev_updated) + (SELECT count(*) FROM dev_inserted) < $11::int
          OR (SELECT count(*) FROM alert_updated) < $12::int
          OR (SELECT count(*) FROM alert_inserted) < $13::int
        THEN iot_device_race('a device''s row or alerts changed since they were read')
      END AS checked`;
}

/**
 * Devices as stored, with their open alerts as one JSON text each: `$1` is a JSON array of ids.
 * Bigints come as float8 (exact below 2^53), event times as {@link iso} text.
 */
export const READ_DEVICES = `
  SELECT d.id_dispositivo, d.versao::float8 AS versao, d.id_evento::text AS id_evento,
    ${iso("d.timestamp_ts")} AS timestamp_ts, d.temperatura, d.umidade, d.latitude, d.longitude,
    d.status, d.bateria, d.alerta, ${iso("d.primeiro_timestamp_ts")} AS primeiro_timestamp_ts,
    d.qt_leituras::float8 AS qt_leituras, d.intervalo_s, d.anomalia_n::float8 AS anomalia_n,
    d.temperatura_media, d.temperatura_var, d.umidade_media, d.umidade_var,
    d.temperatura_nivel, d.temperatura_base, d.temperatura_dispersao,
    d.umidade_nivel, d.umidade_base, d.umidade_dispersao,
    (SELECT coalesce(json_agg(json_build_object('id', a.id::text, 'tipo', a.tipo,
        'opened_at', ${iso("a.opened_at")}, 'last_triggered_at', ${iso("a.last_triggered_at")},
        'peak_value', a.peak_value, 'trigger_count', a.trigger_count,
        'clear_streak', a.clear_streak, 'opened_event', a.opened_event)), '[]')
      FROM tb_alerta a
      WHERE a.id_dispositivo = d.id_dispositivo AND a.cleared_at IS NULL)::text AS open
  FROM tb_dispositivo d
  WHERE d.id_dispositivo IN (SELECT json_array_elements_text($1::text::json))`;

/**
 * Every id of a rows document (`$1`) stored with the same reading: re-sends, which a write plans
 * again without. An id stored with another reading is not one: it stays in the write, whose insert
 * then refuses it (IOT01) instead of dropping it unseen.
 */
export const RESENT_IDS = `
  SELECT r.id::text AS id
  FROM json_to_recordset($1::text::json) AS ${ROWS_OF_DOCUMENT}
  JOIN tb_sensor_evento t ON t.id = r.id
  WHERE NOT ${readingDiffers("t", "r")}`;

/** Every id of a rows document (`$1`) stored with another reading. */
export const CONFLICTING_IDS = `
  SELECT r.id::text AS id
  FROM json_to_recordset($1::text::json) AS ${ROWS_OF_DOCUMENT}
  JOIN tb_sensor_evento t ON t.id = r.id
  WHERE ${readingDiffers("t", "r")}`;
