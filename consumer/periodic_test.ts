import assert from "node:assert/strict";
import { startPeriodic } from "./periodic.ts";

Deno.test("startPeriodic() runs at once, then every interval, never two rounds at once", async () => {
  let rounds = 0;
  let inFlight = 0;
  let most = 0;
  const stop = startPeriodic(async () => {
    rounds++;
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 35)); // longer than the interval
    inFlight--;
  }, 10);
  assert.equal(rounds, 1, "the first round starts at once");
  await new Promise((r) => setTimeout(r, 120));
  await stop();
  assert.equal(inFlight, 0, "stop waits for the round in flight");
  assert.equal(most, 1, "never two rounds at once");
  assert.ok(rounds >= 2 && rounds <= 4, `${rounds} rounds of 35 ms in 120 ms`);
  const after = rounds;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(rounds, after, "no round after stop");
});
