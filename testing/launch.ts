/**
 * How services are launched as child processes, read from deno.json.
 *
 * @module
 */

import { ROOT } from "../scripts/repo.ts";

/** A deno.json task: a command, or an object with a command and a description. */
type Task = string | { command: string; description?: string };

/** deno.json's tasks split into words, read on first use. */
let tasks: string[][] | undefined;

/**
 * The `deno run` arguments of the deno.json task that runs `entry` (e.g. `consumer/main.ts`), so
 * tests, the fault-injection suite and the benchmark launch a service exactly as `deno task`
 * does: same permissions, same V8 flags. `--no-prompt` is added: a child must never wait on a
 * permission prompt. An entry no task runs (an experimental copy of a service) gets the consumer
 * task's flags.
 */
export function serviceRunArgs(entry: string): string[] {
  tasks ??= Object.values(
    JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks as Record<string, Task>,
  ).map((t) => (typeof t === "string" ? t : t.command).split(/\s+/));
  const task = tasks.find((t) => t[0] === "deno" && t[1] === "run" && t.at(-1) === entry) ??
    tasks.find((t) => t[0] === "deno" && t[1] === "run" && t.at(-1) === "consumer/main.ts");
  if (task === undefined) throw new Error("deno.json has no task that runs consumer/main.ts");
  return ["run", "--no-prompt", ...task.slice(2, -1), entry];
}
