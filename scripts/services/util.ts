/**
 * Small process/file helpers shared by the Kafka and PostgreSQL halves of
 * scripts/services.ts. Nothing here knows about either server.
 * @module
 */

import { dirname } from "node:path";
import { run } from "../command.ts";

/** Progress goes to stderr so stdout carries only the KEY=value lines callers parse. */
export function log(component: string, message: string): void {
  console.error(`[services:${component}] ${message}`);
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
 * Runs `fn` while holding an exclusive flock on `lockFile` (a stack's .lock), so parallel test
 * processes (and a developer's terminal) never format, start or stop the same server twice.
 * flock is released by the kernel if the holder dies, so there is no stale-lock case.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(dirname(lockFile), { recursive: true });
  const file = await Deno.open(lockFile, { create: true, write: true });
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
