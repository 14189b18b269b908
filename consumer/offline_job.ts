/**
 * The offline job: every OFFLINE_CHECK_INTERVAL_S, one statement opens an `offline` alert for each
 * device the rule of offline.ts finds silent, and updates the open ones of devices still silent.
 * Every replica runs the job; a transaction-scoped advisory lock lets one of them check at a time
 * (the others skip the round), and the database's clock is the one used, so replicas with skewed
 * clocks agree.
 *
 * The statement races with the consumer's batches, which fold readings into the same device rows
 * and clear `offline` alerts. It acts on a device only if the device's row is still at the version
 * it judged (`versao`) and not locked by a batch in flight (`SKIP LOCKED`: such a device is
 * reporting; the next round judges it again), and it increments that version, so a batch that
 * read the device before the alert was opened fails its guarded write and folds again (design-12,
 * "Writing it"). It never waits for a batch's lock, so it cannot deadlock with one on the devices.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { Sql } from "postgres";
import type { Counter } from "prom-client";
import { describeDatabaseError } from "./database_state.ts";
import type { OfflineSettings } from "./offline.ts";
import type { RunStatement } from "./retention.ts";
import { startPeriodic } from "./periodic.ts";

/** Key of the advisory lock that lets one replica check at a time ("iot-offl" in ASCII). */
export const OFFLINE_LOCK_KEY = 0x696f742d6f66666cn;

/** One alert the statement opened or updated. */
export interface OfflineChange {
  /** Device id. */
  id: string;
  /** Whether the alert was opened or updated. */
  kind: "open" | "update";
  /** The silence that made the device offline, in seconds. */
  limitS: number;
  /** The alert's `opened_at` in ms. */
  openedAtMs: number;
  /** The alert's `last_triggered_at` in ms. */
  lastTriggeredMs: number;
  /** The alert's `peak_value`: the longest silence, in seconds. */
  peakS: number;
  /** The alert's `trigger_count`. */
  triggerCount: number;
}

/** What one check did. */
export interface OfflineCheck {
  /** False when another replica was checking: nothing was done. */
  held: boolean;
  /** The database's clock during the check, in ms. */
  nowMs: number;
  /** The alerts opened and updated, by device id. */
  changes: OfflineChange[];
}

/**
 * Runs one check in one statement (one transaction), if no other session holds
 * {@linkcode OFFLINE_LOCK_KEY}.
 */
export async function checkOffline(
  sql: Sql,
  settings: Readonly<OfflineSettings>,
): Promise<OfflineCheck> {
  const { factor, minS, maxS } = settings;
  const [result] = await sql<{ held: boolean; now_ms: number; changes: RawChange[] }[]>`
    WITH lock AS (
      SELECT pg_try_advisory_xact_lock(${OFFLINE_LOCK_KEY.toString()}::bigint) AS held
    ), clock AS (
      SELECT now() AS now,
        least(now(), (SELECT max(timestamp_ts) FROM tb_dispositivo)) AS watermark
      WHERE (SELECT held FROM lock)
    ), judged AS (
      -- The rule of offline.ts, in the same float8 arithmetic.
      SELECT d.id_dispositivo, d.versao, d.timestamp_ts, d.qt_leituras, a.id AS alert_id, c.watermark,
        ${factor}::float8 * least(greatest(coalesce(d.intervalo_s, ${maxS}::float8),
          ${minS}::float8), ${maxS}::float8) AS limit_s,
        extract(epoch FROM c.watermark - d.timestamp_ts)::float8 AS silent_s,
        extract(epoch FROM c.now - d.dt_ultima_carga)::float8 AS unloaded_s
      FROM tb_dispositivo d
      CROSS JOIN clock c
      LEFT JOIN tb_alerta a
        ON a.id_dispositivo = d.id_dispositivo AND a.tipo = 'offline' AND a.cleared_at IS NULL
      WHERE d.timestamp_ts IS NOT NULL
    ), offline AS (
      SELECT * FROM judged WHERE silent_s > limit_s AND unloaded_s > limit_s
    ), locked AS (
      -- Re-read at its newest version: a device a batch changed since is left for the next round.
      SELECT d.id_dispositivo FROM tb_dispositivo d JOIN offline o USING (id_dispositivo)
      WHERE d.versao = o.versao
      FOR UPDATE OF d SKIP LOCKED
    ), bumped AS (
      UPDATE tb_dispositivo d SET versao = d.versao + 1
      FROM locked l WHERE d.id_dispositivo = l.id_dispositivo
      RETURNING d.id_dispositivo
    ), opened AS (
      INSERT INTO tb_alerta (id_dispositivo, tipo, opened_at, last_triggered_at, peak_value,
        trigger_count, qt_leituras_abertura)
      SELECT o.id_dispositivo, 'offline', o.timestamp_ts + make_interval(secs => o.limit_s),
        o.watermark, o.silent_s, 1, o.qt_leituras
      FROM offline o JOIN bumped b USING (id_dispositivo)
      WHERE o.alert_id IS NULL
      RETURNING id_dispositivo, 'open' AS kind, opened_at, last_triggered_at, peak_value,
        trigger_count
    ), updated AS (
      UPDATE tb_alerta a SET trigger_count = a.trigger_count + 1,
        last_triggered_at = greatest(a.last_triggered_at, o.watermark),
        peak_value = greatest(a.peak_value, o.silent_s),
        updated_at = now()
      FROM offline o JOIN bumped b USING (id_dispositivo)
      WHERE a.id = o.alert_id
      RETURNING a.id_dispositivo, 'update' AS kind, a.opened_at, a.last_triggered_at,
        a.peak_value, a.trigger_count
    ), changed AS (
      SELECT * FROM opened UNION ALL SELECT * FROM updated
    )
    SELECT (SELECT held FROM lock) AS held,
      (extract(epoch FROM now()) * 1000)::float8 AS now_ms,
      coalesce((
        SELECT json_agg(json_build_object(
          'id', ch.id_dispositivo, 'kind', ch.kind, 'limit_s', o.limit_s,
          'opened_at_ms', (extract(epoch FROM ch.opened_at) * 1000)::float8,
          'last_triggered_ms', (extract(epoch FROM ch.last_triggered_at) * 1000)::float8,
          'peak_s', ch.peak_value, 'trigger_count', ch.trigger_count
        ) ORDER BY ch.id_dispositivo)
        FROM changed ch JOIN offline o USING (id_dispositivo)
      ), '[]'::json) AS changes`;
  return {
    held: result.held,
    nowMs: result.now_ms,
    changes: result.changes.map((c) => ({
      id: c.id,
      kind: c.kind,
      limitS: c.limit_s,
      openedAtMs: c.opened_at_ms,
      lastTriggeredMs: c.last_triggered_ms,
      peakS: c.peak_s,
      triggerCount: Number(c.trigger_count),
    })),
  };
}

interface RawChange {
  id: string;
  kind: "open" | "update";
  limit_s: number;
  opened_at_ms: number;
  last_triggered_ms: number;
  peak_s: number;
  trigger_count: number;
}

/** What the offline job needs. */
export interface OfflineJobOptions {
  /** How each statement reaches the database. */
  run: RunStatement;
  /** OFFLINE_*; a check interval of 0 keeps the job from starting. */
  settings: Readonly<OfflineSettings>;
  /** `iot_consumer_offline_alerts_opened_total` and `..._updated_total`. */
  metrics: { opened: Counter; updated: Counter };
  /** Logger. */
  log: Logger;
}

/**
 * Starts the periodic job; the first check runs at once. A failed check (database down, a
 * deadlock with an alert row) is logged and tried again at the next interval. Returns a function
 * that stops it and waits for a check in progress to end.
 */
export function startOfflineJob(options: OfflineJobOptions): () => Promise<void> {
  const { run: runStatement, settings, metrics, log } = options;
  if (settings.checkIntervalS === 0) {
    log.info("offline detection is off (OFFLINE_CHECK_INTERVAL_S=0)");
    return () => Promise.resolve();
  }
  const intervalMs = settings.checkIntervalS * 1000;
  const run = async () => {
    try {
      const { changes } = await runStatement((sql) => checkOffline(sql, settings));
      for (const c of changes) {
        const fields = {
          device: c.id,
          openedAt: new Date(c.openedAtMs).toISOString(),
          lastTriggeredAt: new Date(c.lastTriggeredMs).toISOString(),
          silentS: c.peakS,
          limitS: c.limitS,
          triggerCount: c.triggerCount,
        };
        if (c.kind === "open") {
          metrics.opened.inc();
          log.info("device offline: alert opened", fields);
        } else {
          metrics.updated.inc();
          // Every round while a device stays silent: at info, a silent fleet would flood the log.
          log.debug("device still offline: alert updated", fields);
        }
      }
    } catch (error) {
      log.warn("offline check failed; trying again later", {
        retryInMs: intervalMs,
        error: describeDatabaseError(error),
      });
    }
  };
  return startPeriodic(run, intervalMs);
}
