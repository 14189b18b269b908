/**
 * A peer pipeline (Kafka Connect, Flink) as one measured JVM: spawned with its output kept (the
 * last lines, for errors), its RSS and CPU sampled, stopped with SIGTERM and then SIGKILL.
 *
 * @module
 */

import { type Footprint, FootprintSampler, processTree } from "./footprint.ts";
import { textLines } from "../testing/lines.ts";

/** A running peer process. */
export interface PeerProcess {
  /** Process id of the JVM. */
  pid: number;
  /** Epoch ms of the spawn. */
  spawnedAt: number;
  /** RSS/CPU of the process tree. */
  sampler: FootprintSampler;
  /** The last 300 lines of stdout and stderr. */
  output: string[];
  /** Every line seen, counted by the patterns given to {@linkcode spawnPeer}. */
  counts: Record<string, number>;
  /** Resolves when the process exits. */
  done: Promise<Deno.CommandStatus>;
  /** Set once the process exited. */
  exited?: Deno.CommandStatus;
}

/**
 * Spawns `java args` and samples it.
 *
 * @param count Name → pattern: lines matching are counted in `counts` (e.g. restarts).
 */
export function spawnPeer(
  args: string[],
  cwd: string,
  count: Record<string, RegExp> = {},
): PeerProcess {
  const spawnedAt = Date.now();
  const child = new Deno.Command("java", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const proc: PeerProcess = {
    pid: child.pid,
    spawnedAt,
    sampler: new FootprintSampler(child.pid, { tree: true }),
    output: [],
    counts: Object.fromEntries(Object.keys(count).map((k) => [k, 0])),
    done: child.status,
  };
  child.status.then((s) => (proc.exited = s));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of textLines(stream)) {
      for (const [name, re] of Object.entries(count)) if (re.test(line)) proc.counts[name]++;
      proc.output.push(line);
      if (proc.output.length > 300) proc.output.shift();
    }
  };
  void pump(child.stdout);
  void pump(child.stderr);
  return proc;
}

/** SIGTERM, SIGKILL to the whole tree after `graceMs`; the footprint of the whole run. */
export async function stopPeer(proc: PeerProcess, graceMs = 10_000): Promise<Footprint> {
  const footprint = proc.sampler.stop();
  const tree = processTree(proc.pid);
  const kill = (pid: number, signal: Deno.Signal) => {
    try {
      Deno.kill(pid, signal);
    } catch { /* gone */ }
  };
  kill(proc.pid, "SIGTERM");
  const timer = setTimeout(() => tree.forEach((p) => kill(p, "SIGKILL")), graceMs);
  await proc.done.catch(() => {});
  clearTimeout(timer);
  for (const pid of tree) kill(pid, "SIGKILL");
  return footprint;
}

/** The end of the output, for error messages. */
export function tail(proc: PeerProcess, lines = 30): string {
  return proc.output.slice(-lines).join("\n");
}

/** SIGKILL to the whole tree at once (a crash, not a shutdown); resolves when the JVM is gone. */
export async function killPeer(proc: PeerProcess): Promise<void> {
  proc.sampler.stop();
  for (const pid of processTree(proc.pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  await proc.done.catch(() => {});
}
