/**
 * `deno task bench:anomaly`: how the per-device anomaly model (consumer/anomaly.ts) behaves on the
 * simulated fleet (producer/fleet.ts): its alert rate on a normal fleet, which has heat spikes, and
 * how fast it flags a temperature sensor that drifts. Pure and seeded: no Kafka, no PostgreSQL; the
 * readings go through `scoreAndLearn` and the `anomaly` and `drift` alert rules of alerts.ts (open
 * above the threshold, close after N consecutive readings at or below the clearing value). It
 * prints figures; nothing is asserted.
 *
 *     deno task bench:anomaly                 # the defaults
 *     deno task bench:anomaly --grid          # and a few other settings, for comparison
 *     deno task bench:anomaly --devices 200 --readings 2000 --interval 5 --seed 1
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type AnomalyModel,
  type AnomalySettings,
  EMPTY_MODEL,
  scoreAndLearn,
} from "../consumer/anomaly.ts";
import { NO_FAULTS } from "../producer/faults.ts";
import { canonicalOf, Fleet } from "../producer/fleet.ts";

/** The model's settings and the alert rules'. */
interface Rule extends AnomalySettings {
  /** ANOMALY_Z_THRESHOLD: a score above it holds. */
  threshold: number;
  /** ANOMALY_CLEAR_Z: a score at or below it is calm. */
  clearZ: number;
  /** ANOMALY_DRIFT_THRESHOLD: a drift above it holds. */
  driftThreshold: number;
  /** ANOMALY_DRIFT_CLEAR: a drift at or below it is calm. */
  driftClear: number;
  /** ALERT_CLEAR_READINGS: calm readings in a row that close an alert. */
  clearReadings: number;
}

const DEFAULTS: Rule = {
  alpha: 0.05,
  warmup: 30,
  minStddev: 0.1,
  driftStep: 0.1,
  threshold: 4,
  clearZ: 3,
  driftThreshold: 6,
  driftClear: 3,
  clearReadings: 3,
};

/** Readings after a heat spike ends that still count as the spike: its heat decays by 20 % a step. */
const SPIKE_TAIL_READINGS = 20;

const START_MS = Date.UTC(2026, 0, 1);

/** One device's alert as the rule keeps it. */
interface Alert {
  open: boolean;
  streak: number;
}

/** Steps one alert of one device on a score; returns whether this reading opened it. */
function stepAlert(
  alert: Alert,
  score: number | null,
  threshold: number,
  clear: number,
  rule: Rule,
): boolean {
  const holds = score !== null && score > threshold;
  const calm = score !== null && score <= clear;
  if (!alert.open) {
    if (holds) Object.assign(alert, { open: true, streak: 0 });
    return holds;
  }
  if (holds) alert.streak = 0;
  else if (calm) {
    alert.streak++;
    if (alert.streak >= rule.clearReadings) Object.assign(alert, { open: false, streak: 0 });
  } else alert.streak = 0;
  return false;
}

/** Runs a fleet through the model; `onReading` sees each scored reading. */
function run(
  fleet: Fleet,
  readings: number,
  intervalS: number,
  rule: Rule,
  onReading: (device: number, perDevice: number, nowMs: number, seen: Seen) => void,
): void {
  const index = new Map(fleet.devices.map((d, i) => [d.id, i]));
  const models: AnomalyModel[] = fleet.devices.map(() => EMPTY_MODEL);
  const anomalies: Alert[] = fleet.devices.map(() => ({ open: false, streak: 0 }));
  const drifts: Alert[] = fleet.devices.map(() => ({ open: false, streak: 0 }));
  const counts = fleet.devices.map(() => 0);
  const stepMs = intervalS * 1000 / fleet.devices.length;
  const total = readings * fleet.devices.length;
  for (let k = 0; k < total; k++) {
    const nowMs = START_MS + k * stepMs;
    const reading = fleet.nextReading(nowMs);
    const i = index.get(reading.key)!;
    const c = canonicalOf(reading.payload);
    const { score, drift, model } = scoreAndLearn(models[i], {
      temperatura: c.TEMPERATURA as number,
      umidade: c.UMIDADE as number,
    }, rule);
    models[i] = model;
    onReading(i, counts[i]++, nowMs, {
      score,
      drift,
      anomalyOpened: stepAlert(anomalies[i], score, rule.threshold, rule.clearZ, rule),
      driftOpened: stepAlert(drifts[i], drift, rule.driftThreshold, rule.driftClear, rule),
    });
  }
}

/** What one reading got: its score and drift, and whether it opened either alert. */
interface Seen {
  score: number | null;
  drift: number | null;
  anomalyOpened: boolean;
  driftOpened: boolean;
}

/**
 * The normal fleet: alerts opened per 1000 scored readings, for `anomaly` during heat spikes and
 * outside, and for `drift` (which no reading of a normal fleet should open).
 */
function normalFleet(
  devices: number,
  readings: number,
  intervalS: number,
  seed: number,
  rule: Rule,
) {
  const fleet = new Fleet(devices, seed);
  const lastSpike = fleet.devices.map(() => -Infinity);
  let [scored, opened, inSpike, above, spikes, drifts, maxDrift] = [0, 0, 0, 0, 0, 0, 0];
  run(fleet, readings, intervalS, rule, (i, n, _now, seen) => {
    if (fleet.devices[i].spikeLeft > 0) {
      if (lastSpike[i] !== n - 1 && seen.score !== null) spikes++;
      lastSpike[i] = n;
    }
    if (seen.score === null) return;
    scored++;
    if (seen.score > rule.threshold) above++;
    if (seen.driftOpened) drifts++;
    maxDrift = Math.max(maxDrift, seen.drift ?? 0);
    if (!seen.anomalyOpened) return;
    opened++;
    if (n - lastSpike[i] <= SPIKE_TAIL_READINGS) inSpike++;
  });
  const per1000 = (x: number) => round(1000 * x / scored, 3);
  return {
    readings: devices * readings,
    scored,
    opened,
    openedPer1000: per1000(opened),
    inSpikePer1000: per1000(inSpike),
    outsidePer1000: per1000(opened - inSpike),
    outside: opened - inSpike,
    scoredAbovePct: round(100 * above / scored, 3),
    spikes,
    driftOpened: drifts,
    maxDrift: round(maxDrift, 2),
  };
}

/**
 * A fleet whose every sensor starts drifting halfway: readings and seconds from the drift's start
 * to the first reading each rule holds on (`anomaly` outside a heat spike, which it flags whatever
 * the drift does; `drift` anywhere).
 */
function drift(
  devices: number,
  readings: number,
  intervalS: number,
  seed: number,
  rule: Rule,
  cPerMin: number,
) {
  const driftAfterS = (readings / 2) * intervalS;
  const fleet = new Fleet(devices, seed, {
    ...NO_FAULTS,
    driftDevices: devices,
    driftAfterS,
    driftCPerMin: cPerMin,
  });
  const driftStartMs = START_MS + driftAfterS * 1000;
  const first = {
    anomaly: fleet.devices.map((): number | undefined => undefined),
    drift: fleet.devices.map((): number | undefined => undefined),
  };
  const startN: (number | undefined)[] = fleet.devices.map(() => undefined);
  const lastSpike = fleet.devices.map(() => -Infinity);
  let driftBefore = 0;
  run(fleet, readings, intervalS, rule, (i, n, nowMs, seen) => {
    if (fleet.devices[i].spikeLeft > 0) lastSpike[i] = n;
    if (nowMs <= driftStartMs) {
      if (seen.driftOpened) driftBefore++;
      return;
    }
    startN[i] ??= n;
    const readingsIn = n - startN[i]! + 1;
    if (seen.drift !== null && seen.drift > rule.driftThreshold) first.drift[i] ??= readingsIn;
    if (n - lastSpike[i] <= SPIKE_TAIL_READINGS) return;
    if (seen.score !== null && seen.score > rule.threshold) first.anomaly[i] ??= readingsIn;
  });
  const summary = (firsts: (number | undefined)[]) => {
    const counts = firsts.filter((n) => n !== undefined).sort((a, b) => a - b);
    const median = quantile(counts, 0.5);
    return {
      flagged: counts.length,
      medianReadings: median,
      p90Readings: quantile(counts, 0.9),
      medianS: median === undefined ? undefined : round(median * intervalS, 1),
      medianDriftC: median === undefined ? undefined : round(median * intervalS * cPerMin / 60, 2),
    };
  };
  return {
    cPerMin,
    devices,
    anomaly: summary(first.anomaly),
    drift: summary(first.drift),
    driftAlertsBeforeTheDrift: driftBefore,
  };
}

function quantile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

if (import.meta.main) {
  const { values: args } = parseArgs({
    args: Deno.args,
    options: {
      grid: { type: "boolean", default: false },
      devices: { type: "string", default: "200" },
      readings: { type: "string", default: "2000" },
      interval: { type: "string", default: "5" },
      seed: { type: "string", default: "1" },
      "drift-devices": { type: "string", default: "50" },
      rates: { type: "string", default: "0.5,1,2,5" },
    },
  });
  const [devices, readings, intervalS, seed, driftDevices] = [
    args.devices,
    args.readings,
    args.interval,
    args.seed,
    args["drift-devices"],
  ].map(Number);
  const rates = args.rates.split(",").map(Number);
  const rules: [string, Rule][] = [["defaults", DEFAULTS]];
  if (args.grid) {
    for (const threshold of [5, 6]) {
      rules.push([`threshold ${threshold}, clear ${threshold - 1}`, {
        ...DEFAULTS,
        threshold,
        clearZ: threshold - 1,
      }]);
    }
    rules.push(["drift step 0.2, threshold 10", {
      ...DEFAULTS,
      driftStep: 0.2,
      driftThreshold: 10,
    }]);
    rules.push(["drift step 0.05, threshold 4", {
      ...DEFAULTS,
      driftStep: 0.05,
      driftThreshold: 4,
    }]);
    rules.push(["drift threshold 5", { ...DEFAULTS, driftThreshold: 5 }]);
    rules.push(["drift threshold 8", { ...DEFAULTS, driftThreshold: 8 }]);
  }
  console.log(
    `fleet: seed ${seed}, ${devices} devices x ${readings} readings, one every ${intervalS} s; ` +
      `drift: ${driftDevices} devices x ${readings} readings, drifting from reading ${
        readings / 2
      }`,
  );
  for (const [name, rule] of rules) {
    console.log(`\n## ${name}: ${JSON.stringify(rule)}`);
    console.log(
      "normal fleet:",
      JSON.stringify(normalFleet(devices, readings, intervalS, seed, rule)),
    );
    for (const rate of rates) {
      console.log(
        "drift:",
        JSON.stringify(drift(driftDevices, readings, intervalS, seed, rule, rate)),
      );
    }
  }
}
