/**
 * What the peers (bench/connect, bench/flink) share: their database (the consumer's migration,
 * so the same table and indexes, plus bench/peer_trigger.sql for the columns a peer cannot
 * compute), their topic of canonical events, and the drain measurement, taken the way
 * bench/spark/run.ts takes Spark's.
 *
 * @module
 */

import postgres from "postgres";
import { commitSpan, commitTimeline } from "./clock.ts";
import {
  type CpuBreakdown,
  cpuBreakdown,
  type CpuSnapshot,
  cpuSnapshot,
  type Footprint,
  round,
} from "./footprint.ts";
import { type PeerProcess, stopPeer, tail } from "./peer_process.ts";
import { migrate } from "../consumer/migrations.ts";
import { freshDatabase, serverPids, type Stack } from "./stack.ts";

/** A fresh database `name` with the consumer's migration and the peers' trigger; its URL. */
export async function peerDatabase(stack: Stack, name: string): Promise<string> {
  const url = await freshDatabase(stack, name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
    const trigger = await Deno.readTextFile(new URL("./peer_trigger.sql", import.meta.url));
    await sql.unsafe(trigger).simple();
  } finally {
    await sql.end({ timeout: 5 });
  }
  return url;
}

/** One peer drain at one task count / parallelism, shaped like Spark's drain result. */
export interface PeerDrainResult {
  /** Connect tasks (`tasks.max`) or Flink parallelism. */
  tasks: number;
  /** Rows landed. */
  rows: number;
  /** First to last commit, s. */
  seconds: number;
  /** rows / seconds. */
  rowsPerS: number;
  /** Spawn to last commit, s. */
  wallSeconds: number;
  /** Spawn to the first committed row, ms (the peer's start-up). */
  readyMs: number;
  /** Rows committed each second after the first row. */
  timeline: { t: number; rows: number }[];
  /** The peer's JVM, whole run (start-up included). */
  footprint: Footprint;
  /** Where the machine's CPU went from the first row seen to the last (cores). */
  cpu: CpuBreakdown;
  /** Rows the CPU window covers (those stored after its start). */
  cpuRows: number;
  /** CPU per row over that window, µs, per group (`peer` = the JVM, `postgres` = server). */
  cpuUsPerEvent: Record<string, number>;
}

const count = async (sql: postgres.Sql) =>
  Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM tb_sensor_evento`)[0].n);

/**
 * Waits for the peer's first row, then for `events` rows, and measures. The peer is stopped
 * before the result is read. Throws (with the end of the peer's output) when it exits early or
 * stores nothing new for 60 s.
 */
export async function measurePeerDrain(
  stack: Stack,
  url: string,
  proc: PeerProcess,
  events: number,
  tasks: number,
): Promise<PeerDrainResult> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    let before: CpuSnapshot | undefined;
    let rowsBefore = 0;
    let last = { rows: -1, at: Date.now() };
    for (;;) {
      const rows = await count(sql);
      if (before === undefined && rows > 0) {
        before = cpuSnapshot();
        rowsBefore = rows;
      }
      if (rows >= events) break;
      if (proc.exited) {
        throw new Error(`peer exited (${proc.exited.code}) at ${rows} rows:\n${tail(proc)}`);
      }
      if (rows !== last.rows) last = { rows, at: Date.now() };
      const stalledFor = Date.now() - last.at;
      const limit = rows === 0 ? 180_000 : 60_000;
      if (stalledFor > limit) {
        throw new Error(
          `peer stored ${rows} of ${events} rows, none for ${limit / 1000} s:\n` +
            tail(proc),
        );
      }
      // Sparse while starting, then every 0.5 s: count(*) is cheap next to the drain.
      await new Promise((r) => setTimeout(r, before ? 500 : 200));
    }
    const after = cpuSnapshot();
    const cpu = cpuBreakdown(before!, after, {
      peer: [proc.pid],
      ...serverPids(stack),
      bench: [Deno.pid],
    });
    const footprint = await stopPeer(proc);
    const span = await commitSpan(sql, "tb_sensor_evento", stack.commitTimestamps);
    if (span.rows !== events) throw new Error(`peer wrote ${span.rows} rows, expected ${events}`);
    const seconds = (span.lastMs - span.firstMs) / 1000;
    const cpuRows = events - rowsBefore;
    return {
      tasks,
      rows: span.rows,
      seconds: round(seconds, 2),
      rowsPerS: Math.round(span.rows / seconds),
      wallSeconds: round((span.lastMs - proc.spawnedAt) / 1000, 2),
      readyMs: Math.round(span.firstMs - proc.spawnedAt),
      timeline: await commitTimeline(sql, "tb_sensor_evento", stack.commitTimestamps, span.firstMs),
      footprint,
      cpu,
      cpuRows,
      cpuUsPerEvent: Object.fromEntries(
        Object.entries({ ...cpu.groups, machine: cpu.machineCores }).map((
          [k, cores],
        ) => [k, round((cores * cpu.seconds * 1e6) / Math.max(1, cpuRows), 1)]),
      ),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Rows of the peer's database, for the guarantee checks. */
export async function storedRows(
  url: string,
): Promise<{ id: string; temperatura: number; id_dispositivo: string }[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql<{ id: string; temperatura: number; id_dispositivo: string }[]>`
      SELECT id::text, temperatura, id_dispositivo FROM tb_sensor_evento`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Polls until the peer stored at least `rows` rows; the count. Throws on exit or timeout. */
export async function waitForRows(
  url: string,
  proc: PeerProcess,
  rows: number,
  timeoutMs: number,
): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const n = await count(sql);
      if (n >= rows) return n;
      if (proc.exited) throw new Error(`peer exited (${proc.exited.code}):\n${tail(proc)}`);
      if (Date.now() > deadline) throw new Error(`peer stored ${n} of ${rows} rows in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
