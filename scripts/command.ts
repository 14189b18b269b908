/**
 * Runs a command to completion: the one command runner of the scripts, harnesses and test helpers.
 * @module
 */

import { textLines } from "../testing/lines.ts";

/** Result of a finished command. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** stdout then stderr, trimmed: what a message quotes. */
  output: string;
}

/** How to run it. */
export interface RunOptions {
  /** Throw when the exit code is not 0, with `what` (default: the command line) and the output. */
  check?: boolean;
  /** What the command does, for the error message of `check`. */
  what?: string;
  /** Text written to its stdin (else stdin is /dev/null). */
  stdin?: string;
  /** Working directory (default: this process's). */
  cwd?: string;
  /** Variables added to this process's environment (or the whole environment with `clearEnv`). */
  env?: Record<string, string>;
  /** Start from an empty environment instead of this process's. */
  clearEnv?: boolean;
  /** Called with each stdout line as it arrives (the lines are still in `stdout`). */
  onLine?: (line: string) => void;
}

/**
 * Runs `cmd` and returns its exit code and output. A missing program is an error naming it; a
 * failed command is an error only with `check`, and then carries the output, so the reason
 * reaches the terminal instead of being swallowed.
 *
 * @param cmd The program and its arguments.
 * @param opts See {@linkcode RunOptions}.
 */
export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  let child;
  try {
    child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: opts.cwd,
      env: opts.env,
      clearEnv: opts.clearEnv,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(`command not found: ${cmd[0]}`);
    throw err;
  }
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  // Line by line only for a listener; otherwise the exact bytes, trailing newline or not.
  const collect = async (stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void) => {
    if (!onLine) return await new Response(stream).text();
    let text = "";
    for await (const line of textLines(stream)) {
      text += line + "\n";
      onLine(line);
    }
    return text;
  };
  const [stdout, stderr, status] = await Promise.all([
    collect(child.stdout, opts.onLine),
    collect(child.stderr),
    child.status,
  ]);
  const output = (stdout + stderr).trim();
  if (opts.check && status.code !== 0) {
    throw new Error(
      `${opts.what ?? `\`${cmd.join(" ")}\``} exited with ${status.code}:\n${output}`,
    );
  }
  return { code: status.code, stdout, stderr, output };
}
