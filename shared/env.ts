/**
 * Reading settings from environment variables: every setting has a default, every bad value is
 * reported with its variable name and value, all of them at once, before any work starts.
 *
 * @module
 */

/** Thrown when one or more settings are invalid; the message lists each one. */
export class ConfigError extends Error {
  /** One line per invalid setting. */
  readonly problems: readonly string[];

  /**
   * An error listing every invalid setting at once.
   *
   * @param problems One line per invalid setting, naming the variable and its value.
   */
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Bounds of a numeric setting. */
export interface NumberBounds {
  /** Smallest accepted value. */
  min?: number;
  /** Largest accepted value. */
  max?: number;
  /** Whether only whole numbers are accepted. @default {false} */
  integer?: boolean;
}

/**
 * Reads typed settings from an environment map and collects every problem.
 *
 * @example
 * ```ts
 * import { EnvReader } from "./env.ts";
 * import assert from "node:assert/strict";
 * const env = new EnvReader({ HTTP_PORT: "x" });
 * env.integer("HTTP_PORT", 8080, { min: 0, max: 65535 });
 * assert.throws(() => env.done(), /HTTP_PORT must be an integer/);
 * ```
 */
export class EnvReader {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #problems: string[] = [];

  /**
   * A reader over one set of variables; problems are collected until `done()`.
   *
   * @param env Variables to read, usually `Deno.env.toObject()`.
   */
  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  /** The raw value, or `undefined` when unset or blank. */
  raw(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  /** A string setting, optionally checked by `check` (which returns a problem or undefined). */
  string(name: string, fallback: string, check?: (value: string) => string | undefined): string {
    const value = this.raw(name) ?? fallback;
    const problem = check?.(value);
    if (problem !== undefined) this.#problems.push(`${name} ${problem}: got ${show(value)}`);
    return value;
  }

  /** A number setting within bounds. */
  number(name: string, fallback: number, bounds: NumberBounds = {}): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    const kindWord = bounds.integer ? "an integer" : "a number";
    if (!Number.isFinite(value) || (bounds.integer && !Number.isInteger(value))) {
      this.#problems.push(`${name} must be ${kindWord}${describe(bounds)}: got ${show(text)}`);
      return fallback;
    }
    if (
      (bounds.min !== undefined && value < bounds.min) ||
      (bounds.max !== undefined && value > bounds.max)
    ) {
      this.#problems.push(`${name} must be ${kindWord}${describe(bounds)}: got ${show(text)}`);
      return fallback;
    }
    return value;
  }

  /** An integer setting within bounds. */
  integer(name: string, fallback: number, bounds: Omit<NumberBounds, "integer"> = {}): number {
    return this.number(name, fallback, { ...bounds, integer: true });
  }

  /** A setting that must be one of `choices`. */
  choice<T extends string>(name: string, fallback: T, choices: readonly T[]): T {
    const value = this.raw(name) ?? fallback;
    if (!(choices as readonly string[]).includes(value)) {
      this.#problems.push(`${name} must be one of ${choices.join(", ")}: got ${show(value)}`);
      return fallback;
    }
    return value as T;
  }

  /** A comma-separated list of `host:port`. */
  brokers(name: string, fallback: string): string[] {
    const text = this.raw(name) ?? fallback;
    const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const bad = list.filter((b) => {
      const match = /^[A-Za-z0-9.\-_[\]:]+:(\d{1,5})$/.exec(b);
      return match === null || Number(match[1]) < 1 || Number(match[1]) > 65535;
    });
    if (list.length === 0 || bad.length > 0) {
      this.#problems.push(
        `${name} must be a comma-separated list of host:port: got ${show(text)}`,
      );
    }
    return list;
  }

  /**
   * Checks a file a setting names: it must be readable and pass `check` (which returns a problem
   * or undefined). The file is read once, here, so a bad path stops the service at start.
   *
   * @param name The variable, e.g. `KAFKA_TLS_CA_FILE`.
   * @param path Its value.
   * @param check e.g. {@linkcode pemCertificate}.
   * @param readFile Reads the file.
   */
  checkFile(
    name: string,
    path: string,
    check: (text: string) => string | undefined,
    readFile: ReadTextFile,
  ): void {
    let problem: string | undefined;
    try {
      problem = check(readFile(path));
    } catch (error) {
      problem = `cannot be read (${error instanceof Error ? error.message : error})`;
    }
    if (problem !== undefined) this.#problems.push(`${name} ${problem}: got ${show(path)}`);
  }

  /** Adds a problem found by cross-checking several settings. */
  problem(message: string): void {
    this.#problems.push(message);
  }

  /** Throws a {@linkcode ConfigError} listing every problem, if there was any. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }
}

/** Reads a text file; `Deno.readTextFileSync` outside tests. */
export type ReadTextFile = (path: string) => string;

/** A file of PEM CA certificates; returns the problem or `undefined`. */
export function pemCertificate(text: string): string | undefined {
  return text.includes("-----BEGIN CERTIFICATE-----") ? undefined : "holds no PEM certificate";
}

/** A file with something in it (a password); returns the problem or `undefined`. */
export function notBlank(text: string): string | undefined {
  return text.trim() === "" ? "is empty" : undefined;
}

/** Kafka's own rule for topic names, as a regular expression JSON Schema reads too. */
export const KAFKA_TOPIC_PATTERN = "^[A-Za-z0-9._-]{1,249}$";

/** Group and client ids: printable ASCII without spaces (`!` to `~`). */
export const KAFKA_NAME_PATTERN = "^[!-~]{1,255}$";

/** Kafka's own rule for topic names; returns the problem or `undefined`. */
export function checkKafkaTopic(value: string): string | undefined {
  return new RegExp(KAFKA_TOPIC_PATTERN).test(value)
    ? undefined
    : "must be 1-249 characters of letters, digits, '.', '_' or '-'";
}

/** Printable names without spaces (group and client ids); returns the problem or `undefined`. */
export function checkKafkaName(value: string): string | undefined {
  return new RegExp(KAFKA_NAME_PATTERN).test(value)
    ? undefined
    : "must be 1-255 printable ASCII characters without spaces";
}

function describe(bounds: NumberBounds): string {
  if (bounds.min !== undefined && bounds.max !== undefined) {
    return ` from ${bounds.min} to ${bounds.max}`;
  }
  if (bounds.min !== undefined) return ` >= ${bounds.min}`;
  if (bounds.max !== undefined) return ` <= ${bounds.max}`;
  return "";
}

function show(value: string): string {
  // A password must not reach the logs, even in an error message: in a URL (up to the last "@",
  // since a mistyped one may hold an unencoded "@") or in libpq's key=value form.
  const masked = value
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:).*@/i, "$1***@")
    .replace(/(password\s*=\s*)('[^']*'|\S+)/gi, "$1***");
  return JSON.stringify(masked.length > 80 ? `${masked.slice(0, 80)}…` : masked);
}
