/**
 * The benchmark's results as one JSON-ready object, and the summary that checks them against the
 * issue's targets (reported, never asserted).
 *
 * @module
 */

import type { DrainResult } from "./drain.ts";
import type { GrowthResult } from "./growth.ts";
import type { ClientResult } from "./kafka_clients.ts";
import type { LatencyResult } from "./latency.ts";
import type { KafkaLimit, PgLimit } from "./limits.ts";
import type { Machine, Quietness, SourceInfo } from "./machine.ts";
import type { NoDelayResult } from "./pg_nodelay.ts";
import type { PreloadResult } from "./preload.ts";
import type { PeerResults } from "./peers.ts";
import type { SparkDrainResult, SparkLatencyResult } from "./spark/run.ts";

/** One target of the issue, checked against the run (reported, never asserted). */
export interface TargetCheck {
  /** What. */
  name: string;
  /** The bar. */
  target: string;
  /** The figure. */
  measured: string;
  /** Whether it was met; `null` when not measured in this run. */
  met: boolean | null;
}

/** Everything one run measured. */
export interface BenchResults {
  /** Format version of this file. */
  format: 1;
  /** Command line. */
  command: string;
  /** ISO start and end. */
  startedAt: string;
  /** ISO end. */
  finishedAt: string;
  /** Minutes the run took. */
  durationMin: number;
  /** Settings. */
  options: {
    quick: boolean;
    events: number;
    consumers: number[];
    rates: string[];
    latencyDurationS: number;
    spark: boolean;
    connect?: boolean;
    flink?: boolean;
    peerEvents?: number;
    services: string;
  };
  /** Hardware and versions. */
  machine: Machine;
  /** The code measured. */
  source: SourceInfo;
  /** Other load on the machine before and after. */
  quiet: { before: Quietness; after?: Quietness };
  /** How commit instants were read. */
  clock: string;
  /** Topic fill. */
  preload?: PreloadResult;
  /** Drain runs of our consumer. */
  drains: DrainResult[];
  /** The limits. */
  limits: { kafka?: KafkaLimit; postgres: PgLimit[] };
  /** Latency of our consumer. */
  latency: LatencyResult[];
  /** The Spark job. */
  spark: {
    skipped?: string;
    version?: string;
    drains: SparkDrainResult[];
    latency: (SparkLatencyResult | { variant: string; rate: number; skipped: string })[];
  };
  /** Kafka Connect with Debezium's JDBC sink (absent in results older than the peers). */
  connect?: PeerResults;
  /** The Flink job (absent in results older than the peers). */
  flink?: PeerResults;
  /** kafkajs vs @platformatic/kafka. */
  kafkaClients: ClientResult[];
  /** postgres.js TCP_NODELAY check. */
  noDelay?: NoDelayResult;
  /** Drains into a table already holding rows (issue 14, item 6). */
  growth?: GrowthResult;
  /** Headline figures and targets. */
  summary: {
    drainRowsPerS?: number;
    kafkaLimitRowsPerS?: number;
    postgresLimitRowsPerS?: number;
    postgresLimitMethod?: string;
    lowerLimitRowsPerS?: number;
    fractionOfLowerLimit?: number;
    fractionOfPostgresLimit?: number;
    fractionOfStatementLimit?: number;
    timesSparkDefault?: number;
    timesSparkBest?: number;
    consumerUsPerEvent?: number;
    sparkUsPerEvent?: number;
    /** The fastest peer drain with one task / parallelism 1. */
    bestSingleTaskPeer?: { name: string; rowsPerS: number };
    /** One consumer ÷ that peer. */
    timesBestSingleTaskPeer?: number;
    targets: TargetCheck[];
  };
  /** Notes written by the harness (skips, failures of optional parts). */
  notes: string[];
}

/** A number for the reports: grouped thousands, `–` when missing. */
export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? "–"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** A fraction as a whole percentage, `–` when missing. */
export const pct = (x: number | undefined) => (x === undefined ? "–" : `${(x * 100).toFixed(0)} %`);

/** A markdown table: header cells, then one line per row already rendered. */
export const table = (header: string, columns: number, rows: string[]) => [
  header,
  `|${Array(columns).fill("---").join("|")}|`,
  ...rows,
];

/** Computes the summary and the target checks from the figures. */
export function summarize(r: BenchResults): BenchResults["summary"] {
  const one = r.drains.find((d) => d.consumers === 1);
  // Fetch phase: group join excluded, as our drain clock starts at ready.
  const kafka = r.limits.kafka?.fetchMsgsPerS;
  const copyBest = r.limits.postgres.filter((p) => p.method.startsWith("COPY"))
    .sort((a, b) => b.rowsPerS - a.rowsPerS)[0];
  // The rate target is judged against one stream, as one consumer writes one stream.
  const copyOne = r.limits.postgres.find((p) => p.method === "COPY FROM STDIN, 1 stream");
  const statement = r.limits.postgres.find((p) => p.method.startsWith("consumer statement"));
  const lower = kafka !== undefined && copyBest !== undefined
    ? Math.min(kafka, copyBest.rowsPerS)
    : copyBest?.rowsPerS ?? kafka;
  const sparkDefault = r.spark.drains.find((d) => d.variant === "default")?.rowsPerS;
  const sparkBest = Math.max(0, ...r.spark.drains.map((d) => d.rowsPerS)) || undefined;
  const at1k = r.latency.find((l) => l.rate === 1000);
  const at10k = r.latency.find((l) => l.rate === 10_000);
  const consumerUs = one?.cpuUsPerEvent.consumers;
  const fullLoadRss =
    Math.max(0, ...r.drains.flatMap((d) => d.perConsumer.map((c) => c.peakRssMb))) ||
    undefined;
  // A consumer starting alone (1-consumer drain, latency runs); with several starting at once,
  // readiness also waits for the group's rebalance, shown in the drain table.
  const ready = Math.max(
    0,
    ...r.drains.filter((d) => d.consumers === 1).map((d) => d.perConsumer[0].readyMs),
    ...r.latency.map((l) => l.readyMs),
  ) || undefined;
  const drain = one?.rowsPerS;
  const peer = bestSingleTaskPeer(r);
  // Judged on the fleet's ids: the kind of the first run (v7 since 47e116b, v4 in older results,
  // when the fleet's v5 ids were as random as v4), not on the --growth-v4 comparison.
  const fleetIds = r.growth?.runs[0]?.ids;
  const grown = r.growth?.runs.filter((g) => g.ids === fleetIds && g.fractionOfEmpty !== undefined)
    .sort((a, b) => b.storedRows - a.storedRows)[0];
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  const targets: TargetCheck[] = [
    {
      name: "one consumer vs PostgreSQL's one-stream COPY",
      target: "≥ 70 %",
      measured:
        `${pct(ratio(drain, copyOne?.rowsPerS))} (${fmt(drain)} of ${
          fmt(copyOne?.rowsPerS)
        } rows/s)` +
        (copyBest && copyBest !== copyOne
          ? `; ${pct(ratio(drain, copyBest.rowsPerS))} of ${fmt(copyBest.rowsPerS)} with ${
            copyBest.method.replace("COPY FROM STDIN, ", "")
          }`
          : ""),
      met: drain && copyOne ? drain / copyOne.rowsPerS >= 0.7 : null,
    },
    {
      name: "one consumer vs Spark (best variant)",
      target: "≥ 3×",
      measured: sparkBest && drain ? `${(drain / sparkBest).toFixed(1)}×` : "–",
      met: sparkBest && drain ? drain / sparkBest >= 3 : null,
    },
    {
      name: "one consumer vs best single-task peer",
      target: "≥ 2×",
      measured: peer && drain
        ? `${(drain / peer.rowsPerS).toFixed(1)}× (${peer.name}: ${fmt(peer.rowsPerS)} rows/s)`
        : "–",
      met: peer && drain ? drain / peer.rowsPerS >= 2 : null,
    },
    {
      name: "consumer CPU per event (one consumer's drain)",
      target: "≤ 6 µs",
      measured: consumerUs !== undefined ? `${fmt(consumerUs, 1)} µs` : "–",
      met: consumerUs !== undefined ? consumerUs <= 6 : null,
    },
    {
      name: "p99 latency at 1k events/s",
      target: "≤ 50 ms",
      measured: at1k ? `${fmt(at1k.p99, 1)} ms` : "–",
      met: at1k ? at1k.p99 <= 50 : null,
    },
    {
      name: "p99 latency at 10k events/s",
      target: "≤ 100 ms",
      measured: at10k ? `${fmt(at10k.p99, 1)} ms` : "–",
      met: at10k ? at10k.p99 <= 100 : null,
    },
    {
      name: "consumer RSS at full load",
      target: "≤ 150 MB",
      measured: fullLoadRss ? `${fmt(fullLoadRss)} MiB` : "–",
      met: fullLoadRss ? fullLoadRss * 1.048576 <= 150 : null,
    },
    {
      name: "consumer start to ready",
      target: "≤ 2 s",
      measured: ready ? `${fmt(ready)} ms (slowest single start)` : "–",
      met: ready ? ready <= 2000 : null,
    },
    {
      name: "drain rate with 50 M rows stored",
      target: "≥ 80 % of the empty table's",
      measured: grown
        ? `${pct(grown.fractionOfEmpty)} (${fmt(grown.drain.rowsPerS)} rows/s with ` +
          `${fmt(grown.storedRows)} stored)`
        : "–",
      // Only a table of 50 M rows or more answers it; a smaller one is shown, not judged.
      met: grown && grown.storedRows >= 50_000_000 ? grown.fractionOfEmpty! >= 0.8 : null,
    },
  ];
  return {
    drainRowsPerS: drain,
    kafkaLimitRowsPerS: kafka,
    postgresLimitRowsPerS: copyBest?.rowsPerS,
    postgresLimitMethod: copyBest?.method,
    lowerLimitRowsPerS: lower,
    fractionOfLowerLimit: ratio(drain, lower),
    fractionOfPostgresLimit: ratio(drain, copyBest?.rowsPerS),
    fractionOfStatementLimit: ratio(drain, statement?.rowsPerS),
    timesSparkDefault: ratio(drain, sparkDefault),
    timesSparkBest: ratio(drain, sparkBest),
    bestSingleTaskPeer: peer,
    timesBestSingleTaskPeer: ratio(drain, peer?.rowsPerS),
    consumerUsPerEvent: consumerUs,
    sparkUsPerEvent: Math.min(
        ...r.spark.drains.map((d) => d.cpuUsPerEvent?.spark ?? Infinity),
      ) === Infinity
      ? undefined
      : Math.min(...r.spark.drains.map((d) => d.cpuUsPerEvent?.spark ?? Infinity)),
    targets,
  };
}

/** The fastest one-task peer drain of the run (Connect `tasks.max=1`, Flink parallelism 1). */
function bestSingleTaskPeer(r: BenchResults): { name: string; rowsPerS: number } | undefined {
  const single = [
    ...(r.connect?.drains ?? []).map((d) => ({ name: "Kafka Connect", d })),
    ...(r.flink?.drains ?? []).map((d) => ({ name: "Flink", d })),
  ].filter((p) => p.d.tasks === 1).sort((a, b) => b.d.rowsPerS - a.d.rowsPerS)[0];
  return single ? { name: single.name, rowsPerS: single.d.rowsPerS } : undefined;
}
