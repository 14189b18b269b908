/**
 * The API's query parameters and bodies, parsed and checked before any query runs (pure). Each
 * problem throws a {@linkcode ParameterError} naming the parameter and the value received; an
 * unknown or repeated parameter is refused too, so a typo is never ignored silently.
 *
 * @module
 */

import { decodeCursor, type PageKey } from "./cursor.ts";
import { ParameterError } from "./problem.ts";

export type { PageKey };

/** Alert types, as stored in `tb_alerta.tipo`. */
export const ALERT_TYPES = [
  "temperature_high",
  "battery_low",
  "offline",
  "anomaly",
  "drift",
] as const;

/** An alert type. */
export type AlertType = typeof ALERT_TYPES[number];

/** Alert states a list may ask for. */
export const ALERT_STATES = ["open", "cleared", "all"] as const;

/** Longest device id accepted in a parameter. */
export const MAX_DEVICE_LENGTH = 200;

/** Most points of a downsampled history. */
export const MAX_POINTS = 2000;

/** Longest range of a history, in days. */
export const MAX_HISTORY_DAYS = 366;

/** `GET /api/events`. */
export interface EventsQuery {
  device?: string;
  from?: string;
  to?: string;
  alert?: boolean;
  limit: number;
  after?: PageKey;
}

/** `GET /api/devices`. */
export interface DevicesQuery {
  limit: number;
  after?: PageKey;
}

/** `GET /api/devices/{id}/history`. */
export interface HistoryQuery {
  /** RFC 3339, as given or computed. */
  from: string;
  to: string;
  points: number;
}

/** `GET /api/alerts`. */
export interface AlertsQuery {
  device?: string;
  type?: AlertType;
  state: typeof ALERT_STATES[number];
  limit: number;
  after?: PageKey;
}

/** `GET /api/rejects`. */
export interface RejectsQuery {
  from?: string;
  to?: string;
  limit: number;
  after?: PageKey;
}

/** `POST /api/alerts/{id}/acknowledge`. */
export interface AcknowledgeBody {
  /** Who acknowledges. */
  by: string;
  /** Why, or what is done about it. */
  note: string;
}

/** `GET /api/stream`. */
export interface StreamQuery {
  device?: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MICROS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Reads a query string: only `allowed` names, each at most once. */
class Params {
  readonly #params: URLSearchParams;

  constructor(params: URLSearchParams, allowed: readonly string[]) {
    this.#params = params;
    const seen = new Set<string>();
    for (const name of params.keys()) {
      if (!allowed.includes(name)) {
        const known = allowed.length === 0 ? "none" : allowed.join(", ");
        throw new ParameterError(name, `Unknown parameter ${show(name)}: accepted are ${known}`);
      }
      if (seen.has(name)) throw new ParameterError(name, `Parameter ${name} is given twice`);
      seen.add(name);
    }
  }

  text(name: string, max = MAX_DEVICE_LENGTH): string | undefined {
    const value = this.#params.get(name);
    if (value === null) return undefined;
    if (value === "" || value.length > max) {
      throw new ParameterError(name, `${name} must be 1 to ${max} characters: got ${show(value)}`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.#params.get(name);
    if (value === null) return fallback;
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || n < min || n > max) {
      throw new ParameterError(
        name,
        `${name} must be an integer from ${min} to ${max}: got ${show(value)}`,
      );
    }
    return n;
  }

  boolean(name: string): boolean | undefined {
    const value = this.#params.get(name);
    if (value === null) return undefined;
    if (value !== "true" && value !== "false") {
      throw new ParameterError(name, `${name} must be true or false: got ${show(value)}`);
    }
    return value === "true";
  }

  choice<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.#params.get(name);
    if (value === null) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      throw new ParameterError(
        name,
        `${name} must be one of ${values.join(", ")}: got ${show(value)}`,
      );
    }
    return value as T;
  }

  time(name: string): string | undefined {
    const value = this.#params.get(name);
    if (value === null) return undefined;
    if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
      throw new ParameterError(
        name,
        `${name} must be an RFC 3339 time with its offset (2026-12-04T10:00:00Z): got ${
          show(value)
        }`,
      );
    }
    return value;
  }

  cursor(check: (key: PageKey) => boolean): PageKey | undefined {
    const value = this.#params.get("cursor");
    if (value === null) return undefined;
    const key = decodeCursor(value);
    if (key === undefined || !check(key)) {
      throw new ParameterError(
        "cursor",
        `cursor must be a next_cursor this endpoint returned: got ${show(value)}`,
      );
    }
    return key;
  }
}

const timeKey = (k: PageKey) => MICROS_UTC.test(k.key) && !Number.isNaN(Date.parse(k.key));
const bigintId = (id: string) => /^[1-9][0-9]{0,18}$/.test(id);

/** Parses `GET /api/events`'s query. */
export function parseEventsQuery(params: URLSearchParams, maxLimit: number): EventsQuery {
  const p = new Params(params, ["device", "from", "to", "alert", "limit", "cursor"]);
  const query: EventsQuery = {
    device: p.text("device"),
    from: p.time("from"),
    to: p.time("to"),
    alert: p.boolean("alert"),
    limit: p.integer("limit", Math.min(100, maxLimit), 1, maxLimit),
    after: p.cursor((k) => timeKey(k) && UUID.test(k.id)),
  };
  checkRange(query.from, query.to);
  return query;
}

/** Parses `GET /api/devices`'s query. */
export function parseDevicesQuery(params: URLSearchParams, maxLimit: number): DevicesQuery {
  const p = new Params(params, ["limit", "cursor"]);
  return {
    limit: p.integer("limit", maxLimit, 1, maxLimit),
    after: p.cursor((k) => k.key.length > 0 && k.id === ""),
  };
}

/**
 * Parses `GET /api/devices/{id}/history`'s query; the range defaults to the day before `to`,
 * and `to` to `now`.
 */
export function parseHistoryQuery(params: URLSearchParams, now: Date): HistoryQuery {
  const p = new Params(params, ["from", "to", "points"]);
  const to = p.time("to") ?? now.toISOString();
  const from = p.time("from") ?? new Date(Date.parse(to) - 86_400_000).toISOString();
  const points = p.integer("points", 200, 1, MAX_POINTS);
  checkRange(from, to);
  if (Date.parse(from) === Date.parse(to)) {
    throw new ParameterError("from", `from must be before to: got ${show(from)} and ${show(to)}`);
  }
  if (Date.parse(to) - Date.parse(from) > MAX_HISTORY_DAYS * 86_400_000) {
    throw new ParameterError(
      "from",
      `the range from ${from} to ${to} is longer than ${MAX_HISTORY_DAYS} days`,
    );
  }
  return { from, to, points };
}

/** Parses `GET /api/alerts`'s query. */
export function parseAlertsQuery(params: URLSearchParams, maxLimit: number): AlertsQuery {
  const p = new Params(params, ["device", "type", "state", "limit", "cursor"]);
  return {
    device: p.text("device"),
    type: p.choice("type", ALERT_TYPES),
    state: p.choice("state", ALERT_STATES) ?? "all",
    limit: p.integer("limit", Math.min(100, maxLimit), 1, maxLimit),
    after: p.cursor((k) => timeKey(k) && bigintId(k.id)),
  };
}

/** Parses `GET /api/rejects`'s query. */
export function parseRejectsQuery(params: URLSearchParams, maxLimit: number): RejectsQuery {
  const p = new Params(params, ["from", "to", "limit", "cursor"]);
  const query: RejectsQuery = {
    from: p.time("from"),
    to: p.time("to"),
    limit: p.integer("limit", Math.min(100, maxLimit), 1, maxLimit),
    after: p.cursor((k) => k.key === "" && bigintId(k.id)),
  };
  checkRange(query.from, query.to);
  return query;
}

/** Parses `GET /api/stream`'s query. */
export function parseStreamQuery(params: URLSearchParams): StreamQuery {
  const p = new Params(params, ["device", "last_event_id"]);
  return { device: p.text("device") };
}

/** Parses a query that takes no parameter (`/api/stats`, one device). */
export function parseNoQuery(params: URLSearchParams): void {
  new Params(params, []);
}

/** Parses an alert id in a path: a positive integer. */
export function parseAlertId(text: string): string {
  if (!bigintId(text)) {
    throw new ParameterError("id", `id must be a positive integer: got ${show(text)}`);
  }
  return text;
}

/**
 * Parses the body of `POST /api/alerts/{id}/acknowledge`: a JSON object with `by` (1 to 100
 * characters) and `note` (up to 2000), and nothing else.
 */
export function parseAcknowledgeBody(text: string): AcknowledgeBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParameterError(
      "body",
      `the body must be a JSON object: got ${show(text.slice(0, 80))}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParameterError("body", "the body must be a JSON object with by and note");
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== "by" && key !== "note") {
      throw new ParameterError(`body.${key}`, `Unknown field ${show(key)}: accepted are by, note`);
    }
  }
  const by = fields.by;
  if (typeof by !== "string" || by.trim() === "" || by.length > 100) {
    throw new ParameterError(
      "body.by",
      `by must be a name of 1 to 100 characters: got ${show(by)}`,
    );
  }
  const note = fields.note ?? "";
  if (typeof note !== "string" || note.length > 2000) {
    throw new ParameterError("body.note", `note must be text of at most 2000 characters`);
  }
  return { by: by.trim(), note };
}

function checkRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && Date.parse(from) > Date.parse(to)) {
    throw new ParameterError(
      "from",
      `from must not be after to: got ${show(from)} and ${show(to)}`,
    );
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
