/**
 * The checker's invariants about monitoring (issue 12; private to chaos/, see checker.ts): alert
 * episodes, at most one open alert per device and type, and anomaly scores, each compared with the
 * checker's own replay (`_checker_fold.ts`) of every device's stored readings in
 * `seq_dispositivo` order.
 *
 * Which readings were ahead of their record comes from `_checker_devices.ts`. A reading whose
 * messages disagree ("either") is tried both ways: a device passes when one choice for its
 * undecided readings explains everything stored (at most {@linkcode MAX_UNDECIDED} of them; past
 * that, they count as not ahead and the violation says so).
 *
 * @module
 */

import { aheadById } from "./_checker_devices.ts";
import type { Expected } from "./_checker_expect.ts";
import { compareAnomaly, pinnedPositions } from "./_checker_anomaly.ts";
import {
  type DeviceReplay,
  type Episode,
  type FoldReading,
  replayDevice,
} from "./_checker_fold.ts";
import type { CheckInput, Finding, Problem, StoredRow } from "./_checker_types.ts";
import type { StoredAlert } from "./_checker_monitoring.ts";

/** Undecided readings of one device tried both ways (2^n replays). */
export const MAX_UNDECIDED = 4;

/** One device's stored monitoring and the replay that explains it best. */
export interface DeviceJudged {
  device: string;
  /** Its stored readings in seq order (missing seqs last, then by id). */
  readings: StoredRow[];
  replay: DeviceReplay;
  /** Problems found with the replay for each invariant. */
  alertProblems: Problem[];
  anomalyProblems: Problem[];
}

/** Replays every device and compares; shared by the three invariants. */
export function judgeDevices(input: CheckInput, expected: Expected): DeviceJudged[] {
  const { folds, models, alerts, settings } = input.monitoring;
  const ahead = aheadById(input, expected);
  const fold = new Map(folds.map((f) => [f.id, f]));
  const model = new Map(models.map((m) => [m.id_dispositivo, m]));
  const byDevice = Map.groupBy(input.rows, (r) => r.id_dispositivo);
  const alertsOf = Map.groupBy(alerts, (a) => a.id_dispositivo);
  const pinned = pinnedPositions(expected);
  const names = new Set([...byDevice.keys(), ...alertsOf.keys(), ...model.keys()]);
  return [...names].sort().map((device) => {
    const seqOf = (r: StoredRow) => fold.get(r.id)?.seq_dispositivo ?? Infinity;
    const readings = [...(byDevice.get(device) ?? [])].sort((a, b) =>
      seqOf(a) - seqOf(b) || (a.id < b.id ? -1 : 1)
    );
    const undecided = readings.filter((r) => (ahead.get(r.id) ?? "either") === "either");
    const tried = undecided.slice(0, MAX_UNDECIDED);
    let best: DeviceJudged | undefined;
    let bestCount = Infinity;
    for (let mask = 0; mask < 1 << tried.length; mask++) {
      const chosen = new Set(tried.filter((_, i) => mask & (1 << i)).map((r) => r.id));
      const isAhead = (id: string) => chosen.has(id) || ahead.get(id) === "yes";
      const replay = replayDevice(readings.map(foldReading), isAhead, settings);
      const judged: DeviceJudged = {
        device,
        readings,
        replay,
        alertProblems: compareAlerts(
          device,
          replay,
          alertsOf.get(device) ?? [],
          readings,
          isAhead,
          seqOf,
        ),
        anomalyProblems: compareAnomaly(device, replay, readings, fold, model.get(device), pinned),
      };
      const count = judged.alertProblems.length + judged.anomalyProblems.length;
      if (count === 0) return judged;
      // Reported: the choice that explains the most (its problems are the likeliest real ones).
      if (best === undefined || count < bestCount) [best, bestCount] = [judged, count];
    }
    if (undecided.length > MAX_UNDECIDED) {
      best!.anomalyProblems.push({
        message: `${device}: ${undecided.length} readings whose records disagree on ahead; ` +
          `${undecided.length - MAX_UNDECIDED} taken as not ahead without trying`,
      });
    }
    return best!;
  });
}

/** `alert-episodes`: the stored episodes are the replay's, each opened once; offline alerts. */
export function alertEpisodes(judged: readonly DeviceJudged[]): Finding {
  const violations = judged.flatMap((d) =>
    d.alertProblems.map((p) => ({ invariant: "alert-episodes" as const, ...p }))
  );
  // One thing checked per episode: a run without any proves nothing about them.
  const checked = judged.reduce((n, d) => n + d.replay.episodes.length, 0);
  return { checked, violations };
}

/** `anomaly-replay`: scores, models and seq_dispositivo are the replay's. */
export function anomalyReplay(judged: readonly DeviceJudged[]): Finding {
  const violations = judged.flatMap((d) =>
    d.anomalyProblems.map((p) => ({ invariant: "anomaly-replay" as const, ...p }))
  );
  return { checked: judged.reduce((n, d) => n + d.readings.length, 0), violations };
}

/** `one-open-alert`: never two open alerts for one (device, type). */
export function oneOpenAlert(alerts: readonly StoredAlert[]): Finding {
  const pairs = Map.groupBy(alerts, (a) => `${a.id_dispositivo} ${a.tipo}`);
  const violations = [...pairs].flatMap(([pair, mine]) => {
    const open = mine.filter((a) => a.cleared_at === null);
    return open.length > 1
      ? [{
        invariant: "one-open-alert" as const,
        message: `${pair}: ${open.length} open alerts (ids ${open.map((a) => a.id).join(", ")})`,
      }]
      : [];
  });
  return { checked: pairs.size, violations };
}

function foldReading(r: StoredRow): FoldReading {
  return {
    id: r.id,
    timestamp_ts: r.timestamp_ts,
    temperatura: r.temperatura,
    umidade: r.umidade,
    bateria: r.bateria,
  };
}

const EPISODE_COLUMNS = [
  "cleared_event",
  "opened_at",
  "cleared_at",
  "last_triggered_at",
  "trigger_count",
  "peak_value",
] as const;

function compareAlerts(
  device: string,
  replay: DeviceReplay,
  stored: readonly StoredAlert[],
  readings: readonly StoredRow[],
  isAhead: (id: string) => boolean,
  seqOf: (r: StoredRow) => number,
): Problem[] {
  const problems: Problem[] = [];
  const key = (tipo: string, opened: string | null) => `${tipo} opened by ${opened}`;
  const want = new Map(replay.episodes.map((e) => [key(e.tipo, e.opened_event), e]));
  const seen = new Set<string>();
  for (const a of stored) {
    if (a.tipo === "offline") continue;
    const k = key(a.tipo, a.opened_event);
    if (seen.has(k)) {
      problems.push({ message: `${device}: ${k} stored twice (alert ${a.id})` });
      continue;
    }
    seen.add(k);
    const e = want.get(k);
    if (e === undefined) {
      problems.push({ message: `${device}: alert ${a.id} ${k}: no such episode in the replay` });
      continue;
    }
    const wrong: (keyof Episode & keyof StoredAlert)[] = EPISODE_COLUMNS.filter((c) =>
      a[c] !== e[c]
    );
    if (e.cleared_event === null && a.clear_streak !== e.clear_streak) wrong.push("clear_streak");
    if (wrong.length > 0) {
      problems.push({ message: `${device}: alert ${a.id} ${k}: ${diff(a, e, wrong)}` });
    }
  }
  for (const [k, e] of want) {
    if (!seen.has(k)) {
      problems.push({
        message: `${device}: ${k} missing (replay: ${e.cleared_event ? "cleared" : "open"}, ` +
          `${e.trigger_count} triggers)`,
      });
    }
  }
  return [...problems, ...offlineProblems(device, stored, readings, isAhead, seqOf)];
}

function diff(
  a: StoredAlert,
  e: Episode,
  wrong: readonly (keyof Episode & keyof StoredAlert)[],
): string {
  return wrong.map((c) => `${c} ${a[c]} (replay ${e[c]})`).join(", ");
}

/**
 * Offline alerts: each cleared one is cleared by a reading of its device that was not ahead, at
 * max(opened_at, the reading's event time); a reading clears at most one, and alerts created
 * later (higher id) are cleared by later readings.
 *
 * And none is cleared late, nor left open, past the first reading folded after it was created:
 * - exactly, when the alert records `qt_leituras_abertura` (its device's count of folded readings
 *   when the job created it): the first reading not ahead whose seq is past that count clears it;
 * - otherwise (alerts of a database migrated from before that column), as far as event times tell:
 *   the job opens at `timestamp_ts + limit` (limit > 0) with `timestamp_ts` the device's newest
 *   event time folded so far, so a reading not ahead at or past `opened_at` came after it.
 */
function offlineProblems(
  device: string,
  stored: readonly StoredAlert[],
  readings: readonly StoredRow[],
  isAhead: (id: string) => boolean,
  seqOf: (r: StoredRow) => number,
): Problem[] {
  const problems: Problem[] = [];
  const place = new Map(readings.map((r, i) => [r.id, i]));
  let lastPlace = -1;
  const offline = stored.filter((a) => a.tipo === "offline").sort((a, b) => a.id - b.id);
  offline.forEach((a, i) => {
    const foldedBefore = a.qt_leituras_abertura;
    const after = (r: StoredRow) =>
      foldedBefore === null ? r.timestamp_ts >= a.opened_at : seqOf(r) > foldedBefore;
    const due = readings.findIndex((r) => !isAhead(r.id) && after(r));
    const overdue = (at: number) =>
      due >= 0 && at > due &&
      problems.push({
        message: `${device}: offline alert ${a.id} (opened_at ${a.opened_at}) not cleared by ` +
          `${readings[due].id} (${readings[due].timestamp_ts}), folded after it opened`,
      });
    if (a.cleared_at === null) {
      overdue(Infinity);
      if (i < offline.length - 1) {
        problems.push({ message: `${device}: offline alert ${a.id} open, a later one exists` });
      }
      return;
    }
    const at = a.cleared_event === null ? undefined : place.get(a.cleared_event);
    if (at === undefined) {
      problems.push({
        message: `${device}: offline alert ${a.id} cleared by ${a.cleared_event}, ` +
          "not a stored reading of its device",
      });
      return;
    }
    overdue(at);
    const r = readings[at];
    if (foldedBefore !== null && seqOf(r) <= foldedBefore) {
      problems.push({
        message: `${device}: offline alert ${a.id} cleared by ${r.id} (seq ${seqOf(r)}), ` +
          `folded before it was created (after ${foldedBefore} readings)`,
      });
      return;
    }
    const clearedAt = r.timestamp_ts > a.opened_at ? r.timestamp_ts : a.opened_at;
    if (isAhead(r.id)) {
      problems.push({ message: `${device}: offline alert ${a.id} cleared by ${r.id}, ahead` });
    } else if (a.cleared_at !== clearedAt) {
      problems.push({
        message: `${device}: offline alert ${a.id} cleared_at ${a.cleared_at}, want ${clearedAt}`,
      });
    } else if (at <= lastPlace) {
      problems.push({
        message: `${device}: offline alert ${a.id} cleared by ${r.id}, not after the reading ` +
          "that cleared the one before",
      });
    }
    lastPlace = Math.max(lastPlace, at);
  });
  return problems;
}
