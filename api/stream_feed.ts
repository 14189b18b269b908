/**
 * The live stream's one reader per process: it reads the tables' changes since its last
 * position, woken by NOTIFY at a commit (or only by its timer, `STREAM_WAKE=poll`), at most once
 * per `STREAM_INTERVAL_MS` and at least once per `STREAM_POLL_INTERVAL_MS`, and hands each batch
 * to every connected client. The interval is also the readings' sampling period: a device gets
 * at most one reading event per batch. The feed keeps the last minute's row counts, for the
 * fleet's rows per second.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { FeedChanges, FeedSource } from "./feed_reader.ts";
import type { FeedBatch } from "./sse.ts";

/** How the feed wakes. */
export const STREAM_WAKES = ["notify", "poll"] as const;

/** `STREAM_WAKE`. */
export type StreamWake = typeof STREAM_WAKES[number];

/** The feed's timing. */
export interface FeedOptions {
  /** `STREAM_WAKE`: by NOTIFY and timer, or by timer only. */
  wake: StreamWake;
  /** `STREAM_INTERVAL_MS`: least time between two reads. */
  minIntervalMs: number;
  /** `STREAM_POLL_INTERVAL_MS`: most time between two reads. */
  pollIntervalMs: number;
}

/** A client's subscription. */
export interface Subscription {
  /** The feed's position when subscribed: every later batch starts there or after. */
  at: string;
  /** Stops the deliveries. */
  unsubscribe(): void;
}

/** Rows per second over a window, from the batches the feed read. */
export interface Rate {
  /** Readings committed per second. */
  rows_per_second: number;
  /** The window it covers, in seconds (shorter while the api has not run a minute). */
  window_s: number;
}

/** The reader and fan-out of the live stream. */
export class StreamFeed {
  readonly #source: FeedSource;
  readonly #options: FeedOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #subscribers = new Map<(batch: FeedBatch) => void, () => void>();
  readonly #counts: { at: number; rows: number }[] = [];
  #position: string | undefined;
  #problem: string | undefined = "not read yet";
  #stopped = false;
  #woken = false;
  #wake: () => void = () => {};
  #loop: Promise<void> | undefined;
  #unlisten: () => Promise<void> = async () => {};
  #startedAt: number;

  /**
   * @param source The tables (or a fake).
   * @param options Wake mode and intervals.
   * @param log For read failures.
   * @param now Milliseconds clock (tests pass a fake).
   */
  constructor(source: FeedSource, options: FeedOptions, log: Logger, now = Date.now) {
    this.#source = source;
    this.#options = options;
    this.#log = log;
    this.#now = now;
    this.#startedAt = now();
  }

  /**
   * Starts reading; with `notify`, listens first (a failed LISTEN leaves polling alone).
   * Resolves after the first read (see {@linkcode StreamFeed.problem} for how it went).
   */
  async start(): Promise<void> {
    if (this.#options.wake === "notify") {
      try {
        this.#unlisten = await this.#source.listen(() => this.wake());
      } catch (error) {
        this.#log.warn("stream: LISTEN failed; polling only", { error });
      }
    }
    const first = Promise.withResolvers<void>();
    this.#loop = this.#run(first.resolve);
    await first.promise;
  }

  /** Asks for a read as soon as the minimum interval allows. */
  wake(): void {
    this.#woken = true;
    this.#wake();
  }

  /** Why the feed cannot serve, or `undefined`. */
  problem(): string | undefined {
    return this.#problem;
  }

  /** The position of the last read, once there was one. */
  position(): string | undefined {
    return this.#position;
  }

  /**
   * Delivers every batch read from now on to `deliver`, and calls `end` when the feed stops;
   * throws before the first read.
   */
  subscribe(deliver: (batch: FeedBatch) => void, end: () => void = () => {}): Subscription {
    if (this.#position === undefined) throw new Error(`stream not ready: ${this.#problem}`);
    this.#subscribers.set(deliver, end);
    return { at: this.#position, unsubscribe: () => this.#subscribers.delete(deliver) };
  }

  /** Clients subscribed. */
  clients(): number {
    return this.#subscribers.size;
  }

  /** Rows per second over the last `windowMs`, or `undefined` before any read. */
  rate(windowMs = 60_000): Rate | undefined {
    const now = this.#now();
    const since = Math.max(now - windowMs, this.#startedAt);
    if (this.#counts.length === 0 || now <= since) return undefined;
    let rows = 0;
    for (const c of this.#counts) if (c.at > since) rows += c.rows;
    const window = (now - since) / 1000;
    return { rows_per_second: rows / window, window_s: window };
  }

  /** Stops reading and listening, and ends every subscription. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake();
    await this.#loop;
    await this.#unlisten().catch(() => {});
    const ends = [...this.#subscribers.values()];
    this.#subscribers.clear();
    for (const end of ends) end();
  }

  async #run(firstRead: () => void): Promise<void> {
    while (!this.#stopped) {
      const started = this.#now();
      this.#woken = false;
      try {
        this.#publish(await this.#source.read(this.#position));
        this.#problem = undefined;
      } catch (error) {
        this.#problem = `reading the tables failed: ${(error as Error).message}`;
        this.#log.warn("stream: read failed; retrying", { error });
      }
      firstRead();
      await this.#pause(started);
    }
  }

  #publish(changes: FeedChanges): void {
    const first = this.#position === undefined;
    this.#position = changes.to;
    if (first) return; // the starting position: nothing before it is the stream's
    const now = this.#now();
    this.#counts.push({ at: now, rows: changes.rows });
    while (this.#counts.length > 0 && this.#counts[0].at < now - 120_000) this.#counts.shift();
    if (changes.readings.length === 0 && changes.alerts.length === 0) return;
    const batch: FeedBatch = {
      from: changes.from,
      to: changes.to,
      readings: changes.readings,
      alerts: changes.alerts,
    };
    for (const deliver of this.#subscribers.keys()) deliver(batch);
  }

  /** Waits until woken and the minimum interval passed, or the poll interval passed. */
  async #pause(started: number): Promise<void> {
    const { minIntervalMs, pollIntervalMs } = this.#options;
    while (!this.#stopped) {
      const elapsed = this.#now() - started;
      if (elapsed >= pollIntervalMs || (this.#woken && elapsed >= minIntervalMs)) return;
      const wait = this.#woken ? minIntervalMs - elapsed : pollIntervalMs - elapsed;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = () => {};
    }
  }
}
