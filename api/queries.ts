/**
 * The API's read queries. Every list pages by keyset (the last item's sort key and id, never
 * OFFSET) along an index: events by `(timestamp_ts, id)` (device: `ix_sensor_evento_dispositivo_ts`,
 * alerts only: `ix_sensor_evento_alerta_ts`, else `ix_sensor_evento_timestamp_ts`), alerts by
 * `(opened_at, id)`, rejects by id, devices by id. Times come back as UTC text with microseconds,
 * so a page's key is exact.
 *
 * @module
 */

import type { Sql } from "postgres";
import type {
  AlertsQuery,
  DevicesQuery,
  EventsQuery,
  HistoryQuery,
  PageKey,
  RejectsQuery,
} from "./params.ts";

/** A page of a list and the cursor of the next one (`null`: this is the last). */
export interface Page<T> {
  /** The items, newest first (devices: by id). */
  items: T[];
  /** Pass as `cursor` for the next page. */
  next_cursor: PageKey | null;
}

/** `timestamptz` as `2026-12-04T10:00:00.123456Z`. */
export const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The columns of an event, as the API names them. */
export const EVENT_COLUMNS = `id::text AS id, id_dispositivo AS device, "timestamp",
  ${iso("timestamp_ts")} AS time, temperatura AS temperature, umidade AS humidity,
  latitude, longitude, status, bateria AS battery, alerta AS alert,
  escore_anomalia AS anomaly_score, ${iso("dt_carga")} AS loaded_at`;

/** The columns of an alert, as the API names them. */
export const ALERT_COLUMNS = `id::float8 AS id, id_dispositivo AS device, tipo AS type,
  ${iso("opened_at")} AS opened_at, ${iso("last_triggered_at")} AS last_triggered_at,
  ${iso("cleared_at")} AS cleared_at, cleared_at IS NULL AS open, peak_value,
  trigger_count::float8 AS trigger_count, ${iso("acknowledged_at")} AS acknowledged_at,
  acknowledged_by, acknowledge_note, ${iso("created_at")} AS created_at,
  ${iso("updated_at")} AS updated_at`;

/** Conditions joined with AND, numbered after the parameters collected so far. */
class Where {
  readonly params: unknown[] = [];
  readonly #terms: string[] = [];

  /** Adds `term`, where `$` stands for the next parameter(s), in order. */
  add(term: string, ...values: unknown[]): void {
    let i = 0;
    this.#terms.push(term.replace(/\$/g, () => `$${this.params.length + ++i}`));
    this.params.push(...values);
  }

  /** ` WHERE ...`, or nothing. */
  toString(): string {
    return this.#terms.length === 0 ? "" : ` WHERE ${this.#terms.join(" AND ")}`;
  }

  /** The next parameter's placeholder, for LIMIT. */
  next(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/**
 * Recent events, newest first by event time. Only the conditions asked for are in the statement,
 * so its plan uses the index they allow.
 */
export async function listEvents(sql: Sql, q: EventsQuery): Promise<Page<Record<string, unknown>>> {
  const where = new Where();
  if (q.device !== undefined) where.add("id_dispositivo = $", q.device);
  if (q.from !== undefined) where.add("timestamp_ts >= $::timestamptz", q.from);
  if (q.to !== undefined) where.add("timestamp_ts <= $::timestamptz", q.to);
  if (q.alert === true) where.add("alerta");
  if (q.alert === false) where.add("NOT alerta");
  if (q.after !== undefined) {
    where.add("(timestamp_ts, id) < ($::timestamptz, $::uuid)", q.after.key, q.after.id);
  }
  const limit = where.next(q.limit + 1);
  const rows = await sql.unsafe(
    // The page is chosen first and only its rows are formatted: a plan that sorts would
    // otherwise format every row it sorts.
    `SELECT ${EVENT_COLUMNS} FROM (SELECT * FROM tb_sensor_evento${where}
      ORDER BY timestamp_ts DESC, id DESC LIMIT ${limit}) AS page
      ORDER BY timestamp_ts DESC, id DESC`,
    where.params as never[],
  );
  return page(rows, q.limit, (r) => ({ key: r.time as string, id: r.id as string }));
}

/** The columns of a device but its open alerts: its latest reading, when it was seen. */
const DEVICE_COLUMNS = `d.id_dispositivo AS device,
    CASE WHEN d.id_evento IS NULL THEN NULL ELSE json_build_object(
      'event_id', d.id_evento, 'time', ${iso("d.timestamp_ts")}, 'temperature', d.temperatura,
      'humidity', d.umidade, 'latitude', d.latitude, 'longitude', d.longitude,
      'status', d.status, 'battery', d.bateria, 'alert', d.alerta) END AS latest,
    ${iso("d.primeiro_timestamp_ts")} AS first_seen, ${iso("d.timestamp_ts")} AS last_seen,
    ${iso("d.dt_primeira_carga")} AS first_loaded_at, ${iso("d.dt_ultima_carga")} AS last_loaded_at,
    d.qt_leituras::float8 AS readings, d.intervalo_s AS interval_s`;

/** The types of a device's open alerts, as a JSON array in type order. */
const OPEN_ALERTS = `json_agg(a.tipo ORDER BY a.tipo)`;

/** A device's status from its open alert types: offline first, then any alert, else ok. */
export function deviceStatus(row: { latest: unknown; open_alerts: string[] }): string {
  if (row.open_alerts.includes("offline")) return "offline";
  if (row.open_alerts.length > 0) return "alert";
  return row.latest === null ? "no_data" : "ok";
}

function withStatus(row: Record<string, unknown>): Record<string, unknown> {
  const status = deviceStatus(row as { latest: unknown; open_alerts: string[] });
  return { ...row, online: status !== "offline" && status !== "no_data", status };
}

/** Devices by id, with their latest state. */
export async function listDevices(
  sql: Sql,
  q: DevicesQuery,
): Promise<Page<Record<string, unknown>>> {
  // The open alerts of the page's key range are grouped once and joined: a subquery per device
  // (one aggregate and its sort per row) took most of a 1000-device page's time (bench/README.md).
  const rows = await sql.unsafe(
    `SELECT ${DEVICE_COLUMNS}, coalesce(o.open_alerts, '[]'::json) AS open_alerts
      FROM tb_dispositivo d
      LEFT JOIN (SELECT a.id_dispositivo, ${OPEN_ALERTS} AS open_alerts FROM tb_alerta a
        WHERE a.cleared_at IS NULL AND ($1::text IS NULL OR a.id_dispositivo > $1)
        GROUP BY a.id_dispositivo) o ON o.id_dispositivo = d.id_dispositivo
      WHERE ($1::text IS NULL OR d.id_dispositivo > $1)
      ORDER BY d.id_dispositivo LIMIT $2`,
    [q.after?.key ?? null, q.limit + 1],
  );
  const result = page(rows, q.limit, (r) => ({ key: r.device as string, id: "" }));
  return { ...result, items: result.items.map(withStatus) };
}

/** One device, or `undefined`. */
export async function getDevice(
  sql: Sql,
  device: string,
): Promise<Record<string, unknown> | undefined> {
  const [row] = await sql.unsafe(
    `SELECT ${DEVICE_COLUMNS}, coalesce((SELECT ${OPEN_ALERTS} FROM tb_alerta a
        WHERE a.id_dispositivo = d.id_dispositivo AND a.cleared_at IS NULL), '[]'::json) AS open_alerts
      FROM tb_dispositivo d WHERE d.id_dispositivo = $1`,
    [device],
  );
  return row === undefined ? undefined : withStatus(row);
}

/**
 * One device's readings over a range in `points` buckets of equal width: count, and the mean,
 * least and greatest of each metric per bucket; empty buckets are left out.
 */
export async function deviceHistory(
  sql: Sql,
  device: string,
  q: HistoryQuery,
): Promise<Record<string, unknown>> {
  const stat = (column: string, name: string) =>
    `json_build_object('avg', avg(${column}), 'min', min(${column}), 'max', max(${column})) AS ${name}`;
  const rows = await sql.unsafe(
    `WITH r AS (SELECT $2::timestamptz AS f, $3::timestamptz AS t, $4::int AS n),
     b AS (
       SELECT least(floor(extract(epoch FROM e.timestamp_ts - r.f) * r.n
                / extract(epoch FROM r.t - r.f))::int, r.n - 1) AS bucket,
              e.temperatura, e.umidade, e.bateria
         FROM tb_sensor_evento e, r
        WHERE e.id_dispositivo = $1 AND e.timestamp_ts >= r.f AND e.timestamp_ts <= r.t)
     SELECT bucket, count(*)::int AS count, ${stat("temperatura", "temperature")},
            ${stat("umidade", "humidity")}, ${stat("bateria", "battery")}
       FROM b GROUP BY bucket ORDER BY bucket`,
    [device, q.from, q.to, q.points],
  );
  const from = Date.parse(q.from);
  const width = (Date.parse(q.to) - from) / q.points;
  return {
    device,
    from: new Date(from).toISOString(),
    to: new Date(Date.parse(q.to)).toISOString(),
    points: q.points,
    bucket_s: width / 1000,
    buckets: rows.map(({ bucket, ...rest }) => ({
      start: new Date(from + Number(bucket) * width).toISOString(),
      ...rest,
    })),
  };
}

/** Alerts, newest opened first. */
export async function listAlerts(sql: Sql, q: AlertsQuery): Promise<Page<Record<string, unknown>>> {
  const where = new Where();
  if (q.device !== undefined) where.add("id_dispositivo = $", q.device);
  if (q.type !== undefined) where.add("tipo = $", q.type);
  if (q.state === "open") where.add("cleared_at IS NULL");
  if (q.state === "cleared") where.add("cleared_at IS NOT NULL");
  if (q.after !== undefined) {
    where.add("(opened_at, id) < ($::timestamptz, $::bigint)", q.after.key, q.after.id);
  }
  const limit = where.next(q.limit + 1);
  const rows = await sql.unsafe(
    // As for events: format only the page's rows (19,100 alerts took 89 ms formatted first).
    `SELECT ${ALERT_COLUMNS} FROM (SELECT * FROM tb_alerta${where}
      ORDER BY opened_at DESC, id DESC LIMIT ${limit}) AS page ORDER BY opened_at DESC, id DESC`,
    where.params as never[],
  );
  return page(rows, q.limit, (r) => ({ key: r.opened_at as string, id: String(r.id) }));
}

/** Bytes of a refused message shown as text; the rest is counted, not sent. */
export const REJECT_PREVIEW_BYTES = 1024;

/** Refused messages, newest first, with their reasons and the start of their bytes as text. */
export async function listRejects(
  sql: Sql,
  q: RejectsQuery,
): Promise<Page<Record<string, unknown>>> {
  const where = new Where();
  if (q.from !== undefined) where.add("dt_carga >= $::timestamptz", q.from);
  if (q.to !== undefined) where.add("dt_carga <= $::timestamptz", q.to);
  if (q.after !== undefined) where.add("id < $::bigint", q.after.id);
  const limit = where.next(q.limit + 1);
  const rows = await sql.unsafe(
    `SELECT id::float8 AS id, topico AS topic, particao AS partition,
            offset_kafka::float8 AS "offset", motivos AS reasons,
            encode(substring(payload FROM 1 FOR ${REJECT_PREVIEW_BYTES}), 'base64') AS head,
            coalesce(payload_bytes, octet_length(payload))::float8 AS payload_bytes,
            ${iso("dt_carga")} AS loaded_at
       FROM tb_sensor_evento_rejeitado${where} ORDER BY id DESC LIMIT ${limit}`,
    where.params as never[],
  );
  const result = page(rows, q.limit, (r) => ({ key: "", id: String(r.id) }));
  const decoder = new TextDecoder(); // not fatal: a broken byte shows as U+FFFD
  return {
    ...result,
    items: result.items.map(({ head, ...rest }) => {
      const bytes = Uint8Array.from(atob(head as string), (c) => c.charCodeAt(0));
      return {
        ...rest,
        payload_text: decoder.decode(bytes),
        payload_cut: (rest.payload_bytes as number) > bytes.length,
      };
    }),
  };
}

/** What the fleet statistics read from the tables (the rate comes from the stream's feed). */
export interface FleetCounts {
  /** Readings stored: the devices' reading counts summed. */
  rows: number;
  /** Devices known. */
  devices: number;
  /** Refused messages kept. */
  rejects: number;
  /** Open alerts per type (every type present, 0 when none). */
  open_alerts: Record<string, number>;
}

/** Counts for `/api/stats`: each from an index or a small table, never a scan of the readings. */
export async function fleetCounts(sql: Sql, types: readonly string[]): Promise<FleetCounts> {
  const [row] = await sql.unsafe(
    `SELECT (SELECT coalesce(sum(qt_leituras), 0)::float8 FROM tb_dispositivo) AS rows,
            (SELECT count(*)::float8 FROM tb_dispositivo) AS devices,
            (SELECT count(*)::float8 FROM tb_sensor_evento_rejeitado) AS rejects,
            (SELECT coalesce(json_object_agg(tipo, n), '{}'::json) FROM (
               SELECT tipo, count(*) AS n FROM tb_alerta WHERE cleared_at IS NULL GROUP BY tipo
             ) o) AS open_alerts`,
  );
  const open = Object.fromEntries(types.map((t) => [t, Number(row.open_alerts[t] ?? 0)]));
  return { rows: row.rows, devices: row.devices, rejects: row.rejects, open_alerts: open };
}

function page(
  rows: readonly Record<string, unknown>[],
  limit: number,
  keyOf: (row: Record<string, unknown>) => PageKey,
): Page<Record<string, unknown>> {
  const items = rows.slice(0, limit).map((r) => ({ ...r }));
  const more = rows.length > limit;
  return { items, next_cursor: more ? keyOf(items[items.length - 1]) : null };
}
