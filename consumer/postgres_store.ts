/**
 * The consumer's database on PostgreSQL: offsets that fence writers, and one transaction per
 * batch that advances the offset and inserts the rows and the rejects together, with each row's
 * place and anomaly score and its device's state, model and alerts (monitoring.ts, planned and
 * written by store_write.ts: a statement, the rows by COPY), or does nothing at all.
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
import { DeviceCache } from "./device_cache.ts";
import type { MonitoringSettings } from "./monitoring.ts";
import { type OnReplan, StoreWriter } from "./store_write.ts";
import { CONFLICTING_IDS } from "./store_write_sql.ts";
import { CONSUMER_SETTINGS } from "./config.ts";
import {
  MONITORING_NAMES,
  monitoringSettings,
  type MonitoringValues,
} from "./monitoring_settings.ts";

/** The fold's settings at the settings table's defaults (a store made without settings). */
export const DEFAULT_MONITORING: MonitoringSettings = monitoringSettings(
  Object.fromEntries(
    MONITORING_NAMES.map((name) => [name, CONSUMER_SETTINGS[name].default]),
  ) as MonitoringValues,
);

export { connectDatabase } from "@iot/shared/database";

/** {@link EventStore} on PostgreSQL (see the module documentation). */
export class PostgresStore implements EventStore {
  readonly #pool: () => Sql;
  /** Plans and runs the guarded writes, with the cache of devices. */
  readonly #writer: StoreWriter;

  /**
   * @param sql Connection pool ({@link connectDatabase}), or a {@link DatabasePool}, whose current
   *   pool is used at each query.
   * @param monitoring The fold's settings (the settings table's defaults if omitted).
   * @param cacheSize DEVICE_CACHE_SIZE: devices whose stored state this process keeps.
   * @param onReplan Told each time a write is planned again: a device or alert changed under it
   *   (another writer, the offline job), or some of its rows were stored already.
   * @param copyMinRows Fewest rows of a batch sent by COPY (store_write.ts's `COPY_MIN_ROWS`).
   */
  constructor(
    sql: Sql | DatabasePool,
    monitoring: MonitoringSettings = DEFAULT_MONITORING,
    cacheSize: number = CONSUMER_SETTINGS.DEVICE_CACHE_SIZE.default,
    onReplan?: OnReplan,
    copyMinRows?: number,
  ) {
    this.#pool = sql instanceof DatabasePool ? () => sql.sql : () => sql;
    const cache = new DeviceCache(cacheSize);
    this.#writer = new StoreWriter(this.#pool, monitoring, cache, onReplan, copyMinRows);
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
   * One transaction: the offset moves from `expectedOffset` to `nextOffset`, and only if it did are
   * the rows and rejects inserted, and the rows it inserted folded into their devices' state,
   * anomaly models and alerts (store_write.ts). An
   * id that comes back with other values aborts it with {@linkcode CONFLICTING_DUPLICATE_SQLSTATE}.
   */
  async writeBatch(batch: BatchWrite): Promise<BatchResult> {
    // Rows travel as one JSON document, exact for any text. Not array parameters: postgres.js 3.4.9
    // serializes them only when it fetched the array types at connect, which connectDatabase turns
    // off (fetch_types), and without them sends a malformed literal (checked: `malformed array
    // literal`). With types fetched the serialization is exact; parsing array *results* is what is
    // wrong (porsager/postgres#1124: a null element came back as "NULL"). The document is typed
    // text, then cast: a parameter typed json would be JSON.stringify'd a second time.
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
      const result = await this.#writer.write({
        fence: batch,
        rows: batch.rows,
        batch: { nextOffset: batch.nextOffset, rejects },
      });
      if (!result.gated) return { kind: "fenced" };
      return { kind: "written", inserted: result.inserted };
    } catch (error) {
      const pgError = error as { code?: string; detail?: string };
      if (pgError.code === CONFLICTING_DUPLICATE_SQLSTATE && pgError.detail) {
        const rows = JSON.stringify(batch.rows);
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
    const found = await this.#sql.unsafe<{ id: string }[]>(CONFLICTING_IDS, [rows]);
    return [...new Set([first, ...found.map((row) => row.id)])];
  }

  /**
   * Inserts one row while the fence holds, without moving the offset; idempotent on `id`. A row
   * inserted is folded into its device's state, model and alerts in the same statement.
   */
  async writeRow(fence: Fence, row: BatchRow): Promise<RowResult> {
    try {
      const result = await this.#writer.write({ fence, rows: [row] });
      return result.gated ? { kind: "written", inserted: result.inserted > 0 } : { kind: "fenced" };
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
