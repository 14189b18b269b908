import assert from "node:assert/strict";
import { Ledger } from "./ledger.ts";
import { type Outgoing, partitionOf, Workload } from "./workload.ts";

/** `n` events of a workload (a fixed clock: only the placement is under test). */
function generate(workload: Workload, n: number): Outgoing[] {
  const out: Outgoing[] = [];
  for (let i = 0; i < n; i++) out.push(...workload.next(Date.UTC(2026, 0, 1), i));
  return out;
}

Deno.test("partitionOf() is stable, within range, and maps keys anew when the topic grows", () => {
  const keys = Array.from({ length: 200 }, (_, i) => `dev-${String(i).padStart(4, "0")}`);
  for (const k of keys) {
    assert.equal(partitionOf(k, 6), partitionOf(k, 6));
    assert.ok(partitionOf(k, 6) >= 0 && partitionOf(k, 6) < 6);
    assert.ok(partitionOf(k, 9) < 9);
  }
  const grown = new Set(keys.map((k) => partitionOf(k, 9)));
  assert.deepEqual([...grown].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8], "every partition gets keys");
  const moved = keys.filter((k) => partitionOf(k, 9) !== partitionOf(k, 6)).length;
  assert.ok(moved > 100, `most keys move, as with Kafka's partitioner: ${moved} of 200`);
  assert.throws(() => partitionOf("k", 0), RangeError);
});

Deno.test("Workload places events over the partitions the topic has now", () => {
  const workload = new Workload({ seed: 7, partitions: 6 }, new Ledger());
  const before = generate(workload, 3000);
  assert.ok(before.every((m) => m.partition >= 0 && m.partition < 6));
  workload.grow(9);
  assert.equal(workload.partitions, 9);
  const after = generate(workload, 3000);
  assert.ok(after.every((m) => m.partition >= 0 && m.partition < 9));
  const onNew = after.filter((m) => m.partition >= 6);
  assert.ok(onNew.length > 500, `a third of the events on the new partitions: ${onNew.length}`);
  // Readings keep their key's partition under the count of their time.
  for (const m of after.filter((m) => m.entry.class === "reading")) {
    assert.equal(m.partition, partitionOf(m.entry.key!, 9));
  }
});

Deno.test("Workload keeps a same-key conflict on its original's partition across a growth", () => {
  const ledger = new Ledger();
  const workload = new Workload({ seed: 11, partitions: 6, conflictRatio: 0.05 }, ledger);
  const before = generate(workload, 2000);
  workload.grow(8);
  const after = generate(workload, 2000);
  const bySeq = new Map([...before, ...after].map((m) => [m.entry.seq, m]));
  const conflicts = after.filter((m) => m.entry.intent === "conflict");
  const sameKey = conflicts.filter((m) => m.entry.key === bySeq.get(m.entry.of!)!.entry.key);
  const ofEarlier = sameKey.filter((m) => bySeq.get(m.entry.of!)!.entry.seq < before.length);
  assert.ok(ofEarlier.length > 0, "some conflicts duplicate an event from before the growth");
  for (const m of sameKey) assert.equal(m.partition, bySeq.get(m.entry.of!)!.partition);
  // Whereas a keyed re-send goes where its key maps now, as a producer would send it.
  const resends = after.filter((m) => m.entry.intent === "resend" && m.entry.key !== null);
  assert.ok(resends.length > 0);
  for (const m of resends) assert.equal(m.partition, partitionOf(m.entry.key!, 8));
});

Deno.test("Workload refuses to shrink the topic", () => {
  const workload = new Workload({ seed: 1, partitions: 6 }, new Ledger());
  assert.throws(() => workload.grow(5), /only grows/);
  assert.throws(() => workload.grow(7.5), /only grows/);
  workload.grow(6);
  assert.equal(workload.partitions, 6);
});
