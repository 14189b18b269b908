/**
 * What state the database is in, as the consumer's last operations found it. Two failures need a
 * person rather than patience, and are named in `/readyz`, in a metric and in error-level logs:
 * a full disk (SQLSTATE 53100) and a server that refuses writes (25006: a standby, or
 * `default_transaction_read_only`). Like any infrastructure failure they are retried until they
 * pass; nothing is skipped.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { Gauge } from "prom-client";

/** The database's state: usable, one of the named conditions, or failing some other way. */
export type DatabaseCondition = "ok" | "disk_full" | "read_only" | "failing";

/** Every condition, as the metric's `state` label takes them. */
export const DATABASE_CONDITIONS: readonly DatabaseCondition[] = [
  "ok",
  "disk_full",
  "read_only",
  "failing",
];

/** SQLSTATE of a full disk (`disk_full`). */
export const DISK_FULL_SQLSTATE = "53100";
/** SQLSTATE of a write refused by a read-only server (`read_only_sql_transaction`). */
export const READ_ONLY_SQLSTATE = "25006";

/** How often a named condition is logged again while it lasts, in milliseconds. */
export const CONDITION_LOG_INTERVAL_MS = 60_000;

/** The condition an error means (`failing` for anything but the named ones). */
export function conditionOf(error: unknown): Exclude<DatabaseCondition, "ok"> {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === DISK_FULL_SQLSTATE) return "disk_full";
  if (code === READ_ONLY_SQLSTATE) return "read_only";
  return "failing";
}

/**
 * The words for an error in `/readyz` and logs: the named conditions say what is wrong and what
 * fixes it; anything else is the error's own message.
 */
export function describeDatabaseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  switch (conditionOf(error)) {
    case "disk_full":
      return `disk full (${DISK_FULL_SQLSTATE}) — PostgreSQL cannot write; free space on its ` +
        `volume (writes are retried, nothing is skipped): ${message}`;
    case "read_only":
      return `read-only (${READ_ONLY_SQLSTATE}) — the server refuses writes (a standby, or ` +
        "default_transaction_read_only): point DATABASE_URL at the primary or lift it " +
        `(writes are retried, nothing is skipped): ${message}`;
    case "failing":
      return message;
  }
}

/**
 * The database's state as operations report it: the last outcome wins. Logs an error when a named
 * condition starts, again every {@linkcode CONDITION_LOG_INTERVAL_MS} while it lasts (not once per
 * retry of every partition), and an info line when it ends.
 */
export class DatabaseState {
  readonly #gauge: Gauge<"state">;
  readonly #log: Logger;
  readonly #now: () => number;
  #condition: DatabaseCondition = "ok";
  #problem: string | undefined;
  /** The named condition seen since the last success, and since when: other errors may follow. */
  #named: { condition: DatabaseCondition; since: number } | undefined;
  #loggedAt = 0;

  /**
   * @param gauge `iot_consumer_database_state`, 1 for the current condition and 0 for the others.
   * @param log Logger.
   * @param now The clock (tests pin it).
   */
  constructor(gauge: Gauge<"state">, log: Logger, now: () => number = Date.now) {
    this.#gauge = gauge;
    this.#log = log;
    this.#now = now;
    this.#show();
  }

  /** The current condition. */
  condition(): DatabaseCondition {
    return this.#condition;
  }

  /** Why the database is not usable now, or `undefined` when the last operation succeeded. */
  problem(): string | undefined {
    return this.#problem;
  }

  /** An operation succeeded. */
  succeeded(): void {
    if (this.#named !== undefined) {
      // Also when the last failures were others: lifting the condition often drops connections.
      this.#log.info("database accepts writes again", {
        was: this.#named.condition,
        forMs: this.#now() - this.#named.since,
      });
      this.#named = undefined;
    }
    this.#problem = undefined;
    this.#set("ok");
  }

  /**
   * An operation failed and will be retried. Returns whether the failure is one of the named
   * conditions (already logged here, so the caller need not log each retry loudly).
   */
  failed(error: unknown): boolean {
    const condition = conditionOf(error);
    this.#problem = describeDatabaseError(error);
    const changed = condition !== this.#condition;
    this.#set(condition);
    if (condition === "failing") return false;
    if (this.#named?.condition !== condition) {
      this.#named = { condition, since: this.#now() };
    }
    if (changed || this.#now() - this.#loggedAt >= CONDITION_LOG_INTERVAL_MS) {
      this.#loggedAt = this.#now();
      this.#log.error(`database ${condition.replace("_", "-")}; retrying until it passes`, {
        sqlstate: (error as { code?: string }).code,
        forMs: this.#now() - this.#named.since,
        problem: this.#problem,
      });
    }
    return true;
  }

  #set(condition: DatabaseCondition): void {
    if (condition === this.#condition) return;
    this.#condition = condition;
    this.#show();
  }

  #show(): void {
    for (const c of DATABASE_CONDITIONS) {
      this.#gauge.set({ state: c }, c === this.#condition ? 1 : 0);
    }
  }
}
