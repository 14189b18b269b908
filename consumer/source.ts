/**
 * The Kafka source: a kafkajs consumer-group member that hands each partition's batch to a
 * handler, tells the handler when the group was rebalanced, and reports its state.
 *
 * kafkajs has no rebalance callbacks; its GROUP_JOIN event is the only signal that assignments
 * changed, so every join starts a new "generation" and the handler must re-check what it owns.
 *
 * @module
 */

import type { Consumer, Kafka } from "kafkajs";
import type { Logger } from "@iot/shared/runtime";
import { KafkaDecompressionError, TopicIdClient } from "@iot/shared/kafka";
import { KafkaCommits } from "./kafka_commits.ts";
import type { TopicLog } from "./log_guard.ts";
import type { KafkaRecord } from "./transform.ts";

/** One partition's messages, with what the handler may do with them. */
export interface PartitionBatch {
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
  /** Messages in offset order. */
  records: KafkaRecord[];
  /** The partition's end offset when the batch was fetched. */
  highWatermark: string;
  /** When the fetch that brought the batch had its response (`performance.now()`) or later. */
  fetchedAt: number;
  /** Marks offsets up to `offset` as done (Kafka commits them soon after). */
  resolveOffset(offset: string): void;
  /**
   * Commits resolved offsets to Kafka, at most once per {@linkcode KAFKA_COMMIT_INTERVAL_MS}
   * (for lag tools and a new member's start; PostgreSQL holds the truth).
   */
  commit(): Promise<void>;
  /** Restarts fetching this partition at `offset`. */
  seek(offset: string): void;
  /** Stops fetching this partition for `ms` milliseconds; unresolved records come again after. */
  pause(ms: number): void;
  /** Tells the group this member is alive (long writes must call it). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the batch is outdated by a seek or rebalance. */
  isCurrent(): boolean;
}

/**
 * Least time between two offset commits to Kafka (kafka_commits.ts says why they are paced): lag
 * tools see offsets at most this old, and a member taking a partition over re-reads at most this
 * much, which it skips as stored.
 */
export const KAFKA_COMMIT_INTERVAL_MS = 1000;

/** Longest the broker holds a fetch that finds no new record (see startSource). */
export const FETCH_MAX_WAIT_MS = 500;

/** Longest a stopping consumer waits to commit its last offsets (Kafka may be down). */
export const FINAL_COMMIT_TIMEOUT_MS = 5000;

/** Settings of the source. */
export interface SourceOptions {
  /** Topic to read. */
  topic: string;
  /** Consumer group. */
  groupId: string;
  /** Group session timeout, in ms. */
  sessionTimeoutMs: number;
  /** Age of the cluster metadata after which it is fetched again, in ms (see startSource). */
  metadataMaxAgeMs: number;
  /** Most bytes one fetch holds, as stored; a quarter of it per partition (see startSource). */
  fetchMaxBytes: number;
  /** Partitions processed at once. */
  concurrency: number;
}

/** A member's group timings and fetch bound, as both sources derive them (why: startSource). */
export interface MemberLimits {
  /** Heartbeat interval, in ms. */
  heartbeatIntervalMs: number;
  /** How long the group waits for members to rejoin, in ms. */
  rebalanceTimeoutMs: number;
  /** Most bytes, as stored, one fetch holds of one partition. */
  partitionMaxBytes: number;
}

/** See {@linkcode MemberLimits}. */
export function memberLimits(options: SourceOptions): MemberLimits {
  return {
    heartbeatIntervalMs: Math.min(1000, Math.floor(options.sessionTimeoutMs / 3)),
    rebalanceTimeoutMs: Math.max(60_000, options.sessionTimeoutMs),
    partitionMaxBytes: Math.floor(options.fetchMaxBytes / 4),
  };
}

/** Callbacks the source drives. */
export interface SourceHandler {
  /** Processes one batch. Throwing makes kafkajs retry the batch. */
  onBatch(batch: PartitionBatch): Promise<void>;
  /** The group was rebalanced: `partitions` are this member's now. */
  onAssignment(partitions: number[]): void;
  /** kafkajs gave up (an error it does not retry): the consumer is stopped; restart or exit. */
  onCrash(error: Error): void;
}

/** A running source. */
export interface Source {
  /**
   * Whether the consumer has joined the group (and is not stopped), and its last fetch did not
   * end on a batch it cannot decompress.
   */
  isConnected(): boolean;
  /** Leaves the group after the in-flight batches finish. */
  stop(): Promise<void>;
}

/**
 * Joins the group and starts consuming.
 *
 * @param kafka The kafkajs client.
 * @param options Topic, group, timeouts.
 * @param handler What to do with batches and group events.
 * @param log Logger.
 */
export async function startSource(
  kafka: Kafka,
  options: SourceOptions,
  handler: SourceHandler,
  log: Logger,
): Promise<Source> {
  const limits = memberLimits(options);
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    // A member learns that the group is rebalancing (a member joined or left) from a heartbeat or
    // an offset commit. Commits are paced to one a second (kafka_commits.ts), so heartbeats at
    // most a second apart keep a joining member's wait short: with 3 s, a second consumer started
    // beside a busy one was ready after 3.5 s instead of 0.6 s (deno task bench, 2 and 3 consumers).
    heartbeatInterval: limits.heartbeatIntervalMs,
    rebalanceTimeout: limits.rebalanceTimeoutMs,
    // kafkajs notices partitions added to the topic only when it fetches metadata again: before
    // each fetch it refreshes metadata older than this, and a member whose topic has partitions
    // the last join did not know rejoins the group (KafkaJSStaleTopicMetadataAssignment); the
    // leader refreshes metadata before it assigns. With kafkajs's default (300000 ms) the new
    // partitions went unread for up to 5 minutes.
    metadataMaxAge: options.metadataMaxAgeMs,
    // Bounds what one fetch holds in memory: kafkajs decodes a whole fetch response before the
    // batches run, and the defaults (1 MiB per partition, 10 MiB per fetch) made a consumer peak
    // near 300 MB RSS. The bound is on compressed bytes: with batches compressed 5-9 times (zstd,
    // gzip), 3 MiB per fetch decoded into about 100k messages at once and a consumer catching up
    // peaked at 433 MB (chaos suite, every codec); the default of 1 MiB keeps that within the
    // memory request. A quarter per partition lets one fetch serve the partitions that run at
    // once. A record batch larger than these is still returned whole by the broker (KIP-74).
    maxBytesPerPartition: limits.partitionMaxBytes,
    maxBytes: options.fetchMaxBytes,
    // How long the broker holds a fetch that finds nothing new. A stop, and a member's rejoin
    // when another joins, wait for the fetch in flight: on an idle topic, with kafkajs's default
    // of 5000 ms a consumer took 5.0 s to exit after SIGTERM and a second member 3.0 s to join;
    // with 500 (the Java client's fetch.max.wait.ms), 0.05-0.5 s and 1.0 s. Records are returned
    // as soon as they arrive either way; the cost is one empty fetch per broker every 0.5 s.
    maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    // Keep going after retriable errors; a CRASH with restart=false ends the process.
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  let connected = false;
  const commits = new KafkaCommits(KAFKA_COMMIT_INTERVAL_MS, {
    commit: (offsets) => consumer.commitOffsets(offsets),
    onError: (error) => log.warn("kafka offset commit failed; sent with the next", { error }),
  });
  // Batches running now: a stop commits their offsets after they end, before leaving the group.
  const running = new Set<Promise<void>>();
  // Set when kafkajs gave up a fetch on a batch it cannot decompress; cleared by the next batch.
  let undecodable: KafkaDecompressionError | undefined;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    connected = true;
    const partitions = payload.memberAssignment[options.topic] ?? [];
    log.info("joined consumer group", {
      client: "kafkajs",
      groupId: payload.groupId,
      memberId: payload.memberId,
      partitions,
    });
    commits.retain(options.topic, partitions);
    handler.onAssignment(partitions);
  });
  // Emitted once a fetch response is in, before its batches run (kafkajs runner.js): a batch's
  // topic is judged by a topic ID asked after this (log_guard.ts). With fetches from several
  // brokers the latest is taken, which is later than the batch's own: safe, maybe one more ask.
  let fetchedAt = performance.now();
  consumer.on(consumer.events.FETCH, () => {
    fetchedAt = performance.now();
  });
  consumer.on(consumer.events.DISCONNECT, () => {
    connected = false;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    connected = false;
    const decompression = decompressionCause(payload.error);
    if (decompression !== undefined) {
      // Not skipped and not fatal: the same fetch is retried (with backoff) until a release that
      // can read the batch is deployed; meanwhile the member reports not ready.
      undecodable = decompression;
      log.error("kafka consumer stalled on a batch it cannot decompress; retrying", {
        topic: options.topic,
        codec: decompression.codec,
        compressedBytes: decompression.compressedBytes,
        restart: payload.restart,
        error: payload.error,
      });
    }
    if (payload.restart) {
      if (decompression === undefined) {
        log.warn("kafka consumer failed; kafkajs restarts it", { error: payload.error });
      }
    } else {
      handler.onCrash(payload.error);
    }
  });
  let stopping = false;
  const pauses = new Set<ReturnType<typeof setTimeout>>();
  try {
    await consumer.connect();
    // New groups start at the earliest offset: nothing written before the first start is skipped.
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }
  await consumer.run({
    // kafkajs's auto-commit sends an OffsetCommit after every batch; KafkaCommits paces them.
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.concurrency,
    eachBatch: async (payload) => {
      const { batch } = payload;
      undecodable = undefined;
      const handled = handler.onBatch({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.messages.map((m) => ({
          offset: m.offset,
          key: m.key,
          value: m.value,
          timestampMs: Number(m.timestamp),
        })),
        highWatermark: batch.highWatermark,
        fetchedAt,
        resolveOffset: (offset) => {
          payload.resolveOffset(offset);
          commits.resolved(batch.topic, batch.partition, offset);
        },
        commit: () => commits.commitSoon(),
        seek: (offset) => consumer.seek({ topic: batch.topic, partition: batch.partition, offset }),
        pause: (ms) => {
          const resume = payload.pause();
          const timer = setTimeout(() => {
            pauses.delete(timer);
            resume();
          }, ms);
          pauses.add(timer);
        },
        heartbeat: payload.heartbeat,
        isCurrent: () => !stopping && payload.isRunning() && !payload.isStale(),
      });
      running.add(handled);
      try {
        await handled;
      } finally {
        running.delete(handled);
      }
    },
  });
  return {
    isConnected: () => connected && !stopping && undecodable === undefined,
    stop: async () => {
      stopping = true;
      for (const timer of pauses) clearTimeout(timer);
      await Promise.allSettled(running);
      await commits.finish(FINAL_COMMIT_TIMEOUT_MS);
      await consumer.disconnect();
      connected = false;
    },
  };
}

/** The {@link KafkaDecompressionError} behind a kafkajs error (it wraps causes), if any. */
export function decompressionCause(error: unknown): KafkaDecompressionError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof KafkaDecompressionError) return e;
  }
  return undefined;
}

/**
 * {@link TopicLog} on Kafka, with `close()`. Topic IDs are asked once per fetch (see
 * log_guard.ts) over a connection kept open, made again from `kafka()` after a failure (so a
 * rotated password is used); log starts, rarely, over a new client each time.
 */
export function kafkaTopicLog(kafka: () => Kafka): TopicLog & { close(): Promise<void> } {
  const ids = new TopicIdClient(kafka);
  return {
    topicId: (topic) => ids.topicId(topic),
    close: () => ids.close(),
    logStart: async (topic, partition) => {
      const admin = kafka().admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        const found = offsets.find((o) => o.partition === partition);
        if (found === undefined) throw new Error(`topic ${topic} has no partition ${partition}`);
        return found.low;
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
  };
}
