/**
 * Chart tests of Kafka and PostgreSQL security: by default a TLS listener with SCRAM-SHA-512,
 * Kafka's ACL authorizer, one KafkaUser per service with the least ACLs, the services configured
 * for them from mounted Secrets, PostgreSQL verified with CloudNativePG's CA, NetworkPolicies on;
 * plaintext only when asked for, with a warning.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CHART_DIR, type K8sObject } from "./testing/helm.ts";
import { env, find, installNotes, podSpec, rendered, renderOk } from "./testing/rendered.ts";
import { SCENARIOS } from "./testing/scenarios.ts";
import { loadConsumerConfig } from "../consumer/config.ts";
import { loadProducerConfig } from "../producer/config.ts";

const DEFAULT = SCENARIOS[0];
const PLAINTEXT = SCENARIOS.find((s) => s.files.includes("ci/plaintext-values.yaml"))!;

/** The ACLs of a KafkaUser as "type name: operations" lines. */
function acls(user: K8sObject): string[] {
  return user.spec.authorization.acls.map((
    a: { resource: { type: string; name: string; patternType: string }; operations: string[] },
  ) => `${a.resource.type} ${a.resource.name} (${a.resource.patternType}): ${a.operations.join()}`);
}

/** The Secret keys a pod mounts, by mount path: "secret/key -> path". */
function mountedSecrets(workload: K8sObject, container: string): string[] {
  const spec = podSpec(workload);
  const c = spec.containers.find((c: { name: string }) => c.name === container);
  return c.volumeMounts.flatMap((m: { name: string; mountPath: string }) => {
    const volume = spec.volumes.find((v: { name: string }) => v.name === m.name);
    if (!volume.secret) return [];
    return volume.secret.items.map((i: { key: string; path: string }) =>
      `${volume.secret.secretName}/${i.key} -> ${m.mountPath}/${i.path}`
    );
  });
}

Deno.test("[chart] Kafka by default: TLS listener, SCRAM-SHA-512, ACL authorizer, least-privilege users", async (t) => {
  const { objects, operands } = await rendered(DEFAULT);
  const kafka = find(operands, "Kafka");
  await t.step("one TLS listener with SCRAM-SHA-512, admitting only the two services", () => {
    const [listener, ...others] = kafka.spec.kafka.listeners;
    assert.deepEqual(others, []);
    assert.deepEqual(
      { ...listener, networkPolicyPeers: undefined },
      {
        name: "tls",
        port: 9093,
        type: "internal",
        tls: true,
        authentication: { type: "scram-sha-512" },
        networkPolicyPeers: undefined,
      },
    );
    assert.deepEqual(
      listener.networkPolicyPeers.map((
        p: { podSelector: { matchLabels: Record<string, string> } },
      ) => p.podSelector.matchLabels["app.kubernetes.io/component"]),
      ["producer", "consumer"],
    );
    assert.deepEqual(kafka.spec.kafka.authorization, { type: "simple" });
    assert.ok(
      kafka.spec.entityOperator.userOperator,
      "the user operator turns KafkaUsers into credentials",
    );
  });
  await t.step("a KafkaUser per service, with only what it needs", () => {
    const users = operands.filter((o) => o.kind === "KafkaUser");
    assert.deepEqual(users.map((u) => u.metadata.name), ["iot-producer", "iot-consumer"]);
    for (const user of users) {
      assert.equal(user.metadata.labels?.["strimzi.io/cluster"], kafka.metadata.name);
      assert.deepEqual(user.spec.authentication, { type: "scram-sha-512" });
      assert.equal(user.spec.authorization.type, "simple");
    }
    assert.deepEqual(acls(users[0]), ["topic iot.sensors (literal): Write,Describe"]);
    assert.deepEqual(acls(users[1]), [
      "topic iot.sensors (literal): Read,Describe",
      "group iot-consumer (literal): Read",
    ]);
  });
  await t.step("the consumer's group ACL follows KAFKA_GROUP_ID", async () => {
    const { operands } = await renderOk({ set: ["consumer.env.KAFKA_GROUP_ID=fleet-b"] });
    const consumer = operands.find((o) =>
      o.kind === "KafkaUser" && o.metadata.name === "iot-consumer"
    )!;
    assert.deepEqual(acls(consumer)[1], "group fleet-b (literal): Read");
    const removed = await renderOk({ set: ["consumer.env.KAFKA_GROUP_ID=null"] });
    const fallback = removed.operands.find((o) =>
      o.kind === "KafkaUser" && o.metadata.name === "iot-consumer"
    )!;
    assert.deepEqual(
      acls(fallback)[1],
      "group iot-consumer (literal): Read",
      "the service's default",
    );
  });
  for (const component of ["producer", "consumer"]) {
    await t.step(`the ${component} connects as its user, with files from the Secrets`, () => {
      const deployment = find(objects, "Deployment", `iot-${component}`);
      const vars = env(deployment, component);
      assert.equal(vars.get("KAFKA_BROKERS")?.value, "iot-kafka-bootstrap:9093");
      assert.equal(vars.get("KAFKA_SECURITY_PROTOCOL")?.value, "SASL_SSL");
      assert.equal(vars.get("KAFKA_SASL_MECHANISM")?.value, "scram-sha-512");
      assert.equal(vars.get("KAFKA_SASL_USERNAME")?.value, `iot-${component}`);
      assert.equal(vars.get("KAFKA_SASL_PASSWORD"), undefined, "the password is never in the env");
      const mounts = mountedSecrets(deployment, component);
      const expected = [
        `iot-${component}/password -> /etc/iot/kafka-user/password`,
        "iot-cluster-ca-cert/ca.crt -> /etc/iot/kafka-ca/ca.crt",
        ...(component === "consumer" ? ["iot-pg-ca/ca.crt -> /etc/iot/postgres-ca/ca.crt"] : []),
      ];
      assert.deepEqual(mounts, expected);
      assert.ok(mounts.some((m) => m.endsWith(vars.get("KAFKA_SASL_PASSWORD_FILE")!.value!)));
      assert.ok(mounts.some((m) => m.endsWith(vars.get("KAFKA_TLS_CA_FILE")!.value!)));
    });
  }
  await t.step("the services' own config loaders accept the chart's settings", () => {
    // The mounted files, as the kubelet would project them.
    const files: Record<string, string> = {
      "/etc/iot/kafka-user/password": "from-the-secret\n",
      "/etc/iot/kafka-ca/ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      "/etc/iot/postgres-ca/ca.crt":
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    };
    const readFile = (path: string) => {
      if (path in files) return files[path];
      throw new Error(`not mounted: ${path}`);
    };
    const plain = (component: string) => {
      const vars = env(find(objects, "Deployment", `iot-${component}`), component);
      return Object.fromEntries(
        [...vars].filter(([, e]) => e.value !== undefined).map(([k, e]) => [k, e.value!]),
      );
    };
    const producer = loadProducerConfig(plain("producer"), 1, readFile);
    assert.equal(producer.kafkaSecurity.protocol, "SASL_SSL");
    const consumer = loadConsumerConfig(
      { ...plain("consumer"), DATABASE_URL: "postgresql://iot:x@iot-pg-rw.iot:5432/iot" },
      readFile,
    );
    assert.equal(consumer.databaseCaFile, "/etc/iot/postgres-ca/ca.crt");
  });
  await t.step("the services' NetworkPolicies allow egress to the TLS port only", () => {
    for (const component of ["producer", "consumer"]) {
      const policy = find(objects, "NetworkPolicy", `iot-${component}`);
      const kafkaRule = policy.spec.egress.find((
        r: { to?: { podSelector?: { matchLabels: Record<string, string> } }[] },
      ) => r.to?.some((p) => p.podSelector?.matchLabels["strimzi.io/kind"] === "Kafka"));
      assert.deepEqual(kafkaRule.ports, [{ port: 9093, protocol: "TCP" }]);
    }
  });
});

Deno.test("[chart] PostgreSQL: the consumer and helm test verify CloudNativePG's certificate", async () => {
  const { objects } = await rendered(DEFAULT);
  const consumer = env(find(objects, "Deployment", "iot-consumer"), "consumer");
  assert.equal(consumer.get("DATABASE_CA_FILE")?.value, "/etc/iot/postgres-ca/ca.crt");
  const test = objects.find((o) =>
    o.kind === "Pod" && o.metadata.annotations?.["helm.sh/hook"] === "test"
  )!;
  const vars = env(test, "psql");
  assert.equal(vars.get("PGSSLMODE")?.value, "verify-full");
  assert.deepEqual(mountedSecrets(test, "psql"), [
    "iot-pg-ca/ca.crt -> /etc/iot/postgres-ca/ca.crt",
  ]);
  assert.equal(vars.get("PGSSLROOTCERT")?.value, "/etc/iot/postgres-ca/ca.crt");
});

Deno.test("[chart] plaintext only when asked for: no users, no authorizer, a warning", async () => {
  const { objects, operands } = await rendered(PLAINTEXT);
  const kafka = find(operands, "Kafka");
  assert.deepEqual(kafka.spec.kafka.listeners, [
    { name: "plain", port: 9092, type: "internal", tls: false },
  ]);
  assert.equal(kafka.spec.kafka.authorization, undefined);
  assert.deepEqual(operands.filter((o) => o.kind === "KafkaUser"), []);
  const producer = env(find(objects, "Deployment", "iot-producer"), "producer");
  assert.equal(
    producer.get("KAFKA_SECURITY_PROTOCOL"),
    undefined,
    "the services' default: PLAINTEXT",
  );
  assert.equal(producer.get("KAFKA_BROKERS")?.value, "iot-kafka-bootstrap:9092");
  assert.deepEqual(objects.filter((o) => o.kind === "NetworkPolicy"), []);
  const notes = await installNotes("--values", `${CHART_DIR}/ci/plaintext-values.yaml`);
  assert.match(notes, /WARNING: kafka\.security=plaintext: Kafka listens on port 9092 with no TLS/);
  assert.match(notes, /networkPolicy\.enabled=false lets every pod reach it/);
});

Deno.test("[chart] KEDA's kafka trigger reads the lag as a user that may only describe", async () => {
  const keda = SCENARIOS.find((s) => s.files.includes("ci/keda-values.yaml"))!;
  const { objects, operands } = await rendered(keda);
  const user = find(operands, "KafkaUser", "iot-keda");
  assert.deepEqual(acls(user), [
    "topic iot.sensors (literal): Describe",
    "group iot-consumer (literal): Describe",
  ]);
  const trigger = find(objects, "ScaledObject").spec.triggers[0];
  assert.equal(trigger.metadata.bootstrapServers, "iot-kafka-bootstrap:9093");
  assert.deepEqual([trigger.metadata.tls, trigger.metadata.sasl], ["enable", "scram_sha512"]);
  const auth = find(objects, "TriggerAuthentication", trigger.authenticationRef.name);
  assert.deepEqual(auth.spec.secretTargetRef, [
    { parameter: "password", name: "iot-keda", key: "password" },
    { parameter: "ca", name: "iot-cluster-ca-cert", key: "ca.crt" },
  ]);
  const [ref] = auth.spec.configMapTargetRef;
  assert.equal(find(objects, "ConfigMap", ref.name).data[ref.key], "iot-keda");
  const peers = find(operands, "Kafka").spec.kafka.listeners[0].networkPolicyPeers;
  assert.deepEqual(peers.at(-1).podSelector, { matchLabels: { app: "keda-operator" } });
});
