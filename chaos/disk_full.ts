/**
 * The `postgres-disk-full` fault: the run's event tables live in a tablespace on a small private
 * volume of the chaos PostgreSQL (scripts/services/postgres_volume.ts); the fault leaves no byte
 * free on it, so the next page PostgreSQL needs for them fails with SQLSTATE 53100 ("could not
 * extend file ... No space left on device"), holds, then gives the space back.
 *
 * WAL, the catalog and `tb_kafka_offset` stay on the server's own disk: PostgreSQL must not PANIC,
 * and the stored offsets stay writable while the events cannot be written, so a consumer that
 * moved an offset apart from its rows would skip them (the checker sees that).
 *
 * @module
 */

import type postgres from "postgres";
import type { Member } from "./members.ts";
import type { LocalStack } from "../scripts/services/stack.ts";
import { owner, pgBin, superuserSql } from "../scripts/services/postgres_cluster.ts";
import { fileSize } from "../scripts/services/util.ts";
import {
  capVolume,
  openVolume,
  seesVolume,
  volumePath,
  volumePaths,
  volumeUsage,
} from "../scripts/services/postgres_volume.ts";

/**
 * The volume's cap when not full. A cap, not a reservation: tmpfs takes memory only for what is
 * written (a long run's tables are well under 200 MB).
 */
export const VOLUME_BYTES = 1024 ** 3;

/** The run's tables that move to the volume (with their indexes and TOAST). */
const MOVED_TABLES = ["tb_sensor_evento", "tb_sensor_evento_rejeitado"] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes the stack's volume (before its servers start, so PostgreSQL starts inside it). Throws
 * with the reason when it cannot be made: a run that asked for the fault does not run without it.
 */
export async function openRunVolume(services: LocalStack): Promise<void> {
  await openVolume(services.paths, await owner(), VOLUME_BYTES);
}

/**
 * Puts the run's event tables on the volume: PostgreSQL restarted inside it if it was started
 * without (a stack left running by an earlier run), a tablespace named after the run, the tables
 * and their indexes moved there.
 */
export async function moveTablesToVolume(
  services: LocalStack,
  sql: postgres.Sql,
  tablespace: string,
  note: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  const pg = services.paths;
  const pidFile = `${pg.postgresData}/postmaster.pid`;
  const postmaster = Number((await Deno.readTextFile(pidFile)).split("\n")[0]);
  if (!(await seesVolume(pg, postmaster))) {
    note("restarting the chaos PostgreSQL inside its private volume");
    await services.restartPostgres();
  }
  const o = await owner();
  const location = `${volumePaths(pg).mountPoint}/${tablespace}`;
  const here = await volumePath(pg, tablespace);
  await Deno.mkdir(here, { recursive: true });
  await Deno.chown(here, o.uid, o.gid);
  await superuserSql(pg, await pgBin(pg), o, services.ports.postgres, [
    "-c",
    `CREATE TABLESPACE "${tablespace}" OWNER iot LOCATION '${location}'`,
  ]);
  await moveTables(sql, tablespace);
  note("event tables on the private volume", { tablespace, ...(await volumeUsage(pg)) });
}

/** Moves the event tables and their indexes to `tablespace`. */
async function moveTables(sql: postgres.Sql, tablespace: string): Promise<void> {
  for (const table of MOVED_TABLES) {
    await sql.unsafe(`ALTER TABLE ${table} SET TABLESPACE "${tablespace}"`);
    const indexes = await sql<{ name: string }[]>`
      SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND tablename = ${table}`;
    for (const { name } of indexes) {
      await sql.unsafe(`ALTER INDEX "${name}" SET TABLESPACE "${tablespace}"`);
    }
  }
}

/** Moves the event tables back to the server's own disk (a kept database outlives the volume). */
export async function moveTablesHome(sql: postgres.Sql): Promise<void> {
  await moveTables(sql, "pg_default");
}

/** Drops the run's tablespace (once no table is in it) and its folder on the volume. */
export async function dropTablespace(services: LocalStack, tablespace: string): Promise<void> {
  const pg = services.paths;
  await superuserSql(pg, await pgBin(pg), await owner(), services.ports.postgres, [
    "-c",
    `DROP TABLESPACE IF EXISTS "${tablespace}"`,
  ]);
  await Deno.remove(await volumePath(pg, tablespace), { recursive: true }).catch(() => {});
}

/** What the members said while the disk was full, by member name. */
type Sightings = Map<string, { notReady: boolean; diskFull: boolean }>;

async function look(members: readonly Member[], seen: Sightings): Promise<void> {
  await Promise.all(members.map(async (m) => {
    const state = await m.probe();
    if (state === undefined) return;
    const s = seen.get(m.name) ?? { notReady: false, diskFull: false };
    s.notReady ||= !state.ready;
    s.diskFull ||= state.database === "disk_full";
    seen.set(m.name, s);
  }));
}

/**
 * Fills the volume, waits (at most 30 s) until a member names the full disk, holds `holdMs`
 * more, and gives the space back. Returns what was seen: which members said disk_full and not
 * ready, and how many extensions PostgreSQL refused (from its log).
 */
export async function fillVolume(
  services: LocalStack,
  members: readonly Member[],
  holdMs: number,
  note: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<string> {
  const pg = services.paths;
  const logFrom = fileSize(pg.postgresLog);
  const injectedAt = Date.now();
  const seen: Sightings = new Map();
  const capped = await capVolume(pg, "full");
  let firstMs: number | undefined;
  let until = injectedAt + 30_000;
  try {
    while (Date.now() < until) {
      await look(members, seen);
      if (firstMs === undefined && [...seen.values()].some((s) => s.diskFull)) {
        firstMs = Date.now() - injectedAt;
        until = Date.now() + holdMs;
      }
      await sleep(250);
    }
  } finally {
    await capVolume(pg, VOLUME_BYTES);
  }
  const log = await readFrom(pg.postgresLog, logFrom);
  const refused = log.match(/could not extend file .*No space left on device/g)?.length ?? 0;
  const panics = log.match(/\bPANIC:/g)?.length ?? 0;
  const names = (f: (s: { notReady: boolean; diskFull: boolean }) => boolean) =>
    [...seen].filter(([, s]) => f(s)).map(([n]) => n).join(",") || "none";
  const observed = {
    cappedAtBytes: capped,
    firstDiskFullMs: firstMs ?? null,
    diskFull: names((s) => s.diskFull),
    notReady: names((s) => s.notReady),
    extensionsRefused: refused,
    panics,
  };
  note("disk full observed", observed);
  return firstMs === undefined
    ? `volume; no member said disk_full in 30 s (${refused} refused)`
    : `volume; disk_full: ${observed.diskFull}; not ready: ${observed.notReady}; ` +
      `${refused} extensions refused`;
}

/** The text of `path` from byte `from` on ("" when unreadable). */
export async function readFrom(path: string, from: number): Promise<string> {
  const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
  return new TextDecoder().decode(bytes.subarray(from));
}
