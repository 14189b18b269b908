/**
 * A wrong wall clock for one consumer incarnation of the fault-injection suite, loaded before the
 * consumer with `deno run --preload chaos/clock_skew.ts` (the `clock-skew` fault, faults.ts):
 * `Date.now()` and `new Date()` run `CHAOS_CLOCK_SKEW_MS` milliseconds off, and SIGUSR2 steps the
 * clock back to the true time, as an NTP correction would, in the middle of the process's life.
 * Monotonic time (`performance.now()`, timers) is left alone, as it is by a real wrong clock.
 * Not part of any image: the product consumer runs unchanged after it.
 *
 * @module
 */

import { createLogger } from "@iot/shared/runtime";

const log = createLogger("chaos-clock");
const given = Deno.env.get("CHAOS_CLOCK_SKEW_MS") ?? "";
const skewMs = Number(given);
if (given.trim() === "" || !Number.isInteger(skewMs)) {
  log.error(`CHAOS_CLOCK_SKEW_MS must be whole milliseconds: got "${given}"`);
  Deno.exit(2);
}

const TrueDate = Date;
let offsetMs = skewMs;

/** `Date` with the wall clock `offsetMs` off; every other use of `Date` behaves as usual. */
class SkewedDate extends TrueDate {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    super(...(args.length === 0 ? [TrueDate.now() + offsetMs] : args) as [number]);
  }

  static override now(): number {
    return TrueDate.now() + offsetMs;
  }
}

globalThis.Date = SkewedDate as DateConstructor;
Deno.addSignalListener("SIGUSR2", () => {
  const stepMs = -offsetMs;
  offsetMs = 0;
  log.warn("wall clock stepped back to the true time", { stepMs });
});
log.warn("this consumer's wall clock is deliberately wrong (fault-injection suite)", { skewMs });
