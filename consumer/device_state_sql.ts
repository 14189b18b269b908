/**
 * The fold of device_state.ts in SQL: common table expressions that fold the readings a write
 * inserted into `tb_dispositivo`, one row per device, in the statement that inserts them (so the
 * state is written exactly when the readings are).
 *
 * Why it is exact under concurrency: the new state is computed from the statement's snapshot of
 * each device's row, and written only if the row still counts what the snapshot counted (every
 * write that folds readings in changes the count). When another writer changed the row or
 * inserted it meanwhile (a device whose readings come on two partitions, written at the same
 * moment), the statement raises SQLSTATE 40001 (`iot_device_race`) and is rolled back whole; the
 * consumer retries it as any failed write, and it then folds into the stored row. The rows are
 * not locked beforehand: that cost a lock per device per batch for a race that keyed producers
 * never cause.
 *
 * The interval's mean is computed in closed form, not gap by gap: with `m` gaps `g` (clamped), the
 * oldest first, and α = {@linkcode INTERVAL_ALPHA}, the sequential mean `I ← α·g + (1 − α)·I`
 * ends at `Σ α(1 − α)^age·g + (1 − α)^m·I₀` (`age`: how many gaps come after it), and when there
 * was no `I₀` the first gap, which sets it, stands in for it. The gaps of a batch are the readings
 * newer than every earlier one of the batch ("breakers") and newer than the stored latest; those
 * form a suffix of the breakers, so `age` is counted over the breakers alone, in the same pass
 * (and sort) as the running maximum. Both are the same numbers up to rounding
 * (device_state_integration_test.ts compares them).
 *
 * @module
 */

import { type DeviceStateSettings, INTERVAL_ALPHA } from "./device_state.ts";

/**
 * Weights are taken at most this old: (1 − α)^5000 is about 1e-229, nothing next to the others,
 * and PostgreSQL raises an underflow error (SQLSTATE 22003, a refused batch) where the power
 * would reach zero, past about 7000 gaps of one device in one batch.
 */
const OLDEST = 5000;

/** The columns of the latest reading, as named in both `tb_sensor_evento` and `tb_dispositivo`. */
const LATEST = [
  "timestamp_ts",
  "temperatura",
  "umidade",
  "latitude",
  "longitude",
  "status",
  "bateria",
  "alerta",
];

/** Every column of `tb_dispositivo` the fold writes, besides its key. */
const STATE = [
  "id_evento",
  ...LATEST,
  "primeiro_timestamp_ts",
  "dt_primeira_carga",
  "qt_leituras",
  "intervalo_s",
];

/**
 * The CTEs, to follow others in a `WITH` list (the text starts with a comma). They read the CTE
 * `counted`: the readings this statement inserted, with the columns of `tb_sensor_evento`'s
 * reading plus `ahead` (boolean) and `n` (order in the write). They end in two data-modifying
 * CTEs, which PostgreSQL always runs to completion.
 *
 * @param bounds DEVICE_INTERVAL_MIN_S and DEVICE_INTERVAL_MAX_S.
 * @throws {RangeError} when a bound is not a finite number or they are out of order.
 */
export function deviceStateCtes(
  bounds: Pick<DeviceStateSettings, "intervalMinS" | "intervalMaxS">,
): string {
  const { intervalMinS: lo, intervalMaxS: hi } = bounds;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo <= 0 || hi < lo) {
    throw new RangeError(`Cannot bound the device interval to [${lo}, ${hi}] s`);
  }
  const min = `${lo}::float8`;
  const max = `${hi}::float8`;
  const a = `${INTERVAL_ALPHA}::float8`;
  const clamp = (x: string) => `least(greatest(${x}, ${min}), ${max})`;
  return `
  , dev_batch AS (
    SELECT c.*, max(c.timestamp_ts) FILTER (WHERE NOT c.ahead) OVER (PARTITION BY c.id_dispositivo
      ORDER BY c.n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_ts
    FROM counted c
  ), dev_seen AS (
    SELECT d.id_dispositivo, d.id_evento, ${LATEST.map((c) => `d.${c}`).join(", ")},
      d.primeiro_timestamp_ts, d.dt_primeira_carga, d.qt_leituras,
      CASE WHEN d.intervalo_s IS NOT NULL THEN ${clamp("d.intervalo_s")} END AS intervalo_s
    FROM tb_dispositivo d
    WHERE d.id_dispositivo IN (SELECT id_dispositivo FROM counted)
  ), dev_breaks AS (
    SELECT id_dispositivo, timestamp_ts, before_ts, count(*) OVER (PARTITION BY id_dispositivo
      ORDER BY n ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) - 1 AS age
    FROM dev_batch WHERE NOT ahead AND (before_ts IS NULL OR timestamp_ts > before_ts)
  ), dev_interval AS (
    SELECT b.id_dispositivo, sum(${a} * power(1 - ${a}, least(b.age, ${OLDEST})) * g.gap)
        + power(1 - ${a}, least(count(*), ${OLDEST}))
          * coalesce(l.intervalo_s, (max(ARRAY[b.age, g.gap]))[2])
        AS intervalo_s
    FROM dev_breaks b LEFT JOIN dev_seen l USING (id_dispositivo)
    CROSS JOIN LATERAL (SELECT ${
    clamp("extract(epoch FROM b.timestamp_ts - greatest(l.timestamp_ts, b.before_ts))::float8")
  } AS gap) g
    WHERE b.timestamp_ts > greatest(l.timestamp_ts, b.before_ts)
    GROUP BY b.id_dispositivo, l.intervalo_s
  ), dev_sum AS (
    SELECT id_dispositivo, count(*) AS qt, min(timestamp_ts) FILTER (WHERE NOT ahead) AS first_ts,
      max(timestamp_ts) FILTER (WHERE NOT ahead) AS last_ts
    FROM counted GROUP BY id_dispositivo
  ), dev_top AS (
    SELECT DISTINCT ON (c.id_dispositivo) c.*
    FROM counted c JOIN dev_sum s ON s.id_dispositivo = c.id_dispositivo AND s.last_ts = c.timestamp_ts
    WHERE NOT c.ahead
    ORDER BY c.id_dispositivo, c.id DESC
  ), dev_new AS (
    SELECT s.id_dispositivo, l.id_dispositivo IS NOT NULL AS existed, l.qt_leituras AS seen,
      CASE WHEN k.newer THEN t.id ELSE l.id_evento END AS id_evento,
      ${LATEST.map((c) => `CASE WHEN k.newer THEN t.${c} ELSE l.${c} END AS ${c}`).join(", ")},
      least(l.primeiro_timestamp_ts, s.first_ts) AS primeiro_timestamp_ts,
      coalesce(l.dt_primeira_carga, now()) AS dt_primeira_carga,
      coalesce(l.qt_leituras, 0) + s.qt AS qt_leituras,
      coalesce(i.intervalo_s, l.intervalo_s) AS intervalo_s
    FROM dev_sum s
    LEFT JOIN dev_seen l USING (id_dispositivo)
    LEFT JOIN dev_top t USING (id_dispositivo)
    LEFT JOIN dev_interval i USING (id_dispositivo)
    CROSS JOIN LATERAL (SELECT t.id IS NOT NULL AND (l.timestamp_ts IS NULL
      OR (t.timestamp_ts, t.id) > (l.timestamp_ts, l.id_evento)) AS newer) k
  ), dev_updated AS (
    UPDATE tb_dispositivo d SET ${STATE.map((c) => `${c} = n.${c}`).join(", ")},
      dt_ultima_carga = now()
    FROM dev_new n
    WHERE n.existed AND d.id_dispositivo = n.id_dispositivo AND d.qt_leituras = n.seen
    RETURNING 1
  ), dev_inserted AS (
    INSERT INTO tb_dispositivo (id_dispositivo, ${STATE.join(", ")}, dt_ultima_carga)
    SELECT id_dispositivo, ${STATE.join(", ")}, now() FROM dev_new WHERE NOT existed
    ON CONFLICT (id_dispositivo) DO UPDATE
    SET id_dispositivo = iot_device_race(EXCLUDED.id_dispositivo)
    RETURNING 1
  )`;
}

/**
 * A column for the statement's final `SELECT`, after {@linkcode deviceStateCtes}: raises SQLSTATE
 * 40001 (the whole statement is rolled back) when a device's row changed since the snapshot.
 */
export const DEVICE_STATE_CHECK = `(SELECT CASE
    WHEN (SELECT count(*) FROM dev_updated) < (SELECT count(*) FROM dev_new WHERE existed)
    THEN iot_device_race('a device''s row changed during the write') END) AS device_race`;
