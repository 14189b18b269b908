/**
 * The Flink peer in `deno task bench`: bench/flink/Job.java drains the peers' topic into a fresh
 * database (the consumer's migration plus bench/peer_trigger.sql), measured like Spark
 * (bench/peer_drain.ts); then its guarantees, from a few events of the invalid-event corpus.
 *
 * @module
 */

import { measurePeerDrain, peerDatabase, type PeerDrainResult, storedRows } from "../peer_drain.ts";
import { GUARANTEE_KINDS, type GuaranteeResult, readCases, sendCases } from "../peer_guarantees.ts";
import { type PeerProcess, stopPeer } from "../peer_process.ts";
import { createTopic, deleteTopics, dropDatabases, type Stack } from "../stack.ts";
import { startFlinkJob } from "./job.ts";
import type { FlinkInstall } from "./setup.ts";

/** Drains `events` rows of `topic` at `parallelism`. */
export async function runFlinkDrain(
  install: FlinkInstall,
  stack: Stack,
  topic: string,
  events: number,
  parallelism: number,
  name: string,
): Promise<PeerDrainResult> {
  const url = await peerDatabase(stack, name);
  const scratch = await Deno.makeTempDir({ prefix: "iot-bench-flink-" });
  let job: PeerProcess | undefined;
  try {
    job = startFlinkJob(install, stack, url, topic, parallelism, name, scratch);
    return await measurePeerDrain(stack, url, job, events, parallelism);
  } finally {
    if (job) await stopPeer(job);
    await dropDatabases(stack, [name]);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/**
 * Sends each kind of GUARANTEE_KINDS between two valid events to its own partition of one topic,
 * runs the job with one subtask per partition (Flink restarts only the failed subtask's region),
 * waits until each case's valid event after the bad one is stored or `waitS` passed, and reads
 * back what was stored and how often the job logged a restart.
 */
export async function flinkGuarantees(
  install: FlinkInstall,
  stack: Stack,
  name: string,
  waitS = 40,
): Promise<GuaranteeResult[]> {
  await createTopic(stack, name, GUARANTEE_KINDS.length);
  const url = await peerDatabase(stack, name);
  const scratch = await Deno.makeTempDir({ prefix: "iot-bench-flink-" });
  let job: PeerProcess | undefined;
  try {
    const cases = await sendCases(
      stack,
      GUARANTEE_KINDS.map((kind, i) => ({ kind, topic: name, partition: i })),
    );
    const started = Date.now();
    job = startFlinkJob(install, stack, url, name, GUARANTEE_KINDS.length, name, scratch);
    while (Date.now() - started < waitS * 1000 && !job.exited) {
      await new Promise((r) => setTimeout(r, 2000));
      const stored = new Set((await storedRows(url)).map((r) => r.id));
      if (cases.every((c) => stored.has(c.ids.after))) break;
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    const restarts = job.counts.restarts;
    const exceptions = new Set(
      job.output.map((l) => l.match(/^(?:Caused by: )?[\w.]*?(\w+(?:Exception|Error))\b/)?.[1])
        .filter((e): e is string => e !== undefined && !e.startsWith("ExceptionInChained")),
    );
    return await readCases(
      url,
      cases,
      () =>
        `the job (all partitions) after ${seconds} s: ${restarts} restart/failure log lines` +
        (exceptions.size > 0 ? ` (${[...exceptions].join(", ")})` : ""),
    );
  } finally {
    if (job) await stopPeer(job);
    await dropDatabases(stack, [name]);
    await deleteTopics(stack, [name]);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}
