import assert from "node:assert/strict";
import { createLogger, errorFields, LOG_LEVELS, type LogLevel } from "./log.ts";

function capture(minLevel?: LogLevel) {
  const lines: string[] = [];
  const log = createLogger("iot-test", minLevel, (line) => lines.push(line));
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

Deno.test("createLogger() writes one JSON object per line: level, time, service, msg, fields", () => {
  const { log, lines, parsed } = capture();
  const before = Date.now();
  log.info("batch written", { rows: 12, partition: 3, topic: "iot.sensors" });
  const after = Date.now();
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("\n"), "a line holds no newline");
  const [line] = parsed();
  assert.deepEqual(Object.keys(line), [
    "level",
    "time",
    "service",
    "msg",
    "rows",
    "partition",
    "topic",
  ]);
  assert.equal(line.level, "info");
  assert.equal(line.service, "iot-test");
  assert.equal(line.msg, "batch written");
  assert.equal(line.rows, 12);
  assert.match(line.time as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const time = Date.parse(line.time as string);
  assert.ok(time >= before && time <= after);
});

Deno.test("createLogger() keeps a message with newlines and quotes on one line", () => {
  const { log, lines, parsed } = capture();
  log.warn('two\nlines and "quotes"', { detail: "a\nb" });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("\n"));
  assert.equal(parsed()[0].msg, 'two\nlines and "quotes"');
});

Deno.test("createLogger() drops lines below the minimum level", async (t) => {
  const expected: Record<LogLevel, LogLevel[]> = {
    debug: ["debug", "info", "warn", "error"],
    info: ["info", "warn", "error"],
    warn: ["warn", "error"],
    error: ["error"],
  };
  for (const min of LOG_LEVELS) {
    await t.step(`minimum ${min}`, () => {
      const { log, parsed } = capture(min);
      log.debug("d");
      log.info("i");
      log.warn("w");
      log.error("e");
      assert.deepEqual(parsed().map((l) => l.level), expected[min]);
    });
  }
  await t.step("the default minimum is info", () => {
    const { log, parsed } = capture();
    log.debug("hidden");
    log.info("shown");
    assert.deepEqual(parsed().map((l) => l.msg), ["shown"]);
  });
});

Deno.test("createLogger() logs an Error field as name, message, code and cause chain", () => {
  const { log, parsed } = capture();
  const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
    code: "ECONNREFUSED",
  });
  const middle = new TypeError("pool exhausted", { cause: root });
  const top = new Error("batch failed", { cause: middle });
  log.error("write failed", { error: top, attempt: 3 });
  assert.deepEqual(parsed()[0].error, {
    name: "Error",
    message: "batch failed",
    cause: {
      name: "TypeError",
      message: "pool exhausted",
      cause: {
        name: "Error",
        message: "connect ECONNREFUSED 127.0.0.1:5432",
        code: "ECONNREFUSED",
      },
    },
  });
  assert.equal(parsed()[0].attempt, 3);
});

Deno.test("errorFields() ignores a cause that is not an Error and keeps custom names", () => {
  class KafkaJSError extends Error {
    override name = "KafkaJSNumberOfRetriesExceeded";
  }
  assert.deepEqual(errorFields(new KafkaJSError("gave up", { cause: "a string" })), {
    name: "KafkaJSNumberOfRetriesExceeded",
    message: "gave up",
  });
});

Deno.test("createLogger() writes bigint fields as decimal text", () => {
  const { log, parsed } = capture();
  log.info("offset", { offset: 9223372036854775807n, nested: { next: 10n } });
  assert.equal(parsed()[0].offset, "9223372036854775807");
  assert.deepEqual(parsed()[0].nested, { next: "10" });
});

Deno.test(
  {
    name: "createLogger() keeps level, time, service and msg when a field has the same name",
  },
  () => {
    const { log, parsed } = capture();
    log.error("real message", { level: "debug", service: "other", msg: "fake", time: "then" });
    const [line] = parsed();
    assert.equal(line.level, "error");
    assert.equal(line.service, "iot-test");
    assert.equal(line.msg, "real message");
    assert.notEqual(line.time, "then");
  },
);

Deno.test(
  {
    name: "createLogger() never throws on a field it cannot serialize",
  },
  () => {
    const { log, lines } = capture();
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    log.error("failed", { context: loop });
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]) as Record<string, unknown>).msg, "failed");
  },
);
