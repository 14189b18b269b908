/**
 * What the test fixture, the chaos and benchmark harnesses and `deno task up` do to a Kafka and a
 * PostgreSQL server: topics, end offsets, throw-away databases, and waiting until a consumer
 * group has stored every offset. One copy, with options where the callers differ.
 * @module
 */

import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import postgres from "postgres";
import { sleep } from "./util.ts";

/** Options of {@linkcode kafkaFor}. */
export interface KafkaClientOptions {
  /** @default {"iot-admin"} */
  clientId?: string;
  /** kafkajs's log level. @default {logLevel.NOTHING} */
  logLevel?: logLevel;
  /** kafkajs timeouts and retry, e.g. short ones for a suite that kills the broker. */
  connectionTimeout?: number;
  /** See kafkajs's `requestTimeout`. */
  requestTimeout?: number;
  /** See kafkajs's `retry`. */
  retry?: KafkaConfig["retry"];
}

/**
 * A kafkajs client for a comma-separated bootstrap list, quiet unless asked: "topic already
 * exists" and a killed broker are expected answers here, not errors to log.
 */
export function kafkaFor(brokers: string, opts: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId: opts.clientId ?? "iot-admin",
    brokers: brokers.split(",").map((b) => b.trim()),
    logLevel: opts.logLevel ?? logLevel.NOTHING,
    connectionTimeout: opts.connectionTimeout,
    requestTimeout: opts.requestTimeout,
    retry: opts.retry,
  });
}

type Admin = ReturnType<Kafka["admin"]>;

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** What {@linkcode createTopic} found or made. */
export interface TopicState {
  /** False when the topic existed already. */
  created: boolean;
  /** Its partition count (of the existing topic, when it existed). */
  partitions: number;
}

/**
 * Creates topic `name` with `partitions` partitions (broker-default replication) and waits until
 * every partition has a leader: the local broker has auto-creation off. An existing topic is
 * kept as it is; the result says how many partitions it has.
 */
export async function createTopic(
  kafka: Kafka,
  name: string,
  partitions: number,
  config: Readonly<Record<string, string>> = {},
): Promise<TopicState> {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name)) throw new Error(`invalid topic name ${name}`);
  return await withAdmin(kafka, async (admin) => {
    const created = await admin.createTopics({
      topics: [{
        topic: name,
        numPartitions: partitions,
        configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
      }],
      waitForLeaders: true,
    });
    if (created) return { created, partitions };
    const meta = await admin.fetchTopicMetadata({ topics: [name] });
    return { created, partitions: meta.topics[0].partitions.length };
  });
}

/** Deletes topics; those already gone are skipped. */
export async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const topics = names.filter((n) => existing.has(n));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  });
}

/** End offset of each partition of `topic`, by partition number. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Record<number, string>> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return Object.fromEntries(offsets.map((p) => [p.partition, p.high]));
}

/** Sum of the end offsets of `topic`'s partitions: how many messages it ever held. */
export async function endOffsetTotal(kafka: Kafka, topic: string): Promise<bigint> {
  const end = await endOffsets(kafka, topic);
  return Object.values(end).reduce((sum, high) => sum + BigInt(high), 0n);
}

/** `url` with another database name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Throws unless `name` is a plain database name other than the one `baseUrl` points at. */
export function checkDatabaseName(name: string, baseUrl: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`invalid database name ${JSON.stringify(name)}: use [a-z0-9_], max 63`);
  }
  if (new URL(baseUrl).pathname === `/${name}`) {
    throw new Error(`refusing to recreate or drop the server's own database ${name}`);
  }
}

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Creates an empty database `name` on the server of `baseUrl` and returns its URL (same
 * credentials and options). An existing database of that name is dropped first.
 */
export async function freshDatabase(baseUrl: string, name: string): Promise<string> {
  checkDatabaseName(name, baseUrl);
  await withSql(baseUrl, async (sql) => {
    await dropOne(sql, name);
    await sql.unsafe(`CREATE DATABASE "${name}"`);
  });
  return withDatabase(baseUrl, name);
}

/** Drops databases made by {@linkcode freshDatabase}, terminating their connections. */
export async function dropDatabases(baseUrl: string, names: string[]): Promise<void> {
  for (const name of names) checkDatabaseName(name, baseUrl);
  await withSql(baseUrl, async (sql) => {
    for (const name of names) await dropOne(sql, name);
  });
}

/**
 * DROP DATABASE that survives autovacuum: `WITH (FORCE)` must terminate every session, and the
 * `iot` role may not terminate an autovacuum worker (superuser-owned) that a big load started.
 * A plain DROP cancels such workers itself, so after ending our own sessions it is retried.
 */
async function dropOne(sql: postgres.Sql, name: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "42501" || attempt >= 10) throw error;
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${name} AND usename = current_user AND pid <> pg_backend_pid()`;
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}"`);
        return;
      } catch {
        await sleep(500);
      }
    }
  }
}

/** Which stored offsets to add up. */
export interface OffsetScope {
  /** Consumer group. */
  groupId: string;
  /** Topic; all the group's topics when absent. */
  topic?: string;
}

/**
 * Sum of the next offsets a consumer group stored in tb_kafka_offset (the consumer's own offset
 * table): how many messages it has landed. -1 when the table does not exist yet (the consumer
 * has not migrated) or holds no row.
 */
export async function storedOffsetTotal(sql: postgres.Sql, scope: OffsetScope): Promise<bigint> {
  const [row] = await sql<{ total: string | null }[]>`
    SELECT sum(next_offset)::text AS total FROM tb_kafka_offset
    WHERE group_id = ${scope.groupId}
      AND (${scope.topic ?? null}::text IS NULL OR topic = ${scope.topic ?? null})`
    .catch(() => [{ total: null }]);
  return BigInt(row.total ?? "-1");
}

/** Options of {@linkcode waitForDrain}. */
export interface DrainWait extends OffsetScope {
  /** How many messages make "drained": usually {@linkcode endOffsetTotal}. */
  target: bigint;
  /** Give up after this long; wait for ever when absent. */
  timeoutMs?: number;
  /** Time between two reads. @default {200} */
  pollMs?: number;
  /** Called with the stored total at most every `progressEveryMs`. */
  onProgress?: (stored: bigint) => void;
  /** @default {10000} */
  progressEveryMs?: number;
  /**
   * Whether stored offsets past `target` count as drained, for a target that counts messages
   * sent rather than end offsets (a retried send may have written one twice). Else they are an
   * error. @default {false}
   */
  allowPast?: boolean;
  /** Stops the wait early (resolves false) when aborted. */
  signal?: AbortSignal;
}

/**
 * Waits until the offsets the group stored reach `target`, i.e. everything produced was landed.
 * Resolves true when drained (false when `signal` aborted it); throws after `timeoutMs` saying
 * how far it got, and at once when the stored offsets pass the target (a consumer that stores an
 * offset beyond the log is a bug, not a finished drain) unless `allowPast`.
 */
export async function waitForDrain(sql: postgres.Sql, wait: DrainWait): Promise<boolean> {
  const deadline = wait.timeoutMs === undefined ? Infinity : Date.now() + wait.timeoutMs;
  let lastProgress = Date.now();
  for (;;) {
    const stored = await storedOffsetTotal(sql, wait);
    if (stored === wait.target || (wait.allowPast && stored > wait.target)) return true;
    if (stored > wait.target) {
      throw new Error(`stored offsets ${stored} are past the end offsets ${wait.target}`);
    }
    if (wait.signal?.aborted) return false;
    if (Date.now() > deadline) {
      throw new Error(
        `not drained after ${wait.timeoutMs} ms: stored offsets ${stored}, ` +
          `end offsets ${wait.target}`,
      );
    }
    if (wait.onProgress && Date.now() - lastProgress >= (wait.progressEveryMs ?? 10_000)) {
      lastProgress = Date.now();
      wait.onProgress(stored);
    }
    await sleep(wait.pollMs ?? 200);
  }
}
