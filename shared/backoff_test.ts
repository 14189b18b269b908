import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoffDelay() doubles from the initial delay up to the cap", () => {
  const policy = { initialMs: 100, maxMs: 5_000 };
  const top = () => 0.999999;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(policy, n, top)),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
});

Deno.test("backoffDelay() jitters between half and all of the nominal delay", () => {
  const policy = { initialMs: 1_000, maxMs: 1_000 };
  assert.equal(backoffDelay(policy, 3, () => 0), 500);
  assert.equal(backoffDelay(policy, 3, () => 0.5), 750);
  for (let i = 0; i < 1_000; i++) {
    const delay = backoffDelay(policy, i % 7);
    assert.ok(delay >= 500 && delay <= 1_000, `${delay}`);
  }
});

Deno.test("backoffDelay() treats a negative attempt as the first", () => {
  assert.equal(backoffDelay({ initialMs: 250, maxMs: 10_000 }, -3, () => 0.999999), 250);
});
