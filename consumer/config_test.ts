import assert from "node:assert/strict";
import { ConfigError } from "@iot/shared/runtime";
import { loadConsumerConfig } from "./config.ts";

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConsumerConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

Deno.test("loadConsumerConfig() gives the contract's defaults", () => {
  assert.deepEqual(loadConsumerConfig({}), {
    kafkaBrokers: ["localhost:9092"],
    topic: "iot.sensors",
    groupId: "iot-consumer",
    clientId: "iot-consumer",
    kafkaSecurity: { protocol: "PLAINTEXT" },
    sessionTimeoutMs: 30000,
    metadataMaxAgeMs: 30000,
    fetchMaxBytes: 1048576,
    kafkaConsumerClient: "kafkajs",
    databaseUrl: "postgres://iot:iot@localhost:5432/iot",
    databasePoolSize: 4,
    databaseStatementTimeoutS: 15,
    databaseQueryTimeoutS: 30,
    databaseSynchronousCommit: "off",
    alertRule: { temperatureMax: 35, batteryMin: 15 },
    concurrency: 3,
    rejectMaxStoredBytes: 65536,
    rejectRetentionDays: 30,
    offline: { checkIntervalS: 10, factor: 3, minS: 30, maxS: 3600 },
    offsetMismatchPolicy: "stop",
    deviceState: { futureToleranceS: 300, intervalMinS: 1, intervalMaxS: 3600 },
    monitoring: {
      device: { intervalMinS: 1, intervalMaxS: 3600 },
      anomaly: { alpha: 0.05, warmup: 30, minStddev: 0.1, driftStep: 0.1 },
      alerts: {
        temperatureMax: 35,
        batteryMin: 15,
        clearReadings: 3,
        temperatureHysteresisC: 1,
        batteryHysteresis: 5,
        anomalyZThreshold: 4,
        anomalyClearZ: 3,
        driftThreshold: 6,
        driftClear: 3,
      },
    },
    deviceCacheSize: 10000,
    httpPort: 8080,
    logLevel: "info",
    summaryIntervalS: 10,
    shutdownTimeoutS: 25,
  });
});

/** Files a deployment mounts: PEM CAs and a password. */
function fakeFiles(path: string): string {
  if (path.endsWith(".crt")) {
    return "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  }
  if (path.endsWith("password")) return "s3cret\n";
  throw new Error(`ENOENT: ${path}`);
}

Deno.test("loadConsumerConfig() reads every variable", () => {
  const config = loadConsumerConfig({
    KAFKA_BROKERS: "kafka-0.kafka:9092, kafka-1.kafka:9092",
    KAFKA_TOPIC: "iot.sensors",
    KAFKA_GROUP_ID: "iot-consumer-b",
    KAFKA_CLIENT_ID: "consumer-7",
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    KAFKA_METADATA_MAX_AGE_MS: "1000",
    KAFKA_FETCH_MAX_BYTES: "2097152",
    KAFKA_CONSUMER_CLIENT: "platformatic",
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: "iot-consumer",
    KAFKA_SASL_PASSWORD_FILE: "/etc/iot/kafka-user/password",
    KAFKA_TLS_CA_FILE: "/etc/iot/kafka-ca/ca.crt",
    DATABASE_URL: "postgresql://app:p%40ss@iot-db-rw.default.svc:5432/app?sslmode=verify-full",
    DATABASE_CA_FILE: "/etc/iot/postgres-ca/ca.crt",
    DATABASE_POOL_SIZE: "8",
    DATABASE_STATEMENT_TIMEOUT_S: "2.5",
    DATABASE_QUERY_TIMEOUT_S: "4",
    DATABASE_SYNCHRONOUS_COMMIT: "remote_apply",
    ALERT_TEMPERATURE_MAX: "40.5",
    ALERT_BATTERY_MIN: "10",
    CONSUMER_CONCURRENCY: "8",
    REJECT_MAX_STORED_BYTES: "1024",
    REJECT_RETENTION_DAYS: "0",
    OFFLINE_CHECK_INTERVAL_S: "0",
    OFFLINE_FACTOR: "2.5",
    OFFLINE_MIN_S: "5",
    OFFLINE_MAX_S: "600",
    OFFSET_MISMATCH_POLICY: "restart-from-beginning",
    DEVICE_FUTURE_TOLERANCE_S: "60",
    DEVICE_INTERVAL_MIN_S: "0.5",
    DEVICE_INTERVAL_MAX_S: "900",
    ALERT_CLEAR_READINGS: "5",
    ALERT_TEMPERATURE_HYSTERESIS_C: "0.5",
    ALERT_BATTERY_HYSTERESIS: "2",
    ANOMALY_ALPHA: "0.1",
    ANOMALY_WARMUP: "10",
    ANOMALY_MIN_STDDEV: "0.2",
    ANOMALY_Z_THRESHOLD: "6",
    ANOMALY_CLEAR_Z: "6",
    ANOMALY_DRIFT_STEP: "0.25",
    ANOMALY_DRIFT_THRESHOLD: "9",
    ANOMALY_DRIFT_CLEAR: "4",
    DEVICE_CACHE_SIZE: "0",
    HTTP_PORT: "0",
    LOG_LEVEL: "error",
    LOG_FORMAT: "pretty",
    SUMMARY_INTERVAL_S: "0",
    SHUTDOWN_TIMEOUT_S: "3600",
  }, fakeFiles);
  assert.deepEqual(config, {
    kafkaBrokers: ["kafka-0.kafka:9092", "kafka-1.kafka:9092"],
    topic: "iot.sensors",
    groupId: "iot-consumer-b",
    clientId: "consumer-7",
    kafkaSecurity: {
      protocol: "SASL_SSL",
      sasl: {
        mechanism: "scram-sha-512",
        username: "iot-consumer",
        password: undefined,
        passwordFile: "/etc/iot/kafka-user/password",
      },
      tls: { caFile: "/etc/iot/kafka-ca/ca.crt" },
    },
    sessionTimeoutMs: 6000,
    metadataMaxAgeMs: 1000,
    fetchMaxBytes: 2097152,
    kafkaConsumerClient: "platformatic",
    databaseUrl: "postgresql://app:p%40ss@iot-db-rw.default.svc:5432/app?sslmode=verify-full",
    databaseCaFile: "/etc/iot/postgres-ca/ca.crt",
    databasePoolSize: 8,
    databaseStatementTimeoutS: 2.5,
    databaseQueryTimeoutS: 4,
    databaseSynchronousCommit: "remote_apply",
    alertRule: { temperatureMax: 40.5, batteryMin: 10 },
    concurrency: 8,
    rejectMaxStoredBytes: 1024,
    rejectRetentionDays: 0,
    offline: { checkIntervalS: 0, factor: 2.5, minS: 5, maxS: 600 },
    offsetMismatchPolicy: "restart-from-beginning",
    deviceState: { futureToleranceS: 60, intervalMinS: 0.5, intervalMaxS: 900 },
    monitoring: {
      device: { intervalMinS: 0.5, intervalMaxS: 900 },
      anomaly: { alpha: 0.1, warmup: 10, minStddev: 0.2, driftStep: 0.25 },
      alerts: {
        temperatureMax: 40.5,
        batteryMin: 10,
        clearReadings: 5,
        temperatureHysteresisC: 0.5,
        batteryHysteresis: 2,
        anomalyZThreshold: 6,
        anomalyClearZ: 6,
        driftThreshold: 9,
        driftClear: 4,
      },
    },
    deviceCacheSize: 0,
    httpPort: 0,
    logLevel: "error",
    logFormat: "pretty",
    summaryIntervalS: 0,
    shutdownTimeoutS: 3600,
  });
  assert.ok(Object.isFrozen(config));
});

Deno.test("loadConsumerConfig() refuses every bad value with a ConfigError naming the variable and the value", async (t) => {
  const cases: [string, string, string][] = [
    ["KAFKA_BROKERS", "kafka", "must be a comma-separated list of host:port"],
    ["KAFKA_TOPIC", "iot/sensors", "must be 1-249 characters of letters, digits, '.', '_' or '-'"],
    ["KAFKA_GROUP_ID", "my group", "must be 1-255 printable ASCII characters without spaces"],
    ["KAFKA_CLIENT_ID", "clïent", "must be 1-255 printable ASCII characters without spaces"],
    ["KAFKA_SESSION_TIMEOUT_MS", "5999", "must be an integer from 6000 to 300000"],
    ["KAFKA_SESSION_TIMEOUT_MS", "300001", "must be an integer from 6000 to 300000"],
    ["KAFKA_SESSION_TIMEOUT_MS", "30s", "must be an integer from 6000 to 300000"],
    ["KAFKA_METADATA_MAX_AGE_MS", "999", "must be an integer from 1000 to 300000"],
    ["KAFKA_METADATA_MAX_AGE_MS", "300001", "must be an integer from 1000 to 300000"],
    ["KAFKA_FETCH_MAX_BYTES", "65535", "must be an integer from 65536 to 67108864"],
    ["KAFKA_FETCH_MAX_BYTES", "1MiB", "must be an integer from 65536 to 67108864"],
    ["KAFKA_CONSUMER_CLIENT", "librdkafka", "must be one of kafkajs, platformatic"],
    ["DATABASE_URL", "mysql://iot@db/iot", "must be a postgres:// or postgresql:// URL"],
    ["DATABASE_URL", "localhost:5432", "must be a postgres:// or postgresql:// URL"],
    ["DATABASE_URL", "not a url", "must be a postgres:// or postgresql:// URL"],
    ["DATABASE_POOL_SIZE", "0", "must be an integer from 1 to 100"],
    ["DATABASE_POOL_SIZE", "101", "must be an integer from 1 to 100"],
    ["DATABASE_STATEMENT_TIMEOUT_S", "0", "must be a number from 1 to 3600"],
    ["DATABASE_QUERY_TIMEOUT_S", "3601", "must be a number from 1 to 3600"],
    ["DATABASE_QUERY_TIMEOUT_S", "30s", "must be a number from 1 to 3600"],
    [
      "DATABASE_SYNCHRONOUS_COMMIT",
      "false",
      "must be one of off, local, remote_write, on, remote_apply",
    ],
    ["ALERT_TEMPERATURE_MAX", "hot", "must be a number from -50 to 100"],
    ["ALERT_TEMPERATURE_MAX", "101", "must be a number from -50 to 100"],
    ["ALERT_BATTERY_MIN", "-1", "must be a number from 0 to 100"],
    ["ALERT_BATTERY_MIN", "15%", "must be a number from 0 to 100"],
    ["CONSUMER_CONCURRENCY", "0", "must be an integer from 1 to 64"],
    ["CONSUMER_CONCURRENCY", "1.5", "must be an integer from 1 to 64"],
    ["REJECT_MAX_STORED_BYTES", "1023", "must be an integer from 1024 to 16777216"],
    ["REJECT_MAX_STORED_BYTES", "64KiB", "must be an integer from 1024 to 16777216"],
    ["REJECT_RETENTION_DAYS", "-1", "must be an integer from 0 to 36500"],
    ["HTTP_PORT", "-1", "must be an integer from 0 to 65535"],
    ["LOG_LEVEL", "trace", "must be one of debug, info, warn, error"],
    ["LOG_FORMAT", "text", "must be one of json, pretty"],
    ["SUMMARY_INTERVAL_S", "86401", "must be a number from 0 to 86400"],
    ["SHUTDOWN_TIMEOUT_S", "0", "must be a number from 1 to 3600"],
    ["SHUTDOWN_TIMEOUT_S", "3601", "must be a number from 1 to 3600"],
  ];
  for (const [name, value, rule] of cases) {
    await t.step(`${name}=${value}`, () => {
      assert.deepEqual(problemsOf({ [name]: value }), [
        `${name} ${rule}: got ${JSON.stringify(value)}`,
      ]);
    });
  }
});

Deno.test("loadConsumerConfig() reads the device state's bounds and wants them in order", () => {
  assert.deepEqual(loadConsumerConfig({}).deviceState, {
    futureToleranceS: 300,
    intervalMinS: 1,
    intervalMaxS: 3600,
  });
  assert.deepEqual(
    problemsOf({ DEVICE_INTERVAL_MIN_S: "60", DEVICE_INTERVAL_MAX_S: "30" }),
    ["DEVICE_INTERVAL_MAX_S (30) must be at least DEVICE_INTERVAL_MIN_S (60)"],
  );
});

Deno.test("loadConsumerConfig() wants the offline limit's bounds in order", () => {
  assert.deepEqual(
    problemsOf({ OFFLINE_MIN_S: "60", OFFLINE_MAX_S: "30" }),
    ["OFFLINE_MAX_S (30) must be at least OFFLINE_MIN_S (60)"],
  );
});

Deno.test("loadConsumerConfig() wants ANOMALY_DRIFT_CLEAR at most ANOMALY_DRIFT_THRESHOLD", () => {
  assert.deepEqual(problemsOf({ ANOMALY_DRIFT_THRESHOLD: "2", ANOMALY_DRIFT_CLEAR: "2.5" }), [
    "ANOMALY_DRIFT_CLEAR (2.5) must be at most ANOMALY_DRIFT_THRESHOLD (2)",
  ]);
  const equal = loadConsumerConfig({ ANOMALY_DRIFT_THRESHOLD: "2", ANOMALY_DRIFT_CLEAR: "2" });
  assert.equal(equal.monitoring.alerts.driftClear, 2);
});

Deno.test("loadConsumerConfig() wants ANOMALY_CLEAR_Z at most ANOMALY_Z_THRESHOLD", () => {
  assert.deepEqual(problemsOf({ ANOMALY_Z_THRESHOLD: "3", ANOMALY_CLEAR_Z: "3.5" }), [
    "ANOMALY_CLEAR_Z (3.5) must be at most ANOMALY_Z_THRESHOLD (3)",
  ]);
  const equal = loadConsumerConfig({ ANOMALY_Z_THRESHOLD: "3", ANOMALY_CLEAR_Z: "3" });
  assert.equal(equal.monitoring.alerts.anomalyClearZ, 3);
});

Deno.test("loadConsumerConfig() wants the client's bound on PostgreSQL above the server's", () => {
  const message = "DATABASE_QUERY_TIMEOUT_S (15) must be above DATABASE_STATEMENT_TIMEOUT_S (15)";
  assert.deepEqual(problemsOf({ DATABASE_QUERY_TIMEOUT_S: "15" }), [message]);
  assert.deepEqual(
    problemsOf({ DATABASE_STATEMENT_TIMEOUT_S: "60" }),
    ["DATABASE_QUERY_TIMEOUT_S (30) must be above DATABASE_STATEMENT_TIMEOUT_S (60)"],
  );
  assert.equal(
    loadConsumerConfig({ DATABASE_QUERY_TIMEOUT_S: "15.5" }).databaseQueryTimeoutS,
    15.5,
  );
});

Deno.test("loadConsumerConfig() reports several bad values together", () => {
  assert.deepEqual(
    problemsOf({
      KAFKA_GROUP_ID: "a b",
      DATABASE_URL: "mongodb://db/iot",
      ALERT_BATTERY_MIN: "200",
      HTTP_PORT: "80a",
    }),
    [
      'KAFKA_GROUP_ID must be 1-255 printable ASCII characters without spaces: got "a b"',
      'DATABASE_URL must be a postgres:// or postgresql:// URL: got "mongodb://db/iot"',
      'ALERT_BATTERY_MIN must be a number from 0 to 100: got "200"',
      'HTTP_PORT must be an integer from 0 to 65535: got "80a"',
    ],
  );
});

Deno.test("loadConsumerConfig() masks the DATABASE_URL password in its message", async (t) => {
  const cases: [string, string][] = [
    ["mysql://iot:s3cret@db:3306/iot", "mysql://iot:***@db:3306/iot"],
    ["postgres://iot:s3cret@local host/iot", "postgres://iot:***@local host/iot"],
    ["http://admin:hunter2@db/iot", "http://admin:***@db/iot"],
  ];
  for (const [url, shown] of cases) {
    await t.step(shown, () => {
      const [problem] = problemsOf({ DATABASE_URL: url });
      assert.equal(
        problem,
        `DATABASE_URL must be a postgres:// or postgresql:// URL: got "${shown}"`,
      );
      assert.ok(!problem.includes("s3cret") && !problem.includes("hunter2"));
    });
  }
  await t.step("the ConfigError message carries no password either", () => {
    assert.throws(
      () => loadConsumerConfig({ DATABASE_URL: "mysql://iot:s3cret@db/iot" }),
      (error: unknown) => error instanceof ConfigError && !error.message.includes("s3cret"),
    );
  });
});

Deno.test(
  {
    name:
      "loadConsumerConfig() masks a password containing an unencoded @ or given in key=value form",
  },
  () => {
    const [typo] = problemsOf({ DATABASE_URL: "postgress://iot:p@ss@db/iot" });
    assert.ok(!typo.includes("ss@db"), typo);
    const [keyValue] = problemsOf({ DATABASE_URL: "host=db user=iot password=s3cret dbname=iot" });
    assert.ok(!keyValue.includes("s3cret"), keyValue);
  },
);

Deno.test("loadConsumerConfig() checks DATABASE_CA_FILE and what DATABASE_URL says of TLS", async (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConsumerConfig(env, fakeFiles);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    return [];
  };
  const url = "postgres://app:pw@iot-pg-rw.iot:5432/app";
  await t.step("a readable PEM CA and no sslmode: accepted", () => {
    assert.deepEqual(problems({ DATABASE_URL: url, DATABASE_CA_FILE: "/ca.crt" }), []);
  });
  await t.step("a missing file", () => {
    assert.deepEqual(problems({ DATABASE_URL: url, DATABASE_CA_FILE: "/nope.pem" }), [
      'DATABASE_CA_FILE cannot be read (ENOENT: /nope.pem): got "/nope.pem"',
    ]);
  });
  await t.step("a file without a certificate", () => {
    assert.deepEqual(problems({ DATABASE_URL: url, DATABASE_CA_FILE: "/password" }), [
      'DATABASE_CA_FILE holds no PEM certificate: got "/password"',
    ]);
  });
  await t.step("sslmode=require contradicts the CA", () => {
    assert.deepEqual(
      problems({ DATABASE_URL: `${url}?sslmode=require`, DATABASE_CA_FILE: "/ca.crt" }),
      [
        "DATABASE_URL asks for sslmode=require, which contradicts DATABASE_CA_FILE " +
        "(the certificate and host name are verified): drop sslmode or say verify-full",
      ],
    );
  });
  await t.step("sslrootcert=<file>, which the driver would ignore", () => {
    assert.deepEqual(problems({ DATABASE_URL: `${url}?sslmode=verify-full&sslrootcert=/ca.crt` }), [
      "DATABASE_URL's sslrootcert is not read: name the CA file in DATABASE_CA_FILE",
    ]);
    assert.deepEqual(problems({ DATABASE_URL: `${url}?sslrootcert=system` }), []);
  });
});

Deno.test("loadConsumerConfig() refuses DATABASE_POOL_SIZE below CONSUMER_CONCURRENCY", async (t) => {
  await t.step("both set", () => {
    assert.deepEqual(problemsOf({ DATABASE_POOL_SIZE: "2", CONSUMER_CONCURRENCY: "3" }), [
      "DATABASE_POOL_SIZE (2) must be at least CONSUMER_CONCURRENCY (3): " +
      "each partition in flight holds one connection",
    ]);
  });
  await t.step("concurrency raised above the default pool of 4", () => {
    assert.deepEqual(problemsOf({ CONSUMER_CONCURRENCY: "5" }), [
      "DATABASE_POOL_SIZE (4) must be at least CONSUMER_CONCURRENCY (5): " +
      "each partition in flight holds one connection",
    ]);
  });
  await t.step("equal sizes are accepted", () => {
    const config = loadConsumerConfig({ DATABASE_POOL_SIZE: "3", CONSUMER_CONCURRENCY: "3" });
    assert.equal(config.databasePoolSize, 3);
    assert.equal(config.concurrency, 3);
  });
  await t.step("reported together with other problems", () => {
    assert.deepEqual(
      problemsOf({ DATABASE_POOL_SIZE: "1", CONSUMER_CONCURRENCY: "2", LOG_LEVEL: "x" }),
      [
        'LOG_LEVEL must be one of debug, info, warn, error: got "x"',
        "DATABASE_POOL_SIZE (1) must be at least CONSUMER_CONCURRENCY (2): " +
        "each partition in flight holds one connection",
      ],
    );
  });
});
