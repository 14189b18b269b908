/**
 * The Kafka Connect peer in `deno task bench`: a standalone worker with Debezium's JDBC sink
 * drains the peers' topic into a fresh database (the consumer's migration plus
 * bench/peer_trigger.sql), measured like Spark (bench/peer_drain.ts); then its guarantees, from a
 * few events of the invalid-event corpus, one connector per kind so one failure hides no other.
 *
 * @module
 */

import { measurePeerDrain, peerDatabase, type PeerDrainResult, storedRows } from "../peer_drain.ts";
import { GUARANTEE_KINDS, type GuaranteeResult, readCases, sendCases } from "../peer_guarantees.ts";
import { type PeerProcess, stopPeer } from "../peer_process.ts";
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
