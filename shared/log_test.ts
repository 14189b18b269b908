import assert from "node:assert/strict";
import {
  createLogger,
  errorFields,
  formatPretty,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "./log.ts";

function capture(level?: LogLevel, format: LogFormat = "json") {
  const lines: string[] = [];
  const log = createLogger("iot-test", { level, format, write: (line) => lines.push(line) });
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

Deno.test("errorFields() keeps the last inner errors of an aggregate, and how many there were", () => {
  const attempts = [1, 2, 3, 4].map((n) => new Error(`attempt ${n}: LZ4 frame is corrupt`));
  const nested = new AggregateError(
    [new Error("Cannot connect to any broker.")],
    "metadata failed",
  );
  assert.deepEqual(
    errorFields(new AggregateError([...attempts, nested], "fetch failed 5 times.")),
    {
      name: "AggregateError",
      message: "fetch failed 5 times.",
      errors: [
        { name: "Error", message: "attempt 3: LZ4 frame is corrupt" },
        { name: "Error", message: "attempt 4: LZ4 frame is corrupt" },
        {
          name: "AggregateError",
          message: "metadata failed",
          errors: [{ name: "Error", message: "Cannot connect to any broker." }],
        },
      ],
      errorCount: 5,
    },
  );
  assert.deepEqual(errorFields(new AggregateError(["not an error"], "x")), {
    name: "AggregateError",
    message: "x",
  });
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

const RECORD = { level: "info", time: "2026-11-26T13:15:30.123Z", service: "iot-consumer" };

Deno.test("formatPretty() writes time of day, level, message, then key=value fields", async (t) => {
  await t.step("plain values bare, in the order given; the service left out", () => {
    assert.equal(
      formatPretty({ ...RECORD, msg: "batch written", rows: 12, ok: true, topic: "iot.sensors" }),
      "13:15:30.123 INFO  batch written rows=12 ok=true topic=iot.sensors",
    );
  });
  await t.step("levels padded to one width", () => {
    const lines = LOG_LEVELS.map((level) => formatPretty({ ...RECORD, level, msg: "m" }));
    assert.deepEqual(lines, [
      "13:15:30.123 DEBUG m",
      "13:15:30.123 INFO  m",
      "13:15:30.123 WARN  m",
      "13:15:30.123 ERROR m",
    ]);
  });
  await t.step("strings with spaces, quotes, '=' or control characters are quoted", () => {
    assert.equal(
      formatPretty({
        ...RECORD,
        msg: "m",
        a: "two words",
        b: 'say "hi"',
        c: "k=v",
        d: "",
        e: "x\ny",
      }),
      '13:15:30.123 INFO  m a="two words" b="say \\"hi\\"" c="k=v" d="" e="x\\ny"',
    );
  });
  await t.step("objects, arrays and errors as compact JSON; null shown, undefined left out", () => {
    assert.equal(
      formatPretty({
        ...RECORD,
        msg: "m",
        error: errorFields(new Error("boom", { cause: new TypeError("inner") })),
        partitions: [0, 1],
        offset: 10n,
        none: null,
        missing: undefined,
      }),
      '13:15:30.123 INFO  m error={"name":"Error","message":"boom","cause":' +
        '{"name":"TypeError","message":"inner"}} partitions=[0,1] offset=10 none=null',
    );
  });
  await t.step("a message with a newline stays on one line", () => {
    const line = formatPretty({ ...RECORD, msg: "Invalid configuration:\n  - LOG_FORMAT" });
    assert.ok(!line.includes("\n"), line);
    assert.equal(line, '13:15:30.123 INFO  "Invalid configuration:\\n  - LOG_FORMAT"');
  });
  await t.step("colour only when asked: the level in ANSI escapes", () => {
    assert.equal(
      formatPretty({ ...RECORD, level: "error", msg: "m" }, true),
      "13:15:30.123 \x1b[31mERROR\x1b[0m m",
    );
    assert.ok(!formatPretty({ ...RECORD, level: "error", msg: "m" }).includes("\x1b"));
  });
});

Deno.test("createLogger() with format pretty writes one readable line per record", () => {
  const { log, lines } = capture("info", "pretty");
  log.debug("hidden");
  log.warn("slow batch", { ms: 250, level: "debug" });
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^\d{2}:\d{2}:\d{2}\.\d{3} WARN {2}slow batch ms=250 field_level=debug$/);
});
