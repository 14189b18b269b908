/**
 * A PostgreSQL cluster on disk and the commands that act on it: which binaries, which user runs
 * them (the unprivileged `postgres` user when we are root: initdb and the postmaster refuse root),
 * initdb, the configuration we write, and psql as the cluster's superuser. Used by postgres.ts.
 * @module
 */

import { run } from "../command.ts";
import type { StackPaths } from "./stack_config.ts";
import { ensureLocalTls } from "./tls.ts";
import { log } from "./util.ts";

const PG_ROOT = "/usr/lib/postgresql";

/**
 * The bin dir to use: the version that created the data dir if there is one (newer binaries
 * cannot open it), else the highest installed version >= 15.
 */
export async function pgBin(pg: StackPaths): Promise<string> {
  let wanted: string | undefined;
  try {
    wanted = (await Deno.readTextFile(`${pg.postgresData}/PG_VERSION`)).trim();
  } catch { /* no cluster yet */ }
  const versions: number[] = [];
  try {
    for await (const e of Deno.readDir(PG_ROOT)) {
      if (/^\d+$/.test(e.name) && Number(e.name) >= 15) versions.push(Number(e.name));
    }
  } catch { /* no PostgreSQL at all */ }
  const usable = [];
  for (const v of versions.sort((a, b) => b - a)) {
    try {
      await Deno.stat(`${PG_ROOT}/${v}/bin/pg_ctl`);
      usable.push(v);
    } catch { /* client-only install */ }
  }
  if (wanted !== undefined) {
    if (usable.includes(Number(wanted))) return `${PG_ROOT}/${wanted}/bin`;
    throw new Error(
      `${pg.postgresData} was created by PostgreSQL ${wanted}, whose server binaries are not ` +
        `in ${PG_ROOT}/${wanted}/bin; install them or delete ${pg.postgresDir} to start over`,
    );
  }
  if (usable.length === 0) {
    throw new Error(
      `no PostgreSQL >= 15 server in ${PG_ROOT}/<version>/bin: ` +
        `install Debian's postgresql package (apt-get install postgresql)`,
    );
  }
  return `${PG_ROOT}/${usable[0]}/bin`;
}

/** Who owns and runs the cluster, and how to run a command as them. */
export interface Owner {
  /** Its user id. */
  uid: number;
  /** Its group id. */
  gid: number;
  /** A command line run as the owner. */
  wrap: (cmd: string[]) => string[];
}

/** The cluster's owner: this user, or `postgres` when we are root. */
export async function owner(): Promise<Owner> {
  if (Deno.uid() !== 0) return { uid: Deno.uid()!, gid: Deno.gid()!, wrap: (c) => c };
  const uid = await run(["id", "-u", "postgres"]);
  const gid = await run(["id", "-g", "postgres"]);
  if (uid.code !== 0 || gid.code !== 0) {
    throw new Error(
      "running as root but there is no `postgres` user to run the server as: " +
        "install Debian's postgresql package (it creates that user)",
    );
  }
  const wrap = (c: string[]) => ["runuser", "-u", "postgres", "--", ...c];
  return { uid: Number(uid.output), gid: Number(gid.output), wrap };
}

/** Runs a PostgreSQL tool as the owner; cwd is its folder because the owner may not enter ours. */
export function pgRun(
  pg: StackPaths,
  o: Owner,
  cmd: string[],
  opts: { check?: boolean; stdin?: string } = {},
) {
  return run(o.wrap(cmd), { ...opts, cwd: pg.postgresDir });
}

/** True when our cluster's postmaster runs; removes a postmaster.pid left by a dead one. */
export async function running(pg: StackPaths, bin: string, o: Owner): Promise<boolean> {
  try {
    await Deno.stat(`${pg.postgresData}/PG_VERSION`);
  } catch {
    return false;
  }
  const status = await pgRun(pg, o, [`${bin}/pg_ctl`, "-D", pg.postgresData, "status"]);
  if (status.code !== 0) return false;
  // pg_ctl only checks that *some* process has that pid; after a reboot it may be another.
  const pid = (await Deno.readTextFile(`${pg.postgresData}/postmaster.pid`)).split("\n")[0];
  const comm = await Deno.readTextFile(`/proc/${pid}/comm`).catch(() => "");
  if (comm.trim() === "postgres") return true;
  log("postgres", `removing stale postmaster.pid (pid ${pid} is ${comm.trim() || "gone"})`);
  await Deno.remove(`${pg.postgresData}/postmaster.pid`);
  return false;
}

/** Creates the cluster (initdb) in the stack's folder, owned by `o`. */
export async function initCluster(pg: StackPaths, bin: string, o: Owner): Promise<void> {
  await Deno.mkdir(pg.postgresDir, { recursive: true });
  await Deno.chown(pg.postgresDir, o.uid, o.gid);
  if ((await pgRun(pg, o, ["test", "-w", pg.postgresDir])).code !== 0) {
    throw new Error(
      `user postgres cannot write ${pg.postgresDir}: make its parent directories ` +
        "searchable by others (chmod o+x) or move the checkout",
    );
  }
  log("postgres", `initdb ${pg.postgresData}`);
  // Local socket: peer (only the owner can reach the socket inside the 0700 data dir anyway);
  // TCP: scram, so clients use the iot/iot password exactly as they would against a real server.
  await pgRun(pg, o, [
    `${bin}/initdb`,
    "-D",
    pg.postgresData,
    "--auth-local=peer",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--no-locale",
  ], { check: true });
  await Deno.writeTextFile(
    `${pg.postgresData}/postgresql.conf`,
    "\n# scripts/services.ts rewrites services.conf on every start\ninclude 'services.conf'\n",
    { append: true },
  );
}

/** Writes services.conf and the TLS files the server reads; true when any of them changed. */
export async function writeConf(pg: StackPaths, port: number, o: Owner): Promise<boolean> {
  // TLS with the local CA's server certificate, as CloudNativePG serves its own: clients that set
  // DATABASE_CA_FILE connect with verify-full; plain connections stay allowed (loopback only).
  const tls = await ensureLocalTls(pg.tlsDir);
  let changed = false;
  const write = async (name: string, text: string, mode: number) => {
    const path = `${pg.postgresData}/${name}`;
    if ((await Deno.readTextFile(path).catch(() => undefined)) === text) return;
    await Deno.writeTextFile(path, text, { mode });
    await Deno.chmod(path, mode); // an existing file keeps its mode otherwise
    await Deno.chown(path, o.uid, o.gid);
    changed = true;
  };
  await write("server.crt", await Deno.readTextFile(tls.certFile), 0o600);
  await write("server.key", await Deno.readTextFile(tls.keyFile), 0o600);
  const conf = [
    "# Written by scripts/services.ts on every start; edit there, not here.",
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    // Socket inside the data dir: no dependency on /var/run/postgresql existing or being ours.
    `unix_socket_directories = '${pg.postgresData.replaceAll("'", "''")}'`,
    "max_connections = 200", // parallel test files each open their own pools
    "shared_buffers = 128MB",
    // fsync/synchronous_commit stay on for every session that does not say otherwise. The
    // consumer's sessions commit asynchronously by default (DATABASE_SYNCHRONOUS_COMMIT), so the
    // fault-injection suite's immediate stops can undo its newest commits: it then checks that
    // they are read from Kafka again.
    "fsync = on",
    "synchronous_commit = on",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "log_line_prefix = '%m [%p] %q%u@%d '",
    "ssl = on",
    "ssl_cert_file = 'server.crt'",
    "ssl_key_file = 'server.key'",
    "",
  ].join("\n");
  await write("services.conf", conf, 0o644);
  return changed;
}

/** Runs psql as the cluster's superuser over its socket (peer auth) on database `postgres`. */
export function superuserSql(
  pg: StackPaths,
  bin: string,
  o: Owner,
  port: number,
  args: string[],
  stdin?: string,
) {
  const psql = [`${bin}/psql`, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.postgresData];
  return pgRun(pg, o, [...psql, "-p", `${port}`, "-d", "postgres", ...args], {
    check: true,
    stdin,
  });
}

/**
 * Creates role iot/iot (CREATEDB, for freshDatabase), the api's read-only role iot_api/iot_api
 * and database iot, if missing. The role iot may
 * also CHECKPOINT (pg_checkpoint, PostgreSQL 15+): the benchmark flushes one experiment's dirty
 * pages before timing the next.
 */
export async function ensureRoleAndDb(
  pg: StackPaths,
  bin: string,
  o: Owner,
  port: number,
): Promise<void> {
  const script = `
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iot') THEN
        CREATE ROLE iot LOGIN CREATEDB PASSWORD 'iot';
      END IF;
      -- The api's read-only role (README, "The read API"): the consumer's migration grants it
      -- what it reads, and the acknowledgement of alerts.
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iot_api') THEN
        CREATE ROLE iot_api LOGIN PASSWORD 'iot_api';
      END IF;
      IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint') THEN
        GRANT pg_checkpoint TO iot;
      END IF;
    END $$;
    SELECT 'CREATE DATABASE iot OWNER iot'
      WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'iot') \\gexec
  `;
  await superuserSql(pg, bin, o, port, ["-f", "-"], script);
}
