import assert from "node:assert/strict";
import type { ClientResult } from "./kafka_clients.ts";
import { toMarkdown } from "./report.ts";
import type { BenchResults } from "./results.ts";
// Static JSON imports, not file reads: this unit test needs no permission.
import fullResults from "./testdata/results.json" with { type: "json" };
import reports from "./testdata/reports.json" with { type: "json" };

/**
 * The markdown report is compared with text rendered by the report code as it was before
 * `toMarkdown` was split into sections (bench/testdata/reports.json): a change in the report's
 * words must be a deliberate change of that file, never a side effect of reshaping the code.
 */
const full = (): BenchResults => structuredClone(fullResults) as unknown as BenchResults;

/** Every optional part the other way round from the full run, sections still present. */
function edges(): BenchResults {
  const r = full();
  r.options.quick = true;
  r.source.dirty = ["bench/report.ts"];
  delete r.machine.versions.spark;
  r.quiet.before.quiet = false;
  r.quiet.after!.quiet = false;
  delete r.summary.postgresLimitMethod;
  delete r.summary.timesSparkDefault;
  delete r.summary.timesSparkBest;
  r.summary.targets[1].met = null;
  delete r.summary.bestSingleTaskPeer;
  r.summary.targets[2].met = null;
  r.connect = { skipped: "skipped (--quick)", drains: [], guarantees: [] };
  r.flink = { skipped: "failed: javac not found", drains: [], guarantees: [] };
  delete r.limits.kafka;
  r.spark = {
    skipped: "python3 has no venv module",
    drains: [],
    latency: [{ variant: "default", rate: 1000, skipped: "not run" }],
  };
  // Results of older runs may lack the send percentiles and the footprint.
  const { footprint: _, ...bareClient } = r.kafkaClients[0];
  r.kafkaClients = [{ ...bareClient, sendP50Ms: undefined } as ClientResult];
  r.noDelay!.stall = true;
  r.notes = ["Spark skipped: python3 has no venv module", "a second note"];
  // Results written before 2026-12-05 have no stop times.
  for (const d of r.drains) for (const c of d.perConsumer) delete c.stopMs;
  // A growth phase below 50 M rows: shown, the target not judged.
  r.growth!.runs = r.growth!.runs.filter((g) => g.storedRows < 50_000_000);
  r.summary.targets[6] = { ...r.summary.targets[6], measured: "83 % (10 M)", met: null };
  return r;
}

/** The optional sections left out, and no run of any kind. */
function bare(): BenchResults {
  const r = edges();
  delete r.quiet.after;
  r.drains = [];
  r.latency = [];
  r.limits.postgres = [];
  r.kafkaClients = [];
  delete r.noDelay;
  delete r.growth;
  r.notes = [];
  // Results written before the peers were wired have no peer keys at all.
  delete r.connect;
  delete r.flink;
  return r;
}

for (const [name, results] of [["full", full], ["edges", edges], ["bare", bare]] as const) {
  Deno.test(`toMarkdown() renders the ${name} results as before the split`, () => {
    assert.equal(toMarkdown(results(), "latest.svg"), reports[name]);
  });
}
