/**
 * The consumer group under test: real consumer processes (consumer/main.ts), supervised the way
 * an orchestrator would (a member that exits on its own is restarted with back-off and the exit
 * is recorded), with the signals the faults need and memory sampling.
 *
 * @module
 */

import type { ExitRecord, MemorySeries } from "./_checker_runtime.ts";
import { serviceRun } from "../testing/launch.ts";
import { textLines } from "../testing/lines.ts";
import { ROOT } from "./stack.ts";

/** How members are started. */
export interface MemberSettings {
  /** Consumer environment (brokers, topic, group, database...) without the client id. */
  env: Record<string, string>;
  /** Entry point: `consumer/main.ts`, or `chaos/mutant_consumer.ts` for a planted bug. */
  entry: string;
  /** Directory for the members' logs. */
  logDir: string;
  /** Milliseconds since the run started. */
  clock: () => number;
  /** Records harness notes (start, exit) in the run log. */
  note: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Variables a child needs from the outer environment; nothing else is passed on. */
const PASSED_ON = ["PATH", "HOME", "TMPDIR", "DENO_DIR", "DENO_CERT"];

/** One slot of the group (c1, c2, ...), across its incarnations. */
export class Member {
  /** Whether the harness wants it running. */
  wanted = false;
  /** Incarnation number (client id suffix). */
  incarnation = 0;
  #child: Deno.ChildProcess | undefined;
  #exited: Promise<Deno.CommandStatus> | undefined;
  #expectExit = false;
  #paused = false;
  #restarts = 0;
  #log: Deno.FsFile | undefined;
  readonly #memory: MemorySeries[] = [];
  /** Partitions of the last join. */
  partitions: number[] = [];
  /** Counts of log lines by level. */
  readonly levels: Record<string, number> = {};
  /** Batches the fence refused to write (the stored offset had moved past them). */
  fenced = 0;
  /** HTTP port of the running incarnation, once it has logged it. */
  httpPort: number | undefined;

  /**
   * @param slot Slot name, e.g. `c1`.
   * @param settings Shared settings.
   * @param exits Where exits are recorded.
   */
  constructor(
    readonly slot: string,
    readonly settings: MemberSettings,
    readonly exits: ExitRecord[],
  ) {}

  /** `slot.incarnation`, also the consumer's client id and PostgreSQL application_name. */
  get name(): string {
    return `${this.slot}.${this.incarnation}`;
  }

  /** Whether a process runs (possibly stopped by SIGSTOP). */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Whether it is stopped by SIGSTOP. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Memory series of every incarnation. */
  get memory(): MemorySeries[] {
    return this.#memory;
  }

  /**
   * Starts a new incarnation (no-op when one runs).
   *
   * @param variant For this incarnation only: a module loaded before the consumer (`--preload`,
   *   e.g. chaos/clock_skew.ts) and variables added to its environment. A restart after a crash
   *   starts the plain consumer.
   */
  start(variant: { preload?: string; env?: Record<string, string> } = {}): void {
    this.wanted = true;
    if (this.#child !== undefined) return;
    this.incarnation++;
    this.#expectExit = false;
    this.#paused = false;
    this.partitions = [];
    this.#joinedOnce = false;
    this.httpPort = undefined;
    const env: Record<string, string> = {};
    for (const k of PASSED_ON) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    this.#log ??= Deno.openSync(`${this.settings.logDir}/${this.slot}.log`, {
      create: true,
      append: true,
    });
    const { args, env: taskEnv } = serviceRun(this.settings.entry);
    if (variant.preload !== undefined) args.splice(-1, 0, "--preload", variant.preload);
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      clearEnv: true,
      env: {
        ...taskEnv,
        ...env,
        NO_COLOR: "1",
        HTTP_PORT: "0",
        SUMMARY_INTERVAL_S: "0",
        ...this.settings.env,
        ...variant.env,
        KAFKA_CLIENT_ID: `chaos-${this.name}`,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#memory.push({ member: this.name, samples: [] });
    this.settings.note("member started", { member: this.name, pid: child.pid });
    const pumps = [this.#pump(child.stdout), this.#pump(child.stderr)];
    this.#exited = child.status.then(async (status) => {
      await Promise.allSettled(pumps);
      this.#onExit(child, status);
      return status;
    });
  }

  /** Sends a signal to the running incarnation; SIGKILL and SIGTERM make its exit expected. */
  signal(signal: Deno.Signal): void {
    if (this.#child === undefined) return;
    if (signal === "SIGKILL" || signal === "SIGTERM") this.#expectExit = true;
    if (signal === "SIGSTOP") this.#paused = true;
    if (signal === "SIGCONT") this.#paused = false;
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Stops it for good (SIGTERM, SIGKILL after `graceMs`) and resolves with its exit code. */
  async stop(graceMs = 30_000): Promise<number | null> {
    this.wanted = false;
    const child = this.#child;
    if (child === undefined) return 0;
    if (this.#paused) this.signal("SIGCONT");
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    // Its exit recorded, not only the process gone: a start() right after must start a new one.
    const status = await this.#exited!;
    clearTimeout(timer);
    return status.signal === null ? status.code : null;
  }

  /** Waits until this incarnation has joined the group (it logs every join). */
  async joined(timeoutMs = 60_000): Promise<void> {
    const incarnation = this.incarnation;
    const deadline = Date.now() + timeoutMs;
    while (!this.#joinedOnce || this.incarnation !== incarnation) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name} did not join within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #joinedOnce = false;

  /** Samples the resident memory of the running incarnation. */
  sampleMemory(): void {
    const child = this.#child;
    if (child === undefined) return;
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      if (Number.isFinite(kb)) {
        this.#memory.at(-1)!.samples.push([this.settings.clock(), kb * 1024]);
      }
    } catch { /* exited meanwhile */ }
  }

  /**
   * What the running incarnation says about itself: `/readyz` (ready or not) and the database
   * condition its `iot_consumer_database_state` gauge marks; undefined when it does not answer.
   */
  async probe(): Promise<{ ready: boolean; database: string | undefined } | undefined> {
    const port = this.httpPort;
    if (port === undefined || this.#paused) return undefined;
    const get = (path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    try {
      const readyz = await get("/readyz");
      await readyz.body?.cancel();
      const metrics = await (await get("/metrics")).text();
      const database = /^iot_consumer_database_state\{state="(\w+)"\} 1$/m.exec(metrics)?.[1];
      return { ready: readyz.status === 200, database };
    } catch {
      return undefined; // exited or restarting meanwhile
    }
  }

  #onExit(child: Deno.ChildProcess, status: Deno.CommandStatus): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#paused = false;
    this.#joinedOnce = false;
    const expected = this.#expectExit;
    this.exits.push({
      member: this.name,
      atMs: this.settings.clock(),
      code: status.code,
      expected,
    });
    this.settings.note("member exited", {
      member: this.name,
      code: status.code,
      signal: status.signal,
      expected,
    });
    if (!expected && this.wanted) {
      // What Kubernetes does with a crashed container: restart it, backing off.
      const delay = Math.min(10_000, 1000 * 2 ** this.#restarts++);
      setTimeout(() => this.wanted && this.start(), delay);
    }
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const encoder = new TextEncoder();
    for await (const line of textLines(stream)) {
      this.#log?.writeSync(encoder.encode(`${this.incarnation} ${line}\n`));
      this.#line(line);
    }
  }

  #line(text: string): void {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      this.levels.other = (this.levels.other ?? 0) + 1;
      return;
    }
    const level = String(line.level);
    this.levels[level] = (this.levels[level] ?? 0) + 1;
    if (String(line.msg).startsWith("stored offset moved past")) this.fenced++;
    if (line.msg === "http server listening") this.httpPort = Number(line.port);
    if (line.msg === "joined consumer group") {
      this.#joinedOnce = true;
      this.#restarts = 0; // healthy again: the next crash starts the back-off over
      this.partitions = (line.partitions as number[]) ?? [];
    }
  }

  /** Closes the log file. */
  close(): void {
    this.#log?.close();
    this.#log = undefined;
  }
}
