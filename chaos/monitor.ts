/**
 * Watches the run from outside: how long each fault takes to recover from, whether everything
 * is drained, and the members' memory.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import type postgres from "postgres";
import type { FaultRecord } from "./_checker_runtime.ts";
import type { Member } from "./members.ts";
import type { Generations } from "./generations.ts";
import { endOffsets, storedOffsets, storedTopicIds } from "./stack.ts";

/** Recovery tracking and memory sampling. */
export class Monitor {
  readonly #pending = new Set<Promise<void>>();
  readonly #memoryTimer: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(
    readonly kafka: Kafka,
    readonly sql: postgres.Sql,
    readonly group: string,
    readonly topic: string,
    readonly clock: () => number,
    members: () => Member[],
    readonly generations: Generations,
  ) {
    this.#memoryTimer = setInterval(() => members().forEach((m) => m.sampleMemory()), 2000);
  }

  /**
   * Measures a healed fault's recovery: the time until everything in the topic at the heal is
   * stored. Runs in the background; sets `record.recoveredMs`.
   */
  track(record: FaultRecord): void {
    const p = this.#measure(record).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Waits for every measurement still running, at most `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Waits until the stored offsets equal the end offsets; false after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [end, stored] = await Promise.all([
        endOffsets(this.kafka, this.topic),
        this.#stored(),
      ]).catch(() => [undefined, undefined]);
      if (end !== undefined && stored !== undefined && reached(stored, end, true)) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  /** Stops sampling and measuring. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#memoryTimer);
  }

  /**
   * The stored offsets that belong to the topic now: an offset stored with an earlier
   * generation's topic ID counts as nothing of the current log stored yet.
   */
  async #stored(): Promise<Record<number, string>> {
    const [offsets, ids, current] = await Promise.all([
      storedOffsets(this.sql, this.group, this.topic),
      storedTopicIds(this.sql, this.group, this.topic),
      this.generations.current(),
    ]);
    return Object.fromEntries(
      Object.entries(offsets).map(([p, o]) => [p, ids[Number(p)] === current ? o : "0"]),
    );
  }

  async #measure(record: FaultRecord): Promise<void> {
    let target: Record<number, string> | undefined;
    while (target === undefined && !this.#closed) {
      target = await endOffsets(this.kafka, this.topic).catch(() => undefined);
      if (target === undefined) await new Promise((r) => setTimeout(r, 250));
    }
    while (!this.#closed) {
      const stored = await this.#stored().catch(() => undefined);
      if (stored !== undefined && reached(stored, target!, false)) {
        record.recoveredMs = this.clock();
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function reached(
  stored: Record<number, string>,
  end: Record<number, string>,
  exact: boolean,
): boolean {
  return Object.entries(end).every(([p, e]) => {
    const s = BigInt(stored[Number(p)] ?? "0");
    return exact ? s === BigInt(e) : s >= BigInt(e);
  });
}
