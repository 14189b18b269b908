/**
 * A periodic job of the consumer (retention, offline detection): run now, then every interval,
 * never two runs at once.
 *
 * @module
 */

/**
 * Runs `run` at once and then every `intervalMs`. A run still going when the next is due (a large
 * backlog, a slow database) is not doubled: that tick is skipped.
 *
 * @param run One round; it handles its own errors (a rejection would end nothing but that round).
 * @param intervalMs Milliseconds between rounds.
 * @returns Stops the timer and resolves once the round in flight, if any, has ended.
 */
export function startPeriodic(run: () => Promise<void>, intervalMs: number): () => Promise<void> {
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= run().catch(() => {}).finally(() => running = undefined);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
