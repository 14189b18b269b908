/**
 * A local Kafka + PostgreSQL pair: its folder, its ports, and what can be done to it (start or
 * reuse, stop, status, and the crash-and-restart helpers of the fault-injection suite). The
 * developer stack, the test fixture, the chaos suite and the benchmark each make one; nothing is
 * read from the environment unless `LocalStack.fromEnv` is called.
 *
 * ```ts ignore
 * const stack = LocalStack.fromEnv(Deno.env.toObject());
 * const { kafkaBrokers, databaseUrl } = await stack.ensure();
 * ```
 * @module
 */

import { CACHE_DIR } from "../repo.ts";
import {
  addScramUser,
  ensureKafka,
  kafkaAnswers,
  managedKafkaPid,
  startKafka,
  stopKafka,
} from "./kafka.ts";
import {
  alterSystemAndRestart,
  ensurePostgres,
  postgresProbe,
  startPostgres,
  stopPostgres,
} from "./postgres.ts";
import {
  localBrokers,
  localDatabaseUrl,
  localSaslBrokers,
  type StackConfig,
  stackConfigFromEnv,
  type StackEnvOptions,
  type StackPaths,
  stackPaths,
  type StackPorts,
} from "./stack_config.ts";
import { closeVolume } from "./postgres_volume.ts";
import { ensureLocalTls, type LocalTls } from "./tls.ts";
import { log, withLock } from "./util.ts";

/** Connection settings of a running stack, in the same names as the environment variables. */
export interface Services {
  /** Comma-separated host:port bootstrap list (KAFKA_BROKERS). */
  kafkaBrokers: string;
  /** postgres:// URL of a database the `iot` role owns (DATABASE_URL). */
  databaseUrl: string;
}

/** How PostgreSQL is stopped: "immediate" is a crash that WAL recovery repairs at the next start. */
export type PostgresStopMode = "smart" | "fast" | "immediate";

/** The `KAFKA_BROKERS=` / `DATABASE_URL=` lines `services:up` prints and writes. */
export const envLines = (s: Services): string =>
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

/** A local Kafka + PostgreSQL pair in one folder, on four ports. */
export class LocalStack {
  /** Folder, ports and the servers from outside to prefer. */
  readonly config: Readonly<StackConfig>;
  /** Where its files are. */
  readonly paths: Readonly<StackPaths>;

  /** @param config See {@linkcode StackConfig}. */
  constructor(config: StackConfig) {
    this.config = Object.freeze({ ...config, ports: Object.freeze({ ...config.ports }) });
    this.paths = Object.freeze(stackPaths(config.dir));
  }

  /**
   * The stack the environment describes: the developer stack (.cache/services, ports 9092,
   * 9093, 9094, 5432, KAFKA_BROKERS / DATABASE_URL preferred) unless `opts` says otherwise.
   *
   * @param env Variables, usually `Deno.env.toObject()`.
   * @param opts Folder, prefix and default ports (see {@linkcode StackEnvOptions}).
   * @throws {ConfigError} naming each bad variable.
   */
  static fromEnv(
    env: Readonly<Record<string, string | undefined>>,
    opts: Partial<StackEnvOptions> = {},
  ): LocalStack {
    return new LocalStack(stackConfigFromEnv(env, { dir: `${CACHE_DIR}/services`, ...opts }));
  }

  /**
   * A harness's own stack, apart from the developer's: folder .cache/services-<name>, variables
   * prefixed <NAME>_ (e.g. CHAOS_KAFKA_PORT) to move its ports, and never KAFKA_BROKERS /
   * DATABASE_URL from outside.
   *
   * @param env Variables, usually `Deno.env.toObject()`.
   * @param name The harness, e.g. "chaos".
   * @param ports Its default ports.
   */
  static isolated(
    env: Readonly<Record<string, string | undefined>>,
    name: string,
    ports: Readonly<StackPorts>,
  ): LocalStack {
    return LocalStack.fromEnv(env, {
      prefix: `${name.toUpperCase()}_`,
      dir: `${CACHE_DIR}/services-${name}`,
      ports,
      external: false,
    });
  }

  /** Its folder. */
  get dir(): string {
    return this.config.dir;
  }

  /** Its ports. */
  get ports(): Readonly<StackPorts> {
    return this.config.ports;
  }

  /** Bootstrap address of its broker's PLAINTEXT listener. */
  get brokers(): string {
    return localBrokers(this.ports);
  }

  /** Bootstrap address of its broker's SASL_SSL listener (TLS, SCRAM-SHA-512, ACLs). */
  get saslBrokers(): string {
    return localSaslBrokers(this.ports);
  }

  /** URL of its PostgreSQL's `iot` database. */
  get databaseUrl(): string {
    return localDatabaseUrl(this.ports);
  }

  /** Runs `fn` under the stack's file lock (one start or stop at a time across processes). */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.paths.lockFile, fn);
  }

  /**
   * Makes sure Kafka and PostgreSQL answer, starting (and on first use installing or
   * initialising) whatever is missing, and returns where they are. Safe to call concurrently
   * from several processes: the second caller reuses the first one's servers.
   */
  ensure(): Promise<Services> {
    return this.#locked(async () => {
      // In parallel: the JVM start dominates, PostgreSQL fits inside it.
      // allSettled, not all: the lock must be held until both halves have finished.
      const [kafkaBrokers, databaseUrl] = settled(
        await Promise.allSettled([ensureKafka(this.config), ensurePostgres(this.config)]),
      );
      const services = { kafkaBrokers, databaseUrl };
      await Deno.writeTextFile(this.paths.envFile, envLines(services));
      return services;
    });
  }

  /**
   * Stops the servers this stack started (pid file / data dir in its folder): PostgreSQL with
   * `pg_ctl stop -m fast`, Kafka with SIGTERM, SIGKILL after 60 s. Servers found through
   * KAFKA_BROKERS / DATABASE_URL or run by someone else are left alone.
   */
  stop(): Promise<void> {
    return this.#locked(async () => {
      const [kafka, pg] = settled(
        await Promise.allSettled([
          stopKafka(this.config, "SIGTERM"),
          stopPostgres(this.config, "fast"),
        ]),
      );
      log("kafka", kafka ? "stopped" : "was not running (from this checkout)");
      log("postgres", pg ? "stopped" : "was not running (from this checkout)");
      // After the server: its private volume (if the chaos suite made one) ends with it.
      if (await closeVolume(this.paths)) log("postgres", "private volume released");
      await Deno.remove(this.paths.envFile).catch(() => {});
    });
  }

  /** One line per server on stderr; true when both the configured servers answer. */
  async status(): Promise<boolean> {
    const brokers = this.config.external.kafkaBrokers || this.brokers;
    const url = this.config.external.databaseUrl || this.databaseUrl;
    const pid = this.kafkaPid();
    const [kafkaOk, pgErr] = await Promise.all([kafkaAnswers(brokers), postgresProbe(url)]);
    log(
      "kafka",
      `${brokers}: ${kafkaOk ? "answers" : "DOWN"}` +
        (pid ? ` (our pid ${pid}, log ${this.paths.kafkaLog})` : ""),
    );
    log(
      "postgres",
      `${url.replace(/:[^:@/]*@/, ":***@")}: ${pgErr ? `DOWN (${pgErr.message})` : "answers"}`,
    );
    return kafkaOk && !pgErr;
  }

  /** Pid of the broker this stack started, if it runs. */
  kafkaPid(): number | undefined {
    return managedKafkaPid(this.config);
  }

  /**
   * True when both servers on the stack's ports are its own: its broker's pid file names a live
   * broker, and its PostgreSQL's postmaster.pid names its port. The fault helpers act through
   * those files and must never act on, or share, someone else's servers.
   */
  async ownsServers(): Promise<boolean> {
    const pidFile = `${this.paths.postgresData}/postmaster.pid`;
    const pgPort = await Deno.readTextFile(pidFile).then((t) => t.split("\n")[3]?.trim(), () => "");
    return this.kafkaPid() !== undefined && pgPort === `${this.ports.postgres}`;
  }

  #assertManaged(): void {
    if (this.kafkaPid() === undefined) {
      throw new Error(
        "no Kafka broker started by this checkout is running: the fault helpers " +
          "only act on the local stack (unset KAFKA_BROKERS and call ensure())",
      );
    }
  }

  /**
   * Fault injection: SIGKILLs the stack's broker (no controlled shutdown, like a crash or OOM
   * kill) and waits until the process is gone. Bring it back with `restartKafka()` or `ensure()`.
   */
  killKafka(): Promise<void> {
    return this.#locked(async () => {
      this.#assertManaged();
      await stopKafka(this.config, "SIGKILL");
    });
  }

  /**
   * Stops the stack's broker (SIGTERM by default, or SIGKILL) if it runs, starts it again on the
   * same data and ports, and resolves once it answers. Returns the bootstrap address.
   */
  restartKafka(opts: { signal?: "SIGTERM" | "SIGKILL" } = {}): Promise<string> {
    return this.#locked(async () => {
      await stopKafka(this.config, opts.signal ?? "SIGTERM");
      return await startKafka(this.config);
    });
  }

  /**
   * Fault injection: deletes the stopped broker's whole data folder, the KRaft metadata log with
   * it (ephemeral storage lost with its pod). The next `restartKafka()` or `ensure()` formats new
   * storage under a new cluster ID: every topic, committed offset and SCRAM user is gone. Stop the
   * broker first (`killKafka()`); a running one is refused.
   */
  wipeKafkaData(): Promise<void> {
    return this.#locked(async () => {
      const pid = this.kafkaPid();
      if (pid !== undefined) {
        throw new Error(
          `refusing to wipe the data of a running broker (pid ${pid}): stop it first`,
        );
      }
      await Deno.remove(this.paths.kafkaData, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    });
  }

  /** Stops the stack's PostgreSQL (`pg_ctl stop -m <mode>`); false when it was not running. */
  stopPostgres(mode: PostgresStopMode = "fast"): Promise<boolean> {
    return stopPostgres(this.config, mode);
  }

  /** Starts the stack's PostgreSQL; resolves once a query works, with its URL. */
  startPostgres(): Promise<string> {
    return startPostgres(this.config);
  }

  /**
   * Stops the stack's PostgreSQL with `pg_ctl stop -m <mode>` (default "fast") and starts it
   * again. Resolves once a query works; returns its URL.
   */
  restartPostgres(opts: { mode?: PostgresStopMode } = {}): Promise<string> {
    return this.#locked(async () => {
      await stopPostgres(this.config, opts.mode ?? "fast");
      return await startPostgres(this.config);
    });
  }

  /** Sets a PostgreSQL parameter read only at start (ALTER SYSTEM) and restarts the server. */
  setPostgresParameter(name: string, value: string): Promise<void> {
    return this.#locked(() => alterSystemAndRestart(this.config, name, value));
  }

  /** The stack's CA and server certificate, made on first use. */
  tls(): Promise<LocalTls> {
    return ensureLocalTls(this.paths.tlsDir);
  }

  /**
   * Creates or updates a SCRAM-SHA-512 user on the stack's broker. ACLs are separate: grant them
   * with the admin API (`createAcls`) over the PLAINTEXT listener.
   */
  addScramUser(name: string, password: string): Promise<void> {
    return addScramUser(this.config, name, password);
  }
}
