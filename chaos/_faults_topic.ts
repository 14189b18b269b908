/**
 * The faults that give the run's topic a new generation (private to chaos/; see faults.ts):
 * `topic-recreated` deletes it and creates it again under its name, `kafka-data-wiped` kills the
 * broker, deletes its whole data folder and starts it again, then creates the topic as an operator
 * would (Strimzi's topic operator, from its KafkaTopic). Both keep the consumers running.
 *
 * Before the topic goes, the sender is paused, everything in the topic is waited for in PostgreSQL,
 * and the old log is read back whole (`Generations.retire`): nothing acknowledged is lost by Kafka
 * on purpose, so every invariant stays strict, and the faults test what the consumer does with a
 * log whose offsets start again under a new topic ID.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import { fetchTopicId } from "../shared/kafka.ts";
import { CORPUS_TOPIC_CONFIG } from "./corpus.ts";
import type { Generations } from "./generations.ts";
import { PARTITIONS } from "./harness.ts";
import { createTopic, deleteTopics } from "./stack.ts";
import type { Sender } from "./sender.ts";
import type { LocalStack } from "../scripts/services/stack.ts";

/** What these faults act on. */
export interface TopicFaultContext {
  /** The chaos servers. */
  stack: LocalStack;
  /** Admin client of the chaos broker. */
  kafka: Kafka;
  /** Topic of the run. */
  topic: string;
  /** The workload's sender (paused while the topic is replaced). */
  sender: Sender;
  /** The topic's generations. */
  generations: Generations;
  /** Waits until everything in the topic is stored; false after `timeoutMs`. */
  drained: (timeoutMs: number) => Promise<boolean>;
  /** Run log. */
  note: (msg: string, fields?: Record<string, unknown>) => void;
}

/** How long the old log may take to be stored before it is read back anyway. */
const DRAIN_BEFORE_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Replaces the run's topic with a new generation of the same name and partitions, `holdMs` after
 * the old one is gone; resolves with the old and new topic IDs once the sender runs again.
 */
export async function replaceTopic(
  how: "topic-recreated" | "kafka-data-wiped",
  holdMs: number,
  ctx: TopicFaultContext,
): Promise<string> {
  await ctx.sender.pause();
  try {
    if (!(await ctx.drained(DRAIN_BEFORE_MS))) {
      ctx.note("not everything stored before the topic went", { kind: how });
    }
    const old = await ctx.generations.retire();
    ctx.note("old topic read back", {
      generation: ctx.generations.number - 1,
      topicId: old.topicId,
      messages: old.log.length,
      end: old.end,
    });
    if (how === "topic-recreated") {
      await deleteTopics(ctx.kafka, [ctx.topic]);
      await until(async () => !(await listTopics(ctx.kafka)).includes(ctx.topic), 60_000);
      await sleep(holdMs);
    } else {
      await ctx.stack.killKafka();
      await ctx.stack.wipeKafkaData();
      await sleep(holdMs);
      await ctx.stack.restartKafka();
    }
    // As many partitions as the old one had (it may have grown: partitions-added).
    const partitions = Math.max(PARTITIONS, Object.keys(old.end).length);
    // Created again as an operator would; right after a deletion Kafka may still refuse the name.
    // (An attempt that timed out may have created it: then it is there with a new ID.)
    await until(async () => {
      const state = await createTopic(ctx.kafka, ctx.topic, partitions, CORPUS_TOPIC_CONFIG);
      return state.created || await fetchTopicId(ctx.kafka, ctx.topic) !== old.topicId;
    }, 60_000);
    ctx.generations.replaced();
    const topicId = await ctx.generations.current();
    if (topicId === old.topicId) throw new Error(`topic ${ctx.topic} kept its ID ${topicId}`);
    return `${old.topicId} -> ${topicId}`;
  } finally {
    ctx.generations.replaced();
    ctx.sender.resume({ renew: true });
  }
}

async function listTopics(kafka: Kafka): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

/** Polls `probe` (errors count as false) until it holds; throws after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`not done within ${timeoutMs} ms${last ? `: ${last}` : ""}`);
}
