/**
 * The producer's loop: paces readings at a rate, mixes in invalid ones, sends them in batches,
 * and stops on a count, a duration or a request. Sending is injected, so the loop is tested
 * without Kafka.
 *
 * @module
 */

import { canonicalOf, type Fleet } from "./fleet.ts";
import { breakEvent, type InvalidKind } from "./invalid.ts";

/** A message ready for Kafka. */
export interface OutgoingMessage {
  /** Device id (partitioning key). */
  key: string;
  /** JSON text. */
  value: string;
}

/** How the loop runs. */
export interface EmitterOptions {
  /** Events per second. */
  rate: number;
  /** Stop after this many events; 0 = no limit. */
  count: number;
  /** Stop after this many ms; 0 = no limit. */
  durationMs: number;
  /** Share of invalid events, 0 to 1. */
  invalidRatio: number;
  /** Most messages per send. */
  batchSize: number;
}

/** Totals of a run. */
export interface EmitterTotals {
  /** Events sent (valid and invalid). */
  sent: number;
  /** Invalid events among them, by kind. */
  invalid: Partial<Record<InvalidKind, number>>;
}

/** Cuts every wait short when the loop is asked to stop. */
export interface StopSignal {
  /** Whether a stop was requested. */
  readonly stopped: boolean;
  /** Resolves when a stop is requested. */
  readonly promise: Promise<void>;
}

/**
 * Runs the loop until a limit is reached or `stop` fires. `send` must not return before Kafka
 * acknowledged the batch: the loop is paced by it, and "sent" counts only acknowledged events.
 *
 * @param fleet The simulated fleet.
 * @param options Rate and limits.
 * @param send Sends one batch; may throw, and is then retried by the caller's implementation.
 * @param stop Stop request.
 * @param clock Milliseconds now (tests drive it).
 */
export async function runEmitter(
  fleet: Fleet,
  options: EmitterOptions,
  send: (messages: OutgoingMessage[]) => Promise<void>,
  stop: StopSignal,
  clock: () => number = Date.now,
): Promise<EmitterTotals> {
  const totals: EmitterTotals = { sent: 0, invalid: {} };
  const started = clock();
  const tickMs = Math.max(10, Math.min(200, 1000 / options.rate));
  // The most this run sends: the count, or every event due before the deadline (k / rate < D).
  const limit = Math.min(
    options.count > 0 ? options.count : Infinity,
    options.durationMs > 0 ? Math.ceil((options.durationMs / 1000) * options.rate) : Infinity,
  );
  while (!stop.stopped && totals.sent < limit) {
    const elapsed = clock() - started;
    // Event k is due at k / rate seconds; the first goes out at once.
    const dueNow = elapsed >= options.durationMs && options.durationMs > 0
      ? limit
      : Math.floor((elapsed / 1000) * options.rate) + 1;
    let due = Math.min(dueNow, limit) - totals.sent;
    while (due > 0 && !stop.stopped) {
      const size = Math.min(due, options.batchSize);
      const batch = Array.from(
        { length: size },
        () => nextMessage(fleet, options, totals, clock()),
      );
      await send(batch);
      totals.sent += size;
      due -= size;
    }
    if (totals.sent >= limit) break;
    await Promise.race([stop.promise, new Promise((r) => setTimeout(r, tickMs))]);
  }
  return totals;
}

function nextMessage(
  fleet: Fleet,
  options: EmitterOptions,
  totals: EmitterTotals,
  nowMs: number,
): OutgoingMessage {
  const reading = fleet.nextReading(nowMs);
  if (
    options.invalidRatio > 0 && fleet.faker.number.float({ min: 0, max: 1 }) < options.invalidRatio
  ) {
    // Broken from the canonical form, so each kind breaks the field it names.
    const broken = breakEvent(canonicalOf(reading.payload), fleet.faker);
    totals.invalid[broken.kind] = (totals.invalid[broken.kind] ?? 0) + 1;
    return { key: reading.key, value: broken.value };
  }
  return { key: reading.key, value: JSON.stringify(reading.payload) };
}
