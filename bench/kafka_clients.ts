/**
 * kafkajs (unmaintained since 2023) against @platformatic/kafka under Deno, on the same
 * workloads, each in its own process (bench/kafka_client_worker.ts) so RSS and CPU are its own:
 *
 * - consume: read the pre-loaded topic from the earliest offset in a new group;
 * - produce: the producer service's pattern (500 per send, idempotent, acks=all, one in flight);
 * - produce-bulk: 5000 per send, acks=all, four in flight.
 *
 * @module
 */

import { type Footprint, FootprintSampler } from "./footprint.ts";
import type { WorkerResult } from "./kafka_client_worker.ts";
import { ROOT } from "../scripts/repo.ts";
import { createTopic, deleteTopics, type Stack } from "./stack.ts";

/** The clients compared. */
export const CLIENTS = ["kafkajs", "platformatic"] as const;

/** One client on one workload. */
export interface ClientResult extends WorkerResult {
  /** Client. */
  client: (typeof CLIENTS)[number];
  /** Workload. */
  workload: "consume" | "produce" | "produce-bulk";
  /** The worker process, whole life. */
  footprint: Footprint;
}

async function runWorker(
  client: (typeof CLIENTS)[number],
  workload: ClientResult["workload"],
  stack: Stack,
  topic: string,
  count: number,
): Promise<ClientResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}/bench/kafka_client_worker.ts`,
      client,
      workload,
      stack.kafkaBrokers,
      topic,
      String(count),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const sampler = new FootprintSampler(child.pid);
  const out = await child.output();
  const footprint = sampler.stop();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0) {
    throw new Error(
      `${client} ${workload} failed (${out.code}):\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const result = JSON.parse(text.split("\n").pop()!) as WorkerResult;
  return { client, workload, ...result, footprint };
}

/**
 * Runs both clients on the three workloads.
 *
 * @param consumeTopic The pre-loaded topic.
 * @param consumeCount Its events.
 * @param produceCount Events per produce run.
 * @param names Makes topic names for the produce runs.
 */
export async function compareKafkaClients(
  stack: Stack,
  consumeTopic: string,
  consumeCount: number,
  produceCount: number,
  names: (prefix: string) => string,
  log: (line: string) => void,
): Promise<ClientResult[]> {
  const results: ClientResult[] = [];
  const topics: string[] = [];
  try {
    for (const workload of ["consume", "produce", "produce-bulk"] as const) {
      for (const client of CLIENTS) {
        let topic = consumeTopic;
        let count = consumeCount;
        if (workload !== "consume") {
          topic = names(`${client}_${workload.replace("-", "_")}`);
          topics.push(topic);
          await createTopic(stack, topic, 6);
          count = produceCount;
        }
        const result = await runWorker(client, workload, stack, topic, count);
        log(`  ${client} ${workload}: ${result.msgsPerS} msg/s, ${result.footprint.peakRssMb} MiB`);
        results.push(result);
      }
    }
  } finally {
    await deleteTopics(stack, topics);
  }
  return results;
}
