/**
 * The one retry delay every loop of both services uses: exponential, capped, with jitter so that
 * replicas failing together (a broker or database restart) do not retry in lockstep.
 *
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import assert from "node:assert/strict";
 * const policy = { initialMs: 250, maxMs: 10_000 };
 * assert.equal(backoffDelay(policy, 1, () => 1), 500);
 * assert.equal(backoffDelay(policy, 10, () => 1), 10_000);
 * assert.equal(backoffDelay(policy, 1, () => 0), 250);
 * ```
 *
 * @module
 */

/** How delays grow. */
export interface BackoffPolicy {
  /** Delay of attempt 0, before jitter. */
  initialMs: number;
  /** Largest delay, before jitter. */
  maxMs: number;
}

/** Connection attempts of the services (Kafka, PostgreSQL at start-up, a failed send). */
export const CONNECT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000 };

/**
 * The delay before retry number `attempt` (0 for the first retry): `initialMs * 2^attempt`,
 * capped at `maxMs`, then scaled by a random factor from 0.5 to 1 ("equal jitter": never less
 * than half the nominal delay, so a retry storm stays bounded).
 *
 * @param policy Initial and largest delay.
 * @param attempt Retries so far.
 * @param random A number in [0, 1); `Math.random` outside tests.
 * @returns Milliseconds, rounded.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt));
  return Math.round(nominal * (0.5 + random() / 2));
}
