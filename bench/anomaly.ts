/**
 * `deno task bench:anomaly`: how the per-device anomaly model (consumer/anomaly.ts) behaves on the
 * simulated fleet (producer/fleet.ts): its alert rate on a normal fleet, which has heat spikes, and
 * how fast it flags a temperature sensor that drifts. Pure and seeded: no Kafka, no PostgreSQL; the
 * readings go through `scoreAndLearn` and the `anomaly` alert rule of design-12 step 4 (open above
 * the threshold, close after N consecutive readings at or below the clearing score). It prints
 * figures; nothing is asserted.
 *
 *     deno task bench:anomaly                 # the defaults
 *     deno task bench:anomaly --grid          # and a few other settings, for comparison
 *     deno task bench:anomaly --devices 200 --readings 2000 --interval 5 --seed 1
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  ANOMALY_METRICS,
  type AnomalyMetric,
  type AnomalyModel,
  type AnomalySettings,
  EMPTY_MODEL,
  type MetricModel,
  scoreAndLearn,
} from "../consumer/anomaly.ts";
import { NO_FAULTS } from "../producer/faults.ts";
import { canonicalOf, Fleet } from "../producer/fleet.ts";

/** The model's settings and the alert rule's. */
interface Rule extends AnomalySettings {
  /** ANOMALY_Z_THRESHOLD: a score above it holds. */
  threshold: number;
  /** ANOMALY_CLEAR_Z: a score at or below it is calm. */
  clearZ: number;
  /** ALERT_CLEAR_READINGS: calm readings in a row that close the alert. */
  clearReadings: number;
  /** The model: consumer/anomaly.ts's, or the variant below. */
  model?: "consumer" | "frozen-variance";
}

type Scorer = typeof scoreAndLearn;

/**
 * A variant for comparison, not in the consumer: like `scoreAndLearn`, but a metric's variance
 * learns only from readings whose |z| is at or below the clearing score. Learning every reading
 * makes a ramp's variance grow with it, so its z settles near 1/sqrt(1 - alpha) whatever the
 * slope; with the variance held, z settles near slope x (1 - alpha) / alpha / sigma.
 */
function frozenVariance(clearZ: number): Scorer {
  return (model, reading, settings) => {
    if (model.metrics === null || model.n < settings.warmup) {
      return scoreAndLearn(model, reading, settings);
    }
    const { alpha, minStddev } = settings;
    let score = 0;
    const metrics = {} as Record<AnomalyMetric, MetricModel>;
    for (const name of ANOMALY_METRICS) {
      const { mean, variance } = model.metrics[name];
      const d = reading[name] - mean;
      const z = Math.abs(d) / Math.max(Math.sqrt(variance), minStddev);
      score = Math.max(score, z);
      metrics[name] = {
        mean: mean + alpha * d,
        variance: z <= clearZ ? (1 - alpha) * (variance + alpha * d * d) : variance,
      };
    }
    return { score, model: { n: model.n + 1, metrics } };
  };
}

const DEFAULTS: Rule = {
  alpha: 0.05,
  warmup: 30,
  minStddev: 0.1,
  threshold: 4,
  clearZ: 3,
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

/** Steps the `anomaly` alert of one device; returns whether this reading opened one. */
function stepAlert(alert: Alert, score: number | null, rule: Rule): boolean {
  const holds = score !== null && score > rule.threshold;
  const calm = score !== null && score <= rule.clearZ;
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
  onReading: (
    device: number,
    perDevice: number,
    nowMs: number,
    opened: boolean,
    score: number | null,
  ) => void,
): void {
  const index = new Map(fleet.devices.map((d, i) => [d.id, i]));
  const models: AnomalyModel[] = fleet.devices.map(() => EMPTY_MODEL);
  const alerts: Alert[] = fleet.devices.map(() => ({ open: false, streak: 0 }));
  const counts = fleet.devices.map(() => 0);
  const stepMs = intervalS * 1000 / fleet.devices.length;
  const total = readings * fleet.devices.length;
  const score = rule.model === "frozen-variance" ? frozenVariance(rule.clearZ) : scoreAndLearn;
  for (let k = 0; k < total; k++) {
    const nowMs = START_MS + k * stepMs;
    const reading = fleet.nextReading(nowMs);
    const i = index.get(reading.key)!;
    const c = canonicalOf(reading.payload);
    const { score: z, model } = score(models[i], {
      temperatura: c.TEMPERATURA as number,
      umidade: c.UMIDADE as number,
    }, rule);
    models[i] = model;
    onReading(i, counts[i]++, nowMs, stepAlert(alerts[i], z, rule), z);
  }
}

/** The normal fleet: alerts opened per 1000 readings, during heat spikes and outside. */
function normalFleet(
  devices: number,
  readings: number,
  intervalS: number,
  seed: number,
  rule: Rule,
) {
  const fleet = new Fleet(devices, seed);
  const lastSpike = fleet.devices.map(() => -Infinity);
  let [scored, opened, inSpike, above, spikes] = [0, 0, 0, 0, 0];
  run(fleet, readings, intervalS, rule, (i, n, _now, open, score) => {
    if (fleet.devices[i].spikeLeft > 0) {
      if (lastSpike[i] !== n - 1 && score !== null) spikes++;
      lastSpike[i] = n;
    }
    if (score === null) return;
    scored++;
    if (score > rule.threshold) above++;
    if (!open) return;
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
  };
}

/**
 * A fleet whose every sensor starts drifting halfway: readings and seconds from the drift's start
 * to the first reading the rule holds on outside a heat spike.
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
  const firstMs: (number | undefined)[] = fleet.devices.map(() => undefined);
  const firstN: (number | undefined)[] = fleet.devices.map(() => undefined);
  const startN: (number | undefined)[] = fleet.devices.map(() => undefined);
  const lastSpike = fleet.devices.map(() => -Infinity);
  run(fleet, readings, intervalS, rule, (i, n, nowMs, _opened, score) => {
    if (fleet.devices[i].spikeLeft > 0) lastSpike[i] = n;
    if (nowMs <= driftStartMs || firstMs[i] !== undefined) return;
    startN[i] ??= n;
    // A heat spike is flagged whatever the drift does: only readings outside one count.
    if (n - lastSpike[i] <= SPIKE_TAIL_READINGS) return;
    // The first reading the rule holds on (opening an alert, or re-triggering one a spike opened).
    if (score !== null && score > rule.threshold) [firstMs[i], firstN[i]] = [nowMs, n];
  });
  const flagged = firstMs.flatMap((ms, i) =>
    ms === undefined ? [] : [{ s: (ms - driftStartMs) / 1000, n: firstN[i]! - startN[i]! + 1 }]
  );
  const seconds = flagged.map((f) => f.s).sort((a, b) => a - b);
  const counts = flagged.map((f) => f.n).sort((a, b) => a - b);
  return {
    cPerMin,
    devices,
    flagged: flagged.length,
    medianReadings: quantile(counts, 0.5),
    p90Readings: quantile(counts, 0.9),
    medianS: quantile(seconds, 0.5),
    p90S: quantile(seconds, 0.9),
    maxS: seconds.at(-1),
    medianDriftC: seconds.length === 0
      ? undefined
      : round(quantile(seconds, 0.5)! * cPerMin / 60, 2),
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
    // The warm-up grows with 1 / alpha: the variance starts at 0 and needs about that long.
    rules.push(["alpha 0.02, warmup 75", { ...DEFAULTS, alpha: 0.02, warmup: 75 }]);
    rules.push(["alpha 0.01, warmup 150", { ...DEFAULTS, alpha: 0.01, warmup: 150 }]);
    rules.push(["alpha 0.005, warmup 300", { ...DEFAULTS, alpha: 0.005, warmup: 300 }]);
    rules.push(["min stddev 0.3", { ...DEFAULTS, minStddev: 0.3 }]);
    rules.push(["threshold 3, clear 2", { ...DEFAULTS, threshold: 3, clearZ: 2 }]);
    rules.push(["variant: variance held above the clearing score", {
      ...DEFAULTS,
      model: "frozen-variance",
    }]);
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
