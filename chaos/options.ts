/**
 * The command line of chaos/run.ts: what to do, the run's settings with their defaults, why they
 * are refused, and the command that replays a run. Pure (the random seed is passed in), so it is
 * tested on its own (`options_test.ts`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FAULT_KINDS, type FaultKind } from "./faults.ts";
import { PLANTED_BUGS } from "./mutants.ts";
import { KAFKA_CONSUMER_CLIENTS, type KafkaConsumerClient } from "../consumer/config.ts";

/** The settings of one run. */
export interface RunOptions {
  /** `short`: every fault kind once (CI); `long`: faults until `durationS`. */
  mode: "short" | "long";
  /** Seed of the workload and the fault schedule. */
  seed: number;
  /** Faults are scheduled until then (0: each kind once). */
  durationS: number;
  /** Events per second. */
  rate: number;
  /** Fault kinds to draw from. */
  kinds: FaultKind[];
  /** The planted bug, or null for the product consumer. */
  plant: string | null;
  /** The consumer's Kafka client (`KAFKA_CONSUMER_CLIENT`). */
  kafkaClient: KafkaConsumerClient;
  /** Leave the chaos servers running at the end. */
  keepServices: boolean;
  /** Keep the topic and database of a passing run. */
  keepData: boolean;
  /** Do not write chaos/reports/. */
  noPublish: boolean;
  /** Also write the JSON report here. */
  reportJson?: string;
  /** The command that replays this run (seed included). */
  command: string;
}

/** What the command line asks for, and the run's settings (used only by `run`). */
export interface Cli {
  /** `down`: stop the chaos servers; `status`: see whether they answer; `run`: a run. */
  action: "run" | "down" | "status";
  /** The run's settings. */
  options: RunOptions;
  /** Why settings are refused, in the words the harness prints; empty when none is. */
  refused: string[];
}

/** Fault kinds that need root (a mount namespace): left out of the default set without it. */
export const ROOT_ONLY_KINDS: readonly FaultKind[] = ["postgres-disk-full"];

/**
 * Reads the command line. Throws on an unknown flag (as `parseArgs` does); `random` draws the seed
 * when none is given. Without `root`, the default kinds leave out {@linkcode ROOT_ONLY_KINDS} (the
 * harness says so) and asking for one is refused.
 */
export function parseCli(
  argv: string[],
  random: () => number = Math.random,
  root = true,
): Cli {
  const { values: args, positionals } = parseArgs({
    args: argv,
    options: {
      short: { type: "boolean", default: false },
      seed: { type: "string" },
      duration: { type: "string" },
      rate: { type: "string" },
      faults: { type: "string" },
      plant: { type: "string" },
      "kafka-client": { type: "string" },
      "keep-services": { type: "boolean", default: false },
      "keep-data": { type: "boolean", default: false },
      "no-publish": { type: "boolean", default: false },
      "report-json": { type: "string" },
    },
    allowPositionals: true,
  });
  const options: RunOptions = {
    mode: args.short ? "short" : "long",
    seed: args.seed === undefined ? Math.floor(random() * 2 ** 31) : Number(args.seed),
    durationS: Number(args.duration ?? (args.short ? 0 : 300)),
    rate: Number(args.rate ?? (args.short ? 200 : 300)),
    kinds: (args.faults?.split(",").filter((k) => k !== "") ??
      FAULT_KINDS.filter((k) => root || !ROOT_ONLY_KINDS.includes(k))) as FaultKind[],
    plant: args.plant ?? null,
    kafkaClient: (args["kafka-client"] ?? "kafkajs") as KafkaConsumerClient,
    keepServices: args["keep-services"],
    keepData: args["keep-data"],
    noPublish: args["no-publish"],
    reportJson: args["report-json"],
    command: "",
  };
  options.command = replayCommand(args, options);
  const action = positionals[0] === "down" || positionals[0] === "status" ? positionals[0] : "run";
  return { action, options, refused: refusals(args, options, root) };
}

/** The replay command names the settings given, not the defaults: a replay keeps its mode's. */
function replayCommand(args: Record<string, unknown>, o: RunOptions): string {
  return `deno run -A chaos/run.ts${args.short ? " --short" : ""} --seed ${o.seed}` +
    (args.duration !== undefined ? ` --duration ${o.durationS}` : "") +
    (args.rate !== undefined ? ` --rate ${o.rate}` : "") +
    (args.faults !== undefined ? ` --faults ${o.kinds.join(",")}` : "") +
    (o.plant ? ` --plant ${o.plant}` : "") +
    (args["kafka-client"] !== undefined ? ` --kafka-client ${o.kafkaClient}` : "");
}

function refusals(args: Record<string, unknown>, o: RunOptions, root: boolean): string[] {
  const rules: [boolean, string][] = [
    [
      Number.isInteger(o.seed) && o.seed >= 0,
      `--seed must be a non-negative integer: got ${args.seed}`,
    ],
    [
      Number.isFinite(o.durationS) && o.durationS >= 0,
      `--duration must be seconds: got ${args.duration}`,
    ],
    [Number.isFinite(o.rate) && o.rate > 0, `--rate must be positive: got ${args.rate}`],
    [
      o.kinds.every((k) => FAULT_KINDS.includes(k)),
      `--faults must be among ${FAULT_KINDS.join(",")}`,
    ],
    [
      root || !o.kinds.some((k) => ROOT_ONLY_KINDS.includes(k)),
      `--faults: ${ROOT_ONLY_KINDS.join(", ")} needs root (a mount namespace for its volume)`,
    ],
    [
      o.plant === null || (PLANTED_BUGS as readonly string[]).includes(o.plant),
      `--plant must be one of ${PLANTED_BUGS.join(", ")}`,
    ],
    [
      KAFKA_CONSUMER_CLIENTS.includes(o.kafkaClient),
      `--kafka-client must be one of ${KAFKA_CONSUMER_CLIENTS.join(", ")}`,
    ],
  ];
  return rules.filter(([ok]) => !ok).map(([, what]) => what);
}
