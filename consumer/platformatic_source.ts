/**
 * The Kafka source on @platformatic/kafka (`KAFKA_CONSUMER_CLIENT=platformatic`), the candidate
 * measured against kafkajs (source.ts) under the fault-injection suite and in the benchmark. It
 * keeps source.ts's contract, so the pipeline cannot tell them apart.
 *
 * The client joins the group and heartbeats on its own timer; its message stream cannot seek or
 * pause one partition, so this module runs its own fetch loop on the client's `fetch()`:
 * - positions per partition (fetch_positions.ts), read from the group's committed offsets on
 *   every join (the log's start where none is, like kafkajs's `fromBeginning`);
 * - one fetch per partition leader, then each partition's records go to the handler, at most
 *   `concurrency` at once, and the next fetch starts once they are done (as with kafkajs);
 * - nothing is given up: a failed fetch is tried again with backoff, and a member the client
 *   dropped from the group (a rejoin that failed) joins again; `/readyz` says so meanwhile. So
 *   `onCrash` is never called.
 *
 * @module
 */

import { FetchIsolationLevels } from "@platformatic/kafka";
import { backoffDelay, type BackoffPolicy, type Logger } from "@iot/shared/runtime";
import { KafkaCommits } from "./kafka_commits.ts";
import { FetchPositions } from "./fetch_positions.ts";
import {
  createGroupConsumer,
  earliestOffsets,
  type GroupConsumer,
  type PlatformaticTarget,
  startOffsets,
} from "./platformatic_client.ts";
import {
  byLeader,
  nextOffsetAfter,
  outOfRangePartitions,
  recordsFrom,
  responseOf,
} from "./fetch_response.ts";
import {
  FETCH_MAX_WAIT_MS,
  FINAL_COMMIT_TIMEOUT_MS,
  KAFKA_COMMIT_INTERVAL_MS,
  memberLimits,
  type PartitionBatch,
  type Source,
  type SourceHandler,
  type SourceOptions,
} from "./source.ts";

/** A fetch's response, as the client's `fetch()` gives it. */
type FetchResponse = Awaited<ReturnType<GroupConsumer["fetch"]>>;
/** One partition of it. */
type FetchedPartition = FetchResponse["responses"][number]["partitions"][number];

/** Backoff of the loop after a failed fetch, join or offset lookup. */
const LOOP_BACKOFF: BackoffPolicy = { initialMs: 300, maxMs: 10_000 };
/** Pause of a partition whose handler threw, before its batch is fetched again. */
const HANDLER_ERROR_PAUSE_MS = 1000;
/** How long the loop sleeps when there is nothing to fetch and no pause ends sooner. */
const IDLE_MS = 100;

/**
 * Joins the group and starts consuming with @platformatic/kafka.
 *
 * @param target Brokers, client id, security.
 * @param options Topic, group, timeouts.
 * @param handler What to do with batches and group events.
 * @param log Logger.
 * @throws what joining the group met (the caller retries).
 */
export async function startPlatformaticSource(
  target: PlatformaticTarget,
  options: SourceOptions,
  handler: SourceHandler,
  log: Logger,
): Promise<Source> {
  const { topic } = options;
  const { consumer, group } = createGroupConsumer(target, options, log);
  const limits = memberLimits(options);
  const positions = new FetchPositions();
  let stopping = false;
  // Set while fetches fail, and while the client has dropped this member from the group.
  let failing: unknown;
  let lostGroup: unknown;
  let wake: () => void = () => {};
  // Partition count the last fetch saw: a larger one means partitions were added.
  let partitionCount = 0;

  const commits = new KafkaCommits(KAFKA_COMMIT_INTERVAL_MS, {
    commit: (offsets) =>
      consumer.commit({
        offsets: offsets.map((o) => ({ ...o, offset: BigInt(o.offset), leaderEpoch: -1 })),
      }),
    onError: (error) => log.warn("kafka offset commit failed; sent with the next", { error }),
  });
  const assign = (partitions: number[]) => {
    positions.join(partitions);
    commits.retain(topic, positions.assigned);
    handler.onAssignment([...positions.assigned]);
    wake();
  };
  consumer.on("consumer:group:join", (payload) => {
    const mine = payload.assignments?.find((a) => a.topic === topic)?.partitions ?? [];
    log.info("joined consumer group", {
      client: "platformatic",
      groupId: payload.groupId,
      memberId: payload.memberId,
      partitions: [...mine].sort((a, b) => a - b),
    });
    assign(mine);
  });
  // The client emits "error" when a rejoin failed after its retries (a broker down longer than
  // they last): it has left the group, and the loop joins again.
  consumer.on("error", (error: Error) => {
    if (stopping) return;
    lostGroup = error;
    log.warn("kafka consumer lost its group membership; joining again", { error });
    assign([]);
  });

  try {
    await consumer.joinGroup(group);
  } catch (error) {
    await consumer.close(true).catch(() => {});
    throw error;
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = () => {};
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });

  const batchOf = (data: FetchedPartition, fetchOffset: bigint, fetchedAt: number) => {
    const { partitionIndex: partition } = data;
    const batches = data.records ?? [];
    const records = recordsFrom(batches, fetchOffset, data.abortedTransactions);
    if (records.length === 0) {
      // Only transaction markers or aborted records: step over them.
      const next = nextOffsetAfter(batches, fetchOffset);
      positions.advance(positions.generation, partition, fetchOffset, next);
      return undefined;
    }
    const token = positions.token(partition);
    const batch: PartitionBatch = {
      topic,
      partition,
      records,
      highWatermark: data.highWatermark.toString(),
      fetchedAt,
      resolveOffset: (offset) => {
        if (positions.resolve(token, BigInt(offset))) {
          commits.resolved(topic, partition, offset);
        }
      },
      commit: () => commits.commitSoon(),
      seek: (offset) => positions.seek(token, BigInt(offset)),
      pause: (ms) => positions.pause(partition, performance.now() + ms),
      // The client heartbeats on its own timer, whatever the handler is doing.
      heartbeat: () => Promise.resolve(),
      isCurrent: () => !stopping && positions.isCurrent(token),
    };
    return batch;
  };

  /**
   * A fetch failed. A position outside the log (retention deleted it, the log was truncated)
   * restarts at the log's start, as kafkajs does for `fromBeginning`; other errors are thrown.
   */
  const recoverOutOfRange = async (
    error: unknown,
    generation: number,
    asked: ReadonlyMap<number, bigint>,
  ): Promise<FetchResponse> => {
    const response = responseOf<FetchResponse>(error);
    const outside = response === undefined ? [] : outOfRangePartitions(response);
    if (response === undefined || outside.length === 0) throw error;
    for (const [partition, start] of await earliestOffsets(consumer, topic, outside)) {
      const from = asked.get(partition)!;
      if (!positions.advance(generation, partition, from, start)) continue;
      log.warn("kafka offset out of range; reading from the log's start", {
        partition,
        offset: from.toString(),
        logStart: start.toString(),
      });
    }
    return response;
  };

  /** One fetch from every leader of `partitions`; the batches they return. */
  const fetchRound = async (partitions: number[]): Promise<PartitionBatch[]> => {
    const generation = positions.generation;
    const described = (await consumer.metadata({ topics: [topic] })).topics.get(topic);
    if (described === undefined) throw new Error(`topic ${topic} is not in the cluster metadata`);
    if (partitionCount > 0 && described.partitionsCount > partitionCount) {
      // The group assigns added partitions only in a new generation: ask for one.
      log.info("topic has new partitions; rejoining the group", {
        topic,
        partitions: described.partitionsCount,
      });
      partitionCount = described.partitionsCount;
      await consumer.joinGroup(group);
      return [];
    }
    partitionCount = described.partitionsCount;
    const asked = new Map(partitions.map((p) => [p, positions.position(p)!]));
    const leaders = byLeader(partitions, (p) => described.partitions[p]?.leader ?? -1);
    const responses = await Promise.all(
      [...leaders].map(([node, ps]) =>
        consumer.fetch({
          node,
          maxWaitTime: FETCH_MAX_WAIT_MS,
          minBytes: 1,
          maxBytes: options.fetchMaxBytes,
          // As kafkajs: records of aborted transactions are left out (fetch_response.ts).
          isolationLevel: FetchIsolationLevels.READ_COMMITTED,
          topics: [{
            topicId: described.id,
            partitions: ps.map((p) => ({
              partition: p,
              fetchOffset: asked.get(p)!,
              partitionMaxBytes: limits.partitionMaxBytes,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            })),
          }],
        }).catch((error) => recoverOutOfRange(error, generation, asked))
      ),
    );
    const fetchedAt = performance.now();
    if (generation !== positions.generation) return [];
    const batches: PartitionBatch[] = [];
    for (const data of responses.flatMap((r) => r.responses.flatMap((t) => t.partitions))) {
      const fetchOffset = asked.get(data.partitionIndex);
      // A partition not asked for can linger in an incremental fetch session; one with an error
      // (out of range, a moved leader) is asked again next round.
      if (fetchOffset === undefined || data.errorCode !== 0) continue;
      if (positions.position(data.partitionIndex) !== fetchOffset) continue;
      const batch = batchOf(data, fetchOffset, fetchedAt);
      if (batch !== undefined) batches.push(batch);
    }
    return batches;
  };

  /** Runs the handler on each batch, at most `concurrency` at once. */
  const handleAll = async (batches: PartitionBatch[]) => {
    const queue = [...batches];
    const worker = async () => {
      for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
        try {
          await handler.onBatch(batch);
        } catch (error) {
          // As with kafkajs, the batch comes again.
          log.error("batch handler failed; the batch is read again", {
            partition: batch.partition,
            retryInMs: HANDLER_ERROR_PAUSE_MS,
            error,
          });
          batch.pause(HANDLER_ERROR_PAUSE_MS);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, worker));
  };

  /** One turn of the loop; resolves when the next may start. */
  const turn = async () => {
    if (lostGroup !== undefined) {
      await consumer.joinGroup(group);
      lostGroup = undefined;
      return;
    }
    if (positions.needsLoad()) {
      const generation = positions.generation;
      positions.load(generation, await startOffsets(consumer, topic, positions.assigned));
      return;
    }
    const now = performance.now();
    const ready = positions.ready(now);
    if (ready.length === 0) {
      await sleep(Math.min(IDLE_MS, (positions.nextPauseEnd(now) ?? Infinity) - now));
      return;
    }
    const batches = await fetchRound(ready);
    failing = undefined;
    if (stopping) return;
    handling = handleAll(batches);
    await handling;
  };

  // The batches being handled now: a stop waits for them, not for a fetch in flight (a fetch
  // from a broker that is down retries for seconds; closing the client ends it).
  let handling = Promise.resolve();
  const loop = async () => {
    for (let attempt = 0; !stopping;) {
      try {
        await turn();
        attempt = 0;
      } catch (error) {
        if (stopping) break;
        failing = error;
        const delay = backoffDelay(LOOP_BACKOFF, attempt++);
        log.warn("kafka fetch or join failed; retrying", { attempt, retryInMs: delay, error });
        consumer.clearMetadata();
        await sleep(delay);
      }
    }
  };
  const running = loop();

  return {
    isConnected: () =>
      !stopping && lostGroup === undefined && failing === undefined && consumer.isActive(),
    stop: async () => {
      stopping = true;
      wake();
      await handling;
      await commits.finish(FINAL_COMMIT_TIMEOUT_MS);
      await consumer.close().catch((error) =>
        log.warn("leaving the consumer group failed", { error })
      );
      await running;
    },
  };
}
