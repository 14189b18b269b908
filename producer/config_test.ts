import assert from "node:assert/strict";
import { ConfigError } from "@iot/shared/runtime";
import { loadProducerConfig } from "./config.ts";

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadProducerConfig(env, 7);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

Deno.test("loadProducerConfig() gives the contract's defaults", () => {
  assert.deepEqual(loadProducerConfig({}, 1234), {
    kafkaBrokers: ["localhost:9092"],
    topic: "iot.sensors",
    clientId: "iot-producer",
    kafkaSecurity: { protocol: "PLAINTEXT" },
    devices: 50,
    rate: 10,
    count: 0,
    durationS: 0,
    invalidRatio: 0,
    seed: 1234,
    batchSize: 500,
    faults: {
      driftDevices: 0,
      driftAfterS: 60,
      driftCPerMin: 1,
      silentDevices: 0,
      silentAfterS: 60,
    },
    httpPort: 8081,
    logLevel: "info",
    summaryIntervalS: 10,
    shutdownTimeoutS: 25,
  });
});

Deno.test("loadProducerConfig() treats blank variables as unset", () => {
  const config = loadProducerConfig({ PRODUCER_RATE: "", KAFKA_TOPIC: "  ", HTTP_PORT: "" }, 1);
  assert.equal(config.rate, 10);
  assert.equal(config.topic, "iot.sensors");
  assert.equal(config.httpPort, 8081);
});

Deno.test("loadProducerConfig() draws a random seed when PRODUCER_SEED is unset", () => {
  const seeds = new Set(Array.from({ length: 20 }, () => loadProducerConfig({}).seed));
  assert.ok(seeds.size > 1);
  for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
});

Deno.test("loadProducerConfig() reads every variable", () => {
  const config = loadProducerConfig({
    KAFKA_BROKERS: "k1:9092,k2:9093",
    KAFKA_TOPIC: "iot.sensors.v2",
    KAFKA_CLIENT_ID: "fleet-a",
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "scram-sha-256",
    KAFKA_SASL_USERNAME: "fleet-a",
    KAFKA_SASL_PASSWORD: "pw",
    PRODUCER_DEVICES: "1000",
    PRODUCER_RATE: "0.5",
    PRODUCER_COUNT: "100000",
    PRODUCER_DURATION_S: "60",
    PRODUCER_INVALID_RATIO: "0.05",
    PRODUCER_SEED: "4294967295",
    PRODUCER_BATCH_SIZE: "1",
    PRODUCER_DRIFT_DEVICES: "3",
    PRODUCER_DRIFT_AFTER_S: "0",
    PRODUCER_DRIFT_C_PER_MIN: "-0.5",
    PRODUCER_SILENT_DEVICES: "2",
    PRODUCER_SILENT_AFTER_S: "120.5",
    HTTP_PORT: "0",
    LOG_LEVEL: "debug",
    LOG_FORMAT: "pretty",
    SUMMARY_INTERVAL_S: "0",
    SHUTDOWN_TIMEOUT_S: "5",
  }, 1);
  assert.deepEqual(config, {
    kafkaBrokers: ["k1:9092", "k2:9093"],
    topic: "iot.sensors.v2",
    clientId: "fleet-a",
    kafkaSecurity: {
      protocol: "SASL_SSL",
      sasl: {
        mechanism: "scram-sha-256",
        username: "fleet-a",
        password: "pw",
        passwordFile: undefined,
      },
      tls: { caFile: undefined },
    },
    devices: 1000,
    rate: 0.5,
    count: 100000,
    durationS: 60,
    invalidRatio: 0.05,
    seed: 4294967295,
    batchSize: 1,
    faults: {
      driftDevices: 3,
      driftAfterS: 0,
      driftCPerMin: -0.5,
      silentDevices: 2,
      silentAfterS: 120.5,
    },
    httpPort: 0,
    logLevel: "debug",
    logFormat: "pretty",
    summaryIntervalS: 0,
    shutdownTimeoutS: 5,
  });
  assert.ok(Object.isFrozen(config));
});

Deno.test("loadProducerConfig() wants the misbehaving devices distinct and one device still sending", () => {
  assert.deepEqual(problemsOf({ PRODUCER_DEVICES: "3", PRODUCER_SILENT_DEVICES: "3" }), [
    "PRODUCER_SILENT_DEVICES (3) must be below PRODUCER_DEVICES (3): one device at least keeps " +
    "sending",
  ]);
  assert.deepEqual(
    problemsOf({
      PRODUCER_DEVICES: "3",
      PRODUCER_SILENT_DEVICES: "1",
      PRODUCER_DRIFT_DEVICES: "3",
    }),
    [
      "PRODUCER_DRIFT_DEVICES + PRODUCER_SILENT_DEVICES (4) must be at most PRODUCER_DEVICES " +
      "(3): they are distinct devices",
    ],
  );
  const fits = { PRODUCER_DEVICES: "3", PRODUCER_SILENT_DEVICES: "2", PRODUCER_DRIFT_DEVICES: "1" };
  assert.equal(loadProducerConfig(fits, 1).faults.silentDevices, 2);
});

Deno.test("loadProducerConfig() refuses every bad value with a ConfigError naming the variable and the value", async (t) => {
  const cases: [string, string, string][] = [
    ["KAFKA_BROKERS", "localhost", "must be a comma-separated list of host:port"],
    ["KAFKA_TOPIC", "iot sensors", "must be 1-249 characters of letters, digits, '.', '_' or '-'"],
    ["KAFKA_CLIENT_ID", "iot producer", "must be 1-255 printable ASCII characters without spaces"],
    ["PRODUCER_DEVICES", "0", "must be an integer from 1 to 1000000"],
    ["PRODUCER_DEVICES", "2.5", "must be an integer from 1 to 1000000"],
    ["PRODUCER_DEVICES", "many", "must be an integer from 1 to 1000000"],
    ["PRODUCER_RATE", "0", "must be a number from 0.001 to 1000000"],
    ["PRODUCER_RATE", "-5", "must be a number from 0.001 to 1000000"],
    ["PRODUCER_RATE", "fast", "must be a number from 0.001 to 1000000"],
    ["PRODUCER_COUNT", "-1", "must be an integer >= 0"],
    ["PRODUCER_COUNT", "1.5", "must be an integer >= 0"],
    ["PRODUCER_DURATION_S", "-1", "must be a number >= 0"],
    ["PRODUCER_DURATION_S", "1h", "must be a number >= 0"],
    ["PRODUCER_INVALID_RATIO", "1.5", "must be a number from 0 to 1"],
    ["PRODUCER_INVALID_RATIO", "10%", "must be a number from 0 to 1"],
    ["PRODUCER_SEED", "-1", "must be an integer from 0 to 4294967295"],
    ["PRODUCER_SEED", "4294967296", "must be an integer from 0 to 4294967295"],
    ["PRODUCER_SEED", "abc", "must be an integer from 0 to 4294967295"],
    ["PRODUCER_BATCH_SIZE", "0", "must be an integer from 1 to 100000"],
    ["PRODUCER_BATCH_SIZE", "100001", "must be an integer from 1 to 100000"],
    ["HTTP_PORT", "65536", "must be an integer from 0 to 65535"],
    ["HTTP_PORT", "http", "must be an integer from 0 to 65535"],
    ["LOG_LEVEL", "verbose", "must be one of debug, info, warn, error"],
    ["LOG_LEVEL", "INFO", "must be one of debug, info, warn, error"],
    ["LOG_FORMAT", "text", "must be one of json, pretty"],
    ["SUMMARY_INTERVAL_S", "-1", "must be a number from 0 to 86400"],
    ["SHUTDOWN_TIMEOUT_S", "0", "must be a number from 1 to 3600"],
  ];
  for (const [name, value, rule] of cases) {
    await t.step(`${name}=${value}`, () => {
      assert.deepEqual(problemsOf({ [name]: value }), [
        `${name} ${rule}: got ${JSON.stringify(value)}`,
      ]);
    });
  }
  await t.step("the ConfigError message lists the problem", () => {
    assert.throws(
      () => loadProducerConfig({ PRODUCER_RATE: "fast" }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(
          error.message,
          'Invalid configuration:\n  - PRODUCER_RATE must be a number from 0.001 to 1000000: got "fast"',
        );
        return true;
      },
    );
  });
});

Deno.test("loadProducerConfig() reports several bad values together", () => {
  assert.deepEqual(
    problemsOf({
      KAFKA_BROKERS: "nope",
      PRODUCER_RATE: "0",
      PRODUCER_INVALID_RATIO: "2",
      LOG_LEVEL: "loud",
    }),
    [
      'KAFKA_BROKERS must be a comma-separated list of host:port: got "nope"',
      'PRODUCER_RATE must be a number from 0.001 to 1000000: got "0"',
      'PRODUCER_INVALID_RATIO must be a number from 0 to 1: got "2"',
      'LOG_LEVEL must be one of debug, info, warn, error: got "loud"',
    ],
  );
});
