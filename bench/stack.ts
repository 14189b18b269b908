/**
 * The servers the benchmark measures against, and the few things it does to them: fresh topics
 * and databases, end offsets, clean-up.
 *
 * By default the benchmark runs its own Kafka + PostgreSQL pair (scripts/services.ts with
 * `SERVICES_DIR=.cache/services-bench` on ports 39092/39093/35432), apart from the developer's
 * stack and from the fault-injection suite, so nothing else writes to them during a run. On that
 * pair it turns on `track_commit_timestamp`, which gives every row the instant its transaction
 * committed: latency and drain times are then read from PostgreSQL's own commit clock.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";

/** Repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/** Where the isolated pair keeps its data and the ports it listens on. */
export const ISOLATED_ENV: Readonly<Record<string, string>> = Object.freeze({
  SERVICES_DIR: `${ROOT}/.cache/services-bench`,
  KAFKA_PORT: "39092",
  KAFKA_CONTROLLER_PORT: "39093",
  KAFKA_SASL_PORT: "39094",
  POSTGRES_PORT: "35432",
});

/** How the benchmark reaches its servers. */
export interface Stack {
  /** `isolated`: the benchmark's own pair; `env`: KAFKA_BROKERS / DATABASE_URL as given. */
  mode: "isolated" | "env";
  /** Bootstrap list. */
  kafkaBrokers: string;
  /** URL of a database the `iot` role owns (new databases are created next to it). */
  databaseUrl: string;
  /** Whether PostgreSQL records commit timestamps (else latency falls back to `dt_carga`). */
  commitTimestamps: boolean;
  /** Whether this run started the servers (they are then stopped at the end). */
  startedHere: boolean;
}

/** Runs a command, returning exit code and output (stdout, stderr apart). */
async function run(
  cmd: string[],
  env?: Record<string, string>,
  cwd = ROOT,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    env,
    clearEnv: env !== undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The environment for scripts/services.ts on the isolated pair: no outer servers leak in. */
function isolatedEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  return { ...env, ...ISOLATED_ENV };
}

const servicesCli = (what: string) => [
  Deno.execPath(),
  "run",
  "-A",
  `${ROOT}/scripts/services.ts`,
  what,
];

/**
 * Starts (or reuses) the servers.
 *
 * @param mode `isolated` (default of `deno task bench`) or `env` (use KAFKA_BROKERS and
 *   DATABASE_URL, e.g. the test fixture's stack in CI).
 * @param log Progress lines.
 */
export async function openStack(
  mode: "isolated" | "env",
  log: (line: string) => void,
): Promise<Stack> {
  if (mode === "env") {
    const kafkaBrokers = Deno.env.get("KAFKA_BROKERS");
    const databaseUrl = Deno.env.get("DATABASE_URL");
    if (!kafkaBrokers || !databaseUrl) {
      throw new Error("--services=env needs KAFKA_BROKERS and DATABASE_URL in the environment");
    }
    return {
      mode,
      kafkaBrokers,
      databaseUrl,
      commitTimestamps: await commitTimestampsOn(databaseUrl),
      startedHere: false,
    };
  }
  const env = isolatedEnv();
  const running = (await run(servicesCli("status"), env)).code === 0;
  log(running ? "reusing the benchmark's Kafka + PostgreSQL" : "starting Kafka + PostgreSQL");
  const up = await run(servicesCli("up"), env);
  if (up.code !== 0) throw new Error(`scripts/services.ts up failed:\n${up.stderr}`);
  const lines = Object.fromEntries(
    up.stdout.trim().split("\n").map((
      l,
    ) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const stack: Stack = {
    mode,
    kafkaBrokers: lines.KAFKA_BROKERS,
    databaseUrl: lines.DATABASE_URL,
    commitTimestamps: false,
    startedHere: !running,
  };
  if (!(await commitTimestampsOn(stack.databaseUrl))) {
    log("turning on track_commit_timestamp (PostgreSQL restart)");
    await enableCommitTimestamps();
  }
  stack.commitTimestamps = await commitTimestampsOn(stack.databaseUrl);
  return stack;
}

/** Stops the isolated pair if this run started it. */
export async function closeStack(stack: Stack, log: (line: string) => void): Promise<void> {
  if (stack.mode !== "isolated" || !stack.startedHere) return;
  log("stopping the benchmark's Kafka + PostgreSQL");
  await run(servicesCli("down"), isolatedEnv());
}

async function commitTimestampsOn(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<
      { on: string }[]
    >`SELECT current_setting('track_commit_timestamp') AS on`;
    return row.on === "on";
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * `ALTER SYSTEM SET track_commit_timestamp = on` as the cluster's superuser (over its socket,
 * peer auth, as scripts/services/postgres.ts sets it up), then a restart, which the setting needs.
 */
async function enableCommitTimestamps(): Promise<void> {
  const dir = `${ISOLATED_ENV.SERVICES_DIR}/postgres`;
  const data = `${dir}/data`;
  const version = (await Deno.readTextFile(`${data}/PG_VERSION`)).trim();
  const bin = `/usr/lib/postgresql/${version}/bin`;
  const wrap = (cmd: string[]) =>
    Deno.uid() === 0 ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  const psql = await run(
    wrap([
      `${bin}/psql`,
      "-X",
      "-q",
      "-h",
      data,
      "-p",
      ISOLATED_ENV.POSTGRES_PORT,
      "-d",
      "postgres",
      "-c",
      "ALTER SYSTEM SET track_commit_timestamp = on",
    ]),
    env,
    dir,
  );
  if (psql.code !== 0) throw new Error(`ALTER SYSTEM failed: ${psql.stderr}`);
  const restart = await run(
    wrap([
      "setsid",
      "-w",
      `${bin}/pg_ctl`,
      "-D",
      data,
      "-l",
      `${dir}/server.log`,
      "-m",
      "fast",
      "-w",
      "-t",
      "60",
      "restart",
    ]),
    env,
    dir,
  );
  if (restart.code !== 0) throw new Error(`pg_ctl restart failed: ${restart.stderr}`);
}

/** A kafkajs client for the stack, quiet. */
export function kafkaOf(stack: Stack, clientId = "iot-bench"): Kafka {
  return new Kafka({
    clientId,
    brokers: stack.kafkaBrokers.split(","),
    logLevel: logLevel.NOTHING,
  });
}

/** Creates topic `name` with `partitions` partitions and waits for their leaders. */
export async function createTopic(stack: Stack, name: string, partitions = 6): Promise<void> {
  const admin = kafkaOf(stack, "iot-bench-admin").admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics (ignores those already gone). */
export async function deleteTopics(stack: Stack, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const admin = kafkaOf(stack, "iot-bench-admin").admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = names.filter((n) => existing.has(n));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the partitions' end offsets of `topic`. */
export async function endOffsets(stack: Stack, topic: string): Promise<number> {
  const admin = kafkaOf(stack, "iot-bench-admin").admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Creates an empty database `name` (dropping one of that name first); returns its URL. */
export async function freshDatabase(stack: Stack, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name ${name}`);
  const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await dropDatabase(sql, name);
    await sql.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Flushes the dirty pages earlier experiments left (a drain writes a million rows; dropping its
 * database leaves the checkpointer work to do), so their fsyncs do not land in the next latency
 * window. Without the right (pg_checkpoint) it waits a checkpoint-free few seconds instead.
 */
export async function settleDatabase(stack: Stack): Promise<void> {
  const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`CHECKPOINT`;
  } catch {
    await new Promise((r) => setTimeout(r, 5000));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Drops databases made by {@linkcode freshDatabase}. */
export async function dropDatabases(stack: Stack, names: string[]): Promise<void> {
  const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const name of names) await dropDatabase(sql, name);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * DROP DATABASE that survives autovacuum: `WITH (FORCE)` must terminate every session, and the
 * `iot` role may not terminate an autovacuum worker (superuser-owned) that a big load started.
 * A plain DROP cancels such workers itself, so after ending our own sessions it is retried.
 */
async function dropDatabase(sql: postgres.Sql, name: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "42501" || attempt >= 10) throw error;
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${name} AND usename = current_user AND pid <> pg_backend_pid()`;
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}"`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

/** Names unique to this run: `<prefix>_<run id>`, valid as topic and database names. */
export function runNames(runId: string) {
  return (prefix: string) => `bench_${prefix}_${runId}`;
}

/**
 * The Kafka broker and the PostgreSQL postmaster as CPU groups for `cpuBreakdown`: each the
 * process listening on its port, or no process when it is not visible to us.
 */
export function serverPids(stack: Stack): { kafka: number[]; postgres: number[] } {
  const kafkaPort = Number(stack.kafkaBrokers.split(",")[0].split(":").pop());
  const pgPort = Number(new URL(stack.databaseUrl).port || 5432);
  const group = (pid: number | undefined) => (pid === undefined ? [] : [pid]);
  return {
    kafka: group(pidListeningOn(kafkaPort)),
    postgres: group(pidListeningOn(pgPort)),
  };
}

/** The process with a listening TCP socket on `port` (from /proc/net/tcp*), if visible to us. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A") continue; // 0A = LISTEN
      if (parseInt(f[1].split(":")[1], 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${entry.name}/fd`)) {
        if (inodes.has(Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`))) {
          return Number(entry.name);
        }
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}
