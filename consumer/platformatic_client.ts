/**
 * The @platformatic/kafka consumer behind platformatic_source.ts: the client as the group member
 * it must be (settings, assignment protocol, logged retries), and the offset lookups of its fetch
 * loop.
 *
 * @module
 */

import { Consumer, ListOffsetTimestamps } from "@platformatic/kafka";
import {
  backoffDelay,
  CONNECT_BACKOFF,
  type KafkaSecurity,
  type Logger,
} from "@iot/shared/runtime";
import { platformaticConnectionOptions } from "@iot/shared/kafka-platformatic";
import { memberLimits, type SourceOptions } from "./source.ts";

/** Where the client connects, and as whom. */
export interface PlatformaticTarget {
  /** `host:port` list. */
  brokers: string[];
  /** Kafka client id. */
  clientId: string;
  /** TLS and SASL settings. */
  security: KafkaSecurity;
}

/** The client, with raw (undeserialized) keys and values. */
export type GroupConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/** The group settings a join sends. */
export type GroupSettings = NonNullable<Parameters<GroupConsumer["joinGroup"]>[0]>;

/** Attempts of one request inside the client after the first (the fetch loop retries beyond). */
const CLIENT_RETRIES = 3;

/**
 * The client for `options`' group, not joined yet, and the settings each join sends.
 *
 * @param target Brokers, client id, security.
 * @param options Group and timeouts.
 * @param log Where each retry of a request is logged.
 */
export function createGroupConsumer(
  target: PlatformaticTarget,
  options: SourceOptions,
  log: Logger,
): { consumer: GroupConsumer; group: GroupSettings } {
  const limits = memberLimits(options);
  const group: GroupSettings = {
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: limits.heartbeatIntervalMs,
    rebalanceTimeout: limits.rebalanceTimeoutMs,
    // kafkajs's name for round-robin assignment (the client's own is "roundrobin"): a group takes
    // members only with a protocol they all name, so without it a rolling switch of
    // KAFKA_CONSUMER_CLIENT would keep the new members out of the group until the old ones left.
    // Both clients encode subscriptions and assignments in Kafka's standard consumer protocol.
    protocols: [{ name: "RoundRobinAssigner", version: 0 }],
  };
  const consumer: GroupConsumer = new Consumer({
    clientId: target.clientId,
    bootstrapBrokers: target.brokers,
    groupId: options.groupId,
    ...group,
    metadataMaxAge: options.metadataMaxAgeMs,
    ...platformaticConnectionOptions(target.security),
    // Each request is tried a few times inside the client (a join finds the coordinator first,
    // with its own tries); every retry is logged, so a broker that is down shows at once.
    retries: CLIENT_RETRIES,
    retryDelay: (_client, operation, attempt, _retries, error) => {
      const delay = backoffDelay(CONNECT_BACKOFF, attempt - 1);
      log.warn("kafka request failed; retrying", { operation, attempt, retryInMs: delay, error });
      return delay;
    },
  });
  consumer.topics.track(options.topic);
  return { consumer, group };
}

/** The first offset still in each partition's log. */
export async function earliestOffsets(
  consumer: GroupConsumer,
  topic: string,
  partitions: readonly number[],
): Promise<Map<number, bigint>> {
  const offsets = (await consumer.listOffsets({
    topics: [topic],
    partitions: { [topic]: [...partitions] },
    timestamp: ListOffsetTimestamps.EARLIEST,
  })).get(topic) ?? [];
  const found = new Map<number, bigint>();
  for (const p of partitions) {
    if (offsets[p] === undefined) throw new Error(`Kafka gave no start offset for ${topic}/${p}`);
    found.set(p, offsets[p]);
  }
  return found;
}

/**
 * Where a member starts reading each partition: the group's committed offset, or the log's start
 * where none is committed (nothing written before the group's first start is skipped).
 */
export async function startOffsets(
  consumer: GroupConsumer,
  topic: string,
  partitions: readonly number[],
): Promise<Map<number, bigint>> {
  const committed = (await consumer.listCommittedOffsets({
    topics: [{ topic, partitions: [...partitions] }],
  })).get(topic) ?? [];
  const start = new Map<number, bigint>();
  for (const p of partitions) {
    if (committed[p] !== undefined && committed[p] >= 0n) start.set(p, committed[p]);
  }
  const missing = partitions.filter((p) => !start.has(p));
  if (missing.length > 0) {
    for (const [p, offset] of await earliestOffsets(consumer, topic, missing)) start.set(p, offset);
  }
  return start;
}
