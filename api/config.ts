/**
 * The api's settings, read once from the environment at start-up. It has no Kafka settings: it
 * reads PostgreSQL only.
 *
 * @module
 */

import {
  EnvReader,
  processSettings,
  readSettings,
  type ReadTextFile,
  type SettingsTable,
} from "@iot/shared/runtime";
import type { LogFormat, LogLevel } from "@iot/shared/runtime";
import { STREAM_WAKES, type StreamWake } from "./stream_feed.ts";

/** The api's client id (PostgreSQL's `application_name`) and port. */
export const API_DEFAULTS = { clientId: "iot-api", httpPort: 8080 } as const;

/**
 * What the api reads besides the process settings of every service (`HTTP_PORT`, which here
 * serves the API too, `LOG_*`, `SUMMARY_INTERVAL_S`, `SHUTDOWN_TIMEOUT_S`).
 */
export const API_SETTINGS = {
  DATABASE_URL: {
    type: "string",
    default: "postgres://iot_api:iot_api@localhost:5432/iot",
    check: checkDbUrl,
    accepts: "`postgres://` or `postgresql://` URL",
    chart: "the `iot_api` role's Secret",
    description: "PostgreSQL connection URL, as the read-only role `iot_api` (README, " +
      '"The read API").',
  },
  DATABASE_CA_FILE: {
    type: "file",
    holds: "PEM certificates",
    chart: "`postgresql.create`",
    description: "CA of PostgreSQL's certificate; when set, TLS with the certificate and host " +
      "name verified (`verify-full`).",
  },
  DATABASE_POOL_SIZE: {
    type: "integer",
    default: 4,
    min: 1,
    max: 100,
    description: "Connections to PostgreSQL for requests (the stream listens on one more).",
  },
  DATABASE_STATEMENT_TIMEOUT_S: {
    type: "number",
    default: 10,
    min: 0.1,
    max: 3600,
    description: "PostgreSQL cancels a query of the api running longer, in seconds.",
  },
  API_ACK_TOKEN: {
    type: "string",
    check: (v: string) =>
      v.length >= 16 && /^[!-~]+$/.test(v) ? undefined : "must be 16 or " +
        "more printable ASCII characters without spaces",
    accepts: "16+ printable ASCII, no spaces",
    defaultText: "unset: acknowledging is refused",
    chart: "`api.ackToken`",
    description: "Bearer token that acknowledging an alert needs.",
  },
  API_PAGE_LIMIT_MAX: {
    type: "integer",
    default: 1000,
    min: 1,
    max: 10_000,
    description: "Most items a page of a list may ask for (`limit`).",
  },
  STREAM_WAKE: {
    type: "choice",
    values: STREAM_WAKES,
    default: "notify",
    description: "How the live stream learns of commits: `notify` (LISTEN, raised by the " +
      "migration's triggers, and the poll as a fallback) or `poll` only.",
  },
  STREAM_INTERVAL_MS: {
    type: "integer",
    default: 100,
    min: 10,
    max: 60_000,
    description: "Least time between two reads of the stream, in ms: a device gets at most " +
      "one reading event per read.",
  },
  STREAM_POLL_INTERVAL_MS: {
    type: "integer",
    default: 2000,
    min: 10,
    max: 60_000,
    description: "Most time between two reads of the stream, in ms (the interval itself with " +
      "`STREAM_WAKE=poll`); at least `STREAM_INTERVAL_MS`.",
  },
  STREAM_HEARTBEAT_S: {
    type: "number",
    default: 15,
    min: 1,
    max: 300,
    description: "A quiet stream client gets a checkpoint (its position) or a comment this " +
      "often, in seconds.",
  },
} as const satisfies SettingsTable;

/** Every setting of the api, resolved. */
export interface ApiConfig {
  /** `DATABASE_URL`. */
  databaseUrl: string;
  /** `DATABASE_CA_FILE`, when set. */
  databaseCaFile?: string;
  /** `DATABASE_POOL_SIZE`. */
  databasePoolSize: number;
  /** `DATABASE_STATEMENT_TIMEOUT_S`. */
  databaseStatementTimeoutS: number;
  /** `API_ACK_TOKEN`, when set. */
  ackToken?: string;
  /** `API_PAGE_LIMIT_MAX`. */
  pageLimitMax: number;
  /** `STREAM_WAKE`. */
  streamWake: StreamWake;
  /** `STREAM_INTERVAL_MS`. */
  streamIntervalMs: number;
  /** `STREAM_POLL_INTERVAL_MS`. */
  streamPollIntervalMs: number;
  /** `STREAM_HEARTBEAT_S`. */
  streamHeartbeatS: number;
  /** `HTTP_PORT`: the API and the operations endpoints. */
  httpPort: number;
  /** `LOG_LEVEL`. */
  logLevel: LogLevel;
  /** `LOG_FORMAT`, when set. */
  logFormat?: LogFormat;
  /** `SUMMARY_INTERVAL_S`. */
  summaryIntervalS: number;
  /** `SHUTDOWN_TIMEOUT_S`. */
  shutdownTimeoutS: number;
}

/** Every row the api reads, in reading order: for the README. */
export function apiSettingsTable(): SettingsTable {
  return { ...API_SETTINGS, ...processSettings(API_DEFAULTS) };
}

/**
 * Reads and validates the api's settings.
 *
 * @param env Environment variables, usually `Deno.env.toObject()`.
 * @param readFile Reads the CA file; tests pass a fake.
 * @throws {ConfigError} naming every invalid variable and its value.
 */
export function loadApiConfig(
  env: Record<string, string | undefined>,
  readFile: ReadTextFile = Deno.readTextFileSync,
): ApiConfig {
  const read = new EnvReader(env);
  const own = readSettings(read, API_SETTINGS, readFile);
  const process = readSettings(read, processSettings(API_DEFAULTS), readFile);
  const config: ApiConfig = {
    databaseUrl: own.DATABASE_URL,
    databasePoolSize: own.DATABASE_POOL_SIZE,
    databaseStatementTimeoutS: own.DATABASE_STATEMENT_TIMEOUT_S,
    pageLimitMax: own.API_PAGE_LIMIT_MAX,
    streamWake: own.STREAM_WAKE,
    streamIntervalMs: own.STREAM_INTERVAL_MS,
    streamPollIntervalMs: own.STREAM_POLL_INTERVAL_MS,
    streamHeartbeatS: own.STREAM_HEARTBEAT_S,
    httpPort: process.HTTP_PORT,
    logLevel: process.LOG_LEVEL,
    summaryIntervalS: process.SUMMARY_INTERVAL_S,
    shutdownTimeoutS: process.SHUTDOWN_TIMEOUT_S,
  };
  if (own.DATABASE_CA_FILE !== undefined) config.databaseCaFile = own.DATABASE_CA_FILE;
  if (own.API_ACK_TOKEN !== undefined) config.ackToken = own.API_ACK_TOKEN;
  if (process.LOG_FORMAT !== undefined) config.logFormat = process.LOG_FORMAT;
  if (config.streamPollIntervalMs < config.streamIntervalMs) {
    read.problem(
      `STREAM_POLL_INTERVAL_MS (${config.streamPollIntervalMs}) must be at least ` +
        `STREAM_INTERVAL_MS (${config.streamIntervalMs})`,
    );
  }
  read.done();
  return Object.freeze(config);
}

function checkDbUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "postgres:" || url.protocol === "postgresql:"
      ? undefined
      : "must be a postgres:// or postgresql:// URL";
  } catch {
    return "must be a postgres:// or postgresql:// URL";
  }
}
