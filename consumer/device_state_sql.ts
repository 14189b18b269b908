/**
 * The fold of device_state.ts in SQL: common table expressions that fold the readings a write
 * inserted into `tb_dispositivo`, one row per device, in the statement that inserts them (so the
 * state is written exactly when the readings are).
 *
 * Why it is exact under concurrency: the devices' rows are locked first (`FOR UPDATE`, in id
 * order, so two writers never deadlock on them), which at READ COMMITTED returns their newest
 * committed version even when the statement's snapshot is older; everything is computed from
 * that version. A device new to the snapshot that another writer inserts meanwhile raises
 * SQLSTATE 40001 (`iot_device_race`): the consumer retries and then folds into the stored row.
 *
 * The interval's mean is computed in closed form, not gap by gap: with `m` gaps `g` (clamped), the
 * oldest first, and α = {@linkcode INTERVAL_ALPHA}, the sequential mean `I ← α·g + (1 − α)·I` ends at
 * `(1 − α)^m·I₀ + Σ α(1 − α)^age·g` (`age`: how many gaps come after it), and when there was no
 * `I₀` the first gap, which sets it, weighs `(1 − α)^age` alone. Both are the same numbers up to
 * rounding (device_state_integration_test.ts compares them).
 *
 * @module
 */

import { type DeviceStateSettings, INTERVAL_ALPHA } from "./device_state.ts";

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
  ), dev_locked AS (
    SELECT d.id_dispositivo, d.id_evento, ${LATEST.map((c) => `d.${c}`).join(", ")},
      d.primeiro_timestamp_ts, d.dt_primeira_carga, d.qt_leituras,
      CASE WHEN d.intervalo_s IS NOT NULL THEN ${clamp("d.intervalo_s")} END AS intervalo_s
    FROM tb_dispositivo d
    WHERE d.id_dispositivo IN (SELECT id_dispositivo FROM counted)
    ORDER BY d.id_dispositivo
    FOR UPDATE OF d
  ), dev_gaps AS (
    SELECT b.id_dispositivo,
      ${clamp("extract(epoch FROM b.timestamp_ts - greatest(l.timestamp_ts, b.before_ts))::float8")}
        AS gap,
      row_number() OVER (PARTITION BY b.id_dispositivo ORDER BY b.n DESC) - 1 AS age,
      count(*) OVER (PARTITION BY b.id_dispositivo) AS m
    FROM dev_batch b LEFT JOIN dev_locked l USING (id_dispositivo)
    WHERE NOT b.ahead AND b.timestamp_ts > greatest(l.timestamp_ts, b.before_ts)
  ), dev_interval AS (
    SELECT g.id_dispositivo, CASE WHEN l.intervalo_s IS NULL
        THEN sum(g.gap * CASE WHEN g.age = g.m - 1 THEN power(1 - ${a}, g.age)
          ELSE ${a} * power(1 - ${a}, g.age) END)
        ELSE power(1 - ${a}, max(g.m)) * l.intervalo_s + sum(${a} * power(1 - ${a}, g.age) * g.gap)
      END AS intervalo_s
    FROM dev_gaps g LEFT JOIN dev_locked l USING (id_dispositivo)
    GROUP BY g.id_dispositivo, l.intervalo_s
  ), dev_top AS (
    SELECT DISTINCT ON (id_dispositivo) * FROM counted WHERE NOT ahead
    ORDER BY id_dispositivo, timestamp_ts DESC, id DESC
  ), dev_sum AS (
    SELECT id_dispositivo, count(*) AS qt, min(timestamp_ts) FILTER (WHERE NOT ahead) AS first_ts
    FROM counted GROUP BY id_dispositivo
  ), dev_new AS (
    SELECT s.id_dispositivo, l.id_dispositivo IS NOT NULL AS existed,
      CASE WHEN k.newer THEN t.id ELSE l.id_evento END AS id_evento,
      ${LATEST.map((c) => `CASE WHEN k.newer THEN t.${c} ELSE l.${c} END AS ${c}`).join(", ")},
      least(l.primeiro_timestamp_ts, s.first_ts) AS primeiro_timestamp_ts,
      coalesce(l.dt_primeira_carga, now()) AS dt_primeira_carga,
      coalesce(l.qt_leituras, 0) + s.qt AS qt_leituras,
      coalesce(i.intervalo_s, l.intervalo_s) AS intervalo_s
    FROM dev_sum s
    LEFT JOIN dev_locked l USING (id_dispositivo)
    LEFT JOIN dev_top t USING (id_dispositivo)
    LEFT JOIN dev_interval i USING (id_dispositivo)
    CROSS JOIN LATERAL (SELECT t.id IS NOT NULL AND (l.timestamp_ts IS NULL
      OR (t.timestamp_ts, t.id) > (l.timestamp_ts, l.id_evento)) AS newer) k
  ), dev_updated AS (
    UPDATE tb_dispositivo d SET ${STATE.map((c) => `${c} = n.${c}`).join(", ")},
      dt_ultima_carga = now()
    FROM dev_new n WHERE n.existed AND d.id_dispositivo = n.id_dispositivo
    RETURNING 1
  ), dev_inserted AS (
    INSERT INTO tb_dispositivo (id_dispositivo, ${STATE.join(", ")}, dt_ultima_carga)
    SELECT id_dispositivo, ${STATE.join(", ")}, now() FROM dev_new WHERE NOT existed
    ON CONFLICT (id_dispositivo) DO UPDATE
    SET id_dispositivo = iot_device_race(EXCLUDED.id_dispositivo)
    RETURNING 1
  )`;
}
