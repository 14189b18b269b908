/**
 * The malformed-input corpus: every class of odd input the suite sends, each with the outcome the
 * contract specifies (accepted and normalized into a given row, or rejected with named reasons).
 * None of them may crash the consumer or stall its partition.
 *
 * The chaos workload mixes these classes into its stream; `corpus_integration_test.ts` sends each
 * once to a running consumer and checks each outcome.
 *
 * @module
 */

import { PAYLOAD_CLASSES } from "./_corpus_payload.ts";
import { FIELD_CLASSES } from "./_corpus_fields.ts";
import { TIME_CLASSES } from "./_corpus_time.ts";
import type { CorpusClass } from "./_corpus_kit.ts";
import type { Reading } from "./ledger.ts";
import type { Rng } from "./rng.ts";

export type { CorpusClass, CorpusContext, CorpusMessage } from "./_corpus_kit.ts";

/** Every class, in a stable order. */
export const CORPUS: readonly CorpusClass[] = Object.freeze([
  ...PAYLOAD_CLASSES,
  ...FIELD_CLASSES,
  ...TIME_CLASSES,
]);

/**
 * Topic settings the corpus needs: messages of 1 and 10 MiB (Kafka's default max.message.bytes is
 * about 1 MiB), sent as gateways with a raised limit send them.
 */
export const CORPUS_TOPIC_CONFIG: Readonly<Record<string, string>> = Object.freeze({
  "max.message.bytes": String(12 << 20),
});

const STATUSES = ["OK", "OK", "OK", "WARN", "ERROR"] as const;

/**
 * A valid canonical reading of device `device`, taken at most an hour before `nowMs`, with a few
 * percent of alerts (hot or drained battery).
 */
export function randomReading(rng: Rng, device: string, nowMs: number): Reading {
  const at = nowMs - rng.int(0, 3_600_000);
  return {
    ID: rng.uuid(),
    ID_DISPOSITIVO: device,
    TIMESTAMP: new Date(at).toISOString(),
    TEMPERATURA: rng.chance(0.05) ? rng.float(35.01, 60) : rng.float(-10, 35),
    UMIDADE: rng.float(5, 95),
    LATITUDE: rng.float(-33.7, 5.2, 6),
    LONGITUDE: rng.float(-73.9, -34.8, 6),
    STATUS: rng.pick(STATUSES),
    BATERIA: rng.chance(0.05) ? rng.float(0, 14.99) : rng.float(15, 100),
  };
}

if (import.meta.main) {
  // `deno run chaos/corpus.ts` prints the corpus as the markdown table of chaos/README.md.
  console.log("| # | class | specified outcome |\n|---|---|---|");
  CORPUS.forEach((c, i) => console.log(`| ${i + 1} | \`${c.name}\` | ${c.spec} |`));
}
