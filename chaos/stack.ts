/**
 * The chaos run's own Kafka and PostgreSQL, apart from the developer stack by design: a
 * `LocalStack` with its own folder and ports that never takes KAFKA_BROKERS / DATABASE_URL.
 * The suite kills and restarts these servers; the ones on 9092/5432 are never touched.
 *
 * Also: the run's topic and database, the offset audit trigger, and reading everything back.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import postgres from "postgres";
import { migrate } from "../consumer/migrations.ts";
import { registerKafkaCodecs } from "../shared/kafka.ts";
import { ROOT } from "../scripts/repo.ts";
import { endOffsets, kafkaFor } from "../scripts/services/admin.ts";
import { LocalStack } from "../scripts/services/stack.ts";
import type { StackPorts } from "../scripts/services/stack_config.ts";
import { digestOf } from "./ledger.ts";
import type {
  LogMessage,
  StoredAlert,
  StoredDevice,
  StoredFold,
  StoredModel,
  StoredReject,
  StoredRow,
} from "./checker.ts";
import type { OffsetTransition } from "./_checker_runtime.ts";

export { ROOT };
export {
  createTopic,
  deleteTopics,
  dropDatabases,
  endOffsets,
  freshDatabase,
} from "../scripts/services/admin.ts";

/** The chaos servers' ports unless CHAOS_KAFKA_PORT and the like move them. */
export const CHAOS_PORTS: Readonly<StackPorts> = Object.freeze({
  kafka: 29092,
  controller: 29093,
  sasl: 29094,
  postgres: 25432,
});

/**
 * The chaos run's own stack: .cache/services-chaos on the CHAOS_PORTS, which CHAOS_KAFKA_PORT,
 * CHAOS_KAFKA_CONTROLLER_PORT, CHAOS_KAFKA_SASL_PORT and CHAOS_POSTGRES_PORT move, so two checkouts
 * on one machine can each run the suite at once (on the same ports, the second waits; see
 * `lockPorts`). KAFKA_BROKERS / DATABASE_URL from outside are never used.
 *
 * @param env Variables, usually `Deno.env.toObject()`.
 */
export function chaosStack(env: Readonly<Record<string, string | undefined>>): LocalStack {
  return LocalStack.isolated(env, "chaos", CHAOS_PORTS);
}

/**
 * Takes a machine-wide lock on the chaos ports for the life of this process: a run kills and
 * restarts the servers on them, so a second run on the same ports (from this checkout or another)
 * must wait, not share them. Resolves once the lock is held.
 */
export async function lockPorts(stack: LocalStack, note: (msg: string) => void): Promise<void> {
  const dir = Deno.env.get("TMPDIR") || "/tmp";
  const path = `${dir}/iot-chaos-${stack.ports.kafka}-${stack.ports.postgres}.lock`;
  const file = await Deno.open(path, { create: true, write: true });
  const waiting = setTimeout(
    () => note(`waiting for another chaos run on these ports (${path})`),
    1000,
  );
  await file.lock(true); // released by the kernel when this process exits
  clearTimeout(waiting);
}

/**
 * Throws unless the servers on the chaos ports are this checkout's own: the faults kill and
 * restart them through their pid files, and must never act on, or share, someone else's.
 */
export async function assertOwnServers(stack: LocalStack): Promise<void> {
  if (await stack.ownsServers()) return;
  await stack.status().catch(() => false);
  throw new Error(
    `the servers answering on the chaos ports (Kafka ${stack.ports.kafka}, PostgreSQL ` +
      `${stack.ports.postgres}) were not started by this checkout (${stack.dir}): ` +
      "stop them where they were started (`deno task chaos:down`) or move this run with " +
      "CHAOS_KAFKA_PORT, CHAOS_KAFKA_CONTROLLER_PORT, CHAOS_KAFKA_SASL_PORT and CHAOS_POSTGRES_PORT",
  );
}

/** Header carrying the ledger's sequence number on every message. */
export const SEQ_HEADER = "chaos-seq";

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** The harness's own PostgreSQL application_name (its offset resets are not consumer writes). */
export const HARNESS_APP = "chaos-harness";

/**
 * A kafkajs client for the chaos broker that keeps quiet (faults make it noisy on purpose), with
 * every compression codec registered: the sender rotates through them.
 */
export function kafkaClient(brokers: string, clientId: string): Kafka {
  registerKafkaCodecs(QUIET);
  return kafkaFor(brokers, {
    clientId,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** The harness's pool on the run's database (tagged, so its offset resets are told apart). */
export function harnessSql(url: string): postgres.Sql {
  return postgres(url, {
    max: 2,
    connect_timeout: 3,
    idle_timeout: 5,
    onnotice: () => {},
    connection: { application_name: HARNESS_APP },
  });
}

/**
 * Creates the consumer's tables (its own migration) and audit triggers that record every creation
 * and every move of a stored offset with the writer's application_name: the history the fence and
 * the claims are judged on.
 */
export async function prepareDatabase(sql: postgres.Sql): Promise<void> {
  await migrate(sql);
  await sql.unsafe(`
    CREATE TABLE IF NOT EXISTS chaos_offset_audit (
      id bigserial PRIMARY KEY, partition integer NOT NULL, old_offset bigint,
      new_offset bigint NOT NULL, old_topic_id uuid, new_topic_id uuid, writer text NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE OR REPLACE FUNCTION chaos_audit_offset() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO chaos_offset_audit
        (partition, old_offset, new_offset, old_topic_id, new_topic_id, writer)
      VALUES (NEW.partition, OLD.next_offset, NEW.next_offset, OLD.topic_id, NEW.topic_id,
        current_setting('application_name'));
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS chaos_audit_offset ON tb_kafka_offset;
    -- The topic ID too: a move back is right only onto a re-created topic's start, with its ID.
    CREATE TRIGGER chaos_audit_offset AFTER UPDATE ON tb_kafka_offset FOR EACH ROW
      WHEN (OLD.next_offset IS DISTINCT FROM NEW.next_offset
        OR OLD.topic_id IS DISTINCT FROM NEW.topic_id)
      EXECUTE FUNCTION chaos_audit_offset();
    -- Claims too: a row created past the log's start would skip what comes before it.
    DROP TRIGGER IF EXISTS chaos_audit_offset_claim ON tb_kafka_offset;
    CREATE TRIGGER chaos_audit_offset_claim AFTER INSERT ON tb_kafka_offset FOR EACH ROW
      EXECUTE FUNCTION chaos_audit_offset();
  `).simple();
}

/** Stored offsets by partition. */
export async function storedOffsets(
  sql: postgres.Sql,
  group: string,
  topic: string,
): Promise<Record<number, string>> {
  const rows = await sql<{ partition: number; next_offset: string }[]>`
    SELECT partition, next_offset::text FROM tb_kafka_offset
    WHERE group_id = ${group} AND topic = ${topic}`;
  return Object.fromEntries(rows.map((r) => [r.partition, r.next_offset]));
}

/** The topic ID stored with each partition's offset. */
export async function storedTopicIds(
  sql: postgres.Sql,
  group: string,
  topic: string,
): Promise<Record<number, string | null>> {
  const rows = await sql<{ partition: number; topic_id: string | null }[]>`
    SELECT partition, topic_id::text FROM tb_kafka_offset
    WHERE group_id = ${group} AND topic = ${topic}`;
  return Object.fromEntries(rows.map((r) => [r.partition, r.topic_id]));
}

/**
 * Everything the consumers stored, in the checker's shapes; a reject's `topic_id` names its
 * generation in `topicIds` (-1: none of them).
 */
export async function readDatabase(
  sql: postgres.Sql,
  topic: string,
  startedAt: number,
  topicIds: readonly string[],
) {
  const rows = await sql<StoredRow[]>`
    SELECT id::text, id_dispositivo, "timestamp",
      to_char(timestamp_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS timestamp_ts,
      temperatura, umidade, latitude, longitude, status, bateria, alerta
    FROM tb_sensor_evento`;
  const rejects = await sql<(StoredReject & { topic_id: string | null })[]>`
    SELECT topic_id::text, particao AS partition, offset_kafka::text AS offset,
      ARRAY(SELECT jsonb_array_elements(motivos) ->> 'code') AS codes,
      encode(coalesce(payload_sha256, sha256(payload)), 'hex') AS digest,
      coalesce(payload_bytes, octet_length(payload)) AS bytes,
      json_build_object('bytes', octet_length(payload), 'digest', encode(sha256(payload), 'hex'))
        AS stored
    FROM tb_sensor_evento_rejeitado WHERE topico = ${topic}`;
  const audit = await sql<
    {
      partition: number;
      old: string | null;
      new: string;
      old_topic_id: string | null;
      new_topic_id: string | null;
      at: Date;
      writer: string;
    }[]
  >`
    SELECT partition, old_offset::text AS old, new_offset::text AS new, old_topic_id::text,
      new_topic_id::text, at, writer
    FROM chaos_offset_audit ORDER BY id`;
  const transitions: OffsetTransition[] = audit.map((a) => ({
    partition: a.partition,
    from: a.old,
    to: a.new,
    fromTopicId: a.old_topic_id,
    toTopicId: a.new_topic_id,
    atMs: a.at.getTime() - startedAt,
    writer: a.writer,
  }));
  const [{ key: idKey }] = await sql<{ key: string }[]>`SELECT key FROM tb_derived_id_key`;
  const devices = await sql<StoredDevice[]>`
    SELECT id_dispositivo, id_evento::text,
      to_char(timestamp_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS timestamp_ts,
      temperatura, umidade, latitude, longitude, status, bateria, alerta,
      qt_leituras::float8 AS qt_leituras
    FROM tb_dispositivo`;
  const monitoring = await readMonitoring(sql);
  const stored: StoredReject[] = rejects.map(({ topic_id, ...r }) => ({
    ...r,
    generation: topicIds.indexOf(topic_id ?? ""),
  }));
  return {
    rows: [...rows],
    rejects: stored,
    devices: [...devices],
    monitoring,
    transitions,
    idKey,
  };
}

/**
 * The consumers' monitoring (issue 12): readings' fold places and scores, models, alerts. A
 * database without these columns fails the read with PostgreSQL's own error: the run cannot be
 * judged, and says so, rather than pass without them.
 */
async function readMonitoring(sql: postgres.Sql) {
  const folds = await sql<StoredFold[]>`
    SELECT id::text, seq_dispositivo::float8 AS seq_dispositivo, escore_anomalia
    FROM tb_sensor_evento`;
  const models = await sql<StoredModel[]>`
    SELECT id_dispositivo, anomalia_n::float8 AS anomalia_n, temperatura_media, temperatura_var,
      umidade_media, umidade_var, temperatura_nivel, temperatura_base, temperatura_dispersao,
      umidade_nivel, umidade_base, umidade_dispersao
    FROM tb_dispositivo`;
  const instant = (c: string) =>
    `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c}`;
  const alerts = await sql.unsafe<StoredAlert[]>(`
    SELECT id::float8 AS id, id_dispositivo, tipo, opened_event::text, cleared_event::text,
      ${["opened_at", "cleared_at", "last_triggered_at"].map(instant).join(", ")},
      trigger_count::float8 AS trigger_count, peak_value, clear_streak,
      qt_leituras_abertura::float8 AS qt_leituras_abertura
    FROM tb_alerta`);
  return { folds: [...folds], models: [...models], alerts: [...alerts] };
}

/** Reads the whole topic back (a throw-away group, from the beginning up to the end offsets). */
export async function readLog(kafka: Kafka, topic: string): Promise<LogMessage[]> {
  const end = await endOffsets(kafka, topic);
  const pending = new Set(Object.entries(end).filter(([, o]) => o !== "0").map(([p]) => Number(p)));
  const log: LogMessage[] = [];
  if (pending.size === 0) return log;
  const consumer = kafka.consumer({
    groupId: `chaos-reader-${crypto.randomUUID()}`,
    maxBytesPerPartition: 4 << 20,
  });
  const done = Promise.withResolvers<void>();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const seq = m.headers?.[SEQ_HEADER];
        log.push({
          partition: batch.partition,
          offset: m.offset,
          seq: seq === undefined ? undefined : Number(String(seq)),
          digest: digestOf(m.value === null ? null : new Uint8Array(m.value)),
          timestampMs: Number(m.timestamp),
        });
        if (BigInt(m.offset) + 1n >= BigInt(end[batch.partition])) pending.delete(batch.partition);
      }
      if (pending.size === 0) done.resolve();
      await Promise.resolve();
    },
  });
  const timeout = setTimeout(() => done.reject(new Error(`topic not read back in 180 s`)), 180_000);
  try {
    await done.promise;
  } finally {
    clearTimeout(timeout);
    await consumer.disconnect();
  }
  // A batch delivered twice (the reader's own rebalance) must not look like a duplicate.
  const seen = new Set<string>();
  return log.filter((m) => {
    const key = `${m.partition}/${m.offset}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
