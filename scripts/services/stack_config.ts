/**
 * What a local stack is: a folder (data, logs, pid files, TLS) and four ports, plus the servers
 * from outside to use instead when they answer. Read from the environment by the entry points
 * (`deno task services:*`, the test fixture, the chaos and benchmark harnesses), never at import,
 * so one process can hold several stacks. Pure: no I/O.
 * @module
 */

import { EnvReader } from "../../shared/env.ts";

/** The listener ports of a local stack. */
export interface StackPorts {
  /** Kafka's PLAINTEXT listener: no TLS, no authentication (loopback only). */
  kafka: number;
  /** Kafka's KRaft controller listener. */
  controller: number;
  /** Kafka's SASL_SSL listener: TLS with the local CA, SCRAM-SHA-512, ACLs enforced. */
  sasl: number;
  /** PostgreSQL. */
  postgres: number;
}

/** Servers run by someone else, used instead of the local ones when they answer. */
export interface ExternalServers {
  /** KAFKA_BROKERS: a bootstrap list. */
  kafkaBrokers?: string;
  /** DATABASE_URL: a postgres:// URL of a database the `iot` role owns. */
  databaseUrl?: string;
}

/** A local stack, resolved. */
export interface StackConfig {
  /** Folder of its data, logs, pid files, lock and TLS files. */
  dir: string;
  /** Its ports. */
  ports: StackPorts;
  /** The broker JVM's heap flags. */
  kafkaHeapOpts: string[];
  /** Servers from outside to prefer; empty for a stack that must be its own (chaos, bench). */
  external: ExternalServers;
  /** Prefix of its variables ("" or e.g. "CHAOS_"), for messages that say which to change. */
  prefix: string;
}

/** The developer stack's ports. */
export const DEFAULT_PORTS: Readonly<StackPorts> = Object.freeze({
  kafka: 9092,
  controller: 9093,
  sasl: 9094,
  postgres: 5432,
});

/** The broker's heap unless KAFKA_HEAP_OPTS says otherwise (as Kafka's own scripts allow). */
export const DEFAULT_KAFKA_HEAP_OPTS: readonly string[] = ["-Xms256m", "-Xmx768m"];

/** The variable of each port, without the prefix. */
export const PORT_VARIABLES: Readonly<Record<keyof StackPorts, string>> = Object.freeze({
  kafka: "KAFKA_PORT",
  controller: "KAFKA_CONTROLLER_PORT",
  sasl: "KAFKA_SASL_PORT",
  postgres: "POSTGRES_PORT",
});

/** How a harness reads its stack from the environment. */
export interface StackEnvOptions {
  /** Default folder; `<prefix>SERVICES_DIR` moves it. */
  dir: string;
  /** Prefix of the variables: "" for the developer stack, e.g. "CHAOS_" for a harness's own. @default {""} */
  prefix?: string;
  /** Default ports. @default {DEFAULT_PORTS} */
  ports?: Readonly<StackPorts>;
  /** Whether KAFKA_BROKERS / DATABASE_URL are taken as servers to prefer. @default {true} */
  external?: boolean;
}

/**
 * Reads a stack from environment variables: `<prefix>SERVICES_DIR`, `<prefix>KAFKA_PORT`,
 * `<prefix>KAFKA_CONTROLLER_PORT`, `<prefix>KAFKA_SASL_PORT`, `<prefix>POSTGRES_PORT`, and (without
 * prefix) KAFKA_HEAP_OPTS and, unless `external` is false, KAFKA_BROKERS and DATABASE_URL.
 *
 * @param env Variables, usually `Deno.env.toObject()`.
 * @param opts Defaults and prefix.
 * @returns The stack.
 * @throws {ConfigError} naming every bad variable and its value (a port outside 1..65535, two
 *   ports the same).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stackConfigFromEnv } from "./stack_config.ts";
 * const stack = stackConfigFromEnv({ CHAOS_KAFKA_PORT: "29092" }, { prefix: "CHAOS_", dir: "/d" });
 * assert.equal(stack.ports.kafka, 29092);
 * ```
 */
export function stackConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  opts: StackEnvOptions,
): StackConfig {
  const prefix = opts.prefix ?? "";
  const defaults = opts.ports ?? DEFAULT_PORTS;
  const reader = new EnvReader(env);
  const port = (key: keyof StackPorts) =>
    reader.integer(`${prefix}${PORT_VARIABLES[key]}`, defaults[key], { min: 1, max: 65535 });
  const ports = {
    kafka: port("kafka"),
    controller: port("controller"),
    sasl: port("sasl"),
    postgres: port("postgres"),
  };
  const taken = new Map<number, string>();
  for (const key of Object.keys(ports) as (keyof StackPorts)[]) {
    const name = `${prefix}${PORT_VARIABLES[key]}`;
    const other = taken.get(ports[key]);
    if (other !== undefined) reader.problem(`${name} and ${other} are both ${ports[key]}`);
    taken.set(ports[key], name);
  }
  const dir = reader.string(
    `${prefix}SERVICES_DIR`,
    opts.dir,
    (v) => v.startsWith("/") ? undefined : "must be an absolute path",
  );
  const heap = reader.raw("KAFKA_HEAP_OPTS");
  const external: ExternalServers = opts.external === false ? {} : {
    kafkaBrokers: reader.raw("KAFKA_BROKERS"),
    databaseUrl: reader.raw("DATABASE_URL"),
  };
  reader.done();
  return {
    dir: dir.replace(/\/+$/, ""),
    ports,
    kafkaHeapOpts: heap ? heap.split(/\s+/) : [...DEFAULT_KAFKA_HEAP_OPTS],
    external,
    prefix,
  };
}

/** The variable that moves port `key` of `stack`, e.g. CHAOS_KAFKA_PORT. */
export const portVariable = (stack: StackConfig, key: keyof StackPorts): string =>
  `${stack.prefix}${PORT_VARIABLES[key]}`;

/** Bootstrap address of the local broker; 127.0.0.1, not localhost, which may resolve to ::1. */
export const localBrokers = (p: StackPorts): string => `127.0.0.1:${p.kafka}`;

/** Bootstrap address of the local broker's SASL_SSL listener. */
export const localSaslBrokers = (p: StackPorts): string => `127.0.0.1:${p.sasl}`;

/** URL of the local server's `iot` database; 127.0.0.1 because it listens on IPv4 only. */
export const localDatabaseUrl = (p: StackPorts): string =>
  `postgres://iot:iot@127.0.0.1:${p.postgres}/iot`;

/** The files of a stack, all below its folder. */
export interface StackPaths {
  /** flock that serialises starts and stops across processes. */
  lockFile: string;
  /** `KAFKA_BROKERS=` / `DATABASE_URL=` lines of the last start. */
  envFile: string;
  /** TLS files (local CA and server certificate). */
  tlsDir: string;
  /** Kafka's folder: properties, logs, pid file. */
  kafkaDir: string;
  /** Kafka's data (log.dirs). */
  kafkaData: string;
  /** Kafka's server.properties, written on every start. */
  kafkaProps: string;
  /** Pid file of the broker this stack started. */
  kafkaPidFile: string;
  /** Broker log written by scripts/kafka/log4j2.properties. */
  kafkaLog: string;
  /** The broker JVM's stdout and stderr. */
  kafkaStdoutLog: string;
  /** PostgreSQL's folder (the owner's cwd). */
  postgresDir: string;
  /** PostgreSQL's data directory. */
  postgresData: string;
  /** PostgreSQL's server log (pg_ctl -l). */
  postgresLog: string;
}

/** Where each file of the stack in `dir` is. */
export function stackPaths(dir: string): StackPaths {
  const kafkaDir = `${dir}/kafka`;
  const postgresDir = `${dir}/postgres`;
  return {
    lockFile: `${dir}/.lock`,
    envFile: `${dir}/env`,
    tlsDir: `${dir}/tls`,
    kafkaDir,
    kafkaData: `${kafkaDir}/data`,
    kafkaProps: `${kafkaDir}/server.properties`,
    kafkaPidFile: `${kafkaDir}/kafka.pid`,
    kafkaLog: `${kafkaDir}/server.log`,
    kafkaStdoutLog: `${kafkaDir}/stdout.log`,
    postgresDir,
    postgresData: `${postgresDir}/data`,
    postgresLog: `${postgresDir}/server.log`,
  };
}
