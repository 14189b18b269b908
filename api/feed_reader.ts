/**
 * Reads what was committed between two stream positions (PostgreSQL snapshots, see
 * snapshot.ts): per device its newest reading, and every alert changed. One read-only
 * REPEATABLE READ transaction, so the position it returns is the very snapshot its queries saw.
 *
 * @module
 */

import type { Sql } from "postgres";
import { ALERT_COLUMNS, EVENT_COLUMNS } from "./queries.ts";
import type { FeedBatch } from "./sse.ts";

/** The changes of a read, and how many readings were committed in it. */
export interface FeedChanges extends FeedBatch {
  /** Readings committed between the two positions (before sampling). */
  rows: number;
}

/** Where the feed's reads come from: PostgreSQL, or a fake in unit tests. */
export interface FeedSource {
  /**
   * The changes committed after `from` and, when `to` is given, before it (else up to now);
   * `from` undefined: nothing, only the current position.
   */
  read(from: string | undefined, to?: string): Promise<FeedChanges>;
  /**
   * Calls `wake` whenever a write that the stream shows commits (LISTEN); resolves when
   * listening, with the function that stops it.
   */
  listen(wake: () => void): Promise<() => Promise<void>>;
}

/** The NOTIFY channel of the migration's statement triggers (consumer/migrations.ts). */
export const STREAM_CHANNEL = "iot_stream";

/** The feed's source on PostgreSQL. */
export function postgresFeedSource(sql: Sql): FeedSource {
  return {
    read: (from, to) => readChanges(sql, from, to),
    listen: async (wake) => {
      // postgres.js keeps the LISTEN connection up and listens again after a reconnect (and
      // calls the third argument then): a wake after it covers what was missed meanwhile.
      const listener = await sql.listen(STREAM_CHANNEL, () => wake(), () => wake());
      return () => listener.unlisten();
    },
  };
}

/** The rows committed after `from` (and before `to`), per device sampled. */
export async function readChanges(sql: Sql, from?: string, to?: string): Promise<FeedChanges> {
  return await sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
    const [{ position }] = await tx.unsafe(`SELECT pg_current_snapshot()::text AS position`);
    const upTo = to ?? position;
    if (from === undefined) return { from: upTo, to: upTo, readings: [], alerts: [], rows: 0 };
    // Between the two: committed after `from` (not visible in it; every xid below its xmin is)
    // and before `upTo` (when it is the current snapshot, visibility already says so).
    const between = (column: string) =>
      `${column} >= pg_snapshot_xmin($1::pg_snapshot)
        AND NOT pg_visible_in_snapshot(${column}, $1::pg_snapshot)
        AND pg_visible_in_snapshot(${column}, $2::pg_snapshot)`;
    const readings = await tx.unsafe(
      `SELECT DISTINCT ON (id_dispositivo) ${EVENT_COLUMNS},
              count(*) OVER (PARTITION BY id_dispositivo)::int AS sampled_from
         FROM tb_sensor_evento WHERE ${between("xid_carga")}
        ORDER BY id_dispositivo, timestamp_ts DESC, id DESC`,
      [from, upTo],
    );
    const alerts = await tx.unsafe(
      `SELECT ${ALERT_COLUMNS} FROM tb_alerta WHERE ${between("xid_alteracao")} ORDER BY id`,
      [from, upTo],
    );
    let rows = 0;
    for (const r of readings) rows += r.sampled_from as number;
    return {
      from,
      to: upTo,
      readings: readings.map((r) => ({ ...r })),
      alerts: alerts.map((r) => ({ ...r })),
      rows,
    };
  });
}
