/**
 * The live progress line of `deno task up`: rows/s, rows stored, rejects and alerts from the
 * consumers' `/metrics`, and lag and drain from Kafka's end offsets against the offsets the
 * consumers stored. Nothing here counts table rows, and a tick starts only after the last one
 * ended, so a slow database or broker slows the line down instead of piling up queries.
 *
 * @module
 */

/** One reading of the pipeline. */
export interface ProgressSample {
  /** When it was taken, in milliseconds (`performance.now()`). */
  at: number;
  /** Rows inserted, summed over the consumers (`iot_consumer_rows_written_total`). */
  written: number;
  /** Messages sent to the reject table (`iot_consumer_events_rejected_total`). */
  rejected: number;
  /** Inserted rows that raised an alert (`iot_consumer_alerts_total`). */
  alerts: number;
  /** Sum of the topic's partition end offsets; `undefined` when Kafka did not answer. */
  endOffset?: number;
  /** Sum of the next offsets stored in PostgreSQL; `undefined` when it did not answer. */
  storedOffset?: number;
  /** Services whose `/readyz` answered 200. */
  ready: number;
  /** Services asked. */
  services: number;
}

/**
 * Sums every sample of each metric in a Prometheus text exposition, over all label sets.
 *
 * @example
 * ```ts
 * import { sumMetrics } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const text = 'r_total{reason="a"} 2\nr_total{reason="b"} 3\n# TYPE x gauge\nx 1\n';
 * assert.deepEqual(sumMetrics(text), { r_total: 5, x: 1 });
 * ```
 */
export function sumMetrics(text: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (name !== undefined && Number.isFinite(value)) sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}

/**
 * The progress line for `current`.
 *
 * - rate: rows written per second since `previous` (0 on the first line, never negative: a
 *   restarted consumer starts its counters again);
 * - lag: messages in Kafka not yet stored;
 * - drained: the share of this run's work done, `(stored - stored at start) / (end - stored at
 *   start)`, rounded down so that 100% means nothing is left.
 *
 * @param first The run's first sample.
 * @param previous The sample before `current`, if any.
 * @param current The newest sample.
 */
export function formatProgress(
  first: ProgressSample,
  previous: ProgressSample | undefined,
  current: ProgressSample,
): string {
  const elapsed = Math.round((current.at - first.at) / 1000);
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000;
  const rate = seconds > 0
    ? Math.max(0, Math.round((current.written - previous!.written) / seconds))
    : 0;
  const parts = [
    `[${elapsed}s] ${rate} rows/s`,
    `stored ${current.written}`,
    `rejected ${current.rejected}`,
    `alerts ${current.alerts}`,
    `lag ${lagOf(current) ?? "?"}`,
    `drained ${drainedOf(first, current) ?? "?"}`,
    `ready ${current.ready}/${current.services}`,
  ];
  return parts.join(" · ");
}

function lagOf(sample: ProgressSample): number | undefined {
  if (sample.endOffset === undefined || sample.storedOffset === undefined) return undefined;
  return Math.max(0, sample.endOffset - sample.storedOffset);
}

function drainedOf(first: ProgressSample, current: ProgressSample): string | undefined {
  const start = first.storedOffset ?? 0;
  if (current.endOffset === undefined || current.storedOffset === undefined) return undefined;
  const work = current.endOffset - start;
  if (work <= 0) return "100%";
  const share = Math.min(1, Math.max(0, (current.storedOffset - start) / work));
  return `${(Math.floor(share * 1000) / 10).toFixed(1)}%`;
}

/** What the progress loop reads; `up.ts` wires them to HTTP, Kafka and PostgreSQL. */
export interface ProgressSources {
  /** The text of each consumer's `/metrics`; `undefined` for one that did not answer. */
  consumerMetrics(): Promise<(string | undefined)[]>;
  /** Which services answered `/readyz` with 200. */
  readiness(): Promise<boolean[]>;
  /** Sum of the topic's end offsets. */
  endOffset(): Promise<number>;
  /** Sum of the stored next offsets. */
  storedOffset(): Promise<number>;
}

/** A running progress loop. */
export interface Progress {
  /** Reads once more and returns the line (the final line, after the loop stopped). */
  line(): Promise<string>;
  /** Ends the loop and waits for its tick in flight. */
  stop(): Promise<void>;
}

/**
 * Reads a sample, shows its line, sleeps `everyMs`, and again, until stopped. A consumer that
 * does not answer counts with its last values, so totals do not dip while it restarts.
 *
 * @param sources What to read.
 * @param show Shows one line (rewrites the terminal line, or logs it).
 * @param everyMs The pause between the end of a tick and the start of the next.
 */
export function startProgress(
  sources: ProgressSources,
  show: (line: string) => void | Promise<void>,
  everyMs = 1000,
): Progress {
  const lastSeen: Record<string, number>[] = [];
  let first: ProgressSample | undefined;
  let previous: ProgressSample | undefined;
  const read = async (): Promise<ProgressSample> => {
    const [texts, ready, endOffset, storedOffset] = await Promise.all([
      sources.consumerMetrics(),
      sources.readiness(),
      sources.endOffset().catch(() => undefined),
      sources.storedOffset().catch(() => undefined),
    ]);
    texts.forEach((text, i) => {
      if (text !== undefined) lastSeen[i] = sumMetrics(text);
    });
    const total = (name: string) => lastSeen.reduce((n, sums) => n + (sums?.[name] ?? 0), 0);
    return {
      at: performance.now(),
      written: total("iot_consumer_rows_written_total"),
      rejected: total("iot_consumer_events_rejected_total"),
      alerts: total("iot_consumer_alerts_total"),
      endOffset,
      storedOffset,
      ready: ready.filter(Boolean).length,
      services: ready.length,
    };
  };
  const line = async () => {
    const current = await read();
    first ??= current;
    // Drain is measured from the first stored offsets known (PostgreSQL may answer late).
    if (first.storedOffset === undefined) first = { ...first, storedOffset: current.storedOffset };
    const text = formatProgress(first, previous, current);
    previous = current;
    return text;
  };
  const stopped = Promise.withResolvers<void>();
  let running = true;
  const loop = (async () => {
    while (running) {
      await show(await line());
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([stopped.promise, new Promise((r) => timer = setTimeout(r, everyMs))]);
      clearTimeout(timer);
    }
  })();
  return {
    line,
    stop: async () => {
      running = false;
      stopped.resolve();
      await loop;
    },
  };
}
