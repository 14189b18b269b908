/**
 * Integration: producer and consumer through the fixture broker's SASL_SSL listener (TLS with
 * the local CA, SCRAM-SHA-512, ACLs enforced), each with its own user holding only the ACLs the
 * chart's KafkaUsers grant. Then the failures an operator meets, each named in plain words:
 * a wrong password, a user without the ACL, a CA that did not sign the broker's certificate; for
 * the consumer (kafkajs) and for the producer (@platformatic/kafka).
 */

import assert from "node:assert/strict";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
} from "kafkajs";
import postgres from "postgres";
import { makeCa } from "../scripts/openssl.ts";
import { ServiceProcess, startConsumer, waitForDrain } from "./processes.ts";
import {
  createKafkaUser,
  createTopic,
  dropDatabase,
  freshDatabase,
  kafkaClient,
  secureKafka,
  uniqueName,
} from "./services.ts";

/** Grants `user` the operations on the topic (and group), as the chart's KafkaUser does. */
async function grant(
  user: string,
  topic: string,
  topicOperations: AclOperationTypes[],
  group?: string,
): Promise<void> {
  const admin = (await kafkaClient("iot-test-acls")).admin();
  await admin.connect();
  try {
    const principal = `User:${user}`;
    const entry = (
      resourceType: AclResourceTypes,
      resourceName: string,
      operation: AclOperationTypes,
    ) => ({
      resourceType,
      resourceName,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal,
      host: "*",
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
    await admin.createAcls({
      acl: [
        ...topicOperations.map((op) => entry(AclResourceTypes.TOPIC, topic, op)),
        ...(group ? [entry(AclResourceTypes.GROUP, group, AclOperationTypes.READ)] : []),
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Writes a password file readable by its owner only, as a mounted Secret would be. */
async function passwordFile(dir: string, name: string, password: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `${password}\n`, { mode: 0o600 });
  return path;
}

Deno.test({
  name: "[integration] producer and consumer work through SASL_SSL with least-privilege users; " +
    "wrong credentials, missing ACLs and an untrusted CA are named, not crash-looped",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const kafka = await secureKafka();
    const topic = uniqueName("sasl_it");
    const group = `${topic}_group`;
    await createTopic(topic, 3);
    const databaseUrl = await freshDatabase(topic);
    const dir = await Deno.makeTempDir({ prefix: "iot-sasl-" });
    const secret = () => crypto.randomUUID();
    const producerUser = { name: `${topic}-producer`, password: secret() };
    const consumerUser = { name: `${topic}-consumer`, password: secret() };
    await createKafkaUser(producerUser.name, producerUser.password);
    await createKafkaUser(consumerUser.name, consumerUser.password);
    await grant(producerUser.name, topic, [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE]);
    await grant(
      consumerUser.name,
      topic,
      [AclOperationTypes.READ, AclOperationTypes.DESCRIBE],
      group,
    );
    const secure = (user: { name: string; password: string }, file: string) => ({
      KAFKA_BROKERS: kafka.brokers,
      KAFKA_TOPIC: topic,
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_MECHANISM: kafka.mechanism,
      KAFKA_SASL_USERNAME: user.name,
      KAFKA_SASL_PASSWORD_FILE: file,
      KAFKA_TLS_CA_FILE: kafka.caFile,
    });
    const producerFile = await passwordFile(dir, "producer", producerUser.password);
    const consumerFile = await passwordFile(dir, "consumer", consumerUser.password);
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await t.step("200 events go through SASL_SSL into PostgreSQL", async () => {
        const producer = new ServiceProcess("producer/main.ts", {
          ...secure(producerUser, producerFile),
          PRODUCER_COUNT: "200",
          PRODUCER_RATE: "1000",
          PRODUCER_SEED: "7",
        });
        const status = await producer.exited();
        assert.equal(status.code, 0, JSON.stringify(producer.logs.slice(-5)));
        const consumer = await startConsumer({
          ...secure(consumerUser, consumerFile),
          KAFKA_GROUP_ID: group,
          DATABASE_URL: databaseUrl,
        });
        try {
          await waitForDrain(sql, group, topic);
          const [{ count }] = await sql<{ count: string }[]>`
            SELECT count(*)::text AS count FROM tb_sensor_evento`;
          assert.equal(count, "200");
          const started = consumer.logs.find((l) => l.msg === "consumer starting");
          assert.equal(started?.kafkaSecurityProtocol, "SASL_SSL");
          assert.ok(!JSON.stringify(consumer.logs).includes(consumerUser.password));
        } finally {
          consumer.signal("SIGTERM");
          assert.equal((await consumer.exited()).code, 0);
        }
      });

      /** Starts the consumer, waits for its error line, checks readiness, stops it cleanly. */
      const failsNamed = async (
        env: Record<string, string>,
        message: RegExp,
        reason: string,
      ) => {
        const consumer = new ServiceProcess("consumer/main.ts", {
          ...env,
          KAFKA_GROUP_ID: group,
          DATABASE_URL: databaseUrl,
        });
        try {
          const line = await consumer.waitForLog((l) => l.level === "error");
          assert.match(String(line.msg), message, JSON.stringify(line));
          assert.equal(line.retryInMs, 30_000, "retried slowly, not in a tight loop");
          const ready = await consumer.get("/readyz");
          assert.equal(ready.status, 503);
          const { reasons } = await ready.json();
          assert.ok(reasons.includes(`kafka: ${reason}`), JSON.stringify(reasons));
          consumer.signal("SIGTERM");
          assert.equal((await consumer.exited()).code, 0, "still running until told to stop");
        } finally {
          await consumer.dispose();
        }
      };

      await t.step("a wrong password: an error naming the user and the password file", async () => {
        const wrong = await passwordFile(dir, "wrong", "not-the-password");
        await failsNamed(
          secure(consumerUser, wrong),
          new RegExp(
            `Kafka refused the credentials of KAFKA_SASL_USERNAME="${consumerUser.name}".*` +
              `KAFKA_SASL_PASSWORD_FILE \\(${wrong}\\)`,
          ),
          "authentication failed",
        );
      });

      await t.step("the producer's user may not read: ACLs are enforced", async () => {
        await failsNamed(
          secure(producerUser, producerFile),
          new RegExp(`Kafka denied KAFKA_SASL_USERNAME="${producerUser.name}"`),
          "not authorized",
        );
      });

      await t.step("a CA that did not sign the broker's certificate: named", async () => {
        const caDir = `${dir}/other-ca`;
        await Deno.mkdir(caDir);
        await makeCa(caDir, "/CN=some other CA", 1);
        const otherCa = `${caDir}/ca.crt`;
        await failsNamed(
          { ...secure(consumerUser, consumerFile), KAFKA_TLS_CA_FILE: otherCa },
          /the broker's TLS certificate was not accepted: KAFKA_TLS_CA_FILE=/,
          "TLS handshake failed",
        );
      });

      /** Starts the producer, waits for its error line and readiness; SIGTERM ends it. */
      const producerFailsNamed = async (
        env: Record<string, string>,
        message: RegExp,
        reason: string,
        exitCode: number,
      ) => {
        const producer = new ServiceProcess("producer/main.ts", { ...env, PRODUCER_RATE: "10" });
        try {
          const line = await producer.waitForLog((l) => l.level === "error");
          assert.match(String(line.msg), message, JSON.stringify(line));
          const ready = await producer.get("/readyz");
          assert.equal(ready.status, 503);
          const { reasons } = await ready.json();
          assert.ok(reasons.includes(`kafka: ${reason}`), JSON.stringify(reasons));
          producer.signal("SIGTERM");
          assert.equal((await producer.exited()).code, exitCode, JSON.stringify(producer.logs));
        } finally {
          await producer.dispose();
        }
      };

      await t.step("the producer with a wrong password: named, as the consumer", async () => {
        const wrong = await passwordFile(dir, "wrong-producer", "not-the-password");
        await producerFailsNamed(
          secure(producerUser, wrong),
          new RegExp(
            `Kafka refused the credentials of KAFKA_SASL_USERNAME="${producerUser.name}".*` +
              `KAFKA_SASL_PASSWORD_FILE \\(${wrong}\\)`,
          ),
          "authentication failed",
          0,
        );
      });

      await t.step("the producer as a user that may not write: named on the send", async () => {
        // Stopped while its batch is refused: that batch was not acknowledged, hence exit 1.
        await producerFailsNamed(
          secure(consumerUser, consumerFile),
          new RegExp(`Kafka denied KAFKA_SASL_USERNAME="${consumerUser.name}"`),
          "not authorized",
          1,
        );
      });

      await t.step("the producer with a CA that did not sign the certificate: named", async () => {
        await producerFailsNamed(
          { ...secure(producerUser, producerFile), KAFKA_TLS_CA_FILE: `${dir}/other-ca/ca.crt` },
          /the broker's TLS certificate was not accepted: KAFKA_TLS_CA_FILE=/,
          "TLS handshake failed",
          0,
        );
      });
    } finally {
      await sql.end({ timeout: 5 });
      await dropDatabase(topic);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
