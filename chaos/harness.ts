/**
 * Where a fault-injection run happens and how it is recorded: its run directory and log, the chaos
 * servers (locked, this checkout's own), its topic, database and consumer group, and the TCP proxy
 * the consumers reach PostgreSQL through; for `postgres-disk-full`, the private volume and the
 * run's tablespace on it (disk_full.ts); and all of that taken down again at the end, with a
 * count of the PANICs in PostgreSQL's log during the run.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import type postgres from "postgres";
import type { RunOptions } from "./options.ts";
import { CORPUS_TOPIC_CONFIG } from "./corpus.ts";
import { Generations } from "./generations.ts";
import { TcpProxy } from "./proxy.ts";
import type { LocalStack } from "../scripts/services/stack.ts";
import * as stack from "./stack.ts";
import {
  dropTablespace,
  moveTablesHome,
  moveTablesToVolume,
  openRunVolume,
  readFrom,
} from "./disk_full.ts";
import { fileSize } from "../scripts/services/util.ts";

/** Partitions of the run's topic. */
export const PARTITIONS = 6;
/** The consumers' Kafka session timeout; a paused member is out of the group after it. */
export const SESSION_TIMEOUT_MS = 10_000;

/** Records a harness event in the run log (JSON lines) and on stderr. */
export type Note = (msg: string, fields?: Record<string, unknown>) => void;

/** One run's environment: what every phase acts on. */
export interface Run {
  /** The settings. */
  options: RunOptions;
  /** Run id; also the name of its topic, database and consumer group. */
  runId: string;
  /** The consumer group (see `setUp`). */
  group: string;
  /** `.cache/chaos/<run id>`: logs, ledger and reports of this run. */
  runDir: string;
  /** Milliseconds since the run started. */
  clock: () => number;
  /** Run log. */
  note: Note;
  /** The chaos servers. */
  services: LocalStack;
  /** Whether they were running before this run (then they are left running). */
  wasUp: boolean;
  /** The chaos broker. */
  kafkaBrokers: string;
  /** The chaos PostgreSQL's server URL (not the run's database). */
  baseUrl: string;
  /** Admin client of the chaos broker. */
  kafka: Kafka;
  /** The run topic's generations (faults delete and create it again). */
  generations: Generations;
  /** The harness's pool on the run's database. */
  sql: postgres.Sql;
  /** The proxy between the consumers and PostgreSQL (connection drops, latency). */
  proxy: TcpProxy;
  /** The run's database, through the proxy: what the consumers are given. */
  proxiedUrl: URL;
  /** The tablespace on the private volume holding the event tables (postgres-disk-full only). */
  tablespace: string | undefined;
  /** Size of the chaos PostgreSQL's log when the run started (what is after it is this run's). */
  postgresLogFrom: number;
  /** Closes the run log. */
  closeLog: () => void;
}

/**
 * Prepares a run on the chaos servers: its directory and log, the port lock, the servers (started
 * if needed, refused if another checkout's), a fresh topic and database, and the proxy.
 */
export async function setUp(options: RunOptions, services: LocalStack): Promise<Run> {
  const { mode, seed, durationS, rate, kinds, plant, kafkaClient } = options;
  const runId = `chaos_${mode}_${seed}_${Date.now().toString(36)}`;
  const runDir = `${stack.ROOT}/.cache/chaos/${runId}`;
  await Deno.mkdir(runDir, { recursive: true });
  const { clock, note, closeLog } = await openRunLog(runDir);
  note("run", { runId, seed, mode, durationS, rate, kinds, plant, kafkaClient, runDir });

  await stack.lockPorts(services, note);
  const wasUp = await services.status().catch(() => false);
  // Before the servers start, so PostgreSQL starts inside the volume.
  const diskFull = kinds.includes("postgres-disk-full");
  if (diskFull) await openRunVolume(services);
  const postgresLogFrom = fileSize(services.paths.postgresLog);
  const { kafkaBrokers, databaseUrl: baseUrl } = await services.ensure();
  await stack.assertOwnServers(services);
  const kafka = stack.kafkaClient(kafkaBrokers, "chaos-harness");
  await stack.createTopic(kafka, runId, PARTITIONS, CORPUS_TOPIC_CONFIG);
  const databaseUrl = await stack.freshDatabase(baseUrl, runId);
  const sql = stack.harnessSql(databaseUrl);
  await stack.prepareDatabase(sql);
  const tablespace = diskFull ? runId : undefined;
  if (tablespace) await moveTablesToVolume(services, sql, tablespace, note);
  const proxy = new TcpProxy(Number(new URL(baseUrl).port));
  const proxiedUrl = new URL(databaseUrl);
  proxiedUrl.port = String(proxy.port);
  // A group of its own: members left over from another run (or another suite) in a shared group
  // would be handed partitions of this topic and never read them (kafkajs assigns every member
  // every subscribed topic).
  const group = runId;
  return {
    options,
    runId,
    group,
    runDir,
    clock,
    note,
    services,
    wasUp,
    kafkaBrokers,
    baseUrl,
    kafka,
    generations: new Generations(kafka, runId),
    sql,
    proxy,
    proxiedUrl,
    tablespace,
    postgresLogFrom,
    closeLog,
  };
}

const reportError = (run: Run, what: string) => (error: unknown) =>
  run.note(`tear-down: ${what} failed`, { error: String(error) });

async function openRunLog(runDir: string) {
  const runLog = await Deno.open(`${runDir}/run.log`, { create: true, append: true });
  const t0 = performance.now();
  const clock = () => Math.round(performance.now() - t0);
  const note: Note = (msg, fields = {}) => {
    const line = JSON.stringify({ t: clock(), msg, ...fields });
    runLog.writeSync(new TextEncoder().encode(line + "\n"));
    console.error(
      `[chaos ${(clock() / 1000).toFixed(1)}s] ${msg}${
        Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ""
      }`,
    );
  };
  return { clock, note, closeLog: () => runLog.close() };
}

/**
 * Ends a run: the proxy and the pool closed, the topic and database dropped when it passed (unless
 * `--keep-data`), the servers stopped when this run started them (unless `--keep-services`).
 */
export async function tearDown(run: Run, ok: boolean): Promise<void> {
  const { proxy, sql, kafka, runId, baseUrl, services, wasUp, options, tablespace } = run;
  proxy.close();
  const dropped = ok && !options.keepData;
  // A kept database gets its tables back from the volume, which goes with the stack.
  if (tablespace && !dropped) await moveTablesHome(sql).catch(reportError(run, "moving home"));
  await sql.end({ timeout: 5 });
  if (dropped) {
    await stack.deleteTopics(kafka, [runId]).catch(() => {});
    await stack.dropDatabases(baseUrl, [runId]).catch(() => {});
  }
  if (tablespace) {
    await dropTablespace(services, tablespace).catch(reportError(run, "dropping the tablespace"));
  }
  const pgLog = await readFrom(services.paths.postgresLog, run.postgresLogFrom);
  run.note("postgres log", {
    panics: pgLog.match(/\bPANIC:/g)?.length ?? 0,
    diskFull: pgLog.match(/No space left on device/g)?.length ?? 0,
  });
  if (!wasUp && !options.keepServices) await services.stop();
  run.note(`verdict ${ok ? "PASS" : "FAIL"}`, { runDir: run.runDir });
  run.closeLog();
}
