/**
 * Paces the consumer's offset commits to Kafka. PostgreSQL holds the offsets that matter (the
 * fenced write moves them); Kafka's committed offsets are a hint, for lag tools and for where a
 * new member starts fetching. kafkajs with `autoCommit` sends an OffsetCommit after every batch,
 * i.e. one per partition per fetch: at 1,000 events/s that was most of the consumer's requests to
 * Kafka, each a socket write and a log append on the broker. This sends the newest resolved offset
 * of each partition at most once per interval, and once more when the consumer stops.
 *
 * What the hint may then lag by, and why that is safe: a member that starts from an older
 * committed offset fetches records PostgreSQL holds already and skips them (pipeline.ts).
 *
 * @module
 */

/** One partition's offset to commit: the next offset to read, as Kafka stores it. */
export interface PartitionOffset {
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
  /** The offset after the last resolved record. */
  offset: string;
}

/** What the pacer needs from the world (tests drive a fake clock and timers). */
export interface CommitDeps {
  /** Sends the offsets to Kafka. */
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Told when a commit failed; the offsets are sent again with the next one. */
  onError(error: unknown): void;
  /** Milliseconds now. @default {performance.now} */
  now?: () => number;
  /** Runs `run` after `ms` milliseconds; returns a function that cancels it. */
  schedule?: (run: () => void, ms: number) => () => void;
}

/** Commits resolved offsets to Kafka at most once per interval (see the module doc). */
export class KafkaCommits {
  readonly #intervalMs: number;
  readonly #deps: CommitDeps;
  readonly #pending = new Map<string, PartitionOffset>();
  #last = -Infinity;
  #cancel: (() => void) | undefined;
  #inFlight: Promise<void> | undefined;

  /**
   * @param intervalMs Least time between two commits.
   * @param deps Kafka, error reporting, clock and timers.
   */
  constructor(intervalMs: number, deps: CommitDeps) {
    this.#intervalMs = intervalMs;
    this.#deps = deps;
  }

  /** Records that `offset` of the partition is done: the next commit sends `offset + 1`. */
  resolved(topic: string, partition: number, offset: string): void {
    const next = (BigInt(offset) + 1n).toString();
    this.#pending.set(`${topic}\u0000${partition}`, { topic, partition, offset: next });
  }

  /** Commits now if the interval has passed since the last commit; else makes sure one follows. */
  commitSoon(): Promise<void> {
    if (this.#pending.size === 0 || this.#cancel !== undefined) return Promise.resolve();
    const wait = this.#last + this.#intervalMs - this.#now();
    if (wait <= 0) return this.flush();
    const schedule = this.#deps.schedule ?? defaultSchedule;
    this.#cancel = schedule(() => {
      this.#cancel = undefined;
      void this.flush();
    }, wait);
    return Promise.resolve();
  }

  /**
   * Forgets offsets of partitions this member no longer has (after a rebalance): committing them
   * could move back what their new owner committed.
   */
  retain(topic: string, partitions: readonly number[]): void {
    const kept = new Set(partitions);
    for (const [key, pending] of this.#pending) {
      if (pending.topic !== topic || !kept.has(pending.partition)) this.#pending.delete(key);
    }
  }

  /** Sends every pending offset now (waits for a commit already under way first). */
  async flush(): Promise<void> {
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#inFlight;
    if (this.#pending.size === 0) return;
    const offsets = [...this.#pending.values()];
    this.#pending.clear();
    this.#last = this.#now();
    this.#inFlight = this.#deps.commit(offsets).catch((error) => {
      // Sent again with the next commit, unless a newer offset of the partition came meanwhile.
      for (const o of offsets) {
        const key = `${o.topic}\u0000${o.partition}`;
        if (!this.#pending.has(key)) this.#pending.set(key, o);
      }
      this.#deps.onError(error);
    });
    await this.#inFlight;
  }

  /** Cancels the scheduled commit (the consumer is stopping and has flushed). */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /**
   * The last commit of a stopping consumer: sends what is pending, waiting at most `timeoutMs`
   * (Kafka may be down, and a stop must not wait out its retries), then closes.
   */
  async finish(timeoutMs: number): Promise<void> {
    let cancelDeadline: (() => void) | undefined;
    const deadline = new Promise<void>((resolve) => {
      cancelDeadline = (this.#deps.schedule ?? defaultSchedule)(resolve, timeoutMs);
    });
    await Promise.race([this.flush(), deadline]);
    cancelDeadline?.();
    this.close();
  }

  #now(): number {
    return this.#deps.now?.() ?? performance.now();
  }
}

function defaultSchedule(run: () => void, ms: number): () => void {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
}
