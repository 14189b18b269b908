/**
 * The servers the benchmark measures against, and the few things it does to them: fresh topics
 * and databases, end offsets, clean-up.
 *
 * By default the benchmark runs its own Kafka + PostgreSQL pair (a `LocalStack` in
 * .cache/services-bench on ports 17092/17093/17094/17432, moved by BENCH_KAFKA_PORT and the
 * like), apart from the developer's stack and from the fault-injection suite, so nothing else
 * writes to them during a run. On that pair it turns on `track_commit_timestamp`, which gives
 * every row the instant its transaction committed: latency and drain times are then read from
 * PostgreSQL's own commit clock.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import postgres from "postgres";
import * as admin from "../scripts/services/admin.ts";
import { LocalStack } from "../scripts/services/stack.ts";
import type { StackPorts } from "../scripts/services/stack_config.ts";

/**
 * The isolated pair's ports unless BENCH_KAFKA_PORT and the like move them. Below 32768, where
 * Linux's ephemeral range starts (`net.ipv4.ip_local_port_range`): inside it an outgoing
 * connection may hold the port for a while, and a run once stopped at once because PostgreSQL
 * could not bind 35432, the port used before.
 */
export const BENCH_PORTS: Readonly<StackPorts> = Object.freeze({
  kafka: 17092,
  controller: 17093,
  sasl: 17094,
  postgres: 17432,
});

/**
 * The benchmark's own pair: .cache/services-bench on the BENCH_PORTS; KAFKA_BROKERS /
 * DATABASE_URL from outside are never used.
 *
 * @param env Variables, usually `Deno.env.toObject()`.
 */
export function benchStack(env: Readonly<Record<string, string | undefined>>): LocalStack {
  return LocalStack.isolated(env, "bench", BENCH_PORTS);
}

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
  /** The isolated pair, when this run started it (it is then stopped at the end). */
  startedHere?: LocalStack;
}

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
    };
  }
  const local = benchStack(Deno.env.toObject());
  const running = await local.ownsServers();
  log(running ? "reusing the benchmark's Kafka + PostgreSQL" : "starting Kafka + PostgreSQL");
  try {
    const { kafkaBrokers, databaseUrl } = await local.ensure();
    if (!(await commitTimestampsOn(databaseUrl))) {
      log("turning on track_commit_timestamp (PostgreSQL restart)");
      await local.setPostgresParameter("track_commit_timestamp", "on");
    }
    return {
      mode,
      kafkaBrokers,
      databaseUrl,
      commitTimestamps: await commitTimestampsOn(databaseUrl),
      startedHere: running ? undefined : local,
    };
  } catch (error) {
    // One half may be up (Kafka started, PostgreSQL could not): a failed run leaves nothing
    // running that it started.
    if (!running) await local.stop().catch(() => {});
    throw error;
  }
}

/** Stops the isolated pair if this run started it. */
export async function closeStack(stack: Stack, log: (line: string) => void): Promise<void> {
  if (stack.startedHere === undefined) return;
  log("stopping the benchmark's Kafka + PostgreSQL");
  await stack.startedHere.stop();
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

/** A kafkajs client for the stack, quiet. */
export function kafkaOf(stack: Stack, clientId = "iot-bench"): Kafka {
  return admin.kafkaFor(stack.kafkaBrokers, { clientId });
}

/** Creates topic `name` with `partitions` partitions and waits for their leaders. */
export async function createTopic(stack: Stack, name: string, partitions = 6): Promise<void> {
  await admin.createTopic(kafkaOf(stack, "iot-bench-admin"), name, partitions);
}

/** Deletes topics (ignores those already gone). */
export function deleteTopics(stack: Stack, names: string[]): Promise<void> {
  return admin.deleteTopics(kafkaOf(stack, "iot-bench-admin"), names);
}

/** Sum of the partitions' end offsets of `topic`. */
export async function endOffsets(stack: Stack, topic: string): Promise<number> {
  return Number(await admin.endOffsetTotal(kafkaOf(stack, "iot-bench-admin"), topic));
}

/** Creates an empty database `name` (dropping one of that name first); returns its URL. */
export function freshDatabase(stack: Stack, name: string): Promise<string> {
  return admin.freshDatabase(stack.databaseUrl, name);
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
export function dropDatabases(stack: Stack, names: string[]): Promise<void> {
  return admin.dropDatabases(stack.databaseUrl, names);
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
