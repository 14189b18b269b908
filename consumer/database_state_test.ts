import assert from "node:assert/strict";
import { Gauge, Registry } from "prom-client";
import {
  CONDITION_LOG_INTERVAL_MS,
  conditionOf,
  DatabaseState,
  describeDatabaseError,
} from "./database_state.ts";

const pgError = (code: string) => Object.assign(new Error(`error ${code}`), { code });

function stateWithLog() {
  const lines: [string, string, Record<string, unknown> | undefined][] = [];
  const push = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push([level, msg, fields]);
  const log = {
    debug: push("debug"),
    info: push("info"),
    warn: push("warn"),
    error: push("error"),
  };
  const gauge = new Gauge({
    name: "s",
    help: "-",
    labelNames: ["state"],
    registers: [new Registry()],
  });
  let now = 0;
  const state = new DatabaseState(gauge, log, () => now);
  return { state, lines, gauge, tick: (ms: number) => (now += ms) };
}

Deno.test("conditionOf() and describeDatabaseError() name a full disk and a read-only server", () => {
  assert.equal(conditionOf(pgError("53100")), "disk_full");
  assert.equal(conditionOf(pgError("25006")), "read_only");
  assert.equal(conditionOf(pgError("57P01")), "failing");
  assert.equal(conditionOf(new Error("ECONNREFUSED")), "failing");
  assert.equal(conditionOf(null), "failing");
  assert.match(describeDatabaseError(pgError("53100")), /^disk full \(53100\) — .*: error 53100$/);
  assert.match(describeDatabaseError(pgError("25006")), /^read-only \(25006\) — .*: error 25006$/);
  assert.equal(describeDatabaseError(new Error("connection refused")), "connection refused");
});

Deno.test("DatabaseState logs a named condition when it starts, once a minute while it lasts, and when it ends", async () => {
  const { state, lines, gauge, tick } = stateWithLog();
  const levels = () => lines.map(([level, msg]) => `${level}: ${msg}`);
  assert.equal(state.failed(pgError("53100")), true);
  tick(1000);
  state.failed(pgError("53100"));
  tick(CONDITION_LOG_INTERVAL_MS - 1000);
  state.failed(pgError("53100"));
  assert.deepEqual(levels(), [
    "error: database disk-full; retrying until it passes",
    "error: database disk-full; retrying until it passes",
  ]);
  assert.equal(lines[1][2]?.forMs, CONDITION_LOG_INTERVAL_MS);
  const values = async () =>
    Object.fromEntries((await gauge.get()).values.map((v) => [v.labels.state, v.value]));
  assert.deepEqual(await values(), { ok: 0, disk_full: 1, read_only: 0, failing: 0 });
  // Freeing space often comes with a restart: the connection errors in between are not named.
  assert.equal(state.failed(pgError("57P01")), false);
  assert.deepEqual(await values(), { ok: 0, disk_full: 0, read_only: 0, failing: 1 });
  assert.equal(state.problem(), "error 57P01");
  tick(5000);
  state.succeeded();
  assert.equal(state.problem(), undefined);
  assert.deepEqual(lines.at(-1), [
    "info",
    "database accepts writes again",
    { was: "disk_full", forMs: CONDITION_LOG_INTERVAL_MS + 5000 },
  ]);
  assert.deepEqual(await values(), { ok: 1, disk_full: 0, read_only: 0, failing: 0 });
  state.succeeded();
  assert.equal(lines.length, 3, "nothing more to say while it works");
});
