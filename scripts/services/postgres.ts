/**
 * PostgreSQL from Debian's binaries (/usr/lib/postgresql/<ver>/bin), data under
 * .cache/services/postgres, run as the unprivileged `postgres` user when we are root
 * (initdb and the postmaster refuse to run as root). Public API: scripts/services.ts.
 * @module
 */

import postgres from "postgres";
import { envPort, log, run, SERVICES_DIR, sleep, tail, withTimeout } from "./util.ts";
import { ensureLocalTls } from "./tls.ts";

const PG_ROOT = "/usr/lib/postgresql";
const DIR = `${SERVICES_DIR}/postgres`;
const DATA = `${DIR}/data`;
/** Server log (pg_ctl -l). */
export const POSTGRES_LOG = `${DIR}/server.log`;

/** Port from POSTGRES_PORT (default 5432). */
export const postgresPort = (): number => envPort("POSTGRES_PORT", 5432);

/** URL of the local server's `iot` database; 127.0.0.1 because we listen on IPv4 only. */
export const localDatabaseUrl = (port: number): string =>
  `postgres://iot:iot@127.0.0.1:${port}/iot`;

/** Runs a real query; returns undefined on success, else the error (callers need the reason). */
export async function postgresProbe(url: string, timeoutMs = 5000): Promise<Error | undefined> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await withTimeout(sql`select 1`, timeoutMs, "PostgreSQL probe");
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

const refused = (err: Error) =>
  (err as { code?: string }).code === "ECONNREFUSED" || /ECONNREFUSED/.test(err.message);

/**
 * The bin dir to use: the version that created the data dir if there is one (newer binaries
 * cannot open it), else the highest installed version >= 15.
 */
async function pgBin(): Promise<string> {
  let wanted: string | undefined;
  try {
    wanted = (await Deno.readTextFile(`${DATA}/PG_VERSION`)).trim();
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
      `${DATA} was created by PostgreSQL ${wanted}, whose server binaries are not ` +
        `in ${PG_ROOT}/${wanted}/bin; install them or delete ${DIR} to start over`,
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
interface Owner {
  uid: number;
  gid: number;
  wrap: (cmd: string[]) => string[];
}

async function owner(): Promise<Owner> {
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

/** Runs a PostgreSQL tool as the owner; cwd is DIR because the owner may not enter ours. */
function pgRun(o: Owner, cmd: string[], opts: { check?: boolean; stdin?: string } = {}) {
  return run(o.wrap(cmd), { ...opts, cwd: DIR });
}

/** True when our cluster's postmaster runs; removes a postmaster.pid left by a dead one. */
async function running(bin: string, o: Owner): Promise<boolean> {
  try {
    await Deno.stat(`${DATA}/PG_VERSION`);
  } catch {
    return false;
  }
  const status = await pgRun(o, [`${bin}/pg_ctl`, "-D", DATA, "status"]);
  if (status.code !== 0) return false;
  // pg_ctl only checks that *some* process has that pid; after a reboot it may be another.
  const pid = (await Deno.readTextFile(`${DATA}/postmaster.pid`)).split("\n")[0];
  const comm = await Deno.readTextFile(`/proc/${pid}/comm`).catch(() => "");
  if (comm.trim() === "postgres") return true;
  log("postgres", `removing stale postmaster.pid (pid ${pid} is ${comm.trim() || "gone"})`);
  await Deno.remove(`${DATA}/postmaster.pid`);
  return false;
}

async function initCluster(bin: string, o: Owner): Promise<void> {
  await Deno.mkdir(DIR, { recursive: true });
  await Deno.chown(DIR, o.uid, o.gid);
  if ((await pgRun(o, ["test", "-w", DIR])).code !== 0) {
    throw new Error(
      `user postgres cannot write ${DIR}: make its parent directories ` +
        "searchable by others (chmod o+x) or move the checkout",
    );
  }
  log("postgres", `initdb ${DATA}`);
  // Local socket: peer (only the owner can reach the socket inside the 0700 data dir anyway);
  // TCP: scram, so clients use the iot/iot password exactly as they would against a real server.
  await pgRun(o, [
    `${bin}/initdb`,
    "-D",
    DATA,
    "--auth-local=peer",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--no-locale",
  ], { check: true });
  await Deno.writeTextFile(
    `${DATA}/postgresql.conf`,
    "\n# scripts/services.ts rewrites services.conf on every start\ninclude 'services.conf'\n",
    { append: true },
  );
}

/** Writes services.conf and the TLS files the server reads; true when any of them changed. */
async function writeConf(port: number, o: Owner): Promise<boolean> {
  // TLS with the local CA's server certificate, as CloudNativePG serves its own: clients that set
  // DATABASE_CA_FILE connect with verify-full; plain connections stay allowed (loopback only).
  const tls = await ensureLocalTls();
  let changed = false;
  const write = async (name: string, text: string, mode: number) => {
    const path = `${DATA}/${name}`;
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
    `unix_socket_directories = '${DATA.replaceAll("'", "''")}'`,
    "max_connections = 200", // parallel test files each open their own pools
    "shared_buffers = 128MB",
    // fsync/synchronous_commit stay on: the fault-injection suite relies on crash durability.
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

/**
 * Creates role iot/iot (CREATEDB, for freshDatabase) and database iot, if missing. The role may
 * also CHECKPOINT (pg_checkpoint, PostgreSQL 15+): the benchmark flushes one experiment's dirty
 * pages before timing the next.
 */
async function ensureRoleAndDb(bin: string, o: Owner, port: number): Promise<void> {
  const script = `
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iot') THEN
        CREATE ROLE iot LOGIN CREATEDB PASSWORD 'iot';
      END IF;
      IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint') THEN
        GRANT pg_checkpoint TO iot;
      END IF;
    END $$;
    SELECT 'CREATE DATABASE iot OWNER iot'
      WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'iot') \\gexec
  `;
  const psql = [`${bin}/psql`, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", DATA, "-p", `${port}`];
  await pgRun(o, [...psql, "-d", "postgres", "-f", "-"], { check: true, stdin: script });
}

async function waitForPostgres(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = await postgresProbe(url);
    if (!err) return;
    if (Date.now() > deadline) {
      throw new Error(
        `PostgreSQL did not answer on ${url} within ${timeoutMs / 1000}s ` +
          `(${err.message}); see ${POSTGRES_LOG}:\n${tail(POSTGRES_LOG)}`,
      );
    }
    await sleep(300);
  }
}

/** Initialises the cluster on first use, starts it detached and waits for a real query. */
export async function startPostgres(port: number = postgresPort()): Promise<string> {
  const bin = await pgBin();
  const o = await owner();
  try {
    await Deno.stat(`${DATA}/PG_VERSION`);
  } catch {
    await initCluster(bin, o);
  }
  await writeConf(port, o);
  const started = Date.now();
  // setsid: the postmaster gets its own session, so a Ctrl-C aimed at us does not reach it.
  const pgCtl = [`${bin}/pg_ctl`, "-D", DATA, "-l", POSTGRES_LOG, "-w", "-t", "60", "start"];
  const res = await pgRun(o, ["setsid", "-w", ...pgCtl]);
  if (res.code !== 0) {
    throw new Error(
      `PostgreSQL failed to start (${res.output}); see ${POSTGRES_LOG}:\n` +
        tail(POSTGRES_LOG),
    );
  }
  await ensureRoleAndDb(bin, o, port);
  await waitForPostgres(localDatabaseUrl(port));
  log(
    "postgres",
    `ready on port ${port} in ${((Date.now() - started) / 1000).toFixed(1)}s ` +
      `(${bin}, log: ${POSTGRES_LOG})`,
  );
  return localDatabaseUrl(port);
}

/**
 * Stops our cluster: "fast" (clean, disconnects clients), "immediate" (no checkpoint: a crash
 * that WAL recovery repairs at the next start) or "smart". False when it was not running.
 */
export async function stopPostgres(
  mode: "smart" | "fast" | "immediate" = "fast",
): Promise<boolean> {
  try {
    await Deno.stat(`${DATA}/PG_VERSION`);
  } catch {
    return false;
  }
  const bin = await pgBin();
  const o = await owner();
  if (!(await running(bin, o))) return false;
  log("postgres", `stopping (-m ${mode})`);
  await pgRun(o, [`${bin}/pg_ctl`, "-D", DATA, "-m", mode, "-w", "-t", "60", "stop"], {
    check: true,
  });
  return true;
}

/**
 * Returns a PostgreSQL URL that answers: DATABASE_URL if set and alive, else our running
 * cluster, else a server on our port that accepts iot/iot, else a freshly started cluster.
 */
export async function ensurePostgres(): Promise<string> {
  const fromEnv = Deno.env.get("DATABASE_URL");
  if (fromEnv && !(await postgresProbe(fromEnv))) {
    log("postgres", "using DATABASE_URL from the environment");
    return fromEnv;
  }
  if (fromEnv) log("postgres", "DATABASE_URL does not answer; using a local server");
  const port = postgresPort();
  const url = localDatabaseUrl(port);
  // Binaries and owner matter only for our own cluster: a machine without PostgreSQL can
  // still use a server that answers on the port.
  const ours = await Deno.stat(`${DATA}/PG_VERSION`).then(() => true, () => false);
  const bin = ours ? await pgBin() : "";
  const o = ours ? await owner() : undefined;
  if (o && await running(bin, o)) {
    const pidFile = await Deno.readTextFile(`${DATA}/postmaster.pid`);
    if (pidFile.split("\n")[3]?.trim() !== `${port}`) {
      throw new Error(
        `our PostgreSQL runs on another port than POSTGRES_PORT=${port}; ` +
          "run `deno task services:down` first",
      );
    }
    // A server started by an older checkout has no TLS yet: the TLS settings take effect with a
    // reload. The others need a restart; of those only the port could differ, checked above.
    if (await writeConf(port, o)) {
      await pgRun(o, [`${bin}/pg_ctl`, "-D", DATA, "reload"], { check: true });
    }
    await ensureRoleAndDb(bin, o, port);
    await waitForPostgres(url);
    log("postgres", `reusing running server on port ${port}`);
    return url;
  }
  const err = await postgresProbe(url);
  if (!err) {
    log("postgres", `a server not started by this checkout accepts ${url}; using it`);
    return url;
  }
  if (!refused(err)) {
    throw new Error(
      `something on 127.0.0.1:${port} is not our PostgreSQL or rejects iot/iot ` +
        `(${err.message}); stop it or set POSTGRES_PORT to another port`,
    );
  }
  return await startPostgres(port);
}
