/**
 * The consumer's database on PostgreSQL: offsets that fence writers, and one statement per batch
 * that advances the offset and inserts the rows and the rejects together, or does nothing at all.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Sql } from "postgres";
import type {
  BatchResult,
  BatchRow,
  BatchWrite,
  EventStore,
  Fence,
  PartitionKey,
  Refusal,
  RowResult,
  StoredOffset,
} from "./event_store.ts";
import { CONFLICTING_DUPLICATE_SQLSTATE } from "./migrations.ts";
import { DatabasePool } from "./database_pool.ts";
import type { DeviceStateSettings } from "./device_state.ts";
import { DEVICE_STATE_CHECK, deviceStateCtes } from "./device_state_sql.ts";
import { CONSUMER_SETTINGS } from "./config.ts";

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
const readingDiffers = (a: string, b: string) =>
  `(${READING.map((c) => `${a}.${c}`).join(", ")}) IS DISTINCT FROM (${
    READING.map((c) => `${b}.${c}`).join(", ")
  })`;

/**
 * An id seen again with the same reading is a re-send: nothing happens. With another reading it
 * raises {@linkcode CONFLICTING_DUPLICATE_SQLSTATE}, checked against the committed row under its
 * lock, so even a twin written at the same moment by another partition is caught.
 */
const ON_CONFLICT_REFUSE_CHANGES = `
  ON CONFLICT (id) DO UPDATE SET dt_carga = iot_conflicting_duplicate(EXCLUDED.id)
  WHERE ${readingDiffers("t", "EXCLUDED")}`;

/** The columns of a batch's JSON document, with the table's types, and `ahead` (BatchRow). */
const DOCUMENT_COLUMNS = [
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
  ["ahead", "boolean"],
];

/** The batch's rows, read back from their JSON document (`FROM json_to_recordset(…) AS <this>`). */
const ROWS_OF_DOCUMENT = `r(${DOCUMENT_COLUMNS.map(([c, t]) => `${c} ${t}`).join(", ")})`;

/**
 * The same with `n`, each row's place in the document (device state folds a batch in that
 * order): `FROM ROWS FROM (json_to_recordset(…) AS <definition>) WITH ORDINALITY AS <alias>`.
 */
const ORDERED = {
  definition: `(${DOCUMENT_COLUMNS.map(([c, t]) => `${c} ${t}`).join(", ")})`,
  alias: `r(${DOCUMENT_COLUMNS.map(([c]) => c).join(", ")}, n)`,
};

/** The reading columns inserted into `tb_sensor_evento`, from the document's rows. */
const INSERTED = `id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude,
  longitude, status, bateria, alerta`;

/** The interval bounds of the settings table's defaults (a store made without settings). */
const DEFAULT_DEVICE_BOUNDS = {
  intervalMinS: CONSUMER_SETTINGS.DEVICE_INTERVAL_MIN_S.default,
  intervalMaxS: CONSUMER_SETTINGS.DEVICE_INTERVAL_MAX_S.default,
};

export { connectDatabase } from "./database_connect.ts";

/** {@link EventStore} on PostgreSQL (see the module documentation). */
export class PostgresStore implements EventStore {
  readonly #pool: () => Sql;
  /** The CTEs that fold inserted readings into `tb_dispositivo` (device_state_sql.ts). */
  readonly #deviceState: string;

  /**
   * @param sql Connection pool ({@link connectDatabase}), or a {@link DatabasePool}, whose current
   *   pool is used at each query.
   * @param device DEVICE_INTERVAL_MIN_S and DEVICE_INTERVAL_MAX_S (the settings' defaults if omitted).
   */
  constructor(
    sql: Sql | DatabasePool,
    device: Pick<DeviceStateSettings, "intervalMinS" | "intervalMaxS"> = DEFAULT_DEVICE_BOUNDS,
  ) {
    this.#pool = sql instanceof DatabasePool ? () => sql.sql : () => sql;
    this.#deviceState = deviceStateCtes(device);
  }

  get #sql(): Sql {
    return this.#pool();
  }

  /**
   * {@inheritDoc EventStore.claimOffset}
   *
   * One statement inserts the row unless it exists, gives a row without topic ID the claimed one,
   * and returns the stored row. When another member inserts the same row at the same moment, the
   * insert waits for it on the primary key and does nothing, but the statement's snapshot
   * predates that row: nothing comes back. The next statement sees it, so the claim is run again.
   */
  async claimOffset(key: PartitionKey, initial: StoredOffset): Promise<StoredOffset> {
    for (let attempt = 1;; attempt++) {
      const [row] = await this.#sql<{ next_offset: string; topic_id: string }[]>`
        WITH inserted AS (
          INSERT INTO tb_kafka_offset (group_id, topic, partition, next_offset, topic_id)
          VALUES (${key.groupId}, ${key.topic}, ${key.partition}, ${initial.nextOffset}::bigint,
            ${initial.topicId}::uuid)
          ON CONFLICT (group_id, topic, partition) DO NOTHING
          RETURNING next_offset, topic_id
        ), adopted AS (
          UPDATE tb_kafka_offset SET topic_id = ${initial.topicId}::uuid
          WHERE group_id = ${key.groupId} AND topic = ${key.topic} AND partition = ${key.partition}
            AND topic_id IS NULL
          RETURNING next_offset, topic_id
        )
        SELECT next_offset::text, topic_id::text FROM inserted
        UNION ALL
        SELECT next_offset::text, topic_id::text FROM adopted
        UNION ALL
        SELECT next_offset::text, topic_id::text FROM tb_kafka_offset
        WHERE group_id = ${key.groupId} AND topic = ${key.topic} AND partition = ${key.partition}
          AND topic_id IS NOT NULL
        LIMIT 1`;
      if (row !== undefined) return { nextOffset: row.next_offset, topicId: row.topic_id };
      if (attempt === 3) {
        // Inserted by another member and deleted again at once, three times: report, and the
        // pipeline's retry loop tries again later.
        throw new Error(
          `offset row of ${key.topic}/${key.partition} keeps vanishing while claimed`,
        );
      }
    }
  }

  /** {@inheritDoc EventStore.resetOffset} */
  async resetOffset(fence: Fence, to: StoredOffset): Promise<boolean> {
    const moved = await this.#sql`
      UPDATE tb_kafka_offset
      SET next_offset = ${to.nextOffset}::bigint, topic_id = ${to.topicId}::uuid, updated_at = now()
      WHERE group_id = ${fence.groupId} AND topic = ${fence.topic} AND partition = ${fence.partition}
        AND next_offset = ${fence.expectedOffset}::bigint AND topic_id = ${fence.topicId}::uuid`;
    return moved.count === 1;
  }

  /** {@inheritDoc EventStore.idKey} */
  async idKey(): Promise<string> {
    const [row] = await this.#sql<{ key: string }[]>`SELECT key FROM tb_derived_id_key`;
    if (row === undefined) throw new Error("tb_derived_id_key is empty: run the migration");
    return row.key;
  }

  /**
   * One statement: the offset moves from `expectedOffset` to `nextOffset`, and only if it did are
   * the rows and rejects inserted, and the rows it inserted folded into their devices' state. An
   * id that comes back with other values aborts it with {@linkcode CONFLICTING_DUPLICATE_SQLSTATE}.
   */
  async writeBatch(batch: BatchWrite): Promise<BatchResult> {
    // Rows travel as one JSON document, exact for any text. Not array parameters: postgres.js 3.4.9
    // serializes them only when it fetched the array types at connect, which connectDatabase turns
    // off (fetch_types), and without them sends a malformed literal (checked: `malformed array
    // literal`). With types fetched the serialization is exact; parsing array *results* is what is
    // wrong (porsager/postgres#1124: a null element came back as "NULL"). The document is typed
    // text, then cast: a parameter typed json would be JSON.stringify'd a second time.
    const rows = JSON.stringify(batch.rows);
    const rejects = JSON.stringify(batch.rejects.map((r) => ({
      offset_kafka: r.offset,
      chave: r.key === null ? null : hex(r.key),
      chave_bytes: r.keyBytes,
      chave_sha256: r.keySha256 === null ? null : hex(r.keySha256),
      payload: hex(r.payload),
      payload_bytes: r.payloadBytes,
      payload_sha256: hex(r.payloadSha256),
      motivos: r.reasons,
    })));
    try {
      const [result] = await this.#sql<{ fenced: number; inserted: number }[]>`
        WITH fence AS (
          UPDATE tb_kafka_offset
          SET next_offset = ${batch.nextOffset}::bigint, updated_at = now()
          WHERE group_id = ${batch.groupId} AND topic = ${batch.topic}
            AND partition = ${batch.partition}
            AND next_offset = ${batch.expectedOffset}::bigint
            AND topic_id = ${batch.topicId}::uuid
          RETURNING 1
        ), src AS (
          SELECT * FROM ROWS FROM (json_to_recordset(${rows}::text::json) AS ${
        this.#sql.unsafe(ORDERED.definition)
      }) WITH ORDINALITY AS ${this.#sql.unsafe(ORDERED.alias)}
        ), new_rows AS (
          INSERT INTO tb_sensor_evento AS t (${this.#sql.unsafe(INSERTED)})
          SELECT ${this.#sql.unsafe(INSERTED)} FROM src
          WHERE EXISTS (SELECT 1 FROM fence)
          ${this.#sql.unsafe(ON_CONFLICT_REFUSE_CHANGES)}
          RETURNING t.id
        ), counted AS (
          SELECT * FROM src WHERE id IN (SELECT id FROM new_rows)
        ), new_rejects AS (
          INSERT INTO tb_sensor_evento_rejeitado (topico, topic_id, particao, offset_kafka,
            chave, chave_bytes, chave_sha256, payload, payload_bytes, payload_sha256, motivos)
          SELECT ${batch.topic}, ${batch.topicId}::uuid, ${batch.partition}, r.offset_kafka,
            decode(r.chave, 'hex'),
            r.chave_bytes, decode(r.chave_sha256, 'hex'), decode(r.payload, 'hex'),
            r.payload_bytes, decode(r.payload_sha256, 'hex'), r.motivos
          FROM json_to_recordset(${rejects}::text::json)
            AS r(offset_kafka bigint, chave text, chave_bytes integer, chave_sha256 text,
              payload text, payload_bytes integer, payload_sha256 text, motivos jsonb)
          WHERE EXISTS (SELECT 1 FROM fence)
          ON CONFLICT (topico, topic_id, particao, offset_kafka) DO NOTHING
          RETURNING 1
        ) ${this.#sql.unsafe(this.#deviceState)}
        SELECT (SELECT count(*) FROM fence)::int AS fenced,
          (SELECT count(*) FROM new_rows)::int AS inserted, ${
        this.#sql.unsafe(DEVICE_STATE_CHECK)
      }`;
      if (result.fenced === 0) return { kind: "fenced" };
      return { kind: "written", inserted: result.inserted };
    } catch (error) {
      const pgError = error as { code?: string; detail?: string };
      if (pgError.code === CONFLICTING_DUPLICATE_SQLSTATE && pgError.detail) {
        return { kind: "conflict", ids: await this.#conflicts(rows, pgError.detail) };
      }
      return refusalOf(error);
    }
  }

  /**
   * Every id of the batch stored with another reading, found in one query once the statement has
   * raised the first: the caller then refuses them all and writes again once. `first` (the one the
   * statement raised) is always included, whatever a concurrent writer did since.
   */
  async #conflicts(rows: string, first: string): Promise<string[]> {
    const found = await this.#sql<{ id: string }[]>`
      SELECT r.id::text AS id
      FROM json_to_recordset(${rows}::text::json) AS ${this.#sql.unsafe(ROWS_OF_DOCUMENT)}
      JOIN tb_sensor_evento t ON t.id = r.id
      WHERE ${this.#sql.unsafe(readingDiffers("t", "r"))}`;
    return [...new Set([first, ...found.map((row) => row.id)])];
  }

  /**
   * Inserts one row while the fence holds, without moving the offset; idempotent on `id`. A row
   * inserted is folded into its device's state in the same statement.
   */
  async writeRow(fence: Fence, row: BatchRow): Promise<RowResult> {
    const rows = JSON.stringify([row]);
    try {
      const [result] = await this.#sql<{ owner: boolean; n: number }[]>`
        WITH owner AS (
          SELECT 1 FROM tb_kafka_offset WHERE group_id = ${fence.groupId} AND topic = ${fence.topic}
            AND partition = ${fence.partition} AND next_offset = ${fence.expectedOffset}::bigint
            AND topic_id = ${fence.topicId}::uuid
        ), src AS (
          SELECT * FROM ROWS FROM (json_to_recordset(${rows}::text::json) AS ${
        this.#sql.unsafe(ORDERED.definition)
      }) WITH ORDINALITY AS ${this.#sql.unsafe(ORDERED.alias)}
        ), new_row AS (
          INSERT INTO tb_sensor_evento AS t (${this.#sql.unsafe(INSERTED)})
          SELECT ${this.#sql.unsafe(INSERTED)} FROM src
          WHERE EXISTS (SELECT 1 FROM owner)
          ${this.#sql.unsafe(ON_CONFLICT_REFUSE_CHANGES)}
          RETURNING t.id
        ), counted AS (
          SELECT * FROM src WHERE id IN (SELECT id FROM new_row)
        ) ${this.#sql.unsafe(this.#deviceState)}
        SELECT EXISTS (SELECT 1 FROM owner) AS owner, (SELECT count(*) FROM new_row)::int AS n,
          ${this.#sql.unsafe(DEVICE_STATE_CHECK)}`;
      return result.owner ? { kind: "written", inserted: result.n > 0 } : { kind: "fenced" };
    } catch (error) {
      if ((error as { code?: string }).code === CONFLICTING_DUPLICATE_SQLSTATE) {
        return { kind: "conflict" };
      }
      return refusalOf(error);
    }
  }
}

/**
 * An error caused by the data (the row itself), not by the infrastructure, as a refusal: SQLSTATE
 * classes 22 (data exception) and 23 (integrity constraint) never succeed on retry. Anything else
 * (connection lost, server shutting down, too many clients) may, later: it is thrown again.
 */
function refusalOf(error: unknown): Refusal {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
    return { kind: "refused", sqlstate: code, message: (error as Error).message };
  }
  throw error;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
