/**
 * The services' connection pool to PostgreSQL (the consumer's and the api's), with the options
 * their failure modes need.
 *
 * @module
 */

import postgres, { type Sql } from "postgres";

/**
 * Opens the connection pool.
 *
 * @param url PostgreSQL URL.
 * @param poolSize Most connections.
 * @param applicationName Shown in `pg_stat_activity`.
 * @param caPem PEM CA of the server's certificate (DATABASE_CA_FILE's content), if any.
 * @param statementTimeoutMs The server cancels any statement running longer (none if omitted).
 * @param session More server settings for each session (e.g. the api's idle-in-transaction bound).
 */
export function connectDatabase(
  url: string,
  poolSize: number,
  applicationName: string,
  caPem?: string,
  statementTimeoutMs?: number,
  session: Record<string, number | string> = {},
): Sql {
  return postgres(url, {
    // With a CA: TLS, the certificate checked against it and the host name checked (verify-full).
    // Without: as DATABASE_URL's sslmode says.
    ...(caPem === undefined ? {} : { ssl: { ca: caPem, rejectUnauthorized: true } }),
    max: poolSize,
    connect_timeout: 10,
    // postgres.js runs a pg_type query on every new connection and drops its promise: a backend
    // terminated during it (pg_terminate_backend, failover) is an unhandled rejection that kills
    // the process (porsager/postgres#1192; found by the chaos suite). No query here needs array
    // type parsing, so the query is not run at all.
    fetch_types: false,
    // postgres.js waits before reconnecting, by default up to 20 s, growing with every failed
    // attempt of the whole pool: after a database outage the consumer sat idle that long with
    // the database back (found by the chaos suite: 18 s recoveries). The pipeline's own retry
    // loop already backs off, so reconnecting is kept prompt: at most 1 s.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    idle_timeout: 60,
    // TCP keepalive (postgres.js's default) only probes a silent connection. One waiting for a
    // reply whose packets are dropped is left to retransmission, which Linux gives up after about
    // 15 minutes; TCP_USER_TIMEOUT would bound it, but neither Deno's node:net nor Deno.connect
    // can set it (Deno 2.9.6). DatabasePool (database_pool.ts) bounds every operation instead.
    keep_alive: 60,
    onnotice: () => {},
    connection: {
      application_name: applicationName,
      ...(statementTimeoutMs === undefined ? {} : {
        statement_timeout: Math.round(statementTimeoutMs),
      }),
      // The server's side of a lost client: a backend whose client is gone (a pool reset behind a
      // black hole cannot say goodbye) is closed within about two minutes, not the kernel's two
      // hours, so resets do not pile up idle backends towards max_connections.
      tcp_keepalives_idle: 60,
      tcp_keepalives_interval: 10,
      tcp_keepalives_count: 6,
      tcp_user_timeout: 120_000,
      ...session,
    },
  });
}
