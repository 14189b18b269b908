/**
 * The Flink peer's process: bench/flink/Job.java in a plain `java` (a local MiniCluster in one
 * JVM, how a small job runs on one machine without operating a cluster), with its REST endpoint
 * on loopback at FLINK_REST_PORT.
 *
 * @module
 */

import { type PeerProcess, spawnPeer } from "../peer_process.ts";
import type { Stack } from "../stack.ts";
import type { FlinkInstall } from "./setup.ts";

/** The local cluster's REST port (the peers' range 34000-34999 unless FLINK_REST_PORT moves it). */
export const FLINK_REST_PORT = Number(Deno.env.get("FLINK_REST_PORT") ?? 34081);

/** Checkpoint interval: offsets are committed to Kafka on checkpoints, after the sink flushed. */
const CHECKPOINT_MS = 5000;

/** Lines that tell a failed task or job is being restarted (counted for the guarantees). */
export const RESTART_LINE = /switched from state \w+ to RESTARTING|Restarting|to FAILED/;

/** Starts the job on `topic` at `parallelism`, writing into the database at `url`. */
export function startFlinkJob(
  install: FlinkInstall,
  stack: Stack,
  url: string,
  topic: string,
  parallelism: number,
  group: string,
  scratch: string,
): PeerProcess {
  const db = new URL(url);
  return spawnPeer(
    [
      "-cp",
      install.classpath,
      "-Duser.timezone=UTC",
      "Job",
      stack.kafkaBrokers,
      topic,
      `jdbc:postgresql://${db.hostname}:${db.port}${db.pathname}`,
      decodeURIComponent(db.username),
      decodeURIComponent(db.password),
      String(parallelism),
      String(CHECKPOINT_MS),
      group,
      String(FLINK_REST_PORT),
    ],
    scratch,
    { restarts: RESTART_LINE },
  );
}
