/**
 * The services' connection pool to PostgreSQL (the consumer's and the api's), with the options
 * their failure modes need.
 *
 * @module
 */

import net from "node:net";
import postgres, { type Sql } from "postgres";

/** What postgres.js gives its `socket` option: the parsed connection options. */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  connect_timeout?: number;
}

/**
 * A connected socket with TCP_NODELAY set, for postgres.js's `socket` option. postgres.js never
 * sets it, and Deno's node:net leaves it off, so Nagle's algorithm holds a small write back while
 * earlier bytes are unacknowledged, until the server's delayed ACK (40 ms on Linux). A single
 * statement per write never met that; the consumer's COPY write does (the rows, then CopyDone,
 * then the probe and COMMIT): at 1,000 events/s the produce-to-row p50 went from 6 to 140 ms.
 * Hosts are tried in turn, as postgres.js does; `socket.host` is set because postgres.js names
 * the TLS server from it.
 */
function noDelaySocket(): (options: SocketOptions) => Promise<net.Socket> {
  let next = 0;
  return (options) =>
    new Promise((resolve, reject) => {
      const index = next++ % Math.max(options.host.length, 1);
      const host = options.host[index], port = options.port[index] ?? options.port[0];
      const socket = options.path ? net.connect(options.path) : net.connect({ host, port });
      socket.setNoDelay(true);
      Object.assign(socket, { host, port });
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      // postgres.js's connect_timeout starts only once it has the socket: bound the connect here.
      socket.setTimeout((options.connect_timeout ?? 30) * 1000, () =>
        fail(new Error(`connecting to ${options.path || `${host}:${port}`} timed out`)));
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.setTimeout(0);
        socket.off("error", fail);
        resolve(socket);
      });
    });
}

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
    // postgres.js's types leave its `socket` option out; it is read as documented in its README.
    ...{ socket: noDelaySocket() },
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

/**
 * The value a server setting has in the session of one of the pool's connections: what the
 * server applied, not what was asked for (e.g. `synchronous_commit`, set at connect).
 */
export async function sessionSetting(sql: Sql, name: string): Promise<string> {
  const [row] = await sql<{ value: string }[]>`SELECT current_setting(${name}) AS value`;
  return row.value;
}
