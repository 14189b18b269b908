/**
 * Structured logs: one JSON object per line on stdout (`level`, `time`, `msg`, then fields), so
 * `kubectl logs` and log shippers read them and a person can still follow them.
 *
 * @module
 */

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level. */
export type LogLevel = typeof LOG_LEVELS[number];

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

/**
 * Creates a JSON-lines logger.
 *
 * @param service Name put in every line as `service`.
 * @param minLevel Lines below this level are dropped.
 * @param write Where lines go (tests capture them); defaults to stdout.
 */
export function createLogger(
  service: string,
  minLevel: LogLevel = "info",
  write: (line: string) => void = writeStdout,
): Logger {
  const min = LOG_LEVELS.indexOf(minLevel);
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const line: LogFields = { level, time: new Date().toISOString(), service, msg };
    for (const [key, value] of Object.entries(fields)) {
      // A field never replaces the line's own keys: shippers file lines by level and service.
      const name = Object.hasOwn(line, key) ? `field_${key}` : key;
      line[name] = value instanceof Error ? errorFields(value) : value;
    }
    write(serialize(line));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** The loggable part of an error: name, message, and the cause chain. */
export function errorFields(error: Error): LogFields {
  const fields: LogFields = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) fields.code = code;
  if (error.cause instanceof Error) fields.cause = errorFields(error.cause);
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
