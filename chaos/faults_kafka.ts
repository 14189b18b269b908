/**
 * What the faults do to the run's consumer group and topic in Kafka (chaos/faults.ts injects
 * them): stop the group, move its committed offsets, add partitions to the topic.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import type { Member } from "./members.ts";

/** What these actions need of the fault context. */
export interface KafkaTarget {
  /** The group's base members. */
  members: Member[];
  /** The member that joins and leaves for rebalances. */
  joiner: Member;
  /** Admin client of the chaos broker. */
  kafka: Kafka;
  /** Topic of the run. */
  topic: string;
  /** Consumer group of the run. */
  group: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops every running member (Kafka resets only an empty group's offsets); returns whom to restart. */
export async function stopGroup(ctx: KafkaTarget): Promise<Member[]> {
  const wanted = ctx.members.filter((m) => m.wanted);
  await Promise.all([...ctx.members, ctx.joiner].filter((m) => m.running).map((m) => m.stop()));
  return wanted;
}

/** Moves the group's committed offsets in Kafka to the start or the end of every partition. */
export async function resetKafkaOffsets(ctx: KafkaTarget, earliest: boolean): Promise<void> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    await retry(
      () => admin.resetOffsets({ groupId: ctx.group, topic: ctx.topic, earliest }),
      60_000,
    );
  } finally {
    await admin.disconnect();
  }
}

/** The topic's partition count before and after {@linkcode addPartitions}. */
export interface Growth {
  /** Partitions before. */
  from: number;
  /** Partitions after, every one with a leader. */
  to: number;
}

/**
 * Adds `count` partitions to the run's topic and waits until each new one has a leader (at most
 * 30 s), so a producer that looks now can write to them. CreatePartitions is sent once: a retry
 * after a lost reply would be refused (the topic already has that many partitions).
 */
export async function addPartitions(ctx: KafkaTarget, count: number): Promise<Growth> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    const partitionsNow = async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [ctx.topic] });
      const partitions = meta.topics[0].partitions;
      return { total: partitions.length, led: partitions.filter((p) => p.leader >= 0).length };
    };
    const from = (await retry(partitionsNow, 30_000)).total;
    const to = from + count;
    await admin.createPartitions({
      topicPartitions: [{ topic: ctx.topic, count: to }],
      timeout: 15_000,
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = await partitionsNow().catch(() => ({ total: 0, led: 0 }));
      if (now.total === to && now.led === to) return { from, to };
      if (Date.now() > deadline) {
        throw new Error(`topic ${ctx.topic}: ${now.led}/${now.total} of ${to} partitions led`);
      }
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Resolves once `probe` holds, or after `timeoutMs` whatever it says. */
export async function until(probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe() && Date.now() < deadline) await sleep(50);
}

/** Calls `fn` until it resolves, every 500 ms; after `timeoutMs` its last error is thrown. */
export async function retry<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}
