/**
 * PostgreSQL from Debian's binaries (/usr/lib/postgresql/<ver>/bin), data under
 * .cache/services/postgres, run as the unprivileged `postgres` user when we are root
 * (initdb and the postmaster refuse to run as root): start, stop, reuse. Public API: LocalStack
 * (stack.ts); the cluster's files and commands are in postgres_cluster.ts.
 * @module
 */

import postgres from "postgres";
import {
  localDatabaseUrl,
  portVariable,
  type StackConfig,
  type StackPaths,
  stackPaths,
} from "./stack_config.ts";
import {
  ensureRoleAndDb,
  initCluster,
  type Owner,
  owner,
  pgBin,
  pgRun,
  running,
  superuserSql,
  writeConf,
} from "./postgres_cluster.ts";
import { log, sleep, tail, withTimeout } from "./util.ts";
import { run } from "../command.ts";
import { inVolume } from "./postgres_volume.ts";

/**
 * Runs a command that starts the postmaster: as the owner, and inside the stack's private volume
 * (postgres_volume.ts) when it has one, so a server started again after a crash still sees it.
 */
async function serverRun(pg: StackPaths, o: Owner, cmd: string[]) {
  return await run(await inVolume(pg, o.wrap(cmd)), { cwd: pg.postgresDir });
}

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

async function waitForPostgres(
  pg: StackPaths,
  url: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = await postgresProbe(url);
    if (!err) return;
    if (Date.now() > deadline) {
      throw new Error(
        `PostgreSQL did not answer on ${url} within ${timeoutMs / 1000}s ` +
          `(${err.message}); see ${pg.postgresLog}:\n${tail(pg.postgresLog)}`,
      );
    }
    await sleep(300);
  }
}

/** Initialises the stack's cluster on first use, starts it detached and waits for a real query. */
export async function startPostgres(stack: StackConfig): Promise<string> {
  const pg = stackPaths(stack.dir);
  const port = stack.ports.postgres;
  const bin = await pgBin(pg);
  const o = await owner();
  try {
    await Deno.stat(`${pg.postgresData}/PG_VERSION`);
  } catch {
    await initCluster(pg, bin, o);
  }
  await writeConf(pg, port, o);
  const started = Date.now();
  // setsid: the postmaster gets its own session, so a Ctrl-C aimed at us does not reach it.
  const pgCtl = [
    `${bin}/pg_ctl`,
    "-D",
    pg.postgresData,
    "-l",
    pg.postgresLog,
    "-w",
    "-t",
    "60",
    "start",
  ];
  const res = await serverRun(pg, o, ["setsid", "-w", ...pgCtl]);
  if (res.code !== 0) {
    throw new Error(
      `PostgreSQL failed to start (${res.output}); see ${pg.postgresLog}:\n` +
        tail(pg.postgresLog),
    );
  }
  await ensureRoleAndDb(pg, bin, o, port);
  await waitForPostgres(pg, localDatabaseUrl(stack.ports));
  log(
    "postgres",
    `ready on port ${port} in ${((Date.now() - started) / 1000).toFixed(1)}s ` +
      `(${bin}, log: ${pg.postgresLog})`,
  );
  return localDatabaseUrl(stack.ports);
}

/**
 * Stops our cluster: "fast" (clean, disconnects clients), "immediate" (no checkpoint: a crash
 * that WAL recovery repairs at the next start) or "smart". False when it was not running.
 */
export async function stopPostgres(
  stack: StackConfig,
  mode: "smart" | "fast" | "immediate" = "fast",
): Promise<boolean> {
  const pg = stackPaths(stack.dir);
  try {
    await Deno.stat(`${pg.postgresData}/PG_VERSION`);
  } catch {
    return false;
  }
  const bin = await pgBin(pg);
  const o = await owner();
  if (!(await running(pg, bin, o))) return false;
  log("postgres", `stopping (-m ${mode})`);
  await pgRun(
    pg,
    o,
    [`${bin}/pg_ctl`, "-D", pg.postgresData, "-m", mode, "-w", "-t", "60", "stop"],
    {
      check: true,
    },
  );
  return true;
}

/**
 * Returns a PostgreSQL URL that answers: DATABASE_URL if set and alive, else our running
 * cluster, else a server on our port that accepts iot/iot, else a freshly started cluster.
 */
export async function ensurePostgres(stack: StackConfig): Promise<string> {
  const fromEnv = stack.external.databaseUrl;
  if (fromEnv && !(await postgresProbe(fromEnv))) {
    log("postgres", "using DATABASE_URL from the environment");
    return fromEnv;
  }
  if (fromEnv) log("postgres", "DATABASE_URL does not answer; using a local server");
  const pg = stackPaths(stack.dir);
  const port = stack.ports.postgres;
  const url = localDatabaseUrl(stack.ports);
  // Binaries and owner matter only for our own cluster: a machine without PostgreSQL can
  // still use a server that answers on the port.
  const ours = await Deno.stat(`${pg.postgresData}/PG_VERSION`).then(() => true, () => false);
  const bin = ours ? await pgBin(pg) : "";
  const o = ours ? await owner() : undefined;
  if (o && await running(pg, bin, o)) {
    const pidFile = await Deno.readTextFile(`${pg.postgresData}/postmaster.pid`);
    if (pidFile.split("\n")[3]?.trim() !== `${port}`) {
      throw new Error(
        `our PostgreSQL runs on another port than ${portVariable(stack, "postgres")}=${port}; ` +
          "stop it first (`deno task services:down` with the same variables)",
      );
    }
    // A server started by an older checkout has no TLS yet: the TLS settings take effect with a
    // reload. The others need a restart; of those only the port could differ, checked above.
    if (await writeConf(pg, port, o)) {
      await pgRun(pg, o, [`${bin}/pg_ctl`, "-D", pg.postgresData, "reload"], { check: true });
    }
    await ensureRoleAndDb(pg, bin, o, port);
    await waitForPostgres(pg, url);
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
        `(${err.message}); stop it or set ${portVariable(stack, "postgres")} to another port`,
    );
  }
  return await startPostgres(stack);
}

/**
 * Sets a server parameter with ALTER SYSTEM, as the cluster's superuser over its socket (peer
 * authentication), and restarts the server, for parameters read only at start (the benchmark's
 * track_commit_timestamp). Only for a cluster `stack` runs itself.
 *
 * @param stack The stack.
 * @param name Parameter name, e.g. `track_commit_timestamp`.
 * @param value Its value, e.g. `on`.
 */
export async function alterSystemAndRestart(
  stack: StackConfig,
  name: string,
  value: string,
): Promise<void> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`invalid PostgreSQL parameter name ${name}`);
  const pg = stackPaths(stack.dir);
  const bin = await pgBin(pg);
  const o = await owner();
  const literal = `'${value.replaceAll("'", "''")}'`;
  await superuserSql(pg, bin, o, stack.ports.postgres, [
    "-c",
    `ALTER SYSTEM SET ${name} = ${literal}`,
  ]);
  log("postgres", `restarting for ${name} = ${literal}`);
  const pgCtl = [`${bin}/pg_ctl`, "-D", pg.postgresData, "-l", pg.postgresLog];
  const restart = ["setsid", "-w", ...pgCtl, "-m", "fast", "-w", "-t", "60", "restart"];
  const res = await serverRun(pg, o, restart);
  if (res.code !== 0) throw new Error(`PostgreSQL failed to restart: ${res.output}`);
  await waitForPostgres(pg, localDatabaseUrl(stack.ports));
}
