/**
 * The fault-injection run (`deno task chaos`, `deno task chaos:short`): consumers in one group on
 * a 6-partition topic, a seeded workload with every corpus class, re-sends and conflicting
 * duplicates, a seeded schedule of faults with quiet periods, then heal, drain, read everything
 * back from Kafka and PostgreSQL and check it. Exit 0 when every invariant held, 1 otherwise.
 *
 *     deno run -A chaos/run.ts [--short] [--seed N] [--duration S] [--rate N]
 *                              [--faults kind,kind] [--plant BUG] [--keep-services] [--keep-data]
 *                              [--no-publish] [--report-json PATH] [--kafka-client kafkajs|platformatic]
 *     deno run -A chaos/run.ts down     # stop the chaos servers
 *     deno run -A chaos/run.ts status   # exit 0 when they answer, 3 otherwise
 *
 * Runs on its own Kafka and PostgreSQL (.cache/services-chaos, ports 29092/29093/25432), never
 * on the developer stack. Reports: chaos/reports/<mode>[-seed-<seed>][-<bug>].{json,md} and, with the members'
 * logs and the ledger, .cache/chaos/<run id>/.
 *
 * This file only wires: the command line (options.ts), the run's environment (harness.ts), the
 * phases (phases.ts), the checker (checker.ts) and the outputs (publish.ts).
 *
 * @module
 */

import { check } from "./checker.ts";
import { setUp, tearDown } from "./harness.ts";
import { Monitor } from "./monitor.ts";
import { parseCli, ROOT_ONLY_KINDS } from "./options.ts";
import {
  formGroup,
  healAndDrain,
  injectFaults,
  readBack,
  startProducing,
  stopGroup,
} from "./phases.ts";
import { publish, reportOf } from "./publish.ts";
import * as stack from "./stack.ts";

const root = Deno.uid() === 0;
const cli = parseCli(Deno.args, Math.random, root);
const services = stack.chaosStack(Deno.env.toObject());
if (cli.action === "down") {
  await services.stop();
  Deno.exit(0);
}
if (cli.action === "status") Deno.exit(await services.status() ? 0 : 3);
if (cli.refused.length > 0) {
  console.error(`chaos: ${cli.refused[0]}`);
  Deno.exit(2);
}

if (!root && cli.action === "run") {
  console.error(`chaos: not root: ${ROOT_ONLY_KINDS.join(", ")} left out of the fault kinds`);
}
const run = await setUp(cli.options, services);
const group = await formGroup(run);
const production = startProducing(run);
const monitor = new Monitor(
  run.kafka,
  run.sql,
  run.group,
  run.runId,
  run.clock,
  group.everyone,
  run.generations,
);
const faults = await injectFaults(run, group, production, monitor);
const drain = await healAndDrain(run, group, production, monitor);
await stopGroup(group, run.clock);

const result = check(await readBack(run, { group, production, faults, drain }));
const outcome = { group, production, faults, result };
await publish(run, reportOf(run, outcome), outcome);
await tearDown(run, result.ok);
Deno.exit(result.ok ? 0 : 1);
