/**
 * The consumer with a planted bug (chaos/mutants.ts), for the fault-injection suite's negative
 * controls: `CHAOS_PLANTED_BUG=<bug> deno run ... chaos/mutant_consumer.ts`, with the consumer's
 * own settings. Not part of any image; the product consumer cannot be broken by a setting.
 *
 * @module
 */

import { createLogger, runAsProcess } from "@iot/shared/runtime";
import { main } from "../consumer/main.ts";
import { plant, PLANTED_BUGS, type PlantedBug } from "./mutants.ts";

const bug = Deno.env.get("CHAOS_PLANTED_BUG") ?? "";
const log = createLogger("iot-consumer");
if (!(PLANTED_BUGS as readonly string[]).includes(bug)) {
  log.error(`CHAOS_PLANTED_BUG must be one of ${PLANTED_BUGS.join(", ")}: got "${bug}"`);
  Deno.exit(2);
}
// Loud on purpose: a deliberately broken consumer must never pass unnoticed in a log.
log.warn(`planted bug ${bug}: THIS CONSUMER IS DELIBERATELY BROKEN (fault-injection suite)`, {
  plantedBug: bug,
});
await runAsProcess("iot-consumer", () => main((store) => plant(bug as PlantedBug, store)));
