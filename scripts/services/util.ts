/**
 * Small process/file helpers shared by the Kafka and PostgreSQL halves of
 * scripts/services.ts. Nothing here knows about either server.
 * @module
 */

import { fileURLToPath } from "node:url";

/** Repository root, derived from this file so the scripts work from any cwd and any clone. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
/** Everything downloaded or generated lives under the git-ignored .cache/. */
export const CACHE_DIR = `${ROOT}/.cache`;
/**
 * Server data, logs and pid files. SERVICES_DIR moves them, so a suite that kills servers (the
 * fault-injection run) can have its own pair on other ports, apart from the developer's.
 */
export const SERVICES_DIR = Deno.env.get("SERVICES_DIR") || `${CACHE_DIR}/services`;

/** Progress goes to stderr so stdout carries only the KEY=value lines callers parse. */
export function log(component: string, message: string): void {
  console.error(`[services:${component}] ${message}`);
}

/** Reads a TCP port from the environment; an invalid value is a hard error naming the variable. */
export function envPort(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new Error(`invalid ${name}=${JSON.stringify(raw)}: expected a port number 1..65535`);
  }
  return port;
}

/** Result of a finished command. */
export interface RunResult {
  code: number;
  output: string;
}

/**
 * Runs a command to completion and returns its exit code and combined output.
 * Throws only when `check` is set and the command fails, with the output in the message
 * so the reason reaches the terminal instead of being swallowed.
 */
export async function run(
  cmd: string[],
  opts: { check?: boolean; stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  let child;
  try {
    child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: opts.cwd,
      env: opts.env,
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
  const out = await child.output();
  const dec = new TextDecoder();
  const output = (dec.decode(out.stdout) + dec.decode(out.stderr)).trim();
  if (opts.check && out.code !== 0) {
    throw new Error(`\`${cmd.join(" ")}\` exited with ${out.code}:\n${output}`);
  }
  return { code: out.code, output };
}

/**
 * True when `pid` is a live process. Zombies count as dead: PID 1 in some containers does
 * not reap orphans, and a killed-but-unreaped server must not look "still running".
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 3 (after the parenthesised command name) is the state letter.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The command line of `pid` with NULs as spaces, or "" if it is gone. */
export function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Reads a pid file; undefined when missing or garbage. */
export function readPid(path: string): number | undefined {
  try {
    const pid = parseInt(Deno.readTextFileSync(path).trim().split("\n")[0], 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `pid` is gone; returns false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

/**
 * Last `lines` lines of a log file, for error messages that point at it. `fromByte` skips
 * what earlier runs wrote, so a failed start shows its own lines, not the last shutdown's.
 */
export function tail(path: string, lines = 25, fromByte = 0): string {
  try {
    const text = new TextDecoder().decode(Deno.readFileSync(path).subarray(fromByte)).trimEnd();
    return text ? text.split("\n").slice(-lines).join("\n") : "(empty)";
  } catch {
    return "(no log yet)";
  }
}

/** Current size of a file (0 if missing): a mark for `tail(path, n, mark)`. */
export function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Rejects after `ms` if `p` has not settled; client libraries sometimes hang on odd peers. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `fn` while holding an exclusive flock on .cache/services/.lock, so parallel test
 * processes (and a developer's terminal) never format, start or stop the same server twice.
 * flock is released by the kernel if the holder dies, so there is no stale-lock case.
 */
export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(SERVICES_DIR, { recursive: true });
  const file = await Deno.open(`${SERVICES_DIR}/.lock`, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close(); // closing the descriptor drops the flock
  }
}

/** Fails early, with a useful message, when something else holds one of our ports. */
export function assertPortFree(port: number, envName: string, what: string): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch {
    throw new Error(
      `port ${port} (${envName}) is in use by something that is not ${what}; ` +
        `free it or set ${envName} to another port`,
    );
  }
}

/** The java binary (JAVA_HOME wins) after checking its major version is at least `min`. */
export async function javaBinary(min: number, forWhat: string): Promise<string> {
  const home = Deno.env.get("JAVA_HOME");
  const bin = home ? `${home}/bin/java` : "java";
  const { output } = await run([bin, "-version"]).catch(() => {
    throw new Error(
      `${bin} not found: install a Java ${min}+ runtime ` +
        `(Debian: openjdk-17-jre-headless or default-jre-headless)`,
    );
  });
  const major = Number(/version "(\d+)/.exec(output)?.[1] ?? 0);
  if (major < min) throw new Error(`${forWhat} needs Java ${min}+, ${bin} is: ${output}`);
  return bin;
}
