/**
 * `deno task bench`: every figure of issue 5 measured side by side in one run, on one machine,
 * against the same Kafka and PostgreSQL, written to bench/results/latest.{json,md,svg}.
 *
 *     deno task bench                    # full run: 1,000,000 events, 1/2/3 consumers, 4 rates,
 *                                        # Spark (default + tuned), Kafka Connect and Flink
 *                                        # (1 and 3 tasks), both Kafka clients
 *     deno task bench --quick            # CI smoke run: 20,000 events, 1 consumer, 1 rate, no
 *                                        # Spark, no peers
 *     deno task bench --events 200000 --consumers 1,2 --rates 1000,50% --no-spark
 *
 * Options:
 *   --events N          events pre-loaded for the drains (default 1,000,000; --quick 20,000)
 *   --consumers LIST    consumer counts for the drains (default 1,2,3; --quick 1)
 *   --rates LIST        latency rates: numbers, or percentages of the 1-consumer drain rate
 *                       (default 1000,10000,50%,80%; --quick 1000)
 *   --duration S        measured seconds per latency rate (default 30; --quick 5)
 *   --spark / --no-spark   run the Spark baseline (default on; off with --quick)
 *   --connect / --no-connect   run the Kafka Connect peer (default on; off with --quick)
 *   --flink / --no-flink   run the Flink peer (default on; off with --quick)
 *   --peer-events N     events each peer drain stores, from its own topic (default 200,000,
 *                       at most --events)
 *   --no-clients        skip the kafkajs vs @platformatic/kafka comparison
 *   --services MODE     isolated (default: own pair on ports 17092/17432 under
 *                       .cache/services-bench) or env (KAFKA_BROKERS / DATABASE_URL as given)
 *   --out DIR           output directory (default bench/results; --quick bench/results/tmp/quick)
 *   --keep-services     leave the isolated pair running if this run started it
 *   --growth LIST       rows stored before a 1-consumer drain (default DEFAULT_GROWTH in
 *                       options.ts; `none` or --quick: off), --growth-events N (200,000), --growth-v4
 *   --judge FILE        run nothing: judge FILE's figures against the current targets and write
 *                       the report into --out (after a change of the targets or of the report)
 *
 * Progress goes to stderr; the path of each output file to stdout.
 *
 * @module
 */

import { clockName } from "./clock.ts";
import { type DrainResult, runDrain } from "./drain.ts";
import { round } from "./footprint.ts";
import { compareKafkaClients } from "./kafka_clients.ts";
import { runGrowth } from "./growth.ts";
import { runLatency } from "./latency.ts";
import {
  copyLimit,
  type DumpedRows,
  dumpRows,
  kafkaConsumerPerf,
  statementLimit,
} from "./limits.ts";
import { describeMachine, describeSource, measureQuietness } from "./machine.ts";
import { checkNoDelay } from "./pg_nodelay.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { runPeers } from "./peers.ts";
import { preload } from "./preload.ts";
import { writeReport } from "./report.ts";
import { type BenchResults, summarize } from "./results.ts";
import { runSparkDrain, runSparkLatency, type SparkVariant } from "./spark/run.ts";
import { setupSpark, SPARK_VERSION } from "./spark/setup.ts";
import {
  closeStack,
  createTopic,
  deleteTopics,
  dropDatabases,
  openStack,
  runNames,
} from "./stack.ts";

function log(line: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** Runs the benchmark; returns the results (also written to `options.out`). */
export async function runBench(options: BenchOptions, command: string): Promise<BenchResults> {
  const startedAt = new Date();
  const runId = startedAt.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const name = runNames(runId);
  const stack = await openStack(options.services, log);
  const notes: string[] = [];
  const topic = name("drain");
  const databases: string[] = [];
  let rows: DumpedRows | undefined;
  try {
    log("checking that the machine is quiet (5 s)");
    const before = await measureQuietness(stack);
    log(`other processes use ${before.otherCores} cores (load ${before.loadavg1})`);
    if (!before.quiet) {
      notes.push(
        `The machine was busy before the run (${before.otherCores} cores used by other processes).`,
      );
    }
    const results: BenchResults = {
      format: 1,
      command,
      startedAt: startedAt.toISOString(),
      finishedAt: "",
      durationMin: 0,
      options: {
        quick: options.quick,
        events: options.events,
        consumers: options.consumers,
        rates: options.rates,
        latencyDurationS: options.durationS,
        spark: options.spark,
        connect: options.connect,
        flink: options.flink,
        peerEvents: options.peerEvents,
        services: options.services,
      },
      machine: await describeMachine(stack, options.spark ? SPARK_VERSION : undefined),
      source: await describeSource(),
      quiet: { before },
      clock: clockName(stack.commitTimestamps),
      drains: [],
      limits: { postgres: [] },
      latency: [],
      spark: { drains: [], latency: [] },
      connect: { drains: [], guarantees: [] },
      flink: { drains: [], guarantees: [] },
      kafkaClients: [],
      summary: { targets: [] },
      notes,
    };

    log(`pre-loading ${options.events} events into ${topic} (6 partitions)`);
    await createTopic(stack, topic, 6);
    results.preload = await preload(stack, { topic, events: options.events });
    log(`  ${results.preload.eventsPerS} events/s`);

    log("limit: Kafka ConsumerPerformance on the same topic");
    results.limits.kafka = await kafkaConsumerPerf(stack, topic, options.events);
    log(`  ${results.limits.kafka.msgsPerS} msg/s`);

    for (const n of options.consumers) {
      log(`drain: ${n} consumer(s)`);
      const database = name(`drain${n}`);
      const keep = rows === undefined;
      if (keep) databases.push(database);
      const drain: DrainResult = await runDrain(stack, {
        topic,
        events: options.events,
        consumers: n,
        database,
        keepDatabase: keep,
      }, log);
      log(
        `  ${drain.rowsPerS} rows/s, ready ${drain.perConsumer.map((c) => c.readyMs).join("/")} ms`,
      );
      if (keep && drain.databaseUrl) {
        rows = await dumpRows(drain.databaseUrl);
        await dropDatabases(stack, [database]);
        delete drain.databaseUrl;
      }
      results.drains.push(drain);
    }

    if (rows) {
      const batchRows = results.drains[0]?.avgBatchRows || 1000;
      for (const streams of [1, 3]) {
        log(`limit: PostgreSQL COPY, ${streams} stream(s)`);
        const limit = await copyLimit(stack, rows.lines, streams, name(`copy${streams}`));
        log(`  ${limit.rowsPerS} rows/s`);
        results.limits.postgres.push(limit);
      }
      log(`limit: the consumer's statement directly, ${batchRows} rows per batch`);
      const limit = await statementLimit(stack, rows.rows, batchRows, 3, name("statement"));
      log(`  ${limit.rowsPerS} rows/s`);
      results.limits.postgres.push(limit);
    }

    const max = results.drains.find((d) => d.consumers === 1)?.rowsPerS ??
      results.drains[0]?.rowsPerS ?? 10_000;
    for (const spec of options.rates) {
      const rate = spec.endsWith("%") ? Math.round((max * parseInt(spec)) / 100) : Number(spec);
      log(`latency: ours at ${rate} events/s (${options.durationS} s)`);
      const result = await runLatency(stack, {
        rate,
        durationS: options.durationS,
        warmupS: options.quick ? 3 : 5,
        name: name(`lat${rate}`),
      });
      log(`  p50 ${result.p50} ms, p99 ${result.p99} ms (achieved ${result.achievedRate}/s)`);
      results.latency.push(result);
    }

    if (options.spark) {
      try {
        const install = await setupSpark(log);
        results.spark.version = install.version;
        for (const variant of ["default", "tuned"] as SparkVariant[]) {
          log(`spark (${variant}): drain`);
          const drain = await runSparkDrain(
            install,
            stack,
            topic,
            options.events,
            variant,
            name(`spark_${variant}`),
          );
          log(`  ${drain.rowsPerS} rows/s, ready ${drain.readyMs} ms`);
          results.spark.drains.push(drain);
        }
        const sparkMax = Math.max(...results.spark.drains.map((d) => d.rowsPerS));
        for (const variant of ["default", "tuned"] as SparkVariant[]) {
          for (const l of results.latency) {
            if (l.rate > sparkMax) {
              results.spark.latency.push({
                variant,
                rate: l.rate,
                skipped: `not run: above Spark's best drain rate (${sparkMax}/s)`,
              });
              continue;
            }
            log(`spark (${variant}): latency at ${l.rate} events/s`);
            const result = await runSparkLatency(
              install,
              stack,
              variant,
              l.rate,
              options.durationS,
              name(`sparklat_${variant}_${l.rate}`),
            );
            log(`  p50 ${result.p50} ms, p99 ${result.p99} ms`);
            results.spark.latency.push(result);
          }
        }
      } catch (error) {
        log(`spark failed: ${(error as Error).message}`);
        results.spark.skipped = `failed: ${(error as Error).message.split("\n")[0]}`;
        notes.push(`Spark baseline failed: ${(error as Error).message.slice(0, 500)}`);
      }
    } else {
      results.spark.skipped = options.quick
        ? "skipped in --quick (pyspark is a ~400 MB install); run with --spark to include it"
        : "skipped (--no-spark)";
      log(`spark: ${results.spark.skipped}`);
    }

    const peers = await runPeers(
      stack,
      {
        connect: options.connect,
        flink: options.flink,
        events: options.peerEvents,
        tasks: [1, 3],
        offReason: (peer) => `skipped (${options.quick ? "--quick" : `--no-${peer}`})`,
      },
      name,
      log,
      notes,
    );
    results.connect = peers.connect;
    results.flink = peers.flink;

    if (options.clients) {
      log("kafka clients: kafkajs vs @platformatic/kafka");
      results.kafkaClients = await compareKafkaClients(
        stack,
        topic,
        options.events,
        Math.min(options.events, 300_000),
        (p) => name(`client_${p}`),
        log,
      );
    }

    if (rows) {
      log("postgres.js TCP_NODELAY check");
      results.noDelay = await checkNoDelay(
        stack,
        rows.rows.slice(0, 50_000),
        name("nodelay"),
        options.quick ? [1, 100, 1000] : [1, 10, 100, 1000, 4000],
        options.quick ? 50 : 200,
      );
      log(`  stall: ${results.noDelay.stall}`);
    }

    if (options.growth.length > 0) {
      const { growth, growthEvents, growthV4 } = options;
      results.growth = await runGrowth(stack, growth, growthEvents, growthV4, name, log);
    }

    log("checking that the machine is still quiet (5 s)");
    results.quiet.after = await measureQuietness(stack);
    if (!results.quiet.after.quiet) {
      notes.push(
        `The machine was busy after the run (${results.quiet.after.otherCores} cores used by other processes).`,
      );
    }
    for (const d of results.drains) {
      if (d.cpu.groups.other > 0.15) {
        notes.push(
          `During the ${d.consumers}-consumer drain other processes used ${d.cpu.groups.other} cores.`,
        );
      }
    }
    results.finishedAt = new Date().toISOString();
    results.durationMin = round((Date.now() - startedAt.getTime()) / 60_000, 1);
    results.summary = summarize(results);
    return results;
  } finally {
    await deleteTopics(stack, [topic]).catch(() => {});
    await dropDatabases(stack, databases).catch(() => {});
    if (!options.keepServices) await closeStack(stack, log);
  }
}

/** A results file with its summary and targets computed again; every figure as it was. */
async function judgeAgain(file: string): Promise<BenchResults> {
  const results: BenchResults = JSON.parse(await Deno.readTextFile(file));
  results.summary = summarize(results);
  return results;
}

if (import.meta.main) {
  let options: BenchOptions;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const results = options.judge === undefined
    ? await runBench(options, ["deno task bench", ...Deno.args].join(" "))
    : await judgeAgain(options.judge);
  const base = "latest";
  for (const file of await writeReport(options.out, base, results)) console.log(file);
  for (const t of results.summary.targets) {
    log(`target ${t.name}: ${t.measured} (${t.met === null ? "n/a" : t.met ? "met" : "MISSED"})`);
  }
  // kafkajs and postgres.js may leave timers behind; the work is done.
  Deno.exit(0);
}
