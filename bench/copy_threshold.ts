/**
 * From how many rows does a batch's COPY beat the one statement? (store_write.ts's
 * `COPY_MIN_ROWS`.) Writes batches of each size both ways through the consumer's own store, one
 * connection, the two ways alternating batch by batch into the same table, and prints per batch:
 * the wall time, the CPU of this process (the consumer's side: planning, encoding, socket
 * writes) and of the PostgreSQL backend (from its /proc schedstat, in nanoseconds).
 *
 *     DATABASE_URL=postgres://iot:iot@127.0.0.1:5432/iot deno run -A bench/copy_threshold.ts \
 *       [--sizes 1,5,20,50,100,200,500] [--rows 20000] [--devices 167]
 *
 * Needs a PostgreSQL on this machine (the backend's /proc entry is read); `deno task
 * services:up` starts one. Each run uses a fresh database and drops it after.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { BatchRow } from "../consumer/event_store.ts";
import { migrate } from "../consumer/migrations.ts";
import { connectDatabase, PostgresStore } from "../consumer/postgres_store.ts";
import { dropDatabases, freshDatabase } from "../scripts/services/admin.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { sizes: { type: "string" }, rows: { type: "string" }, devices: { type: "string" } },
});
const sizes = (values.sizes ?? "1,5,20,50,100,200,500").split(",").map(Number);
const rowsPerCase = Number(values.rows ?? 20_000);
// The fleet's 1,000 devices over 6 partitions: a partition's batches cover about 167 of them.
const devices = Number(values.devices ?? 167);
const baseUrl = Deno.env.get("DATABASE_URL");
if (baseUrl === undefined) throw new Error("set DATABASE_URL to a local PostgreSQL");

/** One way of writing, on its own partition of the same table. */
interface Way {
  name: "statement" | "COPY";
  store: PostgresStore;
  key: { groupId: string; topic: string; partition: number };
  next: number;
  wallMs: number[];
  clientUs: number;
  serverUs: number;
}

const TOPIC_ID = crypto.randomUUID();
let instant = Date.parse("2026-01-01T00:00:00Z");

function reading(way: string, device: number): BatchRow {
  const at = new Date(instant += 10).toISOString();
  const temperatura = 15 + Math.random() * 20;
  return {
    id: crypto.randomUUID(),
    // Each way its own devices: one way's write would otherwise change the other's cached state.
    id_dispositivo: `${way}-sensor-${String(device).padStart(4, "0")}`,
    timestamp: at,
    timestamp_ts: at.replace("Z", "000Z"),
    temperatura,
    umidade: 40 + Math.random() * 30,
    latitude: -23.5 + Math.random(),
    longitude: -46.6 + Math.random(),
    status: "OK",
    bateria: 20 + Math.random() * 80,
    alerta: temperatura > 33,
    ahead: false,
  };
}

/** CPU time a backend has used, µs (the first field of schedstat: nanoseconds on a CPU). */
function backendCpuUs(pid: number): number {
  // Synchronous: an asynchronous read would run on another thread, counted as this process's CPU.
  const text = Deno.readTextFileSync(`/proc/${pid}/schedstat`);
  return Number(text.split(" ")[0]) / 1000;
}

function processCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const fixed = (x: number, digits = 0) => x.toFixed(digits);

const name = `copy_threshold_${Date.now()}`;
const url = await freshDatabase(baseUrl, name);
const sql = connectDatabase(url, 1, "copy-threshold");
try {
  await migrate(sql);
  const [{ pid }] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  console.log(
    `rows per case ${rowsPerCase}; one connection (backend ${pid}); ways alternate per batch\n`,
  );
  console.log(
    "| rows/batch | way | batches | wall ms p50 | consumer µs/batch | PostgreSQL µs/batch | both µs/row |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  let partition = 0;
  for (const size of sizes) {
    const ways: Way[] = (["statement", "COPY"] as const).map((wayName) => ({
      name: wayName,
      // COPY_MIN_ROWS: 1 sends every batch by COPY, beyond any batch the statement.
      store: new PostgresStore(sql, undefined, 1000, undefined, wayName === "COPY" ? 1 : 1e9),
      key: { groupId: "threshold", topic: "threshold", partition: partition++ },
      next: 0,
      wallMs: [],
      clientUs: 0,
      serverUs: 0,
    }));
    for (const way of ways) {
      await way.store.claimOffset(way.key, { nextOffset: "0", topicId: TOPIC_ID });
    }
    const batches = Math.max(30, Math.ceil(rowsPerCase / size));
    const warmUp = 5;
    for (let i = 0; i < batches + warmUp; i++) {
      for (const way of ways) {
        const rows = Array.from(
          { length: size },
          () => reading(way.name, 1 + Math.floor(Math.random() * devices)),
        );
        const [c0, s0, t0] = [processCpuUs(), backendCpuUs(pid), performance.now()];
        const result = await way.store.writeBatch({
          ...way.key,
          topicId: TOPIC_ID,
          expectedOffset: String(way.next),
          nextOffset: String(way.next + size),
          rows,
          rejects: [],
        });
        const [t1, c1, s1] = [performance.now(), processCpuUs(), backendCpuUs(pid)];
        if (result.kind !== "written" || result.inserted !== size) {
          throw new Error(`${way.name} write of ${size} rows: ${JSON.stringify(result)}`);
        }
        way.next += size;
        if (i < warmUp) continue; // statements prepared, caches warm
        way.wallMs.push(t1 - t0);
        way.clientUs += c1 - c0;
        way.serverUs += s1 - s0;
      }
    }
    for (const way of ways) {
      const n = way.wallMs.length;
      console.log(
        `| ${size} | ${way.name} | ${n} | ${fixed(median(way.wallMs), 2)} | ${
          fixed(way.clientUs / n)
        } | ${fixed(way.serverUs / n)} | ${fixed((way.clientUs + way.serverUs) / n / size, 1)} |`,
      );
    }
  }
} finally {
  await sql.end({ timeout: 5 });
  await dropDatabases(baseUrl, [name]);
}
