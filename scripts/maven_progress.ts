/**
 * Progress of Maven's first download of the Kafka jars, from the `Downloaded from <repo>: <url>
 * (<size> at <speed>)` lines `mvn -B` prints: one line on stderr every few seconds, not one per
 * artifact (a first run fetches hundreds of plugin and library files). Pure: the caller gives
 * the lines and the clock.
 * @module
 */

/** One finished transfer. */
export interface Transfer {
  /** File name, e.g. kafka-clients-4.3.1.jar. */
  file: string;
  /** Its size in bytes (0 when Maven did not say). */
  bytes: number;
}

const UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 };

/**
 * The transfer a Maven output line reports, or undefined for any other line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTransfer } from "./maven_progress.ts";
 * const line = "[INFO] Downloaded from central: https://repo/x/a-1.jar (1.5 MB at 2 MB/s)";
 * assert.deepEqual(parseTransfer(line), { file: "a-1.jar", bytes: 1_500_000 });
 * ```
 */
export function parseTransfer(line: string): Transfer | undefined {
  const match = /Downloaded from [^:]+: (\S+)(?: \(([\d.]+) (B|kB|KB|MB|GB)\b)?/.exec(line);
  if (match === null) return undefined;
  const file = match[1].slice(match[1].lastIndexOf("/") + 1);
  const bytes = match[2] === undefined ? 0 : Math.round(Number(match[2]) * UNITS[match[3]]);
  return { file, bytes };
}

/** Counts transfers and says, at most every `everyMs`, how far the download got. */
export class MavenProgress {
  #files = 0;
  #bytes = 0;
  #lastReport: number;
  readonly #everyMs: number;

  /**
   * @param now The clock's reading at the start, in ms.
   * @param everyMs Least time between two reports. @default {5000}
   */
  constructor(now: number, everyMs = 5000) {
    this.#lastReport = now;
    this.#everyMs = everyMs;
  }

  /** Takes one output line; returns a report to print when one is due, else undefined. */
  line(text: string, now: number): string | undefined {
    const transfer = parseTransfer(text);
    if (transfer === undefined) return undefined;
    this.#files++;
    this.#bytes += transfer.bytes;
    if (now - this.#lastReport < this.#everyMs) return undefined;
    this.#lastReport = now;
    return `${this.summary()}, last ${transfer.file}`;
  }

  /** Files and megabytes so far, e.g. "312 files, 41.7 MB downloaded". */
  summary(): string {
    return `${this.#files} files, ${(this.#bytes / 1e6).toFixed(1)} MB downloaded`;
  }

  /** How many files were downloaded. */
  get files(): number {
    return this.#files;
  }
}
