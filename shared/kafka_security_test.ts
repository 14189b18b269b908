import assert from "node:assert/strict";
import { ConfigError, EnvReader } from "./env.ts";
import {
  explainKafkaFailure,
  kafkaConnectionOptions,
  type KafkaSecurity,
  readKafkaSecurity,
} from "./kafka_security.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/** A file system of a few mounted files. */
function files(contents: Record<string, string>) {
  const reads: string[] = [];
  const readFile = (path: string) => {
    reads.push(path);
    if (path in contents) return contents[path];
    throw new Error(`No such file or directory: ${path}`);
  };
  return { readFile, reads };
}

function problems(env: Record<string, string>, readFile = files({}).readFile): string[] {
  const read = new EnvReader(env);
  readKafkaSecurity(read, readFile);
  try {
    read.done();
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  return [];
}

Deno.test("readKafkaSecurity() defaults to PLAINTEXT with nothing else", () => {
  const read = new EnvReader({});
  assert.deepEqual(readKafkaSecurity(read), { protocol: "PLAINTEXT" });
  read.done();
});

Deno.test("readKafkaSecurity() reads SASL_SSL as the chart sets it", () => {
  const { readFile } = files({ "/ca/ca.crt": PEM, "/user/password": "pw\n" });
  const read = new EnvReader({
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_USERNAME: "iot-consumer",
    KAFKA_SASL_PASSWORD_FILE: "/user/password",
    KAFKA_TLS_CA_FILE: "/ca/ca.crt",
  });
  assert.deepEqual(readKafkaSecurity(read, readFile), {
    protocol: "SASL_SSL",
    sasl: {
      mechanism: "scram-sha-512",
      username: "iot-consumer",
      password: undefined,
      passwordFile: "/user/password",
    },
    tls: { caFile: "/ca/ca.crt" },
  });
  read.done();
});

Deno.test("readKafkaSecurity() reports every contradiction and unusable file", async (t) => {
  await t.step("SASL without a user or a password", () => {
    assert.deepEqual(problems({ KAFKA_SECURITY_PROTOCOL: "SASL_SSL" }), [
      "KAFKA_SASL_USERNAME must be set when KAFKA_SECURITY_PROTOCOL=SASL_SSL",
      "exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE must be set when " +
      "KAFKA_SECURITY_PROTOCOL=SASL_SSL",
    ]);
  });
  await t.step("both password forms", () => {
    const { readFile } = files({ "/p": "pw" });
    assert.deepEqual(
      problems({
        KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD: "pw",
        KAFKA_SASL_PASSWORD_FILE: "/p",
      }, readFile),
      [
        "exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE must be set when " +
        "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT",
      ],
    );
  });
  await t.step("unreadable and empty files, a CA file without a certificate", () => {
    const { readFile } = files({ "/empty": "\n", "/ca": "not a certificate" });
    assert.deepEqual(
      problems({
        KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD_FILE: "/empty",
        KAFKA_TLS_CA_FILE: "/ca",
      }, readFile),
      [
        'KAFKA_SASL_PASSWORD_FILE is empty: got "/empty"',
        'KAFKA_TLS_CA_FILE holds no PEM certificate: got "/ca"',
      ],
    );
    assert.deepEqual(
      problems({ KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_TLS_CA_FILE: "/missing" }, readFile),
      [
        'KAFKA_TLS_CA_FILE cannot be read (No such file or directory: /missing): got "/missing"',
      ],
    );
  });
  await t.step("credentials or a CA that the protocol would silently ignore", () => {
    assert.deepEqual(
      problems({ KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "pw", KAFKA_TLS_CA_FILE: "/ca" }),
      [
        "KAFKA_SASL_USERNAME is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT sends no credentials",
        "KAFKA_SASL_PASSWORD is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT sends no credentials",
        "KAFKA_TLS_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT uses no TLS",
      ],
    );
  });
  await t.step("an unknown protocol or mechanism", () => {
    assert.deepEqual(problems({ KAFKA_SECURITY_PROTOCOL: "TLS" }), [
      'KAFKA_SECURITY_PROTOCOL must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL: got "TLS"',
    ]);
    assert.deepEqual(
      problems({
        KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD: "pw",
      }),
      [
        "KAFKA_SASL_MECHANISM must be one of scram-sha-512, scram-sha-256, plain: " +
        'got "SCRAM-SHA-512"',
      ],
    );
  });
});

Deno.test("kafkaConnectionOptions() reads the password file at every call (rotation)", () => {
  const contents: Record<string, string> = { "/ca": PEM, "/p": "first\n" };
  const { readFile, reads } = files(contents);
  const security: KafkaSecurity = {
    protocol: "SASL_SSL",
    sasl: { mechanism: "scram-sha-512", username: "u", passwordFile: "/p" },
    tls: { caFile: "/ca" },
  };
  assert.deepEqual(kafkaConnectionOptions(security, readFile), {
    ssl: { ca: [PEM], rejectUnauthorized: true },
    sasl: { mechanism: "scram-sha-512", username: "u", password: "first" },
  });
  contents["/p"] = "second";
  assert.equal(kafkaConnectionOptions(security, readFile).sasl?.password, "second");
  assert.deepEqual(reads, ["/ca", "/p", "/ca", "/p"]);
  assert.deepEqual(kafkaConnectionOptions({ protocol: "PLAINTEXT" }, readFile), {});
  assert.deepEqual(kafkaConnectionOptions({ protocol: "SSL", tls: {} }, readFile), {
    ssl: { ca: undefined, rejectUnauthorized: true },
  });
});

Deno.test("explainKafkaFailure() names the setting behind each failure kafkajs reports", async (t) => {
  const security: KafkaSecurity = {
    protocol: "SASL_SSL",
    sasl: { mechanism: "scram-sha-512", username: "iot-consumer", passwordFile: "/p" },
    tls: { caFile: "/ca.crt" },
  };
  /** An error shaped as kafkajs 2.2.4 threw it against the local SASL_SSL listener. */
  const kafkajsError = (name: string, message: string, cause?: Error) =>
    Object.assign(new Error(message, { cause }), { name });
  await t.step("a wrong password", () => {
    const error = kafkajsError(
      "KafkaJSSASLAuthenticationError",
      "SASL SCRAM SHA512 authentication failed: Authentication failed during authentication " +
        "due to invalid credentials with SASL mechanism SCRAM-SHA-512",
    );
    const failure = explainKafkaFailure(error, security);
    assert.equal(failure?.reason, "authentication failed");
    assert.equal(
      failure?.message,
      'Kafka refused the credentials of KAFKA_SASL_USERNAME="iot-consumer" with ' +
        "KAFKA_SASL_MECHANISM=scram-sha-512: check the user exists and " +
        "KAFKA_SASL_PASSWORD_FILE (/p) holds its password",
    );
  });
  await t.step("an untrusted certificate, behind kafkajs's retries", () => {
    const error = kafkajsError(
      "KafkaJSNumberOfRetriesExceeded",
      "Connection error: unable to verify the first certificate",
      kafkajsError(
        "KafkaJSConnectionError",
        "Connection error: unable to verify the first certificate",
      ),
    );
    const failure = explainKafkaFailure(error, security);
    assert.equal(failure?.reason, "TLS handshake failed");
    assert.match(failure!.message, /KAFKA_TLS_CA_FILE="\/ca.crt" must hold the CA/);
  });
  await t.step("a denied topic", () => {
    const error = Object.assign(
      kafkajsError(
        "KafkaJSProtocolError",
        "Not authorized to access topics: [Topic authorization failed]",
      ),
      { type: "TOPIC_AUTHORIZATION_FAILED" },
    );
    assert.equal(explainKafkaFailure(error, security)?.reason, "not authorized");
  });
  await t.step("no coordinator for the group: denied only when SASL is on", () => {
    const error = kafkajsError(
      "KafkaJSGroupCoordinatorNotFound",
      "Failed to find group coordinator",
    );
    assert.match(
      explainKafkaFailure(error, security, "iot-consumer")!.message,
      /denied KAFKA_SASL_USERNAME="iot-consumer" the group KAFKA_GROUP_ID="iot-consumer"/,
    );
    assert.equal(explainKafkaFailure(error, { protocol: "PLAINTEXT" }, "iot-consumer"), undefined);
  });
  await t.step("a broker that is down is no setting's fault", () => {
    const error = kafkajsError(
      "KafkaJSConnectionError",
      "Connection error: connect ECONNREFUSED 127.0.0.1:9094",
    );
    assert.equal(explainKafkaFailure(error, security), undefined);
  });
});

Deno.test("explainKafkaFailure() reads @platformatic/kafka's aggregated errors", async (t) => {
  const security: KafkaSecurity = {
    protocol: "SASL_SSL",
    sasl: { mechanism: "scram-sha-512", username: "iot-producer", password: "x" },
    tls: {},
  };
  /**
   * Errors shaped as @platformatic/kafka 2.12.1 builds them (its classes cannot be imported here:
   * the package reads the environment when loaded): `MultipleErrors` is an AggregateError, and a
   * Kafka error code is in `apiId`.
   */
  const generic = (code: string, message: string, fields: object = {}, cause?: Error) =>
    Object.assign(new Error(message, { cause }), { code, ...fields });
  const multiple = (message: string, errors: Error[]) =>
    Object.assign(new AggregateError(errors, message), { code: "PLT_KFK_MULTIPLE" });
  await t.step("a wrong password, inside 'cannot connect to any broker'", () => {
    const error = multiple("Cannot connect to any broker.", [
      generic(
        "PLT_KFK_NETWORK",
        "Connection to localhost:9094 failed.",
        {},
        generic("PLT_KFK_AUTHENTICATION", "SASL authentication failed."),
      ),
    ]);
    assert.equal(explainKafkaFailure(error, security)?.reason, "authentication failed");
  });
  await t.step("a refused write: Kafka's error code in apiId", () => {
    const error = multiple("Received response with error while executing API Produce(v11)", [
      generic("PLT_KFK_PROTOCOL", "Topic authorization failed.", {
        apiId: "TOPIC_AUTHORIZATION_FAILED",
      }),
    ]);
    const failure = explainKafkaFailure(error, security);
    assert.equal(failure?.reason, "not authorized");
    assert.match(failure!.message, /denied KAFKA_SASL_USERNAME="iot-producer"/);
  });
  await t.step("a broker that is down is no setting's fault", () => {
    const error = multiple("Cannot connect to any broker.", [
      generic(
        "PLT_KFK_NETWORK",
        "Connection to localhost:9094 failed.",
        {},
        new Error("connect ECONNREFUSED 127.0.0.1:9094"),
      ),
    ]);
    assert.equal(explainKafkaFailure(error, security), undefined);
  });
});
