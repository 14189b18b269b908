/**
 * One run of the Spark job (bench/spark/job.py) as a measured process tree: spark-submit with
 * the connector jars, readiness from the job's own SPARK_READY line, micro-batch progress from its
 * SPARK_PROGRESS lines, RSS and CPU of the driver JVM and its Python process.
 *
 * @module
 */

import { type Footprint, FootprintSampler, processTree } from "../footprint.ts";
import { textLines } from "../../testing/lines.ts";
import { ROOT } from "../../scripts/repo.ts";
import { type Stack } from "../stack.ts";
import type { SparkInstall } from "./setup.ts";

/** Trigger and sink settings: the original's, or tuned for throughput (see job.py). */
export type SparkVariant = "default" | "tuned";

/** A running Spark job. */
export interface SparkJob {
  pid: number;
  spawnedAt: number;
  readyAt: number;
  sampler: FootprintSampler;
  progress: { rows: number; durationMs: Record<string, number> }[];
  output: string[];
  done: Promise<Deno.CommandStatus>;
}

/** Starts job.py through spark-submit and waits until its streaming query runs. */
export async function startJob(
  install: SparkInstall,
  stack: Stack,
  topic: string,
  databaseUrl: string,
  variant: SparkVariant,
  checkpoint: string,
): Promise<SparkJob> {
  const db = new URL(databaseUrl);
  const jdbc = `jdbc:postgresql://${db.hostname}:${db.port}${db.pathname}?ApplicationName=spark`;
  const spawnedAt = Date.now();
  const child = new Deno.Command(install.sparkSubmit, {
    args: [
      "--master",
      "local[*]",
      "--conf",
      "spark.ui.enabled=false",
      "--conf",
      "spark.sql.session.timeZone=UTC",
      "--driver-java-options",
      "-Duser.timezone=UTC",
      "--jars",
      install.jars.join(","),
      `${ROOT}/bench/spark/job.py`,
      "--brokers",
      stack.kafkaBrokers,
      "--topic",
      topic,
      "--jdbc-url",
      jdbc,
      "--user",
      decodeURIComponent(db.username),
      "--password",
      decodeURIComponent(db.password),
      "--checkpoint",
      checkpoint,
      "--variant",
      variant,
    ],
    env: {
      PYSPARK_PYTHON: install.python,
      PYSPARK_DRIVER_PYTHON: install.python,
      SPARK_LOCAL_IP: "127.0.0.1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const sampler = new FootprintSampler(child.pid, { tree: true });
  const job: SparkJob = {
    pid: child.pid,
    spawnedAt,
    readyAt: 0,
    sampler,
    progress: [],
    output: [],
    done: child.status,
  };
  const ready = Promise.withResolvers<void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of textLines(stream)) {
      if (line === "SPARK_READY") {
        job.readyAt = Date.now();
        ready.resolve();
      } else if (line.startsWith("SPARK_PROGRESS ")) {
        job.progress.push(JSON.parse(line.slice("SPARK_PROGRESS ".length)));
      } else {
        job.output.push(line);
        if (job.output.length > 200) job.output.shift();
      }
    }
  };
  void pump(child.stdout);
  void pump(child.stderr);
  const exited = child.status.then((s) => {
    throw new Error(
      `spark job exited (${s.code}) before ready:\n${job.output.slice(-30).join("\n")}`,
    );
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("spark job not ready after 180 s")), 180_000)
  );
  try {
    await Promise.race([ready.promise, exited, timeout]);
  } catch (error) {
    await stopJob(job);
    throw error;
  }
  exited.catch(() => {});
  return job;
}

/** SIGTERM to the driver, SIGKILL to the whole tree after 15 s. */
export async function stopJob(job: SparkJob): Promise<Footprint> {
  const footprint = job.sampler.stop();
  const tree = processTree(job.pid);
  const kill = (pid: number, signal: Deno.Signal) => {
    try {
      Deno.kill(pid, signal);
    } catch { /* gone */ }
  };
  kill(job.pid, "SIGTERM");
  const timer = setTimeout(() => tree.forEach((p) => kill(p, "SIGKILL")), 15_000);
  await job.done.catch(() => {});
  clearTimeout(timer);
  for (const pid of tree) kill(pid, "SIGKILL");
  return footprint;
}

/** Micro-batches that carried rows, and their median duration. */
export function microBatchStats(job: SparkJob): { microBatches: number; microBatchP50Ms: number } {
  const busy = job.progress.filter((p) => p.rows > 0);
  const total = busy.map((p) => p.durationMs.triggerExecution ?? 0).sort((a, b) => a - b);
  return {
    microBatches: busy.length,
    microBatchP50Ms: total.length > 0 ? total[Math.floor(total.length / 2)] : 0,
  };
}
