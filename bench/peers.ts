/**
 * The peers users would pick instead of our consumer, in `deno task bench`: Kafka Connect with
 * Debezium's JDBC sink (bench/connect) and a Flink job (bench/flink). Both drain one topic of
 * canonical events (the fleet's, legacy payloads renamed and given an id, since neither peer maps
 * two payload shapes by itself) at 1 and 3 tasks / parallelism, then get a few bad events.
 *
 * @module
 */

import { connectGuarantees, connectRedelivery, runConnectDrain } from "./connect/run.ts";
import { setupConnect } from "./connect/setup.ts";
import { flinkGuarantees, runFlinkDrain } from "./flink/run.ts";
import { setupFlink } from "./flink/setup.ts";
import type { PeerDrainResult } from "./peer_drain.ts";
import type { GuaranteeResult } from "./peer_guarantees.ts";
import { preload } from "./preload.ts";
import { createTopic, deleteTopics, type Stack } from "./stack.ts";

/** One peer's figures, shaped like `results.spark`. */
export interface PeerResults {
  /** Why it did not run, or failed. */
  skipped?: string;
  /** Versions. */
  version?: string;
  /** Events each drain stored (the peers' topic). */
  events?: number;
  /** One drain per task count. */
  drains: PeerDrainResult[];
  /** What it did with each bad event. */
  guarantees: GuaranteeResult[];
}

/** What to run. */
export interface PeerOptions {
  /** Run Kafka Connect. */
  connect: boolean;
  /** Run Flink. */
  flink: boolean;
  /** Events in the peers' topic. */
  events: number;
  /** Tasks / parallelism per drain. */
  tasks: number[];
  /** Why a peer that is off is off (for the report), by key (`connect`, `flink`). */
  offReason: (peer: string) => string;
}

/** How to run one peer, over its own install type. */
interface Peer<I> {
  label: string;
  setup: () => Promise<I>;
  version: (install: I) => string;
  drain: (install: I, topic: string, tasks: number, name: string) => Promise<PeerDrainResult>;
  guarantees: (install: I, name: string) => Promise<GuaranteeResult[]>;
}

/** Runs the peers that are on; a peer that fails is reported as skipped, with its error. */
export async function runPeers(
  stack: Stack,
  options: PeerOptions,
  name: (prefix: string) => string,
  log: (line: string) => void,
  notes: string[],
): Promise<{ connect: PeerResults; flink: PeerResults }> {
  const off = (key: string): PeerResults => ({
    skipped: options.offReason(key),
    drains: [],
    guarantees: [],
  });
  if (!options.connect && !options.flink) return { connect: off("connect"), flink: off("flink") };
  const topic = name("peers");
  const events = options.events;
  try {
    log(`peers: pre-loading ${events} canonical events into ${topic} (6 partitions)`);
    await createTopic(stack, topic, 6);
    await preload(stack, { topic, events, canonical: true });
    const run = <I>(key: string, peer: Peer<I>) =>
      runPeer(peer, topic, options.tasks, (p) => name(`${key}${p}`), events, log, notes);
    const connect = options.connect
      ? await run("connect", {
        label: "Kafka Connect",
        setup: () => setupConnect(log),
        version: (i) => i.version,
        drain: (i, t, tasks, n) => runConnectDrain(i, stack, t, events, tasks, n),
        guarantees: async (i, n) => [
          ...(await connectGuarantees(i, stack, n)),
          await connectRedelivery(i, stack, topic, events, `${n}_kill`),
        ],
      })
      : off("connect");
    const flink = options.flink
      ? await run("flink", {
        label: "Flink",
        setup: () => setupFlink(log),
        version: (i) => `Flink ${i.version}`,
        drain: (i, t, tasks, n) => runFlinkDrain(i, stack, t, events, tasks, n),
        guarantees: (i, n) => flinkGuarantees(i, stack, n),
      })
      : off("flink");
    return { connect, flink };
  } finally {
    await deleteTopics(stack, [topic]).catch(() => {});
  }
}

/** Sets up one peer, drains at each task count, then sends it the bad events. */
async function runPeer<I>(
  peer: Peer<I>,
  topic: string,
  taskCounts: number[],
  name: (suffix: string) => string,
  events: number,
  log: (line: string) => void,
  notes: string[],
): Promise<PeerResults> {
  const result: PeerResults = { drains: [], guarantees: [] };
  try {
    const install = await peer.setup();
    result.version = peer.version(install);
    result.events = events;
    for (const tasks of taskCounts) {
      log(`${peer.label}: drain, ${tasks} task(s)`);
      const drain = await peer.drain(install, topic, tasks, name(String(tasks)));
      log(`  ${drain.rowsPerS} rows/s, first row after ${drain.readyMs} ms`);
      result.drains.push(drain);
    }
    log(`${peer.label}: guarantees (bad events of the corpus)`);
    result.guarantees = await peer.guarantees(install, name("_bad"));
    for (const g of result.guarantees) log(`  ${g.kind}: ${g.seen}`);
  } catch (error) {
    const message = (error as Error).message;
    log(`${peer.label} failed: ${message}`);
    result.skipped = `failed: ${message.split("\n")[0]}`;
    notes.push(`${peer.label} peer failed: ${message.slice(0, 500)}`);
  }
  return result;
}
