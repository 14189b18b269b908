/**
 * Logs on stdout, one record per line: a JSON object (`level`, `time`, `service`, `msg`, then
 * fields) for `kubectl logs` and log shippers, or a readable line (`LOG_FORMAT=pretty`, the
 * default on a terminal) for a person.
 *
 * @module
 */

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Log line formats: `json` for machines, `pretty` for a person at a terminal. */
export const LOG_FORMATS = ["json", "pretty"] as const;

/** A log line format. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Extra key/value pairs of a log line. */
export type LogFields = Record<string, unknown>;

/** A logger bound to a service name and a minimum level. */
export interface Logger {
  /** Detail for debugging. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal operation. */
  info(msg: string, fields?: LogFields): void;
  /** Something went wrong and was handled. */
  warn(msg: string, fields?: LogFields): void;
  /** Something went wrong and was not handled. */
  error(msg: string, fields?: LogFields): void;
}

/** How a logger writes. */
export interface LoggerOptions {
  /** Lines below this level are dropped. @default {"info"} */
  level?: LogLevel;
  /** The line format. @default {"pretty" on a terminal, else "json"} */
  format?: LogFormat;
  /** Whether `pretty` colours the level. @default {stdout is a terminal and NO_COLOR is unset} */
  color?: boolean;
  /** Where lines go (tests capture them). @default {stdout} */
  write?: (line: string) => void;
}

/**
 * Creates a logger.
 *
 * @param service Name put in every JSON line as `service`.
 * @param options Level, format and destination.
 */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const { level: minLevel = "info", write = writeStdout } = options;
  const format = options.format ?? (Deno.stdout.isTerminal() ? "pretty" : "json");
  const color = options.color ?? (Deno.stdout.isTerminal() && !Deno.noColor);
  const min = LOG_LEVELS.indexOf(minLevel);
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const line: LogFields = { level, time: new Date().toISOString(), service, msg };
    for (const [key, value] of Object.entries(fields)) {
      // A field never replaces the line's own keys: shippers file lines by level and service.
      const name = Object.hasOwn(line, key) ? `field_${key}` : key;
      line[name] = value instanceof Error ? errorFields(value) : value;
    }
    write(format === "json" ? serialize(line) : formatPretty(line, color));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/**
 * One record as a readable line: UTC time of day, level, message, then `key=value` fields (the
 * service name is left out: a person at a terminal knows what they started).
 *
 * @example
 * ```ts
 * import { formatPretty } from "./log.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatPretty({
 *   level: "info",
 *   time: "2026-11-26T13:15:30.123Z",
 *   service: "iot-consumer",
 *   msg: "batch written",
 *   rows: 12,
 *   topic: "iot.sensors",
 * });
 * assert.equal(line, "13:15:30.123 INFO  batch written rows=12 topic=iot.sensors");
 * ```
 *
 * @param record A record as {@linkcode createLogger} builds it.
 * @param color Whether to colour the level with ANSI escapes.
 */
export function formatPretty(record: LogFields, color = false): string {
  const { level, time, service: _service, msg, ...fields } = record;
  const label = String(level).toUpperCase().padEnd(5);
  let line = `${String(time).slice(11, 23)} ${color ? paint(String(level), label) : label} ` +
    // A message stays on its line: control characters are shown escaped.
    (hasControlCharacter(String(msg)) ? JSON.stringify(msg) : String(msg));
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line += ` ${key}=${prettyValue(value)}`;
  }
  return line;
}

const COLORS: Record<string, string> = { debug: "90", info: "32", warn: "33", error: "31" };

function paint(level: string, text: string): string {
  return `\x1b[${COLORS[level] ?? "0"}m${text}\x1b[0m`;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function prettyValue(value: unknown): string {
  if (typeof value === "string") {
    const bare = value !== "" && !/[\s"=\\]/.test(value) && !hasControlCharacter(value);
    return bare ? value : JSON.stringify(value);
  }
  if (typeof value === "object" && value !== null) return serialize(value as LogFields);
  return String(value);
}

/** Most inner errors of an aggregate logged (the last ones: the freshest attempts). */
const AGGREGATE_ERRORS_LOGGED = 3;

/**
 * The loggable part of an error: name, message, the cause chain, and the last inner errors of an
 * aggregate (an AggregateError's message, e.g. @platformatic/kafka's "fetch failed 4 times.",
 * does not say why; its inner errors do).
 */
export function errorFields(error: Error): LogFields {
  const fields: LogFields = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) fields.code = code;
  if (error.cause instanceof Error) fields.cause = errorFields(error.cause);
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    const errors = inner.filter((e): e is Error => e instanceof Error);
    if (errors.length > 0) {
      fields.errors = errors.slice(-AGGREGATE_ERRORS_LOGGED).map(errorFields);
      if (errors.length > AGGREGATE_ERRORS_LOGGED) fields.errorCount = errors.length;
    }
  }
  return fields;
}

const encoder = new TextEncoder();

function writeStdout(line: string): void {
  const bytes = encoder.encode(line + "\n");
  // writeSync may write less than asked on a full pipe; a half line would break log shippers.
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** JSON text of a line; never throws, because logging happens inside error handlers too. */
function serialize(line: LogFields): string {
  try {
    return JSON.stringify(line, bigintAsString);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(line, (key, value) => {
      if (typeof value === "object" && value !== null) {
        if (seen.has(value)) return "[Circular]";
        seen.add(value);
      }
      return bigintAsString(key, value);
    });
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
