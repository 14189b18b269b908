/**
 * The limits our drain rate is held against, measured on the same servers in the same run:
 *
 * - Kafka: Kafka's own `ConsumerPerformance` tool (from the broker's jars) reading the same topic.
 * - PostgreSQL by COPY: the very rows the consumer wrote, dumped with COPY TO and loaded back with
 *   COPY FROM STDIN into a fresh database with the consumer's schema (same indexes), one stream
 *   and three in parallel.
 * - PostgreSQL by our write: the same rows through consumer/postgres_store.ts `writeBatch` (the
 *   exact write the consumer makes: the fenced statement and the rows by COPY) in batches of the
 *   size the consumer wrote, three partitions in flight on a pool of four, like the consumer's
 *   defaults. No Kafka, no validation.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import type { SensorRow } from "@iot/shared";
import type { BatchRow } from "../consumer/event_store.ts";
import { migrate } from "../consumer/migrations.ts";
import { connectDatabase, PostgresStore } from "../consumer/postgres_store.ts";
import { round } from "./footprint.ts";
import { ROOT } from "../scripts/repo.ts";
import { dropDatabases, freshDatabase, type Stack } from "./stack.ts";

/** Kafka's consumer performance tool's figures. */
export interface KafkaLimit {
  /** Messages read. */
  messages: number;
  /** Seconds, group join included (the tool's own total). */
  seconds: number;
  /** Messages per second over the whole run. */
  msgsPerS: number;
  /** MB per second over the whole run. */
  mbPerS: number;
  /** Messages per second while fetching (join/rebalance time excluded). */
  fetchMsgsPerS: number;
}

/** Runs `org.apache.kafka.tools.ConsumerPerformance` on `topic`. */
export async function kafkaConsumerPerf(
  stack: Stack,
  topic: string,
  messages: number,
  kafkaVersion = "4.3.1",
): Promise<KafkaLimit> {
  await Deno.mkdir(`${ROOT}/.cache/logs`, { recursive: true });
  const out = await new Deno.Command("java", {
    args: [
      "-Xmx512m",
      "-cp",
      `${ROOT}/.cache/kafka/${kafkaVersion}/libs/*`,
      `-Dlog4j2.configurationFile=${ROOT}/scripts/kafka/log4j2.properties`,
      // The config writes ${kafka.logs.dir}/server.log; unset, that is the working directory.
      `-Dkafka.logs.dir=${ROOT}/.cache/logs`,
      "org.apache.kafka.tools.ConsumerPerformance",
      "--bootstrap-server",
      stack.kafkaBrokers,
      "--topic",
      topic,
      "--num-records",
      String(messages),
      "--group",
      `bench-perf-${crypto.randomUUID()}`,
      "--timeout",
      "30000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(
      `ConsumerPerformance failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = text.trim().split("\n").filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
  const f = lines[lines.length - 1].split(",").map((s) => s.trim());
  const seconds = (Date.parse(f[1].replace(/:(\d{3})$/, ".$1")) -
    Date.parse(f[0].replace(/:(\d{3})$/, ".$1"))) / 1000;
  return {
    messages: Number(f[4]),
    seconds: round(seconds, 2),
    msgsPerS: Math.round(Number(f[5])),
    mbPerS: round(Number(f[3]), 1),
    fetchMsgsPerS: Math.round(Number(f[9])),
  };
}

/** The columns the consumer writes (dt_carga is left to its default, as the consumer does). */
const COLUMNS = `id, id_dispositivo, "timestamp", timestamp_ts, temperatura, umidade, latitude,
  longitude, status, bateria, alerta`;

/** The consumer's rows, in COPY text form and as {@linkcode SensorRow}s. */
export interface DumpedRows {
  /** One COPY text line per row, newline included. */
  lines: string[];
  /** The same rows as the consumer's sink takes them. */
  rows: SensorRow[];
}

/** Reads back every row of `tb_sensor_evento` in `databaseUrl`. */
export async function dumpRows(databaseUrl: string): Promise<DumpedRows> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const readable = await sql.unsafe(
      // The event time once more as the consumer has it (ISO 8601, UTC, microseconds), which the
      // store's fold parses; COPY's own text form depends on the session's time zone.
      `COPY (SELECT ${COLUMNS}, to_char(timestamp_ts AT TIME ZONE 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM tb_sensor_evento ORDER BY dt_carga, id) TO STDOUT`,
    ).readable();
    const chunks: Buffer[] = [];
    for await (const chunk of readable) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const lines = text.split("\n");
    lines.pop(); // after the last newline
    const rows = lines.map((line) => {
      const f = line.split("\t");
      return {
        id: f[0],
        id_dispositivo: f[1],
        timestamp: f[2],
        timestamp_ts: f[11],
        temperatura: Number(f[4]),
        umidade: Number(f[5]),
        latitude: Number(f[6]),
        longitude: Number(f[7]),
        status: f[8],
        bateria: Number(f[9]),
        alerta: f[10] === "t",
      };
    });
    return { lines: lines.map((l) => `${l.slice(0, l.lastIndexOf("\t"))}\n`), rows };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A PostgreSQL ingest figure. */
export interface PgLimit {
  /** How. */
  method: string;
  /** Rows. */
  rows: number;
  /** Seconds. */
  seconds: number;
  /** Rows per second. */
  rowsPerS: number;
}

/** A fresh database with the consumer's schema (migrations included: same indexes). */
async function schemaDatabase(stack: Stack, name: string): Promise<string> {
  const url = await freshDatabase(stack, name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return url;
}

/** COPY FROM STDIN of `lines` split over `streams` connections at once. */
export async function copyLimit(
  stack: Stack,
  lines: string[],
  streams: number,
  database: string,
): Promise<PgLimit> {
  const url = await schemaDatabase(stack, database);
  const sql = postgres(url, { max: streams, onnotice: () => {} });
  try {
    const per = Math.ceil(lines.length / streams);
    const parts = Array.from({ length: streams }, (_, i) => lines.slice(i * per, (i + 1) * per));
    // Chunks of ~1000 lines: a realistic client write size.
    const chunked = parts.map((p) => {
      const out: string[] = [];
      for (let i = 0; i < p.length; i += 1000) out.push(p.slice(i, i + 1000).join(""));
      return out;
    });
    const started = performance.now();
    await Promise.all(chunked.map(async (chunks) => {
      const writable = await sql.unsafe(`COPY tb_sensor_evento (${COLUMNS}) FROM STDIN`)
        .writable();
      await pipeline(Readable.from(chunks), writable);
    }));
    const seconds = (performance.now() - started) / 1000;
    const [{ n }] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM tb_sensor_evento`;
    if (Number(n) !== lines.length) throw new Error(`COPY loaded ${n} of ${lines.length} rows`);
    return {
      method: `COPY FROM STDIN, ${streams} stream${streams > 1 ? "s" : ""}`,
      rows: lines.length,
      seconds: round(seconds, 2),
      rowsPerS: Math.round(lines.length / seconds),
    };
  } finally {
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [database]);
  }
}

/**
 * The consumer's own write (`writeBatch`), `batchRows` rows per batch, over six
 * partitions, `concurrency` partitions in flight on a pool of `concurrency + 1`.
 */
export async function statementLimit(
  stack: Stack,
  rows: SensorRow[],
  batchRows: number,
  concurrency: number,
  database: string,
): Promise<PgLimit> {
  const url = await schemaDatabase(stack, database);
  const sql = connectDatabase(url, concurrency + 1, "iot-bench-limit");
  const store = new PostgresStore(sql);
  try {
    const partitions = 6;
    // Each device on one partition, as the producer's key puts it: device state is then written
    // by one partition's batches, as in a real drain (no writes racing on a device's row).
    const byPartition = Map.groupBy(rows, (row) => partitionOf(row.id_dispositivo, partitions));
    const batches = Array.from({ length: partitions }, (_, p) => {
      const part = byPartition.get(p) ?? [];
      const out: BatchRow[][] = [];
      for (let i = 0; i < part.length; i += batchRows) {
        out.push(part.slice(i, i + batchRows).map((row) => ({ ...row, ahead: false })));
      }
      return out;
    });
    const key = (partition: number) => ({ groupId: "bench", topic: "bench", partition });
    const topicId = crypto.randomUUID();
    for (let p = 0; p < partitions; p++) {
      await store.claimOffset(key(p), { nextOffset: "0", topicId });
    }
    const next = new Array(partitions).fill(0);
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
      const mine = Array.from({ length: partitions }, (_, p) => p).filter((p) =>
        p % concurrency === worker
      );
      for (let round = 0;; round++) {
        let wrote = false;
        for (const p of mine) {
          const batch = batches[p][round];
          if (batch === undefined) continue;
          wrote = true;
          const outcome = await retryRaces(() =>
            store.writeBatch({
              ...key(p),
              expectedOffset: String(next[p]),
              topicId,
              nextOffset: String(next[p] + batch.length),
              rows: batch,
              rejects: [],
            })
          );
          if (outcome.kind !== "written" || outcome.inserted !== batch.length) {
            throw new Error(`writeBatch did not write the batch: ${JSON.stringify(outcome)}`);
          }
          next[p] += batch.length;
        }
        if (!wrote) return;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return {
      method: `consumer statement (writeBatch), ${batchRows} rows/batch, ${concurrency} in flight`,
      rows: rows.length,
      seconds: round(seconds, 2),
      rowsPerS: Math.round(rows.length / seconds),
    };
  } finally {
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [database]);
  }
}

/** A device's partition: a string hash, standing in for Kafka's partitioner of the key. */
function partitionOf(device: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < device.length; i++) h = (Math.imul(h, 31) + device.charCodeAt(i)) | 0;
  return Math.abs(h) % partitions;
}

/**
 * Runs a write again while PostgreSQL reports a race on a device's row (40001) or a deadlock
 * (40P01), as the consumer's retry loop does.
 */
async function retryRaces<T>(write: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await write();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "40001" && code !== "40P01") throw error;
    }
  }
}
