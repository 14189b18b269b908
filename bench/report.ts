/**
 * The benchmark's outputs: every figure as JSON, a markdown summary, and an SVG chart drawn by
 * hand (no browser or plotting library), written side by side into one directory.
 *
 * @module
 */

import type { DrainResult } from "./drain.ts";
import type { Footprint } from "./footprint.ts";
import type { ClientResult } from "./kafka_clients.ts";
import type { LatencyResult } from "./latency.ts";
import type { KafkaLimit, PgLimit } from "./limits.ts";
import type { Machine, Quietness, SourceInfo } from "./machine.ts";
import type { NoDelayResult } from "./pg_nodelay.ts";
import type { PreloadResult } from "./preload.ts";
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
  /** kafkajs vs @platformatic/kafka. */
  kafkaClients: ClientResult[];
  /** postgres.js TCP_NODELAY check. */
  noDelay?: NoDelayResult;
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
    targets: TargetCheck[];
  };
  /** Notes written by the harness (skips, failures of optional parts). */
  notes: string[];
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? "–"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (x: number | undefined) => (x === undefined ? "–" : `${(x * 100).toFixed(0)} %`);
const mark = (met: boolean | null) => (met === null ? "not measured" : met ? "met" : "**missed**");

/** Computes the summary and the target checks from the figures. */
export function summarize(r: BenchResults): BenchResults["summary"] {
  const one = r.drains.find((d) => d.consumers === 1);
  // Fetch phase: group join excluded, as our drain clock starts at ready.
  const kafka = r.limits.kafka?.fetchMsgsPerS;
  const copyBest = r.limits.postgres.filter((p) => p.method.startsWith("COPY"))
    .sort((a, b) => b.rowsPerS - a.rowsPerS)[0];
  const statement = r.limits.postgres.find((p) => p.method.startsWith("consumer statement"));
  const lower = kafka !== undefined && copyBest !== undefined
    ? Math.min(kafka, copyBest.rowsPerS)
    : copyBest?.rowsPerS ?? kafka;
  const sparkDefault = r.spark.drains.find((d) => d.variant === "default")?.rowsPerS;
  const sparkBest = Math.max(0, ...r.spark.drains.map((d) => d.rowsPerS)) || undefined;
  const at1k = r.latency.find((l) => l.rate === 1000);
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
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  const targets: TargetCheck[] = [
    {
      name: "one consumer vs PostgreSQL limit",
      target: "≥ 70 %",
      measured: `${pct(ratio(drain, copyBest?.rowsPerS))} (${fmt(drain)} of ${
        fmt(copyBest?.rowsPerS)
      } rows/s)`,
      met: drain && copyBest ? drain / copyBest.rowsPerS >= 0.7 : null,
    },
    {
      name: "one consumer vs Spark (best variant)",
      target: "≥ 3×",
      measured: sparkBest && drain ? `${(drain / sparkBest).toFixed(1)}×` : "–",
      met: sparkBest && drain ? drain / sparkBest >= 3 : null,
    },
    {
      name: "p99 latency at 1k events/s",
      target: "≤ 50 ms",
      measured: at1k ? `${fmt(at1k.p99, 1)} ms` : "–",
      met: at1k ? at1k.p99 <= 50 : null,
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
    consumerUsPerEvent: one?.cpuUsPerEvent.consumers,
    sparkUsPerEvent: Math.min(
        ...r.spark.drains.map((d) => d.cpuUsPerEvent?.spark ?? Infinity),
      ) === Infinity
      ? undefined
      : Math.min(...r.spark.drains.map((d) => d.cpuUsPerEvent?.spark ?? Infinity)),
    targets,
  };
}

const fp = (f: Footprint | undefined) =>
  f ? `${fmt(f.peakRssMb)} MiB / ${fmt(f.avgCpuPct)} %` : "–";

/** The markdown report. */
export function toMarkdown(r: BenchResults, chartFile: string): string {
  const s = r.summary;
  const m = r.machine;
  const lines: string[] = [];
  const q = r.quiet;
  lines.push(
    `# Benchmark: ${r.options.quick ? "quick run (CI; figures not meaningful)" : "full run"}`,
    "",
    `${r.startedAt} · ${r.durationMin.toFixed(1)} min · \`${r.command}\` · commit ` +
      `${r.source.commit.slice(0, 10)}${
        r.source.dirty.length > 0 ? " (with uncommitted changes)" : ""
      }`,
    "",
    `**Machine:** ${m.cpuModel}, ${m.nproc} cores, ${m.memoryGiB} GiB RAM, ${m.os}, Linux ${m.kernel}. ` +
      `Deno ${m.versions.deno}, ${m.versions.java}, Kafka ${m.versions.kafka} (KRaft, 1 node), ` +
      `PostgreSQL ${m.versions.postgresql}` +
      (m.versions.spark ? `, Spark ${m.versions.spark} (${m.versions.python})` : "") +
      `, kafkajs ${m.versions.kafkajs}, @platformatic/kafka ${
        m.versions["@platformatic/kafka"]
      }, ` +
      `postgres.js ${
        m.versions["postgres.js"]
      }. Kafka, PostgreSQL, consumers, producer and Spark ` +
      "all share these cores.",
    "",
    `**Quiet machine:** before: ${q.before.quiet ? "yes" : "NO"} (other processes used ` +
      `${q.before.otherCores} cores, load ${q.before.loadavg1})` +
      (q.after
        ? `; after: ${
          q.after.quiet ? "yes" : "NO"
        } (${q.after.otherCores} cores, load ${q.after.loadavg1})`
        : "") +
      `. During each drain the CPU of other processes is in the drain table ("other").`,
    "",
    `**Clock:** commit instants from ${r.clock}; event time = the fleet's TIMESTAMP ` +
      "(`Date.now()` when the producer created the event). One machine, one clock.",
    "",
    `![throughput chart](${chartFile})`,
    "",
    "## Headline",
    "",
    "| | figure |",
    "|---|---|",
    `| Events pre-loaded (6 partitions) | ${fmt(r.options.events)} |`,
    `| One consumer drain rate | **${fmt(s.drainRowsPerS)} rows/s** |`,
    `| Kafka limit (ConsumerPerformance, fetch phase) | ${fmt(s.kafkaLimitRowsPerS)} msg/s |`,
    `| PostgreSQL limit (${s.postgresLimitMethod ?? "COPY"}) | ${
      fmt(s.postgresLimitRowsPerS)
    } rows/s |`,
    `| One consumer as a fraction of the lower limit | **${pct(s.fractionOfLowerLimit)}** |`,
    `| … of the consumer's own statement run directly | ${pct(s.fractionOfStatementLimit)} |`,
    `| vs Spark, default trigger | ${
      s.timesSparkDefault ? `${s.timesSparkDefault.toFixed(1)}×` : "–"
    } |`,
    `| vs Spark, best variant | ${s.timesSparkBest ? `${s.timesSparkBest.toFixed(1)}×` : "–"} |`,
    `| CPU per event, pipeline process: ours (1 consumer) / Spark (best) | ${
      fmt(s.consumerUsPerEvent, 1)
    } µs / ${fmt(s.sparkUsPerEvent, 1)} µs |`,
    "",
    "## Targets",
    "",
    "| target | bar | measured | |",
    "|---|---|---|---|",
    ...s.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${mark(t.met)} |`),
    "",
    "## Drain: pre-loaded topic → PostgreSQL",
    "",
    "Rate = rows ÷ (last commit − first consumer ready); steady = between the 10th and 90th " +
      "percentile commits. Start-up is in the ready column. CPU in cores from ready to the end " +
      "(2 = the whole machine); pipeline = our consumer processes or Spark's driver JVM + Python; " +
      "µs per event = CPU time per event, which machine load disturbs far less than rates.",
    "",
    "| pipeline | rows/s | steady rows/s | s | ready ms | peak RSS MiB | CPU % (drain) | batch rows | CPU cores: pipeline / postgres / kafka / other / machine | µs per event: pipeline / postgres |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...r.drains.map((d) =>
      `| ours, ${d.consumers} consumer${d.consumers > 1 ? "s" : ""} | **${fmt(d.rowsPerS)}** | ${
        fmt(d.steadyRowsPerS)
      } | ${fmt(d.seconds, 1)} | ${d.perConsumer.map((c) => fmt(c.readyMs)).join(", ")} | ${
        d.perConsumer.map((c) => fmt(c.peakRssMb)).join(", ")
      } | ${d.perConsumer.map((c) => fmt(c.drainCpuPct)).join(", ")} | ${fmt(d.avgBatchRows)} | ${
        fmt(d.cpu.groups.consumers, 2)
      } / ${fmt(d.cpu.groups.postgres, 2)} / ${fmt(d.cpu.groups.kafka, 2)} / ${
        fmt(d.cpu.groups.other, 2)
      } / ${fmt(d.cpu.machineCores, 2)} | ${fmt(d.cpuUsPerEvent.consumers, 1)} / ${
        fmt(d.cpuUsPerEvent.postgres, 1)
      } |`
    ),
    ...r.spark.drains.map((d) =>
      `| Spark ${r.spark.version}, ${d.variant} | ${fmt(d.rowsPerS)} | – | ${fmt(d.seconds, 1)} | ${
        fmt(d.readyMs)
      } | ${fmt(d.footprint.peakRssMb)} | ${
        fmt(d.footprint.avgCpuPct)
      } (whole run) | ${d.microBatches} micro-batch(es) | – | – |`
    ),
    "",
    "## Limits (same topic, same rows, same indexes, same run)",
    "",
    "| limit | rate | s |",
    "|---|---|---|",
    ...(r.limits.kafka
      ? [
        `| Kafka ConsumerPerformance, whole run | ${fmt(r.limits.kafka.msgsPerS)} msg/s (${
          fmt(r.limits.kafka.mbPerS, 1)
        } MB/s) | ${fmt(r.limits.kafka.seconds, 2)} |`,
        `| Kafka ConsumerPerformance, fetch phase only | ${
          fmt(r.limits.kafka.fetchMsgsPerS)
        } msg/s | |`,
      ]
      : []),
    ...r.limits.postgres.map((p) =>
      `| PostgreSQL ${p.method} | ${fmt(p.rowsPerS)} rows/s | ${fmt(p.seconds, 2)} |`
    ),
    "",
    "## Latency: produce → committed row",
    "",
    `Producer service at a fixed rate; ${r.options.latencyDurationS} s measured after a warm-up at the same rate.`,
    "",
    "| pipeline | target rate | achieved | events | p50 ms | p95 ms | p99 ms | max ms | catch-up s | RSS MiB / CPU % |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...r.latency.map((l) =>
      `| ours | ${fmt(l.rate)} | ${fmt(l.achievedRate)} | ${fmt(l.rows)} | ${fmt(l.p50, 1)} | ${
        fmt(l.p95, 1)
      } | **${fmt(l.p99, 1)}** | ${fmt(l.max, 1)} | ${fmt(l.catchUpS, 1)} | ${fmt(l.peakRssMb)} / ${
        fmt(l.avgCpuPct)
      } |`
    ),
    ...r.spark.latency.map((l) =>
      "skipped" in l
        ? `| Spark, ${l.variant} | ${fmt(l.rate)} | ${l.skipped} | | | | | | | |`
        : `| Spark, ${l.variant} | ${fmt(l.rate)} | ${fmt(l.achievedRate)} | ${fmt(l.rows)} | ${
          fmt(l.p50, 1)
        } | ${fmt(l.p95, 1)} | ${fmt(l.p99, 1)} | ${fmt(l.max, 1)} | ${fmt(l.catchUpS, 1)} | ${
          fmt(l.peakRssMb)
        } / ${fmt(l.avgCpuPct)} |`
    ),
    "",
  );
  if (r.spark.skipped) lines.push(`Spark: ${r.spark.skipped}`, "");
  if (r.kafkaClients.length > 0) {
    lines.push(
      "## Kafka client under Deno: kafkajs vs @platformatic/kafka",
      "",
      "| workload | client | msg/s | connect/join ms | send p50 / p99 ms | peak RSS MiB / CPU % |",
      "|---|---|---|---|---|---|",
      ...r.kafkaClients.map((c) =>
        `| ${c.workload} (${fmt(c.messages)}) | ${c.client} | **${fmt(c.msgsPerS)}** | ${
          fmt(c.connectMs)
        } | ${
          c.sendP50Ms !== undefined ? `${fmt(c.sendP50Ms, 1)} / ${fmt(c.sendP99Ms, 1)}` : "–"
        } | ${fp(c.footprint)} |`
      ),
      "",
    );
  }
  if (r.noDelay) {
    lines.push(
      "## postgres.js under Deno: TCP_NODELAY",
      "",
      "The consumer's statement on two one-connection pools, statements alternating: the " +
        "default socket (no TCP_NODELAY: postgres.js never sets it and Deno's node:net leaves it " +
        "off) and one with TCP_NODELAY set. Delayed-ACK (40 ms) stall found: " +
        `**${r.noDelay.stall ? "yes" : "no"}**.`,
      "",
      "| rows/statement | TCP_NODELAY | statements | p50 ms | p99 ms | max ms | ≥ 35 ms |",
      "|---|---|---|---|---|---|---|",
      ...r.noDelay.cases.map((c) =>
        `| ${fmt(c.batchRows)} | ${c.noDelay ? "on" : "off"} | ${c.statements} | ${
          fmt(c.p50, 2)
        } | ${fmt(c.p99, 2)} | ${fmt(c.max, 2)} | ${c.over35ms} |`
      ),
      "",
    );
  }
  if (r.notes.length > 0) lines.push("## Notes", "", ...r.notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The chart: drain rates against the limits (bars, left) and rows committed per second over
 * time for each drain (lines, right).
 */
export function toSvg(r: BenchResults): string {
  const W = 1100;
  const H = 440;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="20" y="24" font-size="15" font-weight="bold">${
      esc(
        `Drain of ${
          fmt(r.options.events)
        } events: our consumer vs limits and Spark (${r.machine.nproc} cores, ${
          r.startedAt.slice(0, 10)
        })`,
      )
    }</text>`,
  ];
  // Left: bars.
  const bars: { label: string; value: number; color: string }[] = [];
  if (r.limits.kafka) {
    bars.push({
      label: "Kafka limit (ConsumerPerformance)",
      value: r.limits.kafka.fetchMsgsPerS,
      color: "#9e9e9e",
    });
  }
  for (const p of r.limits.postgres) {
    bars.push({
      label: `PG ${
        p.method.replace(/, \d+ rows\/batch, \d+ in flight/, "").replace(
          "consumer statement (writeBatch)",
          "our statement",
        )
      }`,
      value: p.rowsPerS,
      color: "#bdbdbd",
    });
  }
  for (const d of r.drains) {
    bars.push({
      label: `ours, ${d.consumers} consumer${d.consumers > 1 ? "s" : ""}`,
      value: d.rowsPerS,
      color: "#1e88e5",
    });
  }
  for (const d of r.spark.drains) {
    bars.push({ label: `Spark, ${d.variant}`, value: d.rowsPerS, color: "#fb8c00" });
  }
  const bx = 230;
  const bw = 250;
  const top = 50;
  const bh = Math.min(30, (H - top - 40) / Math.max(1, bars.length));
  const maxBar = Math.max(1, ...bars.map((b) => b.value));
  out.push(`<text x="20" y="${top - 8}" font-weight="bold">rows/s (messages/s for Kafka)</text>`);
  bars.forEach((b, i) => {
    const y = top + i * bh;
    const w = (b.value / maxBar) * bw;
    out.push(
      `<text x="${bx - 6}" y="${y + bh * 0.65}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${bx}" y="${y + 3}" width="${w.toFixed(1)}" height="${
        (bh - 6).toFixed(1)
      }" fill="${b.color}"/>`,
      `<text x="${(bx + w + 4).toFixed(1)}" y="${y + bh * 0.65}">${fmt(b.value)}</text>`,
    );
  });
  // Right: lines.
  const lx = 600;
  const lw = 460;
  const ly = top;
  const lh = H - top - 60;
  const series = [
    ...r.drains.map((d, i) => ({
      label: `ours, ${d.consumers} consumer${d.consumers > 1 ? "s" : ""}`,
      points: d.timeline,
      color: ["#1e88e5", "#43a047", "#8e24aa", "#00acc1"][i % 4],
    })),
    ...r.spark.drains.map((d, i) => ({
      label: `Spark ${d.variant}`,
      points: d.timeline,
      color: ["#fb8c00", "#e53935"][i % 2],
    })),
  ].filter((s) => s.points.length > 0);
  const maxT = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.t + 1)));
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.rows)));
  const sx = (t: number) => lx + (Math.max(0, t) / maxT) * lw;
  const sy = (v: number) => ly + lh - (v / maxY) * lh;
  out.push(
    `<text x="${lx}" y="${
      top - 8
    }" font-weight="bold">rows committed per second (s after ready)</text>`,
    `<line x1="${lx}" y1="${ly + lh}" x2="${lx + lw}" y2="${ly + lh}" stroke="#444"/>`,
    `<line x1="${lx}" y1="${ly}" x2="${lx}" y2="${ly + lh}" stroke="#444"/>`,
  );
  for (let k = 0; k <= 4; k++) {
    const v = (maxY * k) / 4;
    out.push(
      `<text x="${lx - 4}" y="${sy(v) + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`,
      `<line x1="${lx}" y1="${sy(v)}" x2="${lx + lw}" y2="${sy(v)}" stroke="#eee"/>`,
    );
    const t = (maxT * k) / 4;
    out.push(
      `<text x="${sx(t)}" y="${ly + lh + 14}" text-anchor="middle" font-size="10">${
        fmt(t)
      } s</text>`,
    );
  }
  series.forEach((s, i) => {
    // A step line: each second's count drawn across that second, zero where nothing committed.
    const counts = new Map(s.points.map((p) => [p.t, p.rows]));
    const last = Math.max(...s.points.map((p) => p.t));
    const path: string[] = [];
    for (let t = 0; t <= last; t++) {
      const v = counts.get(t) ?? 0;
      path.push(
        `${t === 0 ? "M" : "L"}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`,
        `L${sx(t + 1).toFixed(1)},${sy(v).toFixed(1)}`,
      );
    }
    out.push(
      `<path d="${path.join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`,
      `<rect x="${lx + 10 + (i % 3) * 150}" y="${
        ly + lh + 26 + Math.floor(i / 3) * 14
      }" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${lx + 24 + (i % 3) * 150}" y="${ly + lh + 35 + Math.floor(i / 3) * 14}">${
        esc(s.label)
      }</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n");
}

/** Writes `<dir>/<base>.json`, `.md` and `.svg`. */
export async function writeReport(dir: string, base: string, r: BenchResults): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files = [`${dir}/${base}.json`, `${dir}/${base}.md`, `${dir}/${base}.svg`];
  await Deno.writeTextFile(files[0], JSON.stringify(r, null, 2) + "\n");
  await Deno.writeTextFile(files[1], toMarkdown(r, `${base}.svg`));
  await Deno.writeTextFile(files[2], toSvg(r) + "\n");
  return files;
}
