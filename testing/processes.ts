/**
 * Helpers for integration tests that run the real services as separate processes, the way an
 * orchestrator does: start with an environment, read the JSON log lines, probe the HTTP
 * endpoints, stop with SIGTERM or kill with SIGKILL.
 *
 * @module
 */

import type postgres from "postgres";
import { ROOT } from "../scripts/repo.ts";
import * as admin from "../scripts/services/admin.ts";
import { serviceRun } from "./launch.ts";
import { textLines } from "./lines.ts";
import { kafkaClient } from "./services.ts";

/** A service running as a child process. */
export class ServiceProcess {
  /** Every JSON log line so far, parsed. */
  readonly logs: Record<string, unknown>[] = [];
  /** Lines that were not JSON (should stay empty). */
  readonly otherOutput: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #port = Promise.withResolvers<number>();
  readonly #pumps: Promise<void>[];
  readonly #listeners: ((line: Record<string, unknown>) => void)[] = [];

  /**
   * Starts `deno run` on `entry` (e.g. "consumer/main.ts") with the flags and start-up
   * environment of its deno.json task ({@linkcode serviceRun}), and `env` on top of a minimal
   * environment.
   */
  constructor(entry: string, env: Record<string, string>) {
    const run = serviceRun(entry);
    this.#child = new Deno.Command(Deno.execPath(), {
      args: run.args,
      cwd: ROOT,
      env: { ...run.env, HTTP_PORT: "0", SUMMARY_INTERVAL_S: "0", NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = [this.#pump(this.#child.stdout), this.#pump(this.#child.stderr)];
  }

  /** Process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The HTTP port the service bound (it logs it at start). */
  port(): Promise<number> {
    return this.#port.promise;
  }

  /** Sends a signal. */
  signal(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /**
   * Waits for the exit, after all output was read. A process still running after `timeoutMs` is
   * killed (SIGKILL) and the wait throws with its last log lines: a service that ignores SIGTERM
   * (its shutdown deadline is 25 s by default) must fail the test, not hang the whole run.
   */
  async exited(timeoutMs = 90_000): Promise<Deno.CommandStatus> {
    const exit = (async () => {
      const status = await this.#child.status;
      await Promise.all(this.#pumps);
      return status;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<"overdue">((resolve) => {
      timer = setTimeout(() => resolve("overdue"), timeoutMs);
    });
    const first = await Promise.race([exit, overdue]).finally(() => clearTimeout(timer));
    if (first !== "overdue") return first;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    const last = this.logs.slice(-5).map((l) => JSON.stringify(l)).join("\n  ");
    throw new Error(
      `pid ${this.pid} still running after ${timeoutMs} ms (killed it); its last log lines:\n  ${last}`,
    );
  }

  /** Resolves with the first log line (past or future) that `match` accepts. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const found = this.logs.find(match);
    if (found) return Promise.resolve(found);
    return withTimeout(
      new Promise((resolve) => {
        this.#listeners.push((line) => match(line) && resolve(line));
      }),
      timeoutMs,
      "log line",
    );
  }

  /**
   * GET on the service's HTTP port. Fails after `timeoutMs` without an answer (a service whose
   * event loop is stuck accepts the connection and never replies) instead of waiting for ever.
   */
  async get(path: string, timeoutMs = 15_000): Promise<Response> {
    const port = await withTimeout(this.port(), timeoutMs, `pid ${this.pid}'s HTTP port`);
    try {
      return await fetch(`http://127.0.0.1:${port}${path}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if ((error as Error).name !== "TimeoutError") throw error;
      throw new Error(`GET ${path} on pid ${this.pid}: no answer within ${timeoutMs} ms`);
    }
  }

  /** The value of an unlabelled series on `/metrics` (0 when absent). */
  async metric(name: string): Promise<number> {
    const text = await (await this.get("/metrics")).text();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return sum;
  }

  /** Kills the process if it still runs and waits for it (for test clean-up). */
  async dispose(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.exited();
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const line of textLines(stream)) this.#line(line);
  }

  #line(text: string): void {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      this.otherOutput.push(text);
      return;
    }
    this.logs.push(line);
    if (line.msg === "http server listening") this.#port.resolve(line.port as number);
    for (const listener of this.#listeners) listener(line);
  }
}

/** Starts the consumer against `topic` and `databaseUrl`; waits until it has joined the group. */
export async function startConsumer(
  env:
    & { KAFKA_BROKERS: string; KAFKA_TOPIC: string; DATABASE_URL: string }
    & Record<
      string,
      string
    >,
): Promise<ServiceProcess> {
  const consumer = new ServiceProcess("consumer/main.ts", env);
  await consumer.waitForLog((l) => l.msg === "joined consumer group");
  return consumer;
}

/** Sum of the partitions' end offsets of `topic` on the fixture's cluster. */
export async function endOffsetTotal(topic: string): Promise<bigint> {
  return admin.endOffsetTotal(await kafkaClient("iot-test-offsets"), topic);
}

/**
 * Waits until the offsets the consumer stored in PostgreSQL reach the end of every partition,
 * i.e. everything produced so far was processed. Fails after `timeoutMs` saying how far it got.
 */
export async function waitForDrain(
  sql: postgres.Sql,
  groupId: string,
  topic: string,
  timeoutMs = 120_000,
): Promise<void> {
  const target = await endOffsetTotal(topic);
  await admin.waitForDrain(sql, { groupId, topic, target, timeoutMs });
}

/** Polls `probe` until it returns true. */
export async function eventually(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
