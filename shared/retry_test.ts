import assert from "node:assert/strict";
import { retryUntilStopped } from "./retry.ts";

/** A logger that keeps `level: msg` lines. */
function recorder() {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level}: ${msg}`);
  return {
    lines,
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

const quick = { initialMs: 1, maxMs: 2 };

Deno.test("retryUntilStopped() retries a failure with backoff until the action succeeds", async () => {
  const { lines, log } = recorder();
  let calls = 0;
  const done = await retryUntilStopped(
    { what: "kafka connection", log, stopped: new Promise(() => {}), backoff: quick },
    () => ++calls < 3 ? Promise.reject(new Error("refused")) : Promise.resolve(),
  );
  assert.equal(done, true);
  assert.equal(calls, 3);
  assert.deepEqual(lines, [
    "warn: kafka connection failed; retrying",
    "warn: kafka connection failed; retrying",
  ]);
});

Deno.test("retryUntilStopped() reports a wrong setting as an error in its own words", async () => {
  const { lines, log } = recorder();
  let calls = 0;
  const explain = () => ({
    reason: "authentication failed",
    message: "KAFKA_SASL_PASSWORD is wrong",
  });
  await retryUntilStopped(
    { what: "kafka connection", log, stopped: new Promise(() => {}), explain, settingRetryMs: 1 },
    () => ++calls < 2 ? Promise.reject(new Error("SASL")) : Promise.resolve(),
  );
  assert.deepEqual(lines, ["error: KAFKA_SASL_PASSWORD is wrong"]);
});

Deno.test("retryUntilStopped() gives up at once when the service stops during a wait", async () => {
  const { log } = recorder();
  const stop = Promise.withResolvers<void>();
  setTimeout(stop.resolve, 20);
  const started = performance.now();
  const done = await retryUntilStopped(
    {
      what: "database migration",
      log,
      stopped: stop.promise,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    },
    () => Promise.reject(new Error("down")),
  );
  assert.equal(done, false);
  assert.ok(performance.now() - started < 5_000, "the minute-long backoff was cut short");
});

Deno.test("retryUntilStopped() makes no attempt once isStopped() says the service is stopping", async () => {
  const { log } = recorder();
  let calls = 0;
  const done = await retryUntilStopped(
    { what: "kafka connection", log, stopped: new Promise(() => {}), isStopped: () => true },
    () => (calls++, Promise.resolve()),
  );
  assert.deepEqual([done, calls], [false, 0]);
});
