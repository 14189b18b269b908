import assert from "node:assert/strict";
import { checkKafkaName, checkKafkaTopic, ConfigError, EnvReader } from "./env.ts";

/** Runs `read` and returns the problems `done()` throws, or [] when it does not throw. */
function problemsOf(read: EnvReader): readonly string[] {
  try {
    read.done();
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

Deno.test("ConfigError lists every problem, one per line", () => {
  const error = new ConfigError(['A must be x: got "1"', 'B must be y: got "2"']);
  assert.ok(error instanceof Error);
  assert.equal(error.name, "ConfigError");
  assert.equal(
    error.message,
    'Invalid configuration:\n  - A must be x: got "1"\n  - B must be y: got "2"',
  );
  assert.deepEqual(error.problems, ['A must be x: got "1"', 'B must be y: got "2"']);
});

Deno.test("EnvReader.raw() trims values and treats blank as unset", () => {
  const read = new EnvReader({ A: "  value  ", B: "", C: "   ", D: undefined });
  assert.equal(read.raw("A"), "value");
  assert.equal(read.raw("B"), undefined);
  assert.equal(read.raw("C"), undefined);
  assert.equal(read.raw("D"), undefined);
  assert.equal(read.raw("MISSING"), undefined);
});

Deno.test("EnvReader.string() uses the fallback and reports what the check refuses", async (t) => {
  await t.step("fallback when unset or blank", () => {
    const read = new EnvReader({ BLANK: " " });
    assert.equal(read.string("UNSET", "dflt"), "dflt");
    assert.equal(read.string("BLANK", "dflt"), "dflt");
    assert.deepEqual(problemsOf(read), []);
  });
  await t.step("the check's problem names the variable and quotes the value", () => {
    const read = new EnvReader({ NAME: "bad value" });
    const value = read.string(
      "NAME",
      "dflt",
      (v) => v.includes(" ") ? "must not have spaces" : undefined,
    );
    assert.equal(value, "bad value");
    assert.deepEqual(problemsOf(read), ['NAME must not have spaces: got "bad value"']);
  });
  await t.step("the fallback is checked too", () => {
    const read = new EnvReader({});
    read.string("NAME", "bad fallback", () => "is wrong");
    assert.deepEqual(problemsOf(read), ['NAME is wrong: got "bad fallback"']);
  });
});

Deno.test("EnvReader.number() and integer() check type and bounds", async (t) => {
  await t.step("valid values are parsed", () => {
    const read = new EnvReader({ A: "2.5", B: " 7 ", C: "-3", D: "1e3" });
    assert.equal(read.number("A", 0), 2.5);
    assert.equal(read.integer("B", 0, { min: 0, max: 10 }), 7);
    assert.equal(read.number("C", 0, { min: -5 }), -3);
    assert.equal(read.integer("D", 0), 1000);
    assert.deepEqual(problemsOf(read), []);
  });
  await t.step("the fallback when unset", () => {
    const read = new EnvReader({});
    assert.equal(read.number("A", 4.5, { min: 0 }), 4.5);
    assert.equal(read.integer("B", 9), 9);
  });
  await t.step("bounds are inclusive", () => {
    const read = new EnvReader({ LOW: "0", HIGH: "65535" });
    assert.equal(read.integer("LOW", 1, { min: 0, max: 65535 }), 0);
    assert.equal(read.integer("HIGH", 1, { min: 0, max: 65535 }), 65535);
    assert.deepEqual(problemsOf(read), []);
  });
  await t.step("each kind of bad value gives one problem and the fallback", () => {
    const read = new EnvReader({
      NAN: "abc",
      INF: "Infinity",
      FRACTION: "2.5",
      LOW: "-1",
      HIGH: "70000",
      MIN_ONLY: "0",
      MAX_ONLY: "11",
      UNBOUNDED: "12abc",
    });
    assert.equal(read.number("NAN", 1), 1);
    assert.equal(read.number("INF", 1), 1);
    assert.equal(read.integer("FRACTION", 1), 1);
    assert.equal(read.integer("LOW", 1, { min: 0, max: 65535 }), 1);
    assert.equal(read.integer("HIGH", 1, { min: 0, max: 65535 }), 1);
    assert.equal(read.number("MIN_ONLY", 1, { min: 0.5 }), 1);
    assert.equal(read.number("MAX_ONLY", 1, { max: 10 }), 1);
    assert.equal(read.number("UNBOUNDED", 1), 1);
    assert.deepEqual(problemsOf(read), [
      'NAN must be a number: got "abc"',
      'INF must be a number: got "Infinity"',
      'FRACTION must be an integer: got "2.5"',
      'LOW must be an integer from 0 to 65535: got "-1"',
      'HIGH must be an integer from 0 to 65535: got "70000"',
      'MIN_ONLY must be a number >= 0.5: got "0"',
      'MAX_ONLY must be a number <= 10: got "11"',
      'UNBOUNDED must be a number: got "12abc"',
    ]);
  });
});

Deno.test("EnvReader.choice() accepts only the listed values, exact case", () => {
  const levels = ["debug", "info", "warn", "error"] as const;
  const good = new EnvReader({ LOG_LEVEL: "warn" });
  assert.equal(good.choice("LOG_LEVEL", "info", levels), "warn");
  assert.equal(good.choice("UNSET", "info", levels), "info");
  assert.deepEqual(problemsOf(good), []);
  const bad = new EnvReader({ LOG_LEVEL: "WARN" });
  assert.equal(bad.choice("LOG_LEVEL", "info", levels), "info");
  assert.deepEqual(problemsOf(bad), [
    'LOG_LEVEL must be one of debug, info, warn, error: got "WARN"',
  ]);
});

Deno.test("EnvReader.brokers() reads a comma-separated host:port list", async (t) => {
  await t.step("hosts, IPs, spaces and empty items", () => {
    const read = new EnvReader({ B: " kafka-0.kafka:9092, 10.0.0.1:19092,,[::1]:9092 , " });
    assert.deepEqual(read.brokers("B", "localhost:9092"), [
      "kafka-0.kafka:9092",
      "10.0.0.1:19092",
      "[::1]:9092",
    ]);
    assert.deepEqual(problemsOf(read), []);
  });
  await t.step("the fallback when unset", () => {
    const read = new EnvReader({});
    assert.deepEqual(read.brokers("B", "localhost:9092"), ["localhost:9092"]);
  });
  for (
    const bad of ["localhost", "localhost:", "http://kafka:9092", "kafka:9092,broken", ",", "a b:1"]
  ) {
    await t.step(`refuses ${JSON.stringify(bad)}`, () => {
      const read = new EnvReader({ KAFKA_BROKERS: bad });
      read.brokers("KAFKA_BROKERS", "localhost:9092");
      assert.deepEqual(problemsOf(read), [
        `KAFKA_BROKERS must be a comma-separated list of host:port: got ${JSON.stringify(bad)}`,
      ]);
    });
  }
});

Deno.test(
  {
    name: "EnvReader.brokers() refuses a port outside 1-65535",
  },
  () => {
    for (const bad of ["localhost:99999", "localhost:65536", "localhost:0"]) {
      const read = new EnvReader({ KAFKA_BROKERS: bad });
      read.brokers("KAFKA_BROKERS", "localhost:9092");
      assert.deepEqual(problemsOf(read), [
        `KAFKA_BROKERS must be a comma-separated list of host:port: got ${JSON.stringify(bad)}`,
      ]);
    }
  },
);

Deno.test("EnvReader collects every problem and done() reports them all at once", () => {
  const read = new EnvReader({ A: "x", B: "y", C: "z" });
  read.integer("A", 1);
  read.number("B", 1);
  read.choice("C", "c", ["c"]);
  read.problem("A and B disagree");
  assert.throws(() => read.done(), ConfigError);
  assert.deepEqual(problemsOf(read), [
    'A must be an integer: got "x"',
    'B must be a number: got "y"',
    'C must be one of c: got "z"',
    "A and B disagree",
  ]);
});

Deno.test("EnvReader.done() does not throw when every setting is valid", () => {
  const read = new EnvReader({ A: "1" });
  read.integer("A", 0);
  read.done();
  assert.deepEqual(problemsOf(read), []);
});

Deno.test("EnvReader masks a URL's password in a problem", async (t) => {
  const masked = (value: string) => {
    const read = new EnvReader({ URL: value });
    read.string("URL", "", () => "is refused");
    const [problem] = problemsOf(read);
    return problem;
  };
  await t.step("user and password", () => {
    assert.equal(
      masked("mysql://iot:s3cret@db:3306/iot"),
      'URL is refused: got "mysql://iot:***@db:3306/iot"',
    );
  });
  await t.step("empty user", () => {
    assert.equal(
      masked("postgres://:s3cret@db/iot"),
      'URL is refused: got "postgres://:***@db/iot"',
    );
  });
  await t.step("upper-case scheme", () => {
    assert.equal(
      masked("POSTGRES://iot:s3cret@db/iot"),
      'URL is refused: got "POSTGRES://iot:***@db/iot"',
    );
  });
  await t.step("no password: nothing to mask", () => {
    assert.equal(masked("mysql://iot@db/iot"), 'URL is refused: got "mysql://iot@db/iot"');
  });
  await t.step("a long value is cut after masking", () => {
    const problem = masked(`mysql://iot:s3cret@db/${"x".repeat(200)}`);
    assert.ok(!problem.includes("s3cret"));
    assert.equal(
      problem,
      `URL is refused: got ${JSON.stringify(`mysql://iot:***@db/${"x".repeat(61)}…`)}`,
    );
  });
});

Deno.test("checkKafkaTopic() follows Kafka's topic name rule", () => {
  assert.equal(checkKafkaTopic("iot.sensors"), undefined);
  assert.equal(checkKafkaTopic("a_b-c.D9"), undefined);
  assert.equal(checkKafkaTopic("t".repeat(249)), undefined);
  const problem = "must be 1-249 characters of letters, digits, '.', '_' or '-'";
  for (const bad of ["", "t".repeat(250), "iot sensors", "iot/sensors", "iôt", "a:b"]) {
    assert.equal(checkKafkaTopic(bad), problem, bad);
  }
});

Deno.test("checkKafkaName() accepts printable ASCII without spaces", () => {
  assert.equal(checkKafkaName("iot-consumer"), undefined);
  assert.equal(checkKafkaName("a!~{}"), undefined);
  assert.equal(checkKafkaName("n".repeat(255)), undefined);
  const problem = "must be 1-255 printable ASCII characters without spaces";
  for (const bad of ["", "n".repeat(256), "iot consumer", "tab\t", "ção"]) {
    assert.equal(checkKafkaName(bad), problem, bad);
  }
});
