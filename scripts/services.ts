/**
 * Local stack on real servers: single-node Kafka (KRaft) from Maven Central jars and
 * PostgreSQL from Debian's binaries, both under .cache/services/ and both detached, so they
 * outlive this script and are shared by every test process until `down`.
 *
 * CLI (progress on stderr; `up` prints exactly `KAFKA_BROKERS=...` and `DATABASE_URL=...`
 * on stdout and writes the same lines to .cache/services/env):
 *
 *     deno task services:up      # start or reuse; idempotent
 *     deno task services:down    # stop what this checkout started
 *     deno task services:status  # exit 0 when both answer, 3 otherwise
 *
 * Environment (read here, see `LocalStack.fromEnv`): KAFKA_BROKERS / DATABASE_URL (used as-is
 * when they answer; nothing is started for that server), SERVICES_DIR (.cache/services),
 * KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_SASL_PORT (9094), POSTGRES_PORT (5432),
 * KAFKA_HEAP_OPTS (-Xms256m -Xmx768m). The library is scripts/services/stack.ts.
 * @module
 */

import { envLines, LocalStack } from "./services/stack.ts";

async function main(cmd: string | undefined): Promise<number> {
  if (cmd !== "up" && cmd !== "down" && cmd !== "status") {
    console.error("usage: deno run -A scripts/services.ts up|down|status");
    return 2;
  }
  const stack = LocalStack.fromEnv(Deno.env.toObject());
  switch (cmd) {
    case "up":
      console.log(envLines(await stack.ensure()).trimEnd());
      return 0;
    case "down":
      await stack.stop();
      return 0;
    case "status":
      return (await stack.status()) ? 0 : 3;
  }
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main(Deno.args[0]);
  } catch (err) {
    console.error(`services: ${err instanceof Error ? err.message : err}`);
  }
  // Explicit exit: a client library's leftover timer must not keep the CLI hanging.
  Deno.exit(code);
}
