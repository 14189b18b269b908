/**
 * Does postgres.js under Deno stall on Nagle's algorithm? postgres.js never calls
 * `setNoDelay()`, and Deno's node:net leaves TCP_NODELAY off (strace shows only SO_KEEPALIVE
 * being set), so a small write behind unacknowledged data can wait for the server's delayed ACK
 * (40 ms on Linux).
 *
 * The check runs the consumer's own statement (`writeBatch`) with small and large batches on two
 * one-connection pools side by side, statements alternating between them: postgres.js's default
 * socket, and a socket given through its `socket` option with `setNoDelay(true)`. Same server,
 * same table, same rows, same moments.
 *
 * @module
 */

import net from "node:net";
import postgres from "postgres";
import type { SensorRow } from "@iot/shared";
import type { BatchRow } from "../consumer/event_store.ts";
import { migrate } from "../consumer/migrations.ts";
import { PostgresStore } from "../consumer/postgres_store.ts";
import { round } from "./footprint.ts";
import { dropDatabases, freshDatabase, type Stack } from "./stack.ts";

/** Statement times for one batch size and one socket setting. */
export interface NoDelayCase {
  /** Rows per statement. */
  batchRows: number;
  /** TCP_NODELAY set on the socket. */
  noDelay: boolean;
  /** Statements timed. */
  statements: number;
  /** Median, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Largest, ms. */
  max: number;
  /** Statements that took 35 ms or more (a delayed ACK is 40 ms). */
  over35ms: number;
}

/** Result of the check. */
export interface NoDelayResult {
  /** Every case. */
  cases: NoDelayCase[];
  /** Whether any default-socket case showed delayed-ACK stalls the TCP_NODELAY case did not. */
  stall: boolean;
}

/** A postgres.js pool of one connection, optionally with TCP_NODELAY. */
function pool(url: string, noDelay: boolean): postgres.Sql {
  const u = new URL(url);
  return postgres(url, {
    max: 1,
    onnotice: () => {},
    ...(noDelay
      ? {
        socket: () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
            socket.setNoDelay(true);
            socket.once("connect", () => resolve(socket));
            socket.once("error", reject);
          }),
      }
      : {}),
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Runs the check.
 *
 * @param rows Rows to write (the consumer's own, from the drain).
 * @param batchSizes Rows per statement to try.
 * @param statements Statements per case.
 */
export async function checkNoDelay(
  stack: Stack,
  rows: SensorRow[],
  database: string,
  batchSizes = [1, 10, 100, 1000, 4000],
  statements = 200,
): Promise<NoDelayResult> {
  const url = await freshDatabase(stack, database);
  const cases: NoDelayCase[] = [];
  try {
    const setup = postgres(url, { max: 1, onnotice: () => {} });
    await migrate(setup);
    await setup.end({ timeout: 5 });
    let partition = 0;
    let cursor = 0;
    for (const batchRows of batchSizes) {
      // Fewer statements for big batches: the point is the tail, not the throughput.
      const count = Math.max(20, Math.min(statements, Math.floor(200_000 / batchRows)));
      // Both sockets side by side, statements alternating, so both see the same machine.
      const sides = [false, true].map((noDelay) => ({
        noDelay,
        sql: pool(url, noDelay),
        key: { groupId: "nodelay", topic: "nodelay", partition: partition++ },
        next: 0,
        topicId: crypto.randomUUID(),
        times: [] as number[],
      }));
      for (const side of sides) {
        const initial = { nextOffset: "0", topicId: side.topicId };
        await new PostgresStore(side.sql).claimOffset(side.key, initial);
      }
      for (let i = 0; i < count + 5; i++) {
        for (const side of sides) {
          const batch: BatchRow[] = [];
          for (let j = 0; j < batchRows; j++) {
            // Fresh ids each time, so every statement inserts (rows are recycled for their shape).
            batch.push({ ...rows[cursor++ % rows.length], id: crypto.randomUUID(), ahead: false });
          }
          const started = performance.now();
          await new PostgresStore(side.sql).writeBatch({
            ...side.key,
            expectedOffset: String(side.next),
            topicId: side.topicId,
            nextOffset: String(side.next + batchRows),
            rows: batch,
            rejects: [],
          });
          if (i >= 5) side.times.push(performance.now() - started); // first ones prepare
          side.next += batchRows;
        }
      }
      for (const side of sides) {
        await side.sql.end({ timeout: 5 });
        const times = side.times.sort((a, b) => a - b);
        cases.push({
          batchRows,
          noDelay: side.noDelay,
          statements: times.length,
          p50: round(quantile(times, 0.5), 2),
          p99: round(quantile(times, 0.99), 2),
          max: round(times[times.length - 1], 2),
          over35ms: times.filter((t) => t >= 35).length,
        });
      }
    }
  } finally {
    await dropDatabases(stack, [database]);
  }
  const stall = batchSizesWithStall(cases).length > 0;
  return { cases, stall };
}

/**
 * Batch sizes where the default socket had 40 ms-class stalls and TCP_NODELAY did not (only
 * sizes whose statements normally take well under 35 ms can tell).
 */
export function batchSizesWithStall(cases: NoDelayCase[]): number[] {
  const sizes = [...new Set(cases.map((c) => c.batchRows))];
  return sizes.filter((size) => {
    const off = cases.find((c) => c.batchRows === size && !c.noDelay);
    const on = cases.find((c) => c.batchRows === size && c.noDelay);
    return off !== undefined && on !== undefined && on.p50 < 20 &&
      off.over35ms > 2 * on.over35ms + 2 && off.p99 > 1.5 * on.p99;
  });
}
