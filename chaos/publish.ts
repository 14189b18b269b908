/**
 * A run's outputs: its report gathered from the run, then written to the run directory (with the
 * ledger, the memory samples and the violations), to chaos/reports/ (the committed evidence,
 * unless `--no-publish`), to `--report-json`, and as markdown to stdout.
 *
 * @module
 */

import type { CheckResult, FaultRecord } from "./checker.ts";
import { CORPUS } from "./corpus.ts";
import { PARTITIONS, type Run, SESSION_TIMEOUT_MS } from "./harness.ts";
import type { Group, Production } from "./phases.ts";
import { markdown, type Report, toReport } from "./report.ts";
import * as stack from "./stack.ts";

/** Everything the report is made from. */
export interface Outcome {
  /** The consumer group. */
  group: Group;
  /** The workload sent. */
  production: Production;
  /** Injected faults. */
  faults: FaultRecord[];
  /** The checker's answer. */
  result: CheckResult;
}

/** The run's report. */
export function reportOf(run: Run, { group, production, faults, result }: Outcome): Report {
  const { options: o, clock } = run;
  return toReport({
    run: {
      id: run.runId,
      seed: o.seed,
      mode: o.mode,
      plant: o.plant,
      startedAt: new Date(Date.now() - clock()).toISOString(),
      wallSeconds: clock() / 1000,
      command: o.command,
      settings: {
        durationS: o.durationS,
        rate: o.rate,
        partitions: PARTITIONS,
        members: group.members.length,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        kinds: o.kinds,
        kafkaClient: o.kafkaClient,
      },
    },
    result,
    faults,
    exits: group.exits,
    members: group.everyone().map((m) => ({
      slot: m.slot,
      incarnations: m.incarnation,
      levels: m.levels,
      fencedBatches: m.fenced,
      memory: m.memory,
    })),
    producerRetries: production.sender.failures,
    corpusClassesSent: CORPUS.filter((c) => production.workload.classes.has(c.name)).length,
  });
}

/** Writes the report and the run's evidence everywhere it goes, and prints the markdown. */
export async function publish(run: Run, report: Report, outcome: Outcome): Promise<void> {
  const { runDir, options } = run;
  const json = JSON.stringify(report, null, 2) + "\n";
  await Deno.writeTextFile(`${runDir}/report.json`, json);
  await Deno.writeTextFile(`${runDir}/report.md`, markdown(report));
  await Deno.writeTextFile(`${runDir}/ledger.jsonl`, outcome.production.ledger.toJsonl());
  await Deno.writeTextFile(
    `${runDir}/memory.json`,
    JSON.stringify(outcome.group.everyone().flatMap((m) => m.memory)),
  );
  await Deno.writeTextFile(
    `${runDir}/violations.json`,
    JSON.stringify(outcome.result.violations.slice(0, 2000), null, 1),
  );
  if (options.reportJson) await Deno.writeTextFile(options.reportJson, json);
  if (!options.noPublish) await publishEvidence(report, json);
  console.log(markdown(report));
}

/**
 * `chaos/reports/<mode>[-seed-<seed>][-<bug>][-platformatic].{json,md}`, as `deno fmt --check`
 * (CI) wants them: a long run of the product consumer is named by its seed, so the runs of several
 * seeds are kept side by side; a short run (CI's) and a planted bug's run replace the previous one;
 * a run on the other Kafka client never replaces one on the default.
 */
async function publishEvidence(report: Report, json: string): Promise<void> {
  const { mode, seed, plant } = report.run;
  const client = report.run.settings.kafkaClient;
  const name = `${mode}${mode === "long" && !plant ? `-seed-${seed}` : ""}${
    plant ? `-${plant}` : ""
  }${client === "kafkajs" || client === undefined ? "" : `-${client}`}`;
  await Deno.mkdir(`${stack.ROOT}/chaos/reports`, { recursive: true });
  await Deno.writeTextFile(`${stack.ROOT}/chaos/reports/${name}.json`, json);
  await Deno.writeTextFile(`${stack.ROOT}/chaos/reports/${name}.md`, markdown(report));
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "-q", `chaos/reports/${name}.json`, `chaos/reports/${name}.md`],
    cwd: stack.ROOT,
  }).output();
}
