/**
 * Keeps the benchmark harness working: `deno task bench --quick` against the test fixture's
 * Kafka and PostgreSQL must finish and write well-formed JSON, markdown and SVG. Nothing about
 * speed is asserted: CI machines differ and the figures of a 20,000-event run mean little.
 */

import assert from "node:assert/strict";
import { startServices } from "../testing/services.ts";
import { ROOT } from "../scripts/repo.ts";
import type { BenchResults } from "./results.ts";

Deno.test({
  name: "[bench] deno task bench --quick writes well-formed JSON, markdown and SVG",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { kafkaBrokers, databaseUrl } = await startServices();
    const out = await Deno.makeTempDir({ prefix: "iot-bench-quick-" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          ...["run", "-A", "bench/main.ts", "--quick", "--services", "env", "--out", out],
          // A tiny growth phase: the fill, the drain into a filled table, its rows told apart.
          ...["--growth", "0,20000", "--growth-events", "2000"],
        ],
        cwd: ROOT,
        env: { KAFKA_BROKERS: kafkaBrokers, DATABASE_URL: databaseUrl, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `bench --quick failed:\n${stderr.slice(-4000)}`);
      const printed = new TextDecoder().decode(run.stdout).trim().split("\n");
      assert.deepEqual(printed, ["json", "md", "svg"].map((ext) => `${out}/latest.${ext}`));

      const results: BenchResults = JSON.parse(await Deno.readTextFile(`${out}/latest.json`));
      assert.equal(results.format, 1);
      assert.equal(results.options.quick, true);
      assert.equal(results.machine.nproc, navigator.hardwareConcurrency);
      assert.equal(results.drains.length, 1);
      const drain = results.drains[0];
      assert.equal(drain.rows, results.options.events);
      const [consumer] = drain.perConsumer;
      for (const figure of [drain.rowsPerS, drain.seconds, consumer.readyMs, consumer.stopMs]) {
        assert.ok(Number.isFinite(figure) && (figure ?? 0) > 0, `drain figure ${figure}`);
      }
      assert.ok(drain.timeline.length > 0);
      assert.ok(results.limits.kafka && results.limits.kafka.msgsPerS > 0);
      assert.deepEqual(
        results.limits.postgres.map((p) => p.method.split(",")[0]),
        ["COPY FROM STDIN", "COPY FROM STDIN", "consumer statement (writeBatch)"],
      );
      assert.equal(results.latency.length, 1);
      assert.ok(results.latency[0].rows > 0 && results.latency[0].p99 >= results.latency[0].p50);
      assert.match(results.spark.skipped ?? "", /skipped in --quick/);
      // The peers download jars and start JVMs: never in CI's quick run.
      for (const peer of [results.connect, results.flink]) {
        assert.equal(peer?.skipped, "skipped (--quick)");
        assert.equal(peer?.drains.length, 0);
      }
      assert.deepEqual(
        results.kafkaClients.map((c) => `${c.workload}/${c.client}`),
        [
          "consume/kafkajs",
          "consume/platformatic",
          "produce/kafkajs",
          "produce/platformatic",
          "produce-bulk/kafkajs",
          "produce-bulk/platformatic",
        ],
      );
      assert.ok(results.noDelay && results.noDelay.cases.length > 0);
      assert.deepEqual(results.summary.targets.map((t) => t.target), [
        "≥ 70 %",
        "≥ 3×",
        "≥ 2×",
        "≤ 6 µs",
        "≤ 50 ms",
        "≤ 100 ms",
        "≤ 150 MB",
        "≤ 2 s",
        "≥ 80 % of the empty table's",
      ]);
      const target = (name: string) => results.summary.targets.find((t) => t.name === name)!;
      const growth = results.growth!.runs;
      assert.deepEqual(growth.map((g) => [g.storedRows, g.fill.rows, g.drain.rows]), [
        [0, 0, 2000],
        [20_000, 20_000, 2000],
      ]);
      assert.ok(growth[1].fill.tableBytes > growth[0].fill.tableBytes);
      assert.ok(growth[1].fractionOfEmpty! > 0);
      // 20,000 rows stored: shown, not judged against the 50 M target.
      assert.equal(target("drain rate with 50 M rows stored").met, null);
      assert.notEqual(target("drain rate with 50 M rows stored").measured, "–");

      const md = await Deno.readTextFile(`${out}/latest.md`);
      assert.match(md, /^# Benchmark: quick run/);
      for (
        const heading of [
          "## Targets",
          "## Drain",
          "## Limits",
          "## Latency",
          "## Kafka client",
          "## Growth",
        ]
      ) {
        assert.ok(md.includes(heading), `markdown lacks ${heading}`);
      }
      assert.ok(md.includes("](latest.svg)"));

      const svg = await Deno.readTextFile(`${out}/latest.svg`);
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg.trim(), /<\/svg>$/);
      assert.equal(svg.match(/<text\b/g)?.length, svg.match(/<\/text>/g)?.length);
      assert.ok(svg.includes('<path d="M'), "no throughput line");

      for (const [file, text] of [["json", JSON.stringify(results)], ["md", md], ["svg", svg]]) {
        assert.ok(!/NaN|undefined|Infinity/.test(text), `latest.${file} holds NaN/undefined`);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
