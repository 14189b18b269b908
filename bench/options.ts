/**
 * The command line of `deno task bench` (options are listed in bench/main.ts's header).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ROOT } from "../scripts/repo.ts";

/** Resolved command-line options. */
export interface BenchOptions {
  quick: boolean;
  events: number;
  consumers: number[];
  rates: string[];
  durationS: number;
  spark: boolean;
  /** Run the Kafka Connect peer (Debezium JDBC sink). */
  connect: boolean;
  /** Run the Flink peer. */
  flink: boolean;
  /** Events the peers drain (their own topic; capped by `events`). */
  peerEvents: number;
  clients: boolean;
  services: "isolated" | "env";
  out: string;
  keepServices: boolean;
  /** Stored-row counts of the growth phase (empty: not run). */
  growth: number[];
  /** Events each growth drain lands. */
  growthEvents: number;
  /**
   * Also drain random (v4) ids into the largest growth size (and an empty table): the cost of
   * producers that do not send time-ordered ids, which the consumer accepts.
   */
  growthV4: boolean;
  /**
   * A results file to judge again against the current targets and report (json, md, svg) into
   * `out`, running nothing: for a change of the targets or the report, not of a figure.
   */
  judge?: string;
}

/** Stored-row counts of the full run's growth phase (about 17 min here; bench/README.md says why). */
export const DEFAULT_GROWTH = "0,10000000,50000000";

/** Parses the command line (see the module doc). Throws RangeError on bad values. */
export function parseOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      events: { type: "string" },
      consumers: { type: "string" },
      rates: { type: "string" },
      duration: { type: "string" },
      spark: { type: "boolean" },
      "no-spark": { type: "boolean" },
      connect: { type: "boolean" },
      "no-connect": { type: "boolean" },
      flink: { type: "boolean" },
      "no-flink": { type: "boolean" },
      "peer-events": { type: "string" },
      "no-clients": { type: "boolean", default: false },
      services: { type: "string", default: "isolated" },
      out: { type: "string" },
      "keep-services": { type: "boolean", default: false },
      growth: { type: "string" },
      "growth-events": { type: "string" },
      "growth-v4": { type: "boolean", default: false },
      judge: { type: "string" },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw.replaceAll("_", "").replaceAll(",", ""));
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(`--${name} must be an integer ≥ ${min}: got '${raw}'`);
    }
    return n;
  };
  const consumers = (values.consumers ?? (quick ? "1" : "1,2,3")).split(",").map((c) =>
    int("consumers", c, 1, 1)
  );
  const rates = (values.rates ?? (quick ? "1000" : "1000,10000,50%,80%")).split(",");
  for (const rate of rates) {
    if (!/^\d+%?$/.test(rate) || parseInt(rate) <= 0) {
      throw new RangeError(`--rates takes numbers or percentages like 50%: got '${rate}'`);
    }
  }
  if (values.services !== "isolated" && values.services !== "env") {
    throw new RangeError(`--services must be isolated or env: got '${values.services}'`);
  }
  const events = int("events", values.events, quick ? 20_000 : 1_000_000, 1000);
  const growthList = values.growth ?? (quick ? "none" : DEFAULT_GROWTH);
  const growth = (growthList === "none" ? "" : growthList).split(",").filter((g) => g)
    .map((g) => int("growth", g, 0, 0));
  return {
    quick,
    events,
    consumers,
    rates,
    durationS: int("duration", values.duration, quick ? 5 : 30, 1),
    spark: values["no-spark"] ? false : values.spark ?? !quick,
    connect: values["no-connect"] ? false : values.connect ?? !quick,
    flink: values["no-flink"] ? false : values.flink ?? !quick,
    peerEvents: Math.min(int("peer-events", values["peer-events"], 200_000, 1000), events),
    clients: !values["no-clients"],
    services: values.services,
    out: values.out ?? `${ROOT}/bench/results${quick ? "/tmp/quick" : ""}`,
    keepServices: values["keep-services"] ?? false,
    growth,
    growthEvents: int("growth-events", values["growth-events"], 200_000, 1000),
    growthV4: values["growth-v4"] ?? false,
    judge: values.judge,
  };
}
