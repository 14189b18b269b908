/**
 * Reading times back from PostgreSQL: when each row's transaction committed.
 *
 * With `track_commit_timestamp = on`, `pg_xact_commit_timestamp(xmin)` is the instant the row
 * became visible, on the server's clock (CLOCK_REALTIME, the same clock `Date.now()` and the
 * fleet's TIMESTAMP read on this machine). Without it the fallback is `dt_carga`, i.e. `now()`
 * at the start of the writing transaction, earlier than the commit by the statement's duration.
 *
 * @module
 */

import type postgres from "postgres";

/** The SQL expression for "when this row was committed", for a table alias `t`. */
export function commitExpr(commitTimestamps: boolean, fallback = "t.dt_carga"): string {
  return commitTimestamps ? "pg_xact_commit_timestamp(t.xmin)" : fallback;
}

/** How the commit clock was read, for the report. */
export function clockName(commitTimestamps: boolean): string {
  return commitTimestamps
    ? "pg_xact_commit_timestamp(xmin) (track_commit_timestamp=on)"
    : "dt_carga (transaction start; track_commit_timestamp off)";
}

/** Rows committed per second, from the commit clock, relative to `t0Ms` (epoch ms). */
export async function commitTimeline(
  sql: postgres.Sql,
  table: string,
  commitTimestamps: boolean,
  t0Ms: number,
  fallback?: string,
): Promise<{ t: number; rows: number }[]> {
  const expr = commitExpr(commitTimestamps, fallback);
  const rows = await sql.unsafe<{ s: string; n: string }[]>(
    `SELECT floor((extract(epoch FROM ${expr}) * 1000 - ${t0Ms}) / 1000)::int AS s,
       count(*) AS n FROM ${table} t GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((r) => ({ t: Number(r.s), rows: Number(r.n) }));
}

/** First and last commit instants (epoch ms) and the row count. */
export async function commitSpan(
  sql: postgres.Sql,
  table: string,
  commitTimestamps: boolean,
  fallback?: string,
): Promise<{ rows: number; firstMs: number; lastMs: number }> {
  const expr = commitExpr(commitTimestamps, fallback);
  const [row] = await sql.unsafe<{ n: string; first: string; last: string }[]>(
    `SELECT count(*) AS n, extract(epoch FROM min(${expr})) * 1000 AS first,
       extract(epoch FROM max(${expr})) * 1000 AS last FROM ${table} t`,
  );
  return { rows: Number(row.n), firstMs: Number(row.first), lastMs: Number(row.last) };
}

/** Latency percentiles in ms. */
export interface LatencyStats {
  /** Rows measured. */
  rows: number;
  /** Median. */
  p50: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
  /** Largest. */
  max: number;
  /** Mean. */
  mean: number;
}

/**
 * Latency of every row whose event time is at or after `fromMs` (epoch ms): commit instant −
 * event time (the fleet's TIMESTAMP, ms precision, set when the producer created the event, just
 * before it was handed to the Kafka client).
 *
 * @param eventTime SQL expression for the event time (`t.timestamp_ts`, Spark's `t."timestamp"`).
 */
export async function latencyStats(
  sql: postgres.Sql,
  table: string,
  eventTime: string,
  commitTimestamps: boolean,
  fromMs: number,
  fallback?: string,
): Promise<LatencyStats> {
  const expr = commitExpr(commitTimestamps, fallback);
  const [row] = await sql.unsafe<
    { n: string; p: number[] | null; max: number | null; mean: number | null }[]
  >(
    `WITH l AS (
       SELECT extract(epoch FROM (${expr} - ${eventTime})) * 1000 AS ms FROM ${table} t
       WHERE ${eventTime} >= to_timestamp(${fromMs} / 1000.0)
     )
     SELECT count(*) AS n,
       percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms) AS p,
       max(ms)::float8 AS max, avg(ms)::float8 AS mean FROM l`,
  );
  const p = (row.p ?? [0, 0, 0]).map(Number);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    rows: Number(row.n),
    p50: r1(p[0]),
    p95: r1(p[1]),
    p99: r1(p[2]),
    max: r1(Number(row.max ?? 0)),
    mean: r1(Number(row.mean ?? 0)),
  };
}
