/**
 * The api's PostgreSQL connections, and the check, at start-up and until it passes, that the
 * schema is there and the role has what the api needs and no more than it should.
 *
 * @module
 */

import type { Sql } from "postgres";
import { connectDatabase } from "@iot/shared/database";

/** The tables the api reads. */
export const READ_TABLES = [
  "tb_sensor_evento",
  "tb_dispositivo",
  "tb_alerta",
  "tb_sensor_evento_rejeitado",
  "tb_kafka_offset",
] as const;

/** The columns of `tb_alerta` the api writes (acknowledging). */
export const ACK_COLUMNS = ["acknowledged_at", "acknowledged_by", "acknowledge_note"] as const;

/**
 * Opens the api's pool: the services' pool (shared/database.ts), with idle transactions bounded.
 *
 * @param url `DATABASE_URL`.
 * @param poolSize `DATABASE_POOL_SIZE`.
 * @param caPem The CA's PEM, when `DATABASE_CA_FILE` is set.
 * @param statementTimeoutMs `DATABASE_STATEMENT_TIMEOUT_S` in ms.
 */
export function connectApiDatabase(
  url: string,
  poolSize: number,
  caPem: string | undefined,
  statementTimeoutMs: number,
): Sql {
  return connectDatabase(url, poolSize, "iot-api", caPem, statementTimeoutMs, {
    // A reader never holds a snapshot open for long: the stream's reads are short.
    idle_in_transaction_session_timeout: 60_000,
  });
}

/** What the role may do, as found. */
export interface RoleCheck {
  /** Problems that keep the api from serving (not ready). */
  missing: string[];
  /** What the role may do beyond the api's needs (logged as a warning). */
  excess: string[];
}

/**
 * Checks the schema and the role's privileges: SELECT on every table the api reads, UPDATE on
 * the acknowledgement columns; and whether it could write more (it should not).
 */
export async function checkRole(sql: Sql): Promise<RoleCheck> {
  const [schema] = await sql<{ ready: boolean }[]>`
    SELECT to_regclass('tb_alerta') IS NOT NULL AND EXISTS (
      SELECT FROM pg_attribute WHERE attrelid = to_regclass('tb_alerta')
        AND attname = 'xid_alteracao' AND NOT attisdropped) AS ready`;
  if (!schema.ready) {
    return {
      missing: ["the schema is not created yet (the consumer's migration creates it)"],
      excess: [],
    };
  }
  const list = (names: readonly string[]) => `ARRAY[${names.map((n) => `'${n}'`).join(", ")}]`;
  const rows = await sql.unsafe<{ table: string; can_select: boolean; can_insert: boolean }[]>(
    `SELECT t AS table, has_table_privilege(t, 'SELECT') AS can_select,
            has_table_privilege(t, 'INSERT') OR has_table_privilege(t, 'DELETE') AS can_insert
       FROM unnest(${list(READ_TABLES)}) AS t`,
  );
  const [ack] = await sql.unsafe<{ can_ack: boolean; can_update_more: boolean; role: string }[]>(
    `SELECT bool_and(has_column_privilege('tb_alerta', c, 'UPDATE')) AS can_ack,
            has_column_privilege('tb_alerta', 'cleared_at', 'UPDATE') AS can_update_more,
            current_user AS role
       FROM unnest(${list(ACK_COLUMNS)}) AS c`,
  );
  const missing = rows.filter((r) => !r.can_select).map((r) =>
    `role ${ack.role} may not SELECT ${r.table} (grant it: api/read_only_role.sql)`
  );
  if (!ack.can_ack) {
    missing.push(
      `role ${ack.role} may not UPDATE tb_alerta's ${ACK_COLUMNS.join(", ")} ` +
        "(grant it: api/read_only_role.sql)",
    );
  }
  const excess = rows.filter((r) => r.can_insert).map((r) => `INSERT or DELETE on ${r.table}`);
  if (ack.can_update_more) excess.push("UPDATE of tb_alerta's lifecycle");
  return { missing, excess };
}
