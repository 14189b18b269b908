/**
 * The peers' guarantees, measured: a few events of the consumer's invalid-event corpus
 * (producer/invalid.ts), each between two valid events, written to a topic the peer then reads;
 * what the peer stored is read back. Our consumer stores each of them once in its rejects table
 * with a reason; the point here is what a peer does instead.
 *
 * @module
 */

import { brokenValue, INVALID_KINDS, type InvalidKind } from "../producer/invalid.ts";
import { Fleet } from "../producer/fleet.ts";
import { storedRows } from "./peer_drain.ts";
import { kafkaOf, type Stack } from "./stack.ts";

/** The kinds sent: a wrong type, a missing field, a database error, a non-JSON value. */
export const GUARANTEE_KINDS: InvalidKind[] = [
  "temperature_as_string",
  "missing_temperature",
  "timestamp_garbage",
  "not_json",
];

/** One bad event between two valid ones. */
export interface GuaranteeCase {
  /** Corpus kind. */
  kind: InvalidKind;
  /** The reason our consumer gives it. */
  reason: string;
  /** Topic and partition the three events went to. */
  topic: string;
  /** Partition. */
  partition: number;
  /** The bad message value. */
  value: string;
  /** ID of the bad event (its valid original's), of the valid one before and the one after. */
  ids: { bad: string; before: string; after: string };
}

/** What the peer did with one case. */
export interface GuaranteeResult {
  /** Corpus kind, or `worker_killed` for the redelivery check. */
  kind: InvalidKind | "worker_killed";
  /** Our consumer's reason for it (empty for `worker_killed`). */
  reason: string;
  /** What our consumer does in the same case. */
  ours: string;
  /** What the peer did: a sentence built from what was read back. */
  seen: string;
}

/** A canonical event with an ID (legacy devices are passed over). */
const canonical = (fleet: Fleet, now: number): Record<string, unknown> => {
  for (;;) {
    const payload = fleet.nextReading(now).payload;
    if (!("device_id" in payload)) return { ...payload };
  }
};

/**
 * Writes each case (valid, bad, valid) to its topic and partition, in order.
 *
 * @param places Where each kind goes (the topics must exist with enough partitions).
 */
export async function sendCases(
  stack: Stack,
  places: { kind: InvalidKind; topic: string; partition: number }[],
): Promise<GuaranteeCase[]> {
  const fleet = new Fleet(50, 11);
  const producer = kafkaOf(stack, "iot-bench-peer-cases").producer();
  await producer.connect();
  const cases: GuaranteeCase[] = [];
  try {
    for (const { kind, topic, partition } of places) {
      const now = Date.now();
      const [before, bad, after] = [0, 1, 2].map(() => canonical(fleet, now));
      const value = brokenValue(kind, bad);
      await producer.send({
        topic,
        acks: -1,
        messages: [JSON.stringify(before), value, JSON.stringify(after)].map((v) => ({
          key: String(bad.ID_DISPOSITIVO),
          value: v,
          partition,
        })),
      });
      cases.push({
        kind,
        reason: INVALID_KINDS[kind],
        topic,
        partition,
        value,
        ids: { bad: String(bad.ID), before: String(before.ID), after: String(after.ID) },
      });
    }
  } finally {
    await producer.disconnect();
  }
  return cases;
}

/** Reads back what the peer stored for each case; `state` is the peer's own word on each. */
export async function readCases(
  url: string,
  cases: GuaranteeCase[],
  state: (c: GuaranteeCase) => string,
): Promise<GuaranteeResult[]> {
  const rows = new Map((await storedRows(url)).map((r) => [r.id, r]));
  return cases.map((c) => {
    const bad = rows.get(c.ids.bad);
    const stored = bad ? `stored (TEMPERATURA as ${bad.temperatura})` : "not stored, no reject row";
    const around = [c.ids.before, c.ids.after].map((id) => (rows.has(id) ? "yes" : "no"));
    return {
      kind: c.kind,
      reason: c.reason,
      ours: `rejected once, ${c.reason}`,
      seen: `${stored}; valid event before/after stored: ${around.join("/")}; ${state(c)}`,
    };
  });
}
