/**
 * The API's OpenAPI 3.1 document, served at `/openapi.json`. Its schemas are JSON Schema 2020-12;
 * api/api_integration_test.ts validates real responses of every endpoint against them.
 *
 * @module
 */

import { ALERT_STATES, ALERT_TYPES, MAX_POINTS } from "./params.ts";

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, "null"], ...extra });
const time: Schema = { type: "string", format: "date-time" };
const nullableTime: Schema = { type: ["string", "null"], format: "date-time" };
const object = (properties: Record<string, Schema>, required = Object.keys(properties)) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});
const pageOf = (item: string): Schema =>
  object({
    items: { type: "array", items: ref(item) },
    next_cursor: { ...nullable("string"), description: "Pass as `cursor` for the next page" },
  });
const stat = object({ avg: { type: "number" }, min: { type: "number" }, max: { type: "number" } });

const query = (name: string, schema: Schema, description: string): Schema => ({
  name,
  in: "query",
  required: false,
  schema,
  description,
});
const limit = query(
  "limit",
  { type: "integer", minimum: 1 },
  "Items per page (at most API_PAGE_LIMIT_MAX)",
);
const cursor = query("cursor", { type: "string" }, "The `next_cursor` of the previous page");
const from = query("from", time, "RFC 3339, inclusive");
const to = query("to", time, "RFC 3339, inclusive");
const device = query("device", { type: "string", minLength: 1, maxLength: 200 }, "Device id");
const idPath = (description: string, schema: Schema = { type: "string" }): Schema => ({
  name: "id",
  in: "path",
  required: true,
  schema,
  description,
});

const json = (schema: Schema, description: string): Schema => ({
  description,
  content: { "application/json": { schema } },
});
const problems = (...statuses: number[]): Record<string, Schema> =>
  Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/P${s}` }]));
const get = (summary: string, parameters: Schema[], ok: Schema, ...errors: number[]) => ({
  get: { summary, parameters, responses: { "200": ok, ...problems(400, 503, ...errors) } },
});

/** The properties of a reading. */
const EVENT_PROPERTIES: Record<string, Schema> = {
  id: { type: "string", format: "uuid" },
  device: { type: "string" },
  timestamp: { type: "string", description: "TIMESTAMP as the device sent it" },
  time: time,
  temperature: { type: "number" },
  humidity: { type: "number" },
  latitude: { type: "number" },
  longitude: { type: "number" },
  status: { type: "string" },
  battery: { type: "number" },
  alert: { type: "boolean" },
  anomaly_score: nullable("number", { description: "Null during warm-up" }),
  loaded_at: time,
};

/** The document. */
export const OPENAPI: Readonly<Schema> = {
  openapi: "3.1.0",
  info: {
    title: "IoT fleet API",
    version: "0.1.0",
    description: "Reads what the consumer stores: readings, device state, alerts, anomaly " +
      "scores and rejects; acknowledges alerts; streams changes live. Errors are RFC 9457 " +
      "problem details; a bad parameter's names it in `parameter`.",
  },
  paths: {
    "/api/events": get(
      "Recent readings, newest first by event time (keyset pages)",
      [
        device,
        from,
        to,
        query("alert", { type: "boolean" }, "Only readings with ALERTA true/false"),
        limit,
        cursor,
      ],
      json(ref("EventPage"), "A page of readings"),
    ),
    "/api/devices": get(
      "Devices by id with their latest state, open alert types and status",
      [limit, cursor],
      json(ref("DevicePage"), "A page of devices"),
    ),
    "/api/devices/{id}": get(
      "One device",
      [idPath("Device id")],
      json(ref("Device"), "The device"),
      404,
    ),
    "/api/devices/{id}/history": get(
      "One device's readings over a range, downsampled on the server into equal buckets",
      [
        idPath("Device id"),
        query("from", time, "Start (default: a day before `to`)"),
        query("to", time, "End (default: now)"),
        query(
          "points",
          { type: "integer", minimum: 1, maximum: MAX_POINTS },
          "Buckets (default 200)",
        ),
      ],
      json(ref("History"), "Non-empty buckets, oldest first"),
      404,
    ),
    "/api/alerts": get(
      "Alerts, newest opened first",
      [
        device,
        query("type", { enum: [...ALERT_TYPES] }, "Alert type"),
        query("state", { enum: [...ALERT_STATES] }, "Open, cleared or all (default)"),
        limit,
        cursor,
      ],
      json(ref("AlertPage"), "A page of alerts"),
    ),
    "/api/alerts/{id}/acknowledge": {
      post: {
        summary: "Acknowledge an alert (needs the bearer token API_ACK_TOKEN)",
        security: [{ ackToken: [] }],
        parameters: [idPath("Alert id", { type: "string", pattern: "^[1-9][0-9]*$" })],
        requestBody: {
          required: true,
          content: { "application/json": { schema: ref("AcknowledgeRequest") } },
        },
        responses: {
          "200": json(ref("Alert"), "The alert, acknowledged"),
          ...problems(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    "/api/rejects": get(
      "Refused messages, newest first, with every reason",
      [from, to, limit, cursor],
      json(ref("RejectPage"), "A page of refused messages"),
    ),
    "/api/stats": get("Fleet statistics", [], json(ref("Stats"), "The figures")),
    "/api/stream": {
      get: {
        summary: "Server-Sent Events: `reading` (per device its newest reading of each read, " +
          "`sampled_from` says how many it stands for), `alert` (an alert as it is after a " +
          "change) and `checkpoint`. Send the last event's id as Last-Event-ID to resume.",
        parameters: [
          device,
          {
            name: "Last-Event-ID",
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "Resume after this position",
          },
          query("last_event_id", { type: "string" }, "Last-Event-ID, for clients without headers"),
        ],
        responses: {
          "200": {
            description: "The event stream",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          ...problems(400, 503),
        },
      },
    },
  },
  components: {
    securitySchemes: { ackToken: { type: "http", scheme: "bearer" } },
    responses: Object.fromEntries(
      [400, 401, 403, 404, 409, 413, 415, 503].map((s) => [`P${s}`, {
        description: `Problem details (${s})`,
        content: { "application/problem+json": { schema: ref("Problem") } },
      }]),
    ),
    schemas: {
      Problem: object({
        type: { type: "string" },
        title: { type: "string" },
        status: { type: "integer" },
        detail: { type: "string" },
        parameter: { type: "string", description: "The parameter, header or body field at fault" },
      }, ["type", "title", "status", "detail"]),
      Event: object(EVENT_PROPERTIES),
      StreamReading: object({
        ...EVENT_PROPERTIES,
        sampled_from: { type: "integer", minimum: 1, description: "Readings it stands for" },
      }),
      EventPage: pageOf("Event"),
      Device: object({
        device: { type: "string" },
        latest: {
          oneOf: [
            { type: "null" },
            object({
              event_id: { type: "string" },
              time: time,
              temperature: { type: "number" },
              humidity: { type: "number" },
              latitude: { type: "number" },
              longitude: { type: "number" },
              status: { type: "string" },
              battery: { type: "number" },
              alert: { type: "boolean" },
            }),
          ],
        },
        first_seen: nullableTime,
        last_seen: nullableTime,
        first_loaded_at: time,
        last_loaded_at: time,
        readings: { type: "integer", minimum: 0 },
        interval_s: nullable("number"),
        open_alerts: { type: "array", items: { enum: [...ALERT_TYPES] } },
        online: { type: "boolean" },
        status: { enum: ["ok", "alert", "offline", "no_data"] },
      }),
      DevicePage: pageOf("Device"),
      History: object({
        device: { type: "string" },
        from: time,
        to: time,
        points: { type: "integer" },
        bucket_s: { type: "number" },
        buckets: {
          type: "array",
          items: object({
            start: time,
            count: { type: "integer", minimum: 1 },
            temperature: stat,
            humidity: stat,
            battery: stat,
          }),
        },
      }),
      Alert: object({
        id: { type: "integer" },
        device: { type: "string" },
        type: { enum: [...ALERT_TYPES] },
        opened_at: time,
        last_triggered_at: time,
        cleared_at: nullableTime,
        open: { type: "boolean" },
        peak_value: { type: "number" },
        trigger_count: { type: "integer" },
        acknowledged_at: nullableTime,
        acknowledged_by: nullable("string"),
        acknowledge_note: nullable("string"),
        created_at: time,
        updated_at: time,
      }),
      AlertPage: pageOf("Alert"),
      AcknowledgeRequest: object({
        by: { type: "string", minLength: 1, maxLength: 100 },
        note: { type: "string", maxLength: 2000 },
      }, ["by"]),
      Reject: object({
        id: { type: "integer" },
        topic: { type: "string" },
        partition: { type: "integer" },
        offset: { type: "integer" },
        reasons: {
          type: "array",
          items: {
            type: "object",
            properties: {
              field: { type: "string" },
              code: { type: "string" },
              message: { type: "string" },
            },
            required: ["code", "message"],
          },
        },
        payload_text: { type: "string", description: "The first 1024 bytes as UTF-8" },
        payload_bytes: { type: "integer" },
        payload_cut: { type: "boolean" },
        loaded_at: time,
      }),
      RejectPage: pageOf("Reject"),
      Stats: object({
        rows: { type: "integer", minimum: 0, description: "Readings stored" },
        devices: { type: "integer", minimum: 0 },
        rejects: { type: "integer", minimum: 0 },
        open_alerts: object(Object.fromEntries(ALERT_TYPES.map((t) => [t, { type: "integer" }]))),
        rows_per_second: nullable("number", { description: "Over the last minute" }),
        rate_window_s: { type: "number" },
        stream_clients: { type: "integer" },
        generated_at: time,
      }),
    },
  },
};
