/**
 * The generations of the run's topic: the one the run created, and one more each time a fault
 * deleted it and created it again (`topic-recreated`) or wiped the broker's data and the harness
 * created it again (`kafka-data-wiped`). Each earlier generation is read back whole before it goes,
 * so the checker sees every message Kafka ever held, at its (generation, partition, offset).
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import { fetchTopicId } from "../shared/kafka.ts";
import type { LogMessage } from "./checker.ts";
import { endOffsets, readLog } from "./stack.ts";

/** A generation of the topic that is gone, as it was read back just before. */
export interface PastGeneration {
  /** Kafka's ID of it. */
  topicId: string;
  /** Every message it held (`generation` set). */
  log: LogMessage[];
  /** Its end offsets by partition. */
  end: Record<number, string>;
}

/** The run topic's generations; `current` is the topic now. */
export class Generations {
  /** The generations before the current one, in order. */
  readonly past: PastGeneration[] = [];
  #current: string | undefined;
  #replacing = false;

  /**
   * @param kafka Admin client of the chaos broker.
   * @param topic The run's topic.
   */
  constructor(readonly kafka: Kafka, readonly topic: string) {}

  /**
   * Kafka's ID of the current generation (asked once per generation). Throws between `retire()`
   * and `replaced()`: the old topic's ID must not be taken for the new one's.
   */
  async current(): Promise<string> {
    if (this.#replacing) throw new Error(`topic ${this.topic} is being replaced`);
    this.#current ??= await fetchTopicId(this.kafka, this.topic);
    return this.#current;
  }

  /** The current generation's number (0 for the topic the run created). */
  get number(): number {
    return this.past.length;
  }

  /** Reads the current generation back whole and keeps it: call before the topic goes. */
  async retire(): Promise<PastGeneration> {
    const topicId = await this.current();
    const end = await endOffsets(this.kafka, this.topic);
    const generation = this.number;
    const log = (await readLog(this.kafka, this.topic)).map((m) => ({ ...m, generation }));
    const past = { topicId, log, end };
    this.past.push(past);
    this.#current = undefined;
    this.#replacing = true;
    return past;
  }

  /** The topic exists again (a new generation). */
  replaced(): void {
    this.#replacing = false;
  }
}
