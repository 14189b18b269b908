import assert from "node:assert/strict";
import type { LogFields, Logger } from "@iot/shared/runtime";
import { createConsumerMetrics } from "./metrics.ts";
import { startSummary } from "./summary.ts";

/** A logger that keeps the info lines. */
function recorder() {
  const lines: { msg: string; fields?: LogFields }[] = [];
  const logger: Logger = {
    debug() {},
    info(msg, fields) {
      lines.push({ msg, fields });
    },
    warn() {},
    error() {},
  };
  return { lines, logger };
}

async function firstLine(lines: { msg: string; fields?: LogFields }[]) {
  for (let i = 0; i < 100 && lines.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(lines.length > 0, "a summary was logged");
  return lines[0];
}

Deno.test("the summary counts the writes planned again in its interval, and says so", async () => {
  const metrics = createConsumerMetrics();
  metrics.written.inc(10);
  metrics.replans.inc({ reason: "copy" }, 2);
  metrics.replans.inc({ reason: "resent" });
  const { lines, logger } = recorder();
  const stop = startSummary(0.05, metrics, logger);
  try {
    const line = await firstLine(lines);
    assert.equal(line.fields?.replans, 3);
    assert.equal(line.fields?.totalWritten, 10);
    assert.match(line.msg, /; 3 writes planned again$/);
  } finally {
    stop();
  }
});

Deno.test("the summary leaves the re-plans out of its words when there were none", async () => {
  const { lines, logger } = recorder();
  const stop = startSummary(0.05, createConsumerMetrics(), logger);
  try {
    const line = await firstLine(lines);
    assert.equal(line.fields?.replans, 0);
    assert.doesNotMatch(line.msg, /planned again/);
  } finally {
    stop();
  }
});
