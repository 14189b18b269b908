import assert from "node:assert/strict";
import { validateEvent } from "@iot/shared";
import {
  type EmitterOptions,
  type OutgoingMessage,
  runEmitter,
  type StopSignal,
} from "./emitter.ts";
import { Fleet } from "./fleet.ts";
import { INVALID_KINDS, type InvalidKind } from "./invalid.ts";

const START = Date.UTC(2026, 10, 26, 12);
const realSetTimeout = globalThis.setTimeout;

/**
 * A fake clock: `setTimeout` is replaced so that every wait of the loop moves the clock forward
 * by the time asked and returns at once (on a real 0 ms timer, so nothing is left pending).
 */
function fakeTime(options: { frozenTimers?: boolean } = {}) {
  let now = START;
  const waits: number[] = [];
  globalThis.setTimeout = ((fn: () => void, ms = 0) => {
    waits.push(ms);
    if (options.frozenTimers) return 0; // never fires: only a stop can end the wait
    now += ms;
    return realSetTimeout(fn, 0);
  }) as typeof setTimeout;
  return {
    clock: () => now,
    advance: (ms: number) => void (now += ms),
    waits,
    restore: () => void (globalThis.setTimeout = realSetTimeout),
  };
}

interface SentBatch {
  /** Milliseconds since the start when the batch was sent. */
  at: number;
  messages: OutgoingMessage[];
}

function recorder(clock: () => number) {
  const batches: SentBatch[] = [];
  const send = (messages: OutgoingMessage[]) => {
    batches.push({ at: clock() - START, messages });
    return Promise.resolve();
  };
  return { batches, send, sizes: () => batches.map((b) => b.messages.length) };
}

function stopSignal(): StopSignal & { request(): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  const signal = {
    stopped: false,
    promise,
    request() {
      signal.stopped = true;
      resolve();
    },
  };
  return signal;
}

const DEFAULTS: EmitterOptions = {
  rate: 10,
  count: 0,
  durationMs: 0,
  invalidRatio: 0,
  batchSize: 500,
};

async function run(
  options: Partial<EmitterOptions>,
  hooks: { onSend?: (batch: SentBatch, time: ReturnType<typeof fakeTime>) => void; seed?: number } =
    {},
) {
  const time = fakeTime();
  try {
    const rec = recorder(time.clock);
    const stop = stopSignal();
    const totals = await runEmitter(
      new Fleet(20, hooks.seed ?? 42),
      { ...DEFAULTS, ...options },
      async (messages) => {
        await rec.send(messages);
        hooks.onSend?.(rec.batches.at(-1)!, time);
      },
      stop,
      time.clock,
    );
    return { totals, ...rec, waits: time.waits };
  } finally {
    time.restore();
  }
}

Deno.test("runEmitter() sends exactly PRODUCER_COUNT events", async (t) => {
  await t.step("fast rate, several batches", async () => {
    const { totals, sizes } = await run({ rate: 1_000_000, count: 1234, batchSize: 100 });
    assert.equal(totals.sent, 1234);
    assert.equal(sizes().reduce((a, b) => a + b, 0), 1234);
    assert.ok(sizes().every((s) => s <= 100), JSON.stringify(sizes()));
  });
  await t.step("slow rate, one per tick", async () => {
    const { totals, batches } = await run({ rate: 10, count: 5 });
    assert.equal(totals.sent, 5);
    assert.deepEqual(batches.map((b) => b.at), [0, 100, 200, 300, 400]);
  });
  await t.step("a count of 1", async () => {
    const { totals, sizes } = await run({ rate: 1000, count: 1 });
    assert.equal(totals.sent, 1);
    assert.deepEqual(sizes(), [1]);
  });
});

Deno.test("runEmitter() never puts more than PRODUCER_BATCH_SIZE messages in one send", async () => {
  const { totals, sizes } = await run({ rate: 5000, count: 5000, batchSize: 7 });
  assert.equal(totals.sent, 5000);
  assert.ok(sizes().every((s) => s >= 1 && s <= 7), JSON.stringify(sizes().slice(0, 20)));
  assert.ok(sizes().filter((s) => s === 7).length > 600, "full batches are used");
});

Deno.test("runEmitter() paces events by elapsed time", async (t) => {
  await t.step("the events due are sent at every tick: floor(elapsed * rate) + 1", async () => {
    const rate = 50;
    const { totals, batches, waits } = await run({ rate, durationMs: 10_000 });
    assert.ok(waits.every((w) => w === 20), "ticks of 1000 / rate ms");
    let sent = 0;
    for (const batch of batches) {
      sent += batch.messages.length;
      assert.equal(sent, Math.floor((batch.at / 1000) * rate) + 1, `at ${batch.at} ms`);
    }
    assert.equal(totals.sent, rate * 10);
  });
  await t.step("a slow rate sends one event every 1 / rate seconds", async () => {
    const { batches, waits } = await run({ rate: 0.5, durationMs: 10_000 });
    assert.deepEqual(batches.map((b) => b.at), [0, 2000, 4000, 6000, 8000]);
    assert.ok(waits.every((w) => w === 200), "ticks are capped at 200 ms");
  });
  await t.step("after a slow send, the backlog goes out at once, in batches", async () => {
    const { totals, batches } = await run(
      { rate: 100, durationMs: 5000, batchSize: 50 },
      {
        onSend: (batch, time) => {
          if (batch.at === 1000) time.advance(2000); // Kafka takes 2 s to acknowledge
        },
      },
    );
    // Nothing was sent while the send was pending...
    assert.ok(!batches.some((b) => b.at > 1000 && b.at < 3010));
    // ...then, one 10 ms tick later, the 201 events due are sent at once, at most 50 per send.
    const caughtUp = batches.filter((b) => b.at === 3010).map((b) => b.messages.length);
    assert.deepEqual(caughtUp, [50, 50, 50, 50, 1]);
    assert.equal(totals.sent, 500);
  });
});

Deno.test("runEmitter() stops after PRODUCER_DURATION_S", async () => {
  const { totals, batches } = await run({ rate: 10, durationMs: 1000 });
  assert.equal(totals.sent, 10);
  assert.ok(batches.every((b) => b.at < 1000));
  // At a fast rate, the events that fell due in the last tick go out at the deadline, no later.
  const fast = await run({ rate: 5000, durationMs: 1000 });
  assert.equal(fast.totals.sent, 5000);
  assert.ok(fast.batches.every((b) => b.at <= 1010), `${fast.batches.at(-1)?.at}`);
});

Deno.test(
  {
    name: "runEmitter() sends rate x duration events over PRODUCER_DURATION_S",
  },
  async () => {
    const { totals } = await run({ rate: 5000, durationMs: 1000 });
    assert.equal(totals.sent, 5000);
  },
);

Deno.test("runEmitter() sends valid readings keyed by device when no invalid ratio is set", async () => {
  const { totals, batches } = await run({ rate: 1000, count: 500 });
  assert.deepEqual(totals.invalid, {});
  for (const batch of batches) {
    for (const message of batch.messages) {
      const result = validateEvent(message.value, START + batch.at);
      if (!result.ok) assert.fail(`refused: ${JSON.stringify(result.reasons)}`);
      assert.equal(result.event.deviceId, message.key);
      assert.equal(result.event.timestamp.epochMs, START + batch.at, "stamped with the clock");
    }
  }
});

Deno.test("runEmitter() honours the invalid ratio with a seed, and counts invalid events by kind", async (t) => {
  for (const ratio of [0.05, 0.3, 0.8]) {
    await t.step(`ratio ${ratio}`, async () => {
      const n = 10_000;
      const { totals, batches } = await run({ rate: 1_000_000, count: n, invalidRatio: ratio });
      const counted = Object.values(totals.invalid).reduce((a, b) => a + (b ?? 0), 0);
      assert.ok(Math.abs(counted / n - ratio) < 0.03, `ratio ${ratio}: ${counted} invalid of ${n}`);
      // What the consumer will refuse is exactly what the emitter counted as invalid.
      const codes = new Map<string, number>();
      let refused = 0;
      for (const batch of batches) {
        for (const message of batch.messages) {
          const result = validateEvent(message.value, START + batch.at);
          if (!result.ok) {
            refused++;
            const code = result.reasons[0].code;
            codes.set(code, (codes.get(code) ?? 0) + 1);
          }
        }
      }
      assert.equal(refused, counted);
      const expected = new Map<string, number>();
      for (const [kind, count] of Object.entries(totals.invalid)) {
        const code = INVALID_KINDS[kind as InvalidKind];
        expected.set(code, (expected.get(code) ?? 0) + (count ?? 0));
      }
      assert.deepEqual(codes, expected);
      if (ratio >= 0.3) {
        assert.deepEqual(Object.keys(totals.invalid).sort(), Object.keys(INVALID_KINDS).sort());
      }
    });
  }
  await t.step("the same seed gives the same mix", async () => {
    const a = await run({ rate: 1_000_000, count: 2000, invalidRatio: 0.3 }, { seed: 9 });
    const b = await run({ rate: 1_000_000, count: 2000, invalidRatio: 0.3 }, { seed: 9 });
    assert.deepEqual(a.totals, b.totals);
    assert.deepEqual(a.batches, b.batches);
  });
  await t.step("ratio 1 sends only invalid events", async () => {
    const { totals } = await run({ rate: 1_000_000, count: 300, invalidRatio: 1 });
    assert.equal(Object.values(totals.invalid).reduce((a, b) => a + (b ?? 0), 0), 300);
  });
});

Deno.test("runEmitter() ends when the stop signal fires", async (t) => {
  await t.step("during a send: no further batch is sent", async () => {
    const time = fakeTime();
    try {
      const stop = stopSignal();
      const rec = recorder(time.clock);
      const totals = await runEmitter(
        new Fleet(5, 1),
        { ...DEFAULTS, rate: 1000, batchSize: 3 },
        async (messages) => {
          await rec.send(messages);
          if (rec.batches.length === 4) stop.request();
        },
        stop,
        time.clock,
      );
      assert.equal(rec.batches.length, 4);
      assert.equal(totals.sent, rec.sizes().reduce((a, b) => a + b, 0));
    } finally {
      time.restore();
    }
  });
  await t.step("during a wait: the wait is cut short", async () => {
    const time = fakeTime({ frozenTimers: true });
    try {
      const stop = stopSignal();
      const rec = recorder(time.clock);
      const running = runEmitter(
        new Fleet(5, 1),
        { ...DEFAULTS, rate: 1 },
        rec.send,
        stop,
        time.clock,
      );
      await new Promise((resolve) => realSetTimeout(resolve, 20));
      assert.equal(rec.batches.length, 1, "the first event went out, then the loop waits");
      stop.request();
      const totals = await running;
      assert.equal(totals.sent, 1);
      assert.deepEqual(time.waits, [200]);
    } finally {
      time.restore();
    }
  });
  await t.step("before the start: nothing is sent", async () => {
    const time = fakeTime();
    try {
      const stop = stopSignal();
      stop.request();
      const rec = recorder(time.clock);
      const totals = await runEmitter(new Fleet(5, 1), { ...DEFAULTS }, rec.send, stop, time.clock);
      assert.deepEqual(totals, { sent: 0, invalid: {} });
      assert.equal(rec.batches.length, 0);
    } finally {
      time.restore();
    }
  });
});

Deno.test("runEmitter() lets a failing send reject, without counting its batch", async () => {
  const time = fakeTime();
  try {
    let calls = 0;
    const failing = runEmitter(
      new Fleet(5, 1),
      { ...DEFAULTS, rate: 100, count: 50 },
      () => {
        calls++;
        return calls === 3 ? Promise.reject(new Error("kafka down")) : Promise.resolve();
      },
      stopSignal(),
      time.clock,
    );
    await assert.rejects(failing, /kafka down/);
    assert.equal(calls, 3);
  } finally {
    time.restore();
  }
});
