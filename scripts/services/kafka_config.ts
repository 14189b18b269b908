/**
 * The local broker's configuration: its server.properties (listeners, SASL_SSL with the local CA,
 * the authorizer, single-node settings) and its JVM flags, as a stack wants them.
 * @module
 */

import { ROOT } from "../repo.ts";
import { type StackConfig, type StackPaths, stackPaths, type StackPorts } from "./stack_config.ts";
import { ensureLocalTls, type LocalTls } from "./tls.ts";

/** The SASL mechanism of the local SASL_SSL listener (the one Strimzi's scram-sha-512 uses). */
export const LOCAL_SASL_MECHANISM = "SCRAM-SHA-512";

/** JVM flags of the broker and of Kafka's tools. */
export function jvmArgs(stack: StackConfig, libs: string): string[] {
  return [
    ...stack.kafkaHeapOpts,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${ROOT}/scripts/kafka/log4j2.properties`,
    `-Dkafka.logs.dir=${stackPaths(stack.dir).kafkaDir}`,
    "-cp",
    `${libs}/*`, // java expands the wildcard itself
  ];
}

function serverProperties(p: StackPorts, paths: StackPaths, tls: LocalTls): string {
  const plaintext = `PLAINTEXT://127.0.0.1:${p.kafka}`;
  const sasl = `SASL_SSL://127.0.0.1:${p.sasl}`;
  return [
    "# Written by scripts/services.ts on every start; edit there, not here.",
    "process.roles=broker,controller",
    "node.id=1",
    // A static voter set: single node, no --standalone bootstrap or dynamic quorum needed.
    `controller.quorum.voters=1@127.0.0.1:${p.controller}`,
    `listeners=${plaintext},${sasl},CONTROLLER://127.0.0.1:${p.controller}`,
    `advertised.listeners=${plaintext},${sasl}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
    // The SASL_SSL listener is the one the Kubernetes chart uses: TLS, SCRAM-SHA-512 users and
    // ACLs. Users are added with `addScramUser`, ACLs with the Kafka admin API.
    `sasl.enabled.mechanisms=${LOCAL_SASL_MECHANISM}`,
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=" +
    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "ssl.keystore.type=PEM",
    `ssl.keystore.location=${tls.keystoreFile}`,
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    // Plaintext and controller connections are ANONYMOUS: loopback-only development traffic,
    // allowed everything, as it was before ACLs. SCRAM users get only what their ACLs grant.
    "super.users=User:ANONYMOUS",
    `log.dirs=${paths.kafkaData}`,
    "num.partitions=6",
    // Topics are created deliberately (consumer setup, tests); typos must fail, not auto-create.
    "auto.create.topics.enable=false",
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "offsets.topic.replication.factor=1",
    // Fewer internal partitions: faster first group join and restart recovery on 2 cores.
    "offsets.topic.num.partitions=6",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    // Tests join groups constantly; the default 3 s delay would be pure waiting.
    "group.initial.rebalance.delay.ms=0",
    // After a SIGKILL the restarted broker cannot register until the dead incarnation's
    // session expires (default 9 s); loopback heartbeats make a shorter session safe and
    // fault-injection restarts quicker.
    "broker.heartbeat.interval.ms=1000",
    "broker.session.timeout.ms=4000",
    "",
  ].join("\n");
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what random-uuid prints). */
export function clusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id; // Kafka never issues ids that look like CLI flags
  }
}

/** The broker's server.properties as `stack` wants it. */
export async function wantedProperties(stack: StackConfig): Promise<string> {
  const paths = stackPaths(stack.dir);
  return serverProperties(stack.ports, paths, await ensureLocalTls(paths.tlsDir));
}
