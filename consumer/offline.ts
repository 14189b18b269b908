/**
 * Which devices are offline: the rule the offline job (offline_job.ts) applies in SQL, written
 * here as a pure function so that its boundaries are tested in isolation;
 * offline_job_integration_test.ts checks the statement and this function agree.
 *
 * A device is judged on event time and load time together:
 * - limit = OFFLINE_FACTOR × clamp(its usual interval, OFFLINE_MIN_S, OFFLINE_MAX_S), the interval
 *   counting as OFFLINE_MAX_S while unknown (a device seen once);
 * - watermark = least(now, newest event time of any device): how far the fleet has got in event
 *   time. A consumer catching up on a backlog holds it back, so the whole fleet is not declared
 *   offline because its readings are old; and it never passes the clock, so one device with a
 *   clock in the future cannot make the others look silent;
 * - offline when `watermark − its event time > limit` AND `now − its last load > limit`: the second
 *   keeps a device whose old readings are still arriving online.
 *
 * A device with no open `offline` alert that is offline gets one; one with an open alert that is
 * still offline gets it updated (its next reading, folded by the consumer, clears it).
 *
 * @module
 */

/** The job's settings. */
export interface OfflineSettings {
  /** OFFLINE_CHECK_INTERVAL_S: seconds between two checks; 0: the job does not run. */
  checkIntervalS: number;
  /** OFFLINE_FACTOR: how many usual intervals of silence make a device offline. */
  factor: number;
  /** OFFLINE_MIN_S: the least interval the limit is computed from, in seconds. */
  minS: number;
  /** OFFLINE_MAX_S: the greatest (and the unknown) interval the limit is computed from. */
  maxS: number;
}

/** A device as the rule sees it: a row of `tb_dispositivo` and its open `offline` alert. */
export interface DeviceSilence {
  /** `id_dispositivo`. */
  id: string;
  /** `timestamp_ts` in ms: event time of its latest reading; `null` while none. */
  lastEventMs: number | null;
  /** `dt_ultima_carga` in ms: when its last reading was written. */
  lastLoadMs: number;
  /** `intervalo_s`: its usual interval; `null` until a first gap. */
  intervalS: number | null;
  /** Its open `offline` alert, if any. */
  open: { lastTriggeredMs: number; peakS: number; triggerCount: number } | null;
}

/** What the job does to one device's `offline` alert. */
export interface OfflineAction {
  /** Device id. */
  id: string;
  /** `open` a new alert, or `update` the open one. */
  kind: "open" | "update";
  /** The silence that makes it offline, in seconds. */
  limitS: number;
  /** `opened_at`: its event time plus the limit (only meaningful for `open`). */
  openedAtMs: number;
  /** `last_triggered_at`. */
  lastTriggeredMs: number;
  /** `peak_value`: the longest silence seen, in seconds (watermark − event time). */
  peakS: number;
  /** `trigger_count`. */
  triggerCount: number;
}

/** OFFLINE_FACTOR × the device's interval clamped to [OFFLINE_MIN_S, OFFLINE_MAX_S]. */
export function offlineLimitS(
  intervalS: number | null,
  settings: Readonly<OfflineSettings>,
): number {
  const { factor, minS, maxS } = settings;
  return factor * Math.min(Math.max(intervalS ?? maxS, minS), maxS);
}

/**
 * The fleet's progress in event time: the newest event time of any device, but never past `nowMs`;
 * `null` when no device has one.
 */
export function offlineWatermark(devices: readonly DeviceSilence[], nowMs: number): number | null {
  let newest: number | null = null;
  for (const d of devices) {
    if (d.lastEventMs !== null && (newest === null || d.lastEventMs > newest)) {
      newest = d.lastEventMs;
    }
  }
  return newest === null ? null : Math.min(newest, nowMs);
}

/**
 * The alerts to open or update, in the order of `devices`.
 *
 * @param devices Every device of `tb_dispositivo` (the watermark is taken over all of them).
 * @param nowMs The database's clock.
 */
export function decideOffline(
  devices: readonly DeviceSilence[],
  nowMs: number,
  settings: Readonly<OfflineSettings>,
): OfflineAction[] {
  const watermark = offlineWatermark(devices, nowMs);
  if (watermark === null) return [];
  const actions: OfflineAction[] = [];
  for (const d of devices) {
    if (d.lastEventMs === null) continue;
    const limitS = offlineLimitS(d.intervalS, settings);
    // In seconds, as the statement compares them: the same doubles on both sides.
    const silentS = (watermark - d.lastEventMs) / 1000;
    const unloadedS = (nowMs - d.lastLoadMs) / 1000;
    if (!(silentS > limitS && unloadedS > limitS)) continue;
    const openedAtMs = d.lastEventMs + limitS * 1000;
    actions.push(
      d.open === null
        ? {
          id: d.id,
          kind: "open",
          limitS,
          openedAtMs,
          lastTriggeredMs: watermark,
          peakS: silentS,
          triggerCount: 1,
        }
        : {
          id: d.id,
          kind: "update",
          limitS,
          openedAtMs,
          // The watermark never goes back in practice; max() keeps the alert's worst if it did.
          lastTriggeredMs: Math.max(d.open.lastTriggeredMs, watermark),
          peakS: Math.max(d.open.peakS, silentS),
          triggerCount: d.open.triggerCount + 1,
        },
    );
  }
  return actions;
}
