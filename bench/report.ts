/**
 * The benchmark's outputs: every figure as JSON, a markdown summary and the SVG chart, written side
 * by side into one directory.
 *
 * @module
 */

import { toSvg } from "./chart.ts";
import type { Footprint } from "./footprint.ts";
import { type BenchResults, fmt, pct, table } from "./results.ts";
import { peerDrainRows, peerGuarantees, peerNote } from "./report_peers.ts";
import type { SparkLatencyResult } from "./spark/run.ts";

const mark = (met: boolean | null) => (met === null ? "not measured" : met ? "met" : "**missed**");

const fp = (f: Footprint | undefined) =>
  f ? `${fmt(f.peakRssMb)} MiB / ${fmt(f.avgCpuPct)} %` : "–";

const times = (x: number | undefined) => (x ? `${x.toFixed(1)}×` : "–");

/** The markdown report: one section after another (each ends with a blank line). */
export function toMarkdown(r: BenchResults, chartFile: string): string {
  return [
    ...header(r, chartFile),
    ...headline(r),
    ...targets(r),
    ...drains(r),
    ...limits(r),
    ...latency(r),
    ...(r.spark.skipped ? [`Spark: ${r.spark.skipped}`, ""] : []),
    ...peerGuarantees(r),
    ...kafkaClients(r),
    ...noDelay(r),
    ...growth(r),
    ...(r.notes.length > 0 ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
}

/** Title, when and what, the machine, how quiet it was, the clock and the chart. */
function header(r: BenchResults, chartFile: string): string[] {
  return [
    `# Benchmark: ${r.options.quick ? "quick run (CI; figures not meaningful)" : "full run"}`,
    "",
    `${r.startedAt} · ${r.durationMin.toFixed(1)} min · \`${r.command}\` · commit ` +
    `${r.source.commit.slice(0, 10)}${
      r.source.dirty.length > 0 ? " (with uncommitted changes)" : ""
    }`,
    "",
    machine(r.machine),
    "",
    quiet(r.quiet),
    "",
    `**Clock:** commit instants from ${r.clock}; event time = the fleet's TIMESTAMP ` +
    "(`Date.now()` when the producer created the event). One machine, one clock.",
    "",
    `![throughput chart](${chartFile})`,
    "",
  ];
}

function machine(m: BenchResults["machine"]): string {
  const v = m.versions;
  return `**Machine:** ${m.cpuModel}, ${m.nproc} cores, ${m.memoryGiB} GiB RAM, ${m.os}, ` +
    `Linux ${m.kernel}. Deno ${v.deno}, ${v.java}, Kafka ${v.kafka} (KRaft, 1 node), ` +
    `PostgreSQL ${v.postgresql}` + (v.spark ? `, Spark ${v.spark} (${v.python})` : "") +
    `, kafkajs ${v.kafkajs}, @platformatic/kafka ${v["@platformatic/kafka"]}, ` +
    `postgres.js ${v["postgres.js"]}. Kafka, PostgreSQL, consumers, producer and Spark ` +
    "all share these cores.";
}

function quiet({ before, after }: BenchResults["quiet"]): string {
  const yes = (q: { quiet: boolean }) => (q.quiet ? "yes" : "NO");
  return `**Quiet machine:** before: ${yes(before)} (other processes used ` +
    `${before.otherCores} cores, load ${before.loadavg1})` +
    (after ? `; after: ${yes(after)} (${after.otherCores} cores, load ${after.loadavg1})` : "") +
    `. During each drain the CPU of other processes is in the drain table ("other").`;
}

function headline(r: BenchResults): string[] {
  const s = r.summary;
  return [
    "## Headline",
    "",
    ...table("| | figure |", 2, [
      `| Events pre-loaded (6 partitions) | ${fmt(r.options.events)} |`,
      `| One consumer drain rate | **${fmt(s.drainRowsPerS)} rows/s** |`,
      `| Kafka limit (ConsumerPerformance, fetch phase) | ${fmt(s.kafkaLimitRowsPerS)} msg/s |`,
      `| PostgreSQL limit (${s.postgresLimitMethod ?? "COPY"}) | ` +
      `${fmt(s.postgresLimitRowsPerS)} rows/s |`,
      `| One consumer as a fraction of the lower limit | **${pct(s.fractionOfLowerLimit)}** |`,
      `| … of the consumer's own statement run directly | ${pct(s.fractionOfStatementLimit)} |`,
      `| vs Spark, default trigger | ${times(s.timesSparkDefault)} |`,
      `| vs Spark, best variant | ${times(s.timesSparkBest)} |`,
      `| CPU per event, pipeline process: ours (1 consumer) / Spark (best) | ` +
      `${fmt(s.consumerUsPerEvent, 1)} µs / ${fmt(s.sparkUsPerEvent, 1)} µs |`,
      ...(s.bestSingleTaskPeer
        ? [
          `| vs best single-task peer (${s.bestSingleTaskPeer.name}) | ` +
          `${times(s.timesBestSingleTaskPeer)} |`,
        ]
        : []),
    ]),
    "",
  ];
}

function targets(r: BenchResults): string[] {
  return [
    "## Targets",
    "",
    ...table(
      "| target | bar | measured | |",
      4,
      r.summary.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${mark(t.met)} |`),
    ),
    "",
  ];
}

function drains(r: BenchResults): string[] {
  return [
    "## Drain: pre-loaded topic → PostgreSQL",
    "",
    "Rate = rows ÷ (last commit − first consumer ready); steady = between the 10th and 90th " +
    "percentile commits. Start-up is in the ready column; stop = SIGTERM after the drain to " +
    "exit. CPU in cores from ready to the end " +
    "(2 = the whole machine); pipeline = our consumer processes or Spark's driver JVM + Python; " +
    "µs per event = CPU time per event, which machine load disturbs far less than rates.",
    "",
    ...table(
      "| pipeline | rows/s | steady rows/s | s | ready / stop ms | peak RSS MiB | CPU % (drain) | " +
        "batch rows | CPU cores: pipeline / postgres / kafka / other / machine | " +
        "µs per event: pipeline / postgres |",
      10,
      [
        ...r.drains.map(drainRow),
        ...r.spark.drains.map((d) => sparkDrainRow(r, d)),
        ...peerDrainRows(r),
      ],
    ),
    "",
    ...peerNote(r),
  ];
}

function drainRow(d: BenchResults["drains"][number]): string {
  const each = (f: (c: (typeof d.perConsumer)[number]) => number) =>
    d.perConsumer.map((c) => fmt(f(c))).join(", ");
  const g = d.cpu.groups;
  const cores = [g.consumers, g.postgres, g.kafka, g.other, d.cpu.machineCores];
  return `| ours, ${d.consumers} consumer${d.consumers > 1 ? "s" : ""} | ` +
    `**${fmt(d.rowsPerS)}** | ${fmt(d.steadyRowsPerS)} | ${fmt(d.seconds, 1)} | ` +
    `${d.perConsumer.map((c) => `${fmt(c.readyMs)} / ${fmt(c.stopMs)}`).join(", ")} | ` +
    `${each((c) => c.peakRssMb)} | ${each((c) => c.drainCpuPct)} | ` +
    `${fmt(d.avgBatchRows)} | ${cores.map((c) => fmt(c, 2)).join(" / ")} | ` +
    `${fmt(d.cpuUsPerEvent.consumers, 1)} / ${fmt(d.cpuUsPerEvent.postgres, 1)} |`;
}

function sparkDrainRow(r: BenchResults, d: BenchResults["spark"]["drains"][number]): string {
  return `| Spark ${r.spark.version}, ${d.variant} | ${fmt(d.rowsPerS)} | – | ` +
    `${fmt(d.seconds, 1)} | ${fmt(d.readyMs)} / – | ${fmt(d.footprint.peakRssMb)} | ` +
    `${fmt(d.footprint.avgCpuPct)} (whole run) | ${d.microBatches} micro-batch(es) | – | – |`;
}

function limits(r: BenchResults): string[] {
  const k = r.limits.kafka;
  const kafka = k
    ? [
      `| Kafka ConsumerPerformance, whole run | ${fmt(k.msgsPerS)} msg/s ` +
      `(${fmt(k.mbPerS, 1)} MB/s) | ${fmt(k.seconds, 2)} |`,
      `| Kafka ConsumerPerformance, fetch phase only | ${fmt(k.fetchMsgsPerS)} msg/s | |`,
    ]
    : [];
  const postgres = r.limits.postgres.map((p) =>
    `| PostgreSQL ${p.method} | ${fmt(p.rowsPerS)} rows/s | ${fmt(p.seconds, 2)} |`
  );
  return [
    "## Limits (same topic, same rows, same indexes, same run)",
    "",
    ...table("| limit | rate | s |", 3, [...kafka, ...postgres]),
    "",
  ];
}

function latency(r: BenchResults): string[] {
  return [
    "## Latency: produce → committed row",
    "",
    `Producer service at a fixed rate; ${r.options.latencyDurationS} s measured after a ` +
    "warm-up at the same rate.",
    "",
    ...table(
      "| pipeline | target rate | achieved | events | p50 ms | p95 ms | p99 ms | max ms | " +
        "catch-up s | RSS MiB / CPU % |",
      10,
      [
        ...r.latency.map((l) => latencyRow("ours", l, true)),
        ...r.spark.latency.map((l) =>
          "skipped" in l
            ? `| Spark, ${l.variant} | ${fmt(l.rate)} | ${l.skipped} | | | | | | | |`
            : latencyRow(`Spark, ${l.variant}`, l, false)
        ),
      ],
    ),
    "",
  ];
}

/** One measured latency run; ours has its p99 in bold (the target's figure). */
function latencyRow(
  pipeline: string,
  l: BenchResults["latency"][number] | SparkLatencyResult,
  boldP99: boolean,
): string {
  const p99 = boldP99 ? `**${fmt(l.p99, 1)}**` : fmt(l.p99, 1);
  return `| ${pipeline} | ${fmt(l.rate)} | ${fmt(l.achievedRate)} | ${fmt(l.rows)} | ` +
    `${fmt(l.p50, 1)} | ${fmt(l.p95, 1)} | ${p99} | ${fmt(l.max, 1)} | ` +
    `${fmt(l.catchUpS, 1)} | ${fmt(l.peakRssMb)} / ${fmt(l.avgCpuPct)} |`;
}

function kafkaClients(r: BenchResults): string[] {
  if (r.kafkaClients.length === 0) return [];
  return [
    "## Kafka client under Deno: kafkajs vs @platformatic/kafka",
    "",
    ...table(
      "| workload | client | msg/s | connect/join ms | send p50 / p99 ms | peak RSS MiB / CPU % |",
      6,
      r.kafkaClients.map((c) =>
        `| ${c.workload} (${fmt(c.messages)}) | ${c.client} | **${fmt(c.msgsPerS)}** | ` +
        `${fmt(c.connectMs)} | ${
          c.sendP50Ms !== undefined ? `${fmt(c.sendP50Ms, 1)} / ${fmt(c.sendP99Ms, 1)}` : "–"
        } | ${fp(c.footprint)} |`
      ),
    ),
    "",
  ];
}

function noDelay(r: BenchResults): string[] {
  if (!r.noDelay) return [];
  return [
    "## postgres.js under Deno: TCP_NODELAY",
    "",
    "The consumer's statement on two one-connection pools, statements alternating: the " +
    "default socket (no TCP_NODELAY: postgres.js never sets it and Deno's node:net leaves it " +
    "off) and one with TCP_NODELAY set. Delayed-ACK (40 ms) stall found: " +
    `**${r.noDelay.stall ? "yes" : "no"}**.`,
    "",
    ...table(
      "| rows/statement | TCP_NODELAY | statements | p50 ms | p99 ms | max ms | ≥ 35 ms |",
      7,
      r.noDelay.cases.map((c) =>
        `| ${fmt(c.batchRows)} | ${c.noDelay ? "on" : "off"} | ${c.statements} | ` +
        `${fmt(c.p50, 2)} | ${fmt(c.p99, 2)} | ${fmt(c.max, 2)} | ${c.over35ms} |`
      ),
    ),
    "",
  ];
}

function growth(r: BenchResults): string[] {
  if (!r.growth || r.growth.runs.length === 0) return [];
  const gib = (b: number) => fmt(b / 2 ** 30, 2);
  return [
    "## Growth: one consumer into a table already holding rows",
    "",
    `Each size: a fresh database, filled inside PostgreSQL (same migration, same indexes, ` +
    `VACUUM ANALYZE, CHECKPOINT), then one consumer drains the same ${fmt(r.growth.events)} ` +
    "events. v7: the fleet's ids (time-ordered: the event's instant, then a name hash); v4: the " +
    "same events with random ids, in the stored rows and in the topic. Legacy events (no ID) get " +
    "derived ids either way.",
    "",
    ...table(
      "| rows stored | ids | fill s: insert / indexes / vacuum | table / indexes GiB | rows/s | " +
        "of empty (same ids) | µs per event: consumer / postgres | WAL bytes per event |",
      8,
      r.growth.runs.map((g) =>
        `| ${fmt(g.storedRows)} | ${g.ids} | ${fmt(g.fill.insertSeconds, 1)} / ` +
        `${fmt(g.fill.indexSeconds, 1)} / ${fmt(g.fill.vacuumSeconds, 1)} | ` +
        `${gib(g.fill.tableBytes)} / ${gib(g.fill.indexBytes)} | **${fmt(g.drain.rowsPerS)}** | ` +
        `${pct(g.fractionOfEmpty)} | ${fmt(g.drain.cpuUsPerEvent.consumers, 1)} / ` +
        `${fmt(g.drain.cpuUsPerEvent.postgres, 1)} | ${fmt(g.drain.walBytesPerEvent)} |`
      ),
    ),
    "",
  ];
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
