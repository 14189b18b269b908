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
 * Environment: KAFKA_BROKERS / DATABASE_URL (used as-is when they answer; nothing is started
 * for that server), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), POSTGRES_PORT (5432),
 * KAFKA_HEAP_OPTS (-Xms256m -Xmx768m).
 * @module
 */

import {
  ensureKafka,
  KAFKA_LOG,
  kafkaAnswers,
  kafkaPorts,
  localBrokers,
  managedKafkaPid,
  startKafka,
  stopKafka,
} from "./services/kafka.ts";
import {
  ensurePostgres,
  localDatabaseUrl,
  POSTGRES_LOG,
  postgresPort,
  postgresProbe,
  startPostgres,
  stopPostgres,
} from "./services/postgres.ts";
import { log, SERVICES_DIR, withLock } from "./services/util.ts";

export { KAFKA_LOG, POSTGRES_LOG };

/** Connection settings of a running stack, in the same names as the environment variables. */
export interface Services {
  /** Comma-separated host:port bootstrap list (KAFKA_BROKERS). */
  kafkaBrokers: string;
  /** postgres:// URL of a database the `iot` role owns (DATABASE_URL). */
  databaseUrl: string;
}

/** File with the `KAFKA_BROKERS=` / `DATABASE_URL=` lines of the last `ensureServices()`. */
export const ENV_FILE = `${SERVICES_DIR}/env`;

const envLines = (s: Services) =>
  `KAFKA_BROKERS=${s.kafkaBrokers}\nDATABASE_URL=${s.databaseUrl}\n`;

/** Values of settled promises, or one error carrying every failure's message. */
function settled<T extends unknown[]>(
  results: { [K in keyof T]: PromiseSettledResult<T[K]> },
): T {
  const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
  if (errors.length > 0) {
    throw new Error(errors.map((e) => e instanceof Error ? e.message : String(e)).join("\n"));
  }
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}

/**
 * Makes sure Kafka and PostgreSQL answer, starting (and on first use installing/initialising)
 * whatever is missing, and returns where they are. Safe to call concurrently from several
 * processes: a file lock serialises them and the second caller reuses the first one's servers.
 */
export function ensureServices(): Promise<Services> {
  return withLock(async () => {
    // In parallel: the JVM start dominates, PostgreSQL fits inside it.
    // allSettled, not all: the lock must be held until both halves have finished.
    const [kafkaBrokers, databaseUrl] = settled(
      await Promise.allSettled([ensureKafka(), ensurePostgres()]),
    );
    const services = { kafkaBrokers, databaseUrl };
    await Deno.writeTextFile(ENV_FILE, envLines(services));
    return services;
  });
}

/**
 * Stops the servers this checkout started (pid file / data dir under .cache/services):
 * PostgreSQL with `pg_ctl stop -m fast`, Kafka with SIGTERM, SIGKILL after 60 s.
 * Servers found through KAFKA_BROKERS / DATABASE_URL or run by someone else are left alone.
 */
export function stopServices(): Promise<void> {
  return withLock(async () => {
    const [kafka, pg] = settled(
      await Promise.allSettled([stopKafka("SIGTERM"), stopPostgres("fast")]),
    );
    log("kafka", kafka ? "stopped" : "was not running (from this checkout)");
    log("postgres", pg ? "stopped" : "was not running (from this checkout)");
    await Deno.remove(ENV_FILE).catch(() => {});
  });
}

function assertManaged(): void {
  if (managedKafkaPid() === undefined) {
    throw new Error(
      "no Kafka broker started by this checkout is running: the fault helpers " +
        "only act on the local stack (unset KAFKA_BROKERS and call ensureServices())",
    );
  }
}

/**
 * Fault injection: SIGKILLs our broker (no controlled shutdown, like a crash or OOM kill) and
 * waits until the process is gone. Bring it back with `restartKafka()` or `ensureServices()`.
 */
export function killKafka(): Promise<void> {
  return withLock(async () => {
    assertManaged();
    await stopKafka("SIGKILL");
  });
}

/**
 * Stops our broker (SIGTERM by default, or SIGKILL) if it runs, starts it again on the same
 * data and ports, and resolves once it answers. Returns the bootstrap address.
 */
export function restartKafka(
  opts: { signal?: "SIGTERM" | "SIGKILL" } = {},
): Promise<string> {
  return withLock(async () => {
    await stopKafka(opts.signal ?? "SIGTERM");
    return await startKafka(kafkaPorts());
  });
}

/**
 * Stops our PostgreSQL with `pg_ctl stop -m <mode>` ("immediate" = crash, recovered from WAL
 * at start; default "fast") and starts it again. Resolves once a query works; returns its URL.
 */
export function restartPostgres(
  opts: { mode?: "smart" | "fast" | "immediate" } = {},
): Promise<string> {
  return withLock(async () => {
    await stopPostgres(opts.mode ?? "fast");
    return await startPostgres(postgresPort());
  });
}

/** One line per server on stderr; true when both the configured servers answer. */
export async function servicesStatus(): Promise<boolean> {
  const brokers = Deno.env.get("KAFKA_BROKERS") || localBrokers(kafkaPorts());
  const url = Deno.env.get("DATABASE_URL") || localDatabaseUrl(postgresPort());
  const pid = managedKafkaPid();
  const [kafkaOk, pgErr] = await Promise.all([kafkaAnswers(brokers), postgresProbe(url)]);
  log(
    "kafka",
    `${brokers}: ${kafkaOk ? "answers" : "DOWN"}` +
      (pid ? ` (our pid ${pid}, log ${KAFKA_LOG})` : ""),
  );
  log(
    "postgres",
    `${url.replace(/:[^:@/]*@/, ":***@")}: ${pgErr ? `DOWN (${pgErr.message})` : "answers"}`,
  );
  return kafkaOk && !pgErr;
}

async function main(cmd: string | undefined): Promise<number> {
  switch (cmd) {
    case "up": {
      const services = await ensureServices();
      console.log(envLines(services).trimEnd());
      return 0;
    }
    case "down":
      await stopServices();
      return 0;
    case "status":
      return (await servicesStatus()) ? 0 : 3;
    default:
      console.error("usage: deno run -A scripts/services.ts up|down|status");
      return 2;
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
