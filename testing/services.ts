/**
 * THE shared fixture for integration tests: real Kafka and PostgreSQL servers, started once
 * (or reused) through scripts/services/stack.ts and shared by every test file and process.
 *
 * Tests isolate by topic and database, never by server: take a name from `uniqueName()`,
 * then `createTopic(name)` / `freshDatabase(name)`.
 *
 * ```ts ignore
 * import { createTopic, freshDatabase, startServices, uniqueName } from "../testing/services.ts";
 * const { kafkaBrokers } = await startServices();
 * const topic = uniqueName("consumer_it");
 * await createTopic(topic, 6);
 * const databaseUrl = await freshDatabase(topic);
 * ```
 *
 * Servers keep running after the tests (cheap reuse on the next run); `deno task
 * services:down` stops them. With KAFKA_BROKERS / DATABASE_URL set and answering, those are
 * used instead and nothing is started.
 * @module
 */

import { Kafka, logLevel } from "kafkajs";
import * as admin from "../scripts/services/admin.ts";
import { LOCAL_SASL_MECHANISM } from "../scripts/services/kafka.ts";
import { LocalStack, type Services } from "../scripts/services/stack.ts";
import type { LocalTls } from "../scripts/services/tls.ts";

export type { Services };

let stack: LocalStack | undefined;
let started: Promise<Services> | undefined;

/** The stack the environment describes (SERVICES_DIR, KAFKA_PORT, ...), read on first use. */
function fixtureStack(): LocalStack {
  stack ??= LocalStack.fromEnv(Deno.env.toObject());
  return stack;
}

/** The local broker's data folder (log.dirs), for tests that read its segment files. */
export function kafkaDataDir(): string {
  return fixtureStack().paths.kafkaData;
}

/**
 * Starts (or finds) Kafka and PostgreSQL once per process and returns where they are.
 * Memoized: every call after the first returns the same promise, so test files can call it
 * at will. A failed start is not cached, so a later call retries.
 */
export function startServices(): Promise<Services> {
  started ??= Promise.resolve().then(() => fixtureStack().ensure()).catch((err) => {
    started = undefined;
    throw err;
  });
  return started;
}

/**
 * A name that is unique across runs and processes and valid both as a Kafka topic and as an
 * unquoted PostgreSQL database name: `<prefix>_<time>_<random>` in [a-z0-9_].
 */
export function uniqueName(prefix: string): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const name = `${prefix}_${Date.now().toString(36)}_${random}`.toLowerCase();
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || name.length > 63) {
    throw new Error(`uniqueName: prefix ${JSON.stringify(prefix)} must be short [a-z0-9_]`);
  }
  return name;
}

/**
 * A kafkajs client for the fixture's cluster. kafkajs logs only errors by default, to keep
 * test output readable; pass another `logLevel` to see more (or nothing).
 */
export async function kafkaClient(
  clientId = "iot-test",
  level: logLevel = logLevel.ERROR,
): Promise<Kafka> {
  const { kafkaBrokers } = await startServices();
  return admin.kafkaFor(kafkaBrokers, { clientId, logLevel: level });
}

/**
 * Creates topic `name` with `partitions` partitions (broker-default replication) and waits
 * until every partition has a leader, because the broker has auto-creation off. Idempotent
 * when the topic already exists with that partition count; throws when the count differs.
 */
export async function createTopic(
  name: string,
  partitions = 6,
  config: Readonly<Record<string, string>> = {},
): Promise<void> {
  // Silent: "topic already exists" is an expected answer here, not an error to log.
  const kafka = await kafkaClient("iot-test-admin", logLevel.NOTHING);
  const topic = await admin.createTopic(kafka, name, partitions, config);
  if (topic.partitions !== partitions) {
    throw new Error(
      `topic ${name} already exists with ${topic.partitions} partitions, not ${partitions}`,
    );
  }
}

/**
 * Creates an empty database `name` on the fixture's server and returns its URL (same
 * credentials and options as DATABASE_URL). An existing database of that name is dropped
 * first (its connections are terminated), so the result is always empty.
 */
export async function freshDatabase(name: string): Promise<string> {
  return admin.freshDatabase((await startServices()).databaseUrl, name);
}

/** Drops a database made by `freshDatabase()`, terminating its connections. For cleanup. */
export async function dropDatabase(name: string): Promise<void> {
  await admin.dropDatabases((await startServices()).databaseUrl, [name]);
}

/** The fixture stack's CA and server certificate (what its PostgreSQL and SASL_SSL serve). */
export function localTls(): Promise<LocalTls> {
  return fixtureStack().tls();
}

/** The fixture broker's SASL_SSL listener, as a service would be configured for it. */
export interface SecureKafka {
  /** Bootstrap address of the SASL_SSL listener. */
  brokers: string;
  /** PEM file of the CA that signed the listener's certificate. */
  caFile: string;
  /** The listener's SASL mechanism, in kafkajs's spelling. */
  mechanism: "scram-sha-512";
}

/**
 * The SASL_SSL listener of the fixture's broker (TLS, SCRAM-SHA-512, ACLs enforced). Only the
 * broker this checkout starts has it: throws when the fixture uses KAFKA_BROKERS from outside.
 */
export async function secureKafka(): Promise<SecureKafka> {
  await startServices();
  if (fixtureStack().kafkaPid() === undefined) {
    throw new Error(
      "the SASL_SSL tests need the broker this checkout starts (it has the SASL_SSL listener); " +
        "unset KAFKA_BROKERS",
    );
  }
  const mechanism = LOCAL_SASL_MECHANISM.toLowerCase() as "scram-sha-512";
  return {
    brokers: fixtureStack().saslBrokers,
    caFile: (await fixtureStack().tls()).caFile,
    mechanism,
  };
}

/**
 * Creates (or re-keys) a SCRAM user on the fixture's broker. It may do nothing until ACLs allow
 * it: grant them with `createAcls` over the plaintext listener (see `kafkaClient`).
 */
export async function createKafkaUser(name: string, password: string): Promise<void> {
  await secureKafka();
  await fixtureStack().addScramUser(name, password);
}
