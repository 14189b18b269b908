/**
 * A bound on how long the consumer waits for PostgreSQL. A database behind a network that drops
 * packets (instead of refusing them) never answers and never errs: without a bound, a query waits
 * for the kernel to give up retransmitting (about 15 minutes on Linux) while `/readyz` says ready.
 * The server's `statement_timeout` cannot help there, since its error is a reply too.
 *
 * So every database operation races a timer. When the timer wins, the whole pool is replaced: the
 * stuck connection cannot be picked out of postgres.js's pool, and a database that ignores one
 * connection for that long is most likely ignoring the others as well. The operation fails with a
 * {@link DatabaseTimeoutError}, an infrastructure error like a lost connection: the pipeline's
 * retry loop backs off and reports it on `/readyz` until the database answers again.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { Logger } from "@iot/shared/runtime";
import type { EventStore } from "./event_store.ts";

/** The database gave no answer in time; the operation's outcome is unknown. */
export class DatabaseTimeoutError extends Error {
  /**
   * @param what The operation that timed out, for the message.
   * @param timeoutMs The bound it exceeded.
   * @param options The error that cut this operation short, if it was another that timed out.
   */
  constructor(what: string, timeoutMs: number, options?: ErrorOptions) {
    super(
      `no answer from PostgreSQL within ${timeoutMs / 1000} s (${what}); connections reset`,
      options,
    );
    this.name = "DatabaseTimeoutError";
  }
}

/**
 * Settles like `operation`, unless `timeoutMs` passes first: then calls `onExpiry` and rejects
 * with a {@link DatabaseTimeoutError}. A later settlement of `operation` is ignored.
 */
export async function withDeadline<T>(
  what: string,
  timeoutMs: number,
  operation: Promise<T>,
  onExpiry: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpiry();
      reject(new DatabaseTimeoutError(what, timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([operation, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The consumer's connection pool, replaced whole when an operation outlives its bound. */
export class DatabasePool {
  readonly #open: () => Sql;
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  #sql: Sql;
  #resetBy = "";
  /** Pools replaced so far. */
  resets = 0;

  /**
   * @param open Opens a pool (connectDatabase); called now and at every reset.
   * @param timeoutMs Longest wait for any one operation.
   * @param log Where resets are reported.
   */
  constructor(open: () => Sql, timeoutMs: number, log?: Logger) {
    this.#open = open;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
    this.#sql = open();
  }

  /** The pool in use now. Read it at each query, not once: a reset replaces it. */
  get sql(): Sql {
    return this.#sql;
  }

  /**
   * Runs `operation` on the current pool within the bound; past it, replaces the pool and throws
   * a {@link DatabaseTimeoutError}.
   */
  async run<T>(what: string, operation: (sql: Sql) => Promise<T>): Promise<T> {
    const used = this.#sql;
    try {
      return await withDeadline(
        what,
        this.#timeoutMs,
        operation(used),
        () => this.#reset(used, what),
      );
    } catch (error) {
      if (error instanceof DatabaseTimeoutError || this.#sql === used) throw error;
      // Cut short (CONNECTION_DESTROYED) by a reset that another operation's timeout caused: the
      // same cause, so /readyz, which shows the latest failure, keeps saying it.
      throw new DatabaseTimeoutError(this.#resetBy, this.#timeoutMs, { cause: error });
    }
  }

  /** Closes the current pool (see postgres.js `end`). */
  end(options?: { timeout?: number }): Promise<void> {
    return this.#sql.end(options);
  }

  #reset(stuck: Sql, what: string): void {
    // Another operation on the same pool may have replaced it already.
    if (this.#sql !== stuck) return;
    this.#sql = this.#open();
    this.#resetBy = what;
    this.resets++;
    this.#log?.warn("PostgreSQL did not answer in time; connections reset", {
      operation: what,
      timeoutMs: this.#timeoutMs,
    });
    // At once: every query still on it fails with CONNECTION_DESTROYED and is retried by its
    // caller. A socket whose farewell cannot be delivered lingers until the kernel gives up on it.
    stuck.end({ timeout: 0 }).catch(() => {});
  }
}

/**
 * `store` with every operation bounded by `pool` ({@link DatabasePool.run}).
 *
 * Retrying an operation whose outcome is unknown is safe because of the fence: a batch write
 * moves the offset only from the offset it expects. If the timed-out write committed, the retry
 * finds the offset moved and is `fenced`, and the pipeline resumes from the stored offset (the
 * batch is not written twice); if it did not commit, the retry writes it. A one-row write is
 * idempotent on the row's id, and a claim returns the stored offset whoever inserted it.
 */
export function boundedStore(store: EventStore, pool: DatabasePool): EventStore {
  return {
    claimOffset: (key, initial) => pool.run("claim offset", () => store.claimOffset(key, initial)),
    writeBatch: (batch) => pool.run("write batch", () => store.writeBatch(batch)),
    writeRow: (fence, row) => pool.run("write row", () => store.writeRow(fence, row)),
    resetOffset: (fence, to) => pool.run("reset offset", () => store.resetOffset(fence, to)),
    idKey: () => pool.run("read the derived-id key", () => store.idKey()),
  };
}
