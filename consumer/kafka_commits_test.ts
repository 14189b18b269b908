import assert from "node:assert/strict";
import { KafkaCommits, type PartitionOffset } from "./kafka_commits.ts";

/** A pacer on a fake clock and fake timers, recording what it sends. */
function harness(options: { failFirst?: boolean; hang?: boolean } = {}) {
  let now = 0;
  const timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  const sent: PartitionOffset[][] = [];
  const errors: unknown[] = [];
  let fail = options.failFirst ?? false;
  const commits = new KafkaCommits(1000, {
    commit: (offsets) => {
      sent.push(offsets);
      if (options.hang) return new Promise(() => {});
      if (fail) {
        fail = false;
        return Promise.reject(new Error("coordinator moved"));
      }
      return Promise.resolve();
    },
    onError: (error) => errors.push(error),
    now: () => now,
    schedule: (run, ms) => {
      const timer = { at: now + ms, run, cancelled: false };
      timers.push(timer);
      return () => timer.cancelled = true;
    },
  });
  const advance = async (ms: number) => {
    now += ms;
    for (const t of timers.filter((t) => !t.cancelled && t.at <= now)) {
      t.cancelled = true;
      t.run();
    }
    await new Promise((r) => setTimeout(r, 0));
  };
  const live = () => timers.filter((t) => !t.cancelled).length;
  return { commits, sent, errors, advance, live };
}

Deno.test("the first resolved offset is committed at once, as the next offset to read", async () => {
  const { commits, sent } = harness();
  commits.resolved("t", 0, "41");
  await commits.commitSoon();
  assert.deepEqual(sent, [[{ topic: "t", partition: 0, offset: "42" }]]);
});

Deno.test("within the interval, batches are committed once, with each partition's newest offset", async () => {
  const { commits, sent, advance, live } = harness();
  commits.resolved("t", 0, "9");
  await commits.commitSoon();
  for (const [partition, offset] of [[0, "19"], [1, "5"], [0, "29"]] as const) {
    commits.resolved("t", partition, offset);
    await commits.commitSoon();
  }
  assert.equal(sent.length, 1, "nothing more sent inside the interval");
  assert.equal(live(), 1, "one commit scheduled, not one per batch");
  await advance(999);
  assert.equal(sent.length, 1);
  await advance(1);
  assert.deepEqual(sent[1], [
    { topic: "t", partition: 0, offset: "30" },
    { topic: "t", partition: 1, offset: "6" },
  ]);
});

Deno.test("a failed commit is reported and its offsets go with the next, unless newer ones came", async () => {
  const { commits, sent, errors, advance } = harness({ failFirst: true });
  commits.resolved("t", 0, "9");
  commits.resolved("t", 1, "3");
  await commits.commitSoon();
  assert.equal(errors.length, 1);
  commits.resolved("t", 0, "12");
  await commits.commitSoon();
  await advance(1000);
  assert.deepEqual(sent[1], [
    { topic: "t", partition: 0, offset: "13" },
    { topic: "t", partition: 1, offset: "4" },
  ]);
});

Deno.test("after a rebalance, offsets of partitions given away are never committed", async () => {
  const { commits, sent } = harness();
  commits.resolved("t", 0, "9");
  commits.resolved("t", 1, "9");
  commits.retain("t", [1]);
  await commits.flush();
  assert.deepEqual(sent, [[{ topic: "t", partition: 1, offset: "10" }]]);
});

Deno.test("flush sends what is pending at once and cancels the scheduled commit", async () => {
  const { commits, sent, advance, live } = harness();
  commits.resolved("t", 0, "1");
  await commits.commitSoon();
  commits.resolved("t", 0, "2");
  await commits.commitSoon();
  assert.equal(live(), 1);
  await commits.flush();
  assert.equal(live(), 0);
  assert.deepEqual(sent[1], [{ topic: "t", partition: 0, offset: "3" }]);
  await advance(5000);
  assert.equal(sent.length, 2, "nothing left to send");
});

Deno.test("with the real clock and timers, a commit inside the interval follows within it", async () => {
  const sent: PartitionOffset[][] = [];
  const commits = new KafkaCommits(20, {
    commit: (offsets) => (sent.push(offsets), Promise.resolve()),
    onError: (error) => assert.fail(String(error)),
  });
  commits.resolved("t", 0, "1");
  await commits.commitSoon();
  commits.resolved("t", 0, "2");
  await commits.commitSoon();
  assert.equal(sent.length, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(sent, [[{ topic: "t", partition: 0, offset: "2" }], [
    { topic: "t", partition: 0, offset: "3" },
  ]]);
  commits.close();
});

Deno.test("finish() sends what is pending and closes; with Kafka silent it gives up at the deadline", async () => {
  const quiet = harness();
  quiet.commits.resolved("t", 0, "1");
  await quiet.commits.commitSoon(); // the first commit goes at once
  quiet.commits.resolved("t", 0, "2");
  await quiet.commits.commitSoon(); // inside the interval: scheduled
  await quiet.commits.finish(5000);
  assert.deepEqual(quiet.sent.at(-1), [{ topic: "t", partition: 0, offset: "3" }]);
  assert.equal(quiet.live(), 0, "no scheduled commit or deadline left");

  const silent = harness({ hang: true });
  silent.commits.resolved("t", 0, "1");
  let finished = false;
  const finishing = silent.commits.finish(5000).then(() => finished = true);
  await silent.advance(4999);
  assert.equal(finished, false, "still waiting for Kafka before the deadline");
  await silent.advance(1);
  await finishing;
  assert.equal(silent.sent.length, 1);
  assert.equal(silent.live(), 0);
});
