/**
 * What the api's integration tests share: a fresh database migrated by the consumer's
 * migration, rows inserted directly (not through the consumer), the api as a child process
 * connected as the read-only role, and a small Server-Sent Events client.
 *
 * @module
 */

import postgres, { type Sql } from "postgres";
import { migrate } from "../../consumer/migrations.ts";
import { ServiceProcess } from "../../testing/processes.ts";
import { textLines } from "../../testing/lines.ts";
import { freshDatabase, uniqueName } from "../../testing/services.ts";

/** A fresh database for one test file. */
export interface TestDatabase {
  /** As the tables' owner (the consumer's role), for seeding. */
  owner: Sql;
  /** The URL of the api's read-only role on it. */
  apiUrl: string;
}

/** Makes a fresh database, runs the consumer's migration on it and returns both roles' access. */
export async function testDatabase(prefix: string): Promise<TestDatabase> {
  const url = await freshDatabase(uniqueName(prefix));
  const owner = postgres(url, { max: 4, onnotice: () => {} });
  await migrate(owner);
  const api = new URL(url);
  api.username = "iot_api";
  api.password = "iot_api";
  return { owner, apiUrl: api.toString() };
}

/** A reading to insert. */
export interface Reading {
  id?: string;
  device: string;
  time: string;
  temperature?: number;
  battery?: number;
  alert?: boolean;
}

/** Something that runs a statement: a pool, a transaction, a reserved connection. */
export type Runner = { unsafe: Sql["unsafe"] };

/** Inserts readings (in the caller's transaction, if `sql` is one). */
export async function insertReadings(sql: Runner, readings: Reading[]): Promise<string[]> {
  const ids: string[] = [];
  for (const r of readings) {
    const id = r.id ?? crypto.randomUUID();
    ids.push(id);
    await sql.unsafe(
      `INSERT INTO tb_sensor_evento (id, id_dispositivo, "timestamp", timestamp_ts, temperatura,
         umidade, latitude, longitude, status, bateria, alerta)
       VALUES ($1, $2, $3::text, $3::timestamptz, $4, 55.5, -23.5, -46.6, 'OK', $5, $6)`,
      [id, r.device, r.time, r.temperature ?? 22.5, r.battery ?? 80, r.alert ?? false],
    );
  }
  return ids;
}

/** Inserts or replaces a device's row with its latest reading. */
export async function upsertDevice(
  sql: Sql,
  device: string,
  latest: { id: string; time: string } | null,
  readings: number,
): Promise<void> {
  await sql`INSERT INTO tb_dispositivo (id_dispositivo, id_evento, timestamp_ts, temperatura,
      umidade, latitude, longitude, status, bateria, alerta, primeiro_timestamp_ts, qt_leituras,
      intervalo_s)
    VALUES (${device}, ${latest?.id ?? null}, ${latest?.time ?? null},
      ${latest ? 22.5 : null}, ${latest ? 55.5 : null}, ${latest ? -23.5 : null},
      ${latest ? -46.6 : null}, ${latest ? "OK" : null}, ${latest ? 80 : null},
      ${latest ? false : null}, ${latest?.time ?? null}, ${readings}, ${latest ? 1 : null})
    ON CONFLICT (id_dispositivo) DO UPDATE SET id_evento = excluded.id_evento,
      timestamp_ts = excluded.timestamp_ts, qt_leituras = excluded.qt_leituras`;
}

/** Opens an alert; returns its id. */
export async function openAlert(
  sql: Sql,
  device: string,
  type: string,
  openedAt: string,
  peak: number,
): Promise<number> {
  const [row] = await sql<{ id: string }[]>`INSERT INTO tb_alerta (id_dispositivo, tipo,
      opened_at, last_triggered_at, peak_value) VALUES (${device}, ${type}, ${openedAt},
      ${openedAt}, ${peak}) RETURNING id`;
  return Number(row.id);
}

/** Starts the api on the database (`env` on top: tokens, stream timing); waits until ready. */
export async function startApi(
  apiUrl: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess & { base: string }> {
  const api = new ServiceProcess("api/main.ts", {
    DATABASE_URL: apiUrl,
    LOG_FORMAT: "json",
    ...env,
  });
  await api.waitForLog((l) => l.msg === "api ready", 30_000);
  return Object.assign(api, { base: `http://127.0.0.1:${await api.port()}` });
}

/** One Server-Sent Event as received. */
export interface ReceivedEvent {
  event: string;
  data: Record<string, unknown>;
  /** The last event ID after this event (as EventSource keeps it). */
  lastEventId: string | undefined;
}

/** A stream client: events as they come, and a way to wait for one. */
export interface SseClient {
  events: ReceivedEvent[];
  /** Waits for an event `match` accepts (past or future). */
  waitFor(match: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  /** The last event ID received. */
  lastEventId(): string | undefined;
  /** Disconnects. */
  close(): Promise<void>;
}

/** Connects to `/api/stream` (with `Last-Event-ID` when given) and parses what arrives. */
export async function connectStream(
  base: string,
  lastEventId?: string,
  query = "",
): Promise<SseClient> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
  const response = await fetch(`${base}/api/stream${query}`, { headers, signal: abort.signal });
  if (response.status !== 200) {
    throw new Error(`stream answered ${response.status}: ${await response.text()}`);
  }
  const events: ReceivedEvent[] = [];
  const waiters: (() => void)[] = [];
  let last = lastEventId;
  let frame: { event: string; data: string } = { event: "message", data: "" };
  const pump = (async () => {
    try {
      for await (const line of textLines(response.body!)) {
        if (line === "") {
          if (frame.data !== "") {
            events.push({ event: frame.event, data: JSON.parse(frame.data), lastEventId: last });
            for (const wake of waiters.splice(0)) wake();
          }
          frame = { event: "message", data: "" };
        } else if (line.startsWith("event: ")) frame.event = line.slice(7);
        else if (line.startsWith("data: ")) frame.data += line.slice(6);
        else if (line.startsWith("id: ")) last = line.slice(4);
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    lastEventId: () => last,
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(`no such event in ${timeoutMs} ms; got ${JSON.stringify(events)}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async close() {
      abort.abort();
      await pump;
    },
  };
}
