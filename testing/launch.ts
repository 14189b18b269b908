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

/** A service's launch as its deno.json task gives it. */
export interface ServiceRun {
  /** `deno run` and its arguments, the entry last. */
  args: string[];
  /**
   * The task's leading `NAME=value` assignments: settings read before any JavaScript runs (glibc
   * malloc's `MALLOC_*`), which the service cannot give itself.
   */
  env: Record<string, string>;
}

/**
 * How the deno.json task that runs `entry` (e.g. `consumer/main.ts`) starts it, so tests, the
 * fault-injection suite and the benchmark launch a service exactly as `deno task` does: same
 * permissions, same V8 flags, same start-up environment. `--no-prompt` is added: a child must never
 * wait on a permission prompt. An entry no task runs (an experimental copy of a service) gets the
 * consumer task's flags and environment.
 */
export function serviceRun(entry: string): ServiceRun {
  tasks ??= Object.values(
    JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks as Record<string, Task>,
  ).map((t) => (typeof t === "string" ? t : t.command).split(/\s+/));
  const runs = tasks.map(splitAssignments).filter(({ words }) =>
    words[0] === "deno" && words[1] === "run"
  );
  const task = runs.find(({ words }) => words.at(-1) === entry) ??
    runs.find(({ words }) => words.at(-1) === "consumer/main.ts");
  if (task === undefined) throw new Error("deno.json has no task that runs consumer/main.ts");
  return { args: ["run", "--no-prompt", ...task.words.slice(2, -1), entry], env: task.env };
}

/** The `deno run` arguments of {@linkcode serviceRun}. */
export function serviceRunArgs(entry: string): string[] {
  return serviceRun(entry).args;
}

/** A task's words apart from its leading `NAME=value` assignments. */
function splitAssignments(words: string[]): { words: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length; i++) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(words[i]);
    if (match === null) break;
    env[match[1]] = match[2];
  }
  return { words: words.slice(i), env };
}
