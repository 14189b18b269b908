/**
 * The benchmark's outputs: every figure as JSON, a markdown summary and the SVG chart, written side
 * by side into one directory.
 *
 * @module
 */

import { toSvg } from "./chart.ts";
import type { Footprint } from "./footprint.ts";
import { type BenchResults, fmt, pct } from "./results.ts";

const mark = (met: boolean | null) => (met === null ? "not measured" : met ? "met" : "**missed**");

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

/** Writes `<dir>/<base>.json`, `.md` and `.svg`. */
export async function writeReport(dir: string, base: string, r: BenchResults): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files = [`${dir}/${base}.json`, `${dir}/${base}.md`, `${dir}/${base}.svg`];
  await Deno.writeTextFile(files[0], JSON.stringify(r, null, 2) + "\n");
  await Deno.writeTextFile(files[1], toMarkdown(r, `${base}.svg`));
  await Deno.writeTextFile(files[2], toSvg(r) + "\n");
  return files;
}
