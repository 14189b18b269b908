/**
 * The Kafka Connect peer in `deno task bench`: a standalone worker with Debezium's JDBC sink
 * drains the peers' topic into a fresh database (the consumer's migration plus
 * bench/peer_trigger.sql), measured like Spark (bench/peer_drain.ts); then its guarantees, from a
 * few events of the invalid-event corpus, one connector per kind so one failure hides no other.
 *
 * @module
 */

import postgres from "postgres";
import {
  measurePeerDrain,
  peerDatabase,
  type PeerDrainResult,
  storedRows,
  waitForRows,
} from "../peer_drain.ts";
import { GUARANTEE_KINDS, type GuaranteeResult, readCases, sendCases } from "../peer_guarantees.ts";
import { killPeer, type PeerProcess, stopPeer } from "../peer_process.ts";
import { createTopic, deleteTopics, dropDatabases, type Stack } from "../stack.ts";
import type { ConnectInstall } from "./setup.ts";
import { startWorker, taskStates } from "./worker.ts";

/** Drains `events` rows of `topic` with `tasks` sink tasks. */
export async function runConnectDrain(
  install: ConnectInstall,
  stack: Stack,
  topic: string,
  events: number,
  tasks: number,
  name: string,
): Promise<PeerDrainResult> {
  const url = await peerDatabase(stack, name);
  const scratch = await Deno.makeTempDir({ prefix: "iot-bench-connect-" });
  let worker: PeerProcess | undefined;
  try {
    worker = await startWorker(install, stack, url, [{ name, topic, tasks }], scratch);
    return await measurePeerDrain(stack, url, worker, events, tasks);
  } finally {
    if (worker) await stopPeer(worker);
    await dropDatabases(stack, [name]);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/**
 * Sends each kind of GUARANTEE_KINDS between two valid events to its own topic, runs one
 * one-task connector per topic in one worker, waits until each task failed or stored the valid
 * event after its bad one (at most `waitS`),
 * and reads back what was stored and each task's state.
 */
export async function connectGuarantees(
  install: ConnectInstall,
  stack: Stack,
  name: string,
  waitS = 45,
): Promise<GuaranteeResult[]> {
  const topics = GUARANTEE_KINDS.map((_, i) => `${name}_${i}`);
  for (const t of topics) await createTopic(stack, t, 1);
  const url = await peerDatabase(stack, name);
  const scratch = await Deno.makeTempDir({ prefix: "iot-bench-connect-" });
  let worker: PeerProcess | undefined;
  try {
    const cases = await sendCases(
      stack,
      GUARANTEE_KINDS.map((kind, i) => ({ kind, topic: topics[i], partition: 0 })),
    );
    const connectors = topics.map((t) => ({ name: t, topic: t, tasks: 1 }));
    worker = await startWorker(install, stack, url, connectors, scratch);
    const deadline = Date.now() + waitS * 1000;
    const states = new Map<string, string[]>();
    while (Date.now() < deadline && !worker.exited) {
      await new Promise((r) => setTimeout(r, 2000));
      for (const c of connectors) {
        states.set(c.name, await taskStates(c.name).catch((e) => [`no status: ${e.message}`]));
      }
      // Settled when each task failed or stored the valid event after its bad one.
      const stored = new Set((await storedRows(url)).map((r) => r.id));
      const failed = (topic: string) => {
        const s = states.get(topic) ?? [];
        return s.length > 0 && s.every((state) => state.startsWith("FAILED"));
      };
      const settled = cases.every((c) => stored.has(c.ids.after) || failed(c.topic));
      if (settled) break;
    }
    return await readCases(url, cases, (c) => {
      const s = states.get(c.topic) ?? ["no status"];
      return `task: ${s.join(", ")}`;
    });
  } finally {
    if (worker) await stopPeer(worker);
    await dropDatabases(stack, [name]);
    await deleteTopics(stack, topics);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/**
 * Counts the rows each committed statement inserted or updated (an upsert that conflicts is an
 * update): statement-level triggers with transition tables, so a batch rolled back when the
 * worker died counts nothing, unlike a sequence would.
 */
const COUNT_WRITES = `
CREATE TABLE peer_row_writes (n bigint NOT NULL);
INSERT INTO peer_row_writes VALUES (0);
CREATE FUNCTION fn_peer_count() RETURNS trigger AS $$
BEGIN UPDATE peer_row_writes SET n = n + (SELECT count(*) FROM changed); RETURN NULL; END
$$ LANGUAGE plpgsql;
CREATE TRIGGER tg_peer_count_insert AFTER INSERT ON tb_sensor_evento
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION fn_peer_count();
CREATE TRIGGER tg_peer_count_update AFTER UPDATE ON tb_sensor_evento
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION fn_peer_count();
`;

/**
 * At-least-once, measured: one task drains `topic`; the worker is killed (SIGKILL) once
 * `killAt` of the events are stored and started again with the same connector (same group, same
 * offsets file); triggers count the committed row writes. Writes beyond the rows are events
 * written twice.
 */
export async function connectRedelivery(
  install: ConnectInstall,
  stack: Stack,
  topic: string,
  events: number,
  name: string,
  killAt = 0.3,
): Promise<GuaranteeResult> {
  const url = await peerDatabase(stack, name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const scratch = await Deno.makeTempDir({ prefix: "iot-bench-connect-" });
  let worker: PeerProcess | undefined;
  try {
    await sql.unsafe(COUNT_WRITES).simple();
    const connector = [{ name, topic, tasks: 1 }];
    worker = await startWorker(install, stack, url, connector, scratch);
    await waitForRows(url, worker, Math.round(events * killAt), 300_000);
    await killPeer(worker);
    const [{ n: killedAt }] = await sql<
      { n: string }[]
    >`SELECT count(*) AS n FROM tb_sensor_evento`;
    worker = await startWorker(install, stack, url, connector, scratch);
    const rows = await waitForRows(url, worker, events, 300_000 + events * 5);
    await stopPeer(worker);
    const [{ w }] = await sql<{ w: string }[]>`SELECT n AS w FROM peer_row_writes`;
    const writes = Number(w);
    return {
      kind: "worker_killed",
      reason: "",
      ours: "each event written once: offsets commit in the rows' transaction",
      seen: `killed at ${Number(killedAt).toLocaleString("en-US")} rows, started again: ` +
        `${rows.toLocaleString("en-US")} rows, ${writes.toLocaleString("en-US")} row writes, so ` +
        `${(writes - rows).toLocaleString("en-US")} events written twice (the upsert on id ` +
        "hides them in the table)",
    };
  } finally {
    if (worker) await stopPeer(worker);
    await sql.end({ timeout: 5 });
    await dropDatabases(stack, [name]);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}
