/**
 * The API's routes: which handler answers a method and path (pure: {@linkcode matchRoute}), and
 * the handlers, each parsing its parameters before any query, answering JSON or a problem.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { Sql } from "postgres";
import { acknowledgeAlert, checkAckToken } from "./acknowledge.ts";
import { encodeCursor, type PageKey } from "./cursor.ts";
import type { ApiMetrics } from "./metrics.ts";
import { OPENAPI } from "./openapi.ts";
import {
  ALERT_TYPES,
  MAX_DEVICE_LENGTH,
  parseAcknowledgeBody,
  parseAlertId,
  parseAlertsQuery,
  parseDevicesQuery,
  parseEventsQuery,
  parseHistoryQuery,
  parseNoQuery,
  parseRejectsQuery,
  parseStreamQuery,
} from "./params.ts";
import { ParameterError, parameterProblem, problemResponse } from "./problem.ts";
import {
  deviceHistory,
  fleetCounts,
  getDevice,
  listAlerts,
  listDevices,
  listEvents,
  listRejects,
  type Page,
} from "./queries.ts";
import { openStream, type StreamDeps } from "./stream.ts";

/** What the handlers use. */
export interface ApiDeps {
  /** The api's pool. */
  sql: Sql;
  /** The stream's feed, reader and limits. */
  stream: StreamDeps;
  /** `API_ACK_TOKEN`, when set. */
  ackToken?: string;
  /** `API_PAGE_LIMIT_MAX`. */
  pageLimitMax: number;
  /** Why the api cannot serve data now (schema or privileges missing); empty when it can. */
  notReady(): string[];
  /** Request metrics. */
  metrics: ApiMetrics;
  /** For failures. */
  log: Logger;
  /** The clock of default ranges. */
  now(): Date;
}

/** A matched route: its name (for metrics) and path parameters. */
export interface RouteMatch {
  /** The route's name, e.g. `GET /api/devices/{id}`. */
  route: string;
  /** Path parameters, decoded. */
  params: Record<string, string>;
}

const ROUTES: readonly { method: string; path: string }[] = [
  { method: "GET", path: "/openapi.json" },
  { method: "GET", path: "/api/events" },
  { method: "GET", path: "/api/devices" },
  { method: "GET", path: "/api/devices/{id}" },
  { method: "GET", path: "/api/devices/{id}/history" },
  { method: "GET", path: "/api/alerts" },
  { method: "POST", path: "/api/alerts/{id}/acknowledge" },
  { method: "GET", path: "/api/rejects" },
  { method: "GET", path: "/api/stats" },
  { method: "GET", path: "/api/stream" },
];

/**
 * The route of a method and path: a match, `405` with the methods the path allows, or `404`.
 *
 * @example
 * ```ts
 * import { matchRoute } from "./routes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(matchRoute("GET", "/api/devices/sensor%201/history"), {
 *   route: "GET /api/devices/{id}/history",
 *   params: { id: "sensor 1" },
 * });
 * assert.deepEqual(matchRoute("DELETE", "/api/stats"), { allow: ["GET"] });
 * ```
 */
export function matchRoute(method: string, path: string): RouteMatch | { allow: string[] } | 404 {
  const parts = path.split("/");
  const allow: string[] = [];
  for (const route of ROUTES) {
    const pattern = route.path.split("/");
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((p, i) => {
      if (!p.startsWith("{")) return p === parts[i];
      try {
        params[p.slice(1, -1)] = decodeURIComponent(parts[i]);
      } catch {
        return false;
      }
      return parts[i] !== "";
    });
    if (!ok) continue;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) {
      return { route: `${route.method} ${route.path}`, params };
    }
    allow.push(route.method);
  }
  return allow.length > 0 ? { allow } : 404;
}

/** The API's request handler (every path but the operations ones). */
export function createApiHandler(deps: ApiDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const match = matchRoute(request.method, url.pathname);
    const started = performance.now();
    let route = "unmatched";
    let response: Response;
    try {
      if (match === 404) {
        response = problemResponse(404, `No endpoint at ${url.pathname}: see /openapi.json`);
      } else if ("allow" in match) {
        response = problemResponse(
          405,
          `${request.method} is not allowed on ${url.pathname}`,
          {},
          { allow: match.allow.join(", ") },
        );
      } else {
        route = match.route;
        response = await answer(deps, match, url, request);
      }
    } catch (error) {
      response = failure(deps.log, error);
    }
    deps.metrics.requests.inc({ route, status: String(response.status) });
    deps.metrics.duration.observe({ route }, (performance.now() - started) / 1000);
    return response;
  };
}

async function answer(
  deps: ApiDeps,
  match: RouteMatch,
  url: URL,
  request: Request,
): Promise<Response> {
  const q = url.searchParams;
  const limit = deps.pageLimitMax;
  if (match.route === "GET /openapi.json") {
    parseNoQuery(q);
    return Response.json(OPENAPI);
  }
  const reasons = deps.notReady();
  if (reasons.length > 0) return problemResponse(503, `Not ready: ${reasons.join("; ")}`);
  const id = match.params.id;
  switch (match.route) {
    case "GET /api/events":
      return pageJson(await listEvents(deps.sql, parseEventsQuery(q, limit)));
    case "GET /api/devices":
      return pageJson(await listDevices(deps.sql, parseDevicesQuery(q, limit)));
    case "GET /api/devices/{id}": {
      parseNoQuery(q);
      const device = await getDevice(deps.sql, checkDevice(id));
      return device === undefined ? noDevice(id) : Response.json(device);
    }
    case "GET /api/devices/{id}/history": {
      const query = parseHistoryQuery(q, deps.now());
      if (await getDevice(deps.sql, checkDevice(id)) === undefined) return noDevice(id);
      return Response.json(await deviceHistory(deps.sql, id, query));
    }
    case "GET /api/alerts":
      return pageJson(await listAlerts(deps.sql, parseAlertsQuery(q, limit)));
    case "POST /api/alerts/{id}/acknowledge":
      return await acknowledge(deps, id, q, request);
    case "GET /api/rejects":
      return pageJson(await listRejects(deps.sql, parseRejectsQuery(q, limit)));
    case "GET /api/stats":
      parseNoQuery(q);
      return Response.json(await stats(deps));
    case "GET /api/stream": {
      const query = parseStreamQuery(q);
      if (request.method === "HEAD") {
        return new Response(null, {
          headers: { "content-type": "text/event-stream; charset=utf-8" },
        });
      }
      const last = request.headers.get("last-event-id") ?? q.get("last_event_id") ?? undefined;
      return openStream(deps.stream, query, last === "" ? undefined : last, request.signal);
    }
  }
  throw new Error(`no handler for ${match.route}`);
}

async function acknowledge(
  deps: ApiDeps,
  id: string,
  q: URLSearchParams,
  request: Request,
): Promise<Response> {
  parseNoQuery(q);
  const refusal = checkAckToken(deps.ackToken, request.headers.get("authorization"));
  if (refusal !== undefined) {
    const challenge: Record<string, string> = refusal.status === 401
      ? { "www-authenticate": 'Bearer realm="iot-api"' }
      : {};
    return problemResponse(refusal.status, refusal.detail, {}, challenge);
  }
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return problemResponse(415, `The body must be application/json: got ${JSON.stringify(type)}`);
  }
  const text = await request.text();
  if (text.length > 16_384) return problemResponse(413, "The body is larger than 16 KiB");
  const alertId = parseAlertId(id);
  const body = parseAcknowledgeBody(text);
  const result = await acknowledgeAlert(deps.sql, alertId, body);
  switch (result.kind) {
    case "acknowledged":
      return Response.json(result.alert);
    case "missing":
      return problemResponse(404, `No alert ${alertId}`);
    case "already":
      return problemResponse(
        409,
        `Alert ${alertId} was acknowledged already, by ${
          JSON.stringify(result.alert.acknowledged_by)
        } at ${result.alert.acknowledged_at}`,
      );
  }
}

async function stats(deps: ApiDeps): Promise<Record<string, unknown>> {
  const counts = await fleetCounts(deps.sql, ALERT_TYPES);
  const rate = deps.stream.feed.rate();
  return {
    ...counts,
    rows_per_second: rate?.rows_per_second ?? null,
    rate_window_s: rate?.window_s ?? 0,
    stream_clients: deps.stream.feed.clients(),
    generated_at: deps.now().toISOString(),
  };
}

function pageJson(page: Page<Record<string, unknown>>): Response {
  const cursor = page.next_cursor === null ? null : encodeCursor(page.next_cursor as PageKey);
  return Response.json({ items: page.items, next_cursor: cursor });
}

function checkDevice(id: string): string {
  if (id.length > MAX_DEVICE_LENGTH) {
    throw new ParameterError("id", `id must be at most ${MAX_DEVICE_LENGTH} characters`);
  }
  return id;
}

function noDevice(id: string): Response {
  return problemResponse(404, `No device ${JSON.stringify(id)}`);
}

function failure(log: Logger, error: unknown): Response {
  if (error instanceof ParameterError) return parameterProblem(error);
  const code = (error as { code?: string }).code;
  if (code === "57014") {
    return problemResponse(503, "The query took longer than DATABASE_STATEMENT_TIMEOUT_S");
  }
  log.error("request failed", { error });
  const connection = typeof code === "string" && /^(08|57P)/.test(code) ||
    (error as Error).message?.includes("CONNECT");
  return connection
    ? problemResponse(503, "The database cannot be reached; try again")
    : problemResponse(500, "The request failed; the api's log says why");
}
