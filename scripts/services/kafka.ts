/**
 * Single-node Kafka (KRaft, broker+controller in one JVM) from Maven Central jars.
 * Used by scripts/services.ts; see there for the public API.
 * @module
 */

import { Kafka, logLevel } from "kafkajs";
import {
  assertPortFree,
  CACHE_DIR,
  cmdline,
  envPort,
  fileSize,
  isAlive,
  javaBinary,
  log,
  readPid,
  ROOT,
  run,
  SERVICES_DIR,
  sleep,
  tail,
  waitForExit,
  withTimeout,
} from "./util.ts";
import { ensureLocalTls, type LocalTls } from "./tls.ts";

/** Kafka version; must match scripts/kafka/pom.xml (we also pass it to Maven to be sure). */
export const KAFKA_VERSION = "4.3.1";
const LIBS = `${CACHE_DIR}/kafka/${KAFKA_VERSION}/libs`;
const DIR = `${SERVICES_DIR}/kafka`;
const DATA = `${DIR}/data`;
const PROPS = `${DIR}/server.properties`;
/** Pid file of the broker this checkout started. */
export const KAFKA_PID_FILE = `${DIR}/kafka.pid`;
/** Broker log written by scripts/kafka/log4j2.properties. */
export const KAFKA_LOG = `${DIR}/server.log`;
const STDOUT_LOG = `${DIR}/stdout.log`;
/** Marker written only after a complete Maven copy, so an interrupted install is redone. */
const INSTALLED = `${LIBS}/.installed`;

/** Listener ports of the local broker. */
export interface KafkaPorts {
  /** PLAINTEXT listener: no TLS, no authentication (loopback only). */
  port: number;
  /** KRaft controller listener. */
  controllerPort: number;
  /** SASL_SSL listener: TLS with the local CA, SCRAM-SHA-512, ACLs enforced. */
  saslPort: number;
}

/** Ports from KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_SASL_PORT (9092 / 9093 / 9094). */
export function kafkaPorts(): KafkaPorts {
  return {
    port: envPort("KAFKA_PORT", 9092),
    controllerPort: envPort("KAFKA_CONTROLLER_PORT", 9093),
    saslPort: envPort("KAFKA_SASL_PORT", 9094),
  };
}

/** Bootstrap address of the local broker; 127.0.0.1 not localhost, which may resolve to ::1. */
export const localBrokers = (p: KafkaPorts): string => `127.0.0.1:${p.port}`;

/** Bootstrap address of the local broker's SASL_SSL listener. */
export const localSaslBrokers = (p: KafkaPorts): string => `127.0.0.1:${p.saslPort}`;

/** The SASL mechanism of the local SASL_SSL listener (the one Strimzi's scram-sha-512 uses). */
export const LOCAL_SASL_MECHANISM = "SCRAM-SHA-512";

/**
 * True when a Kafka cluster at `brokers` answers a metadata request (admin listTopics).
 * With `groups`, also a group lookup: a fresh broker creates and loads __consumer_offsets on
 * the first one, and until then consumers crash-and-retry ("coordinator is loading"), so
 * startup waits for it and `up` means "ready for consumer groups".
 */
export async function kafkaAnswers(
  brokers: string,
  opts: { groups?: boolean; timeoutMs?: number } = {},
): Promise<boolean> {
  const admin = new Kafka({
    clientId: "iot-services-probe",
    brokers: brokers.split(",").map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 4000,
    retry: { retries: 0 }, // the callers poll; kafkajs' own backoff would only hide the state
  }).admin();
  try {
    const probe = async () => {
      await admin.connect();
      await admin.listTopics();
      if (opts.groups) await admin.describeGroups(["iot-services-readiness"]);
    };
    await withTimeout(probe(), opts.timeoutMs ?? 5000, "Kafka probe");
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Fetches the broker jars with Maven into .cache/kafka/<version>/libs, once. */
export async function installKafka(): Promise<void> {
  try {
    await Deno.stat(INSTALLED);
    return;
  } catch { /* not installed yet */ }
  const partial = `${LIBS}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.remove(LIBS, { recursive: true }).catch(() => {});
  log("kafka", `installing Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)...`);
  const started = Date.now();
  const mvn = await run([
    "mvn",
    "-B",
    "-q",
    "-Dstyle.color=never",
    `-Dmaven.repo.local=${CACHE_DIR}/m2`,
    `-Dkafka.version=${KAFKA_VERSION}`,
    "-f",
    `${ROOT}/scripts/kafka/pom.xml`,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${partial}`,
  ]).catch((err) => {
    throw new Error(`${err.message} (install Maven 3.8+, Debian package "maven")`);
  });
  if (mvn.code !== 0) throw new Error(`Maven failed to fetch the Kafka jars:\n${mvn.output}`);
  await Deno.rename(partial, LIBS);
  await Deno.writeTextFile(INSTALLED, `${new Date().toISOString()}\n`);
  log("kafka", `installed jars in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Pid of the broker this checkout started, if it still runs; clears a stale pid file. */
export function managedKafkaPid(): number | undefined {
  const pid = readPid(KAFKA_PID_FILE);
  if (pid === undefined) return undefined;
  // Check identity, not just liveness: after a reboot the pid may belong to anything.
  if (isAlive(pid) && cmdline(pid).includes("kafka.Kafka") && cmdline(pid).includes(PROPS)) {
    return pid;
  }
  log("kafka", `removing stale pid file (pid ${pid} is not our broker)`);
  Deno.removeSync(KAFKA_PID_FILE);
  return undefined;
}

/** JVM flags; KAFKA_HEAP_OPTS overrides the heap like Kafka's own scripts allow. */
function jvmArgs(): string[] {
  return [
    ...(Deno.env.get("KAFKA_HEAP_OPTS")?.split(/\s+/) ?? ["-Xms256m", "-Xmx768m"]),
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${ROOT}/scripts/kafka/log4j2.properties`,
    `-Dkafka.logs.dir=${DIR}`,
    "-cp",
    `${LIBS}/*`, // java expands the wildcard itself
  ];
}

function serverProperties(p: KafkaPorts, tls: LocalTls): string {
  const plaintext = `PLAINTEXT://127.0.0.1:${p.port}`;
  const sasl = `SASL_SSL://127.0.0.1:${p.saslPort}`;
  return [
    "# Written by scripts/services.ts on every start; edit there, not here.",
    "process.roles=broker,controller",
    "node.id=1",
    // A static voter set: single node, no --standalone bootstrap or dynamic quorum needed.
    `controller.quorum.voters=1@127.0.0.1:${p.controllerPort}`,
    `listeners=${plaintext},${sasl},CONTROLLER://127.0.0.1:${p.controllerPort}`,
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
    `log.dirs=${DATA}`,
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
function clusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id; // Kafka never issues ids that look like CLI flags
  }
}

/** Log sizes when we last spawned the broker, so errors quote only that run's lines. */
const logMark = { server: 0, stdout: 0 };

/** Polls until the broker answers; fails fast with the log tail if the JVM dies. */
export async function waitForKafka(
  brokers: string,
  pid: number,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await kafkaAnswers(brokers, { groups: true }))) {
    if (!isAlive(pid)) {
      throw new Error(
        `Kafka (pid ${pid}) exited during startup; see ${KAFKA_LOG} ` +
          `and ${STDOUT_LOG}:\n${tail(STDOUT_LOG, 10, logMark.stdout)}\n` +
          tail(KAFKA_LOG, 25, logMark.server),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka did not answer on ${brokers} within ${timeoutMs / 1000}s; ` +
          `see ${KAFKA_LOG}:\n${tail(KAFKA_LOG, 25, logMark.server)}`,
      );
    }
    await sleep(500);
  }
}

/** Installs if needed, formats storage on first use, starts the broker detached, waits. */
export async function startKafka(p: KafkaPorts = kafkaPorts()): Promise<string> {
  await installKafka();
  const javaBin = await javaBinary(17, `Kafka ${KAFKA_VERSION}`);
  assertPortFree(p.port, "KAFKA_PORT", "our broker");
  assertPortFree(p.controllerPort, "KAFKA_CONTROLLER_PORT", "our broker");
  await Deno.mkdir(DATA, { recursive: true });
  await Deno.writeTextFile(PROPS, serverProperties(p, await ensureLocalTls()));
  try {
    await Deno.stat(`${DATA}/meta.properties`);
  } catch {
    log("kafka", `formatting ${DATA}`);
    const tool = [javaBin, ...jvmArgs(), "kafka.tools.StorageTool", "format"];
    await run([...tool, "-t", clusterId(), "-c", PROPS], { check: true });
  }
  const started = Date.now();
  logMark.server = fileSize(KAFKA_LOG);
  logMark.stdout = fileSize(STDOUT_LOG);
  // setsid: its own session, so neither Ctrl-C in the terminal nor the exit of the test or
  // `deno task` process that started it takes the broker down. `sh` reports the java pid.
  const spawn = await run([
    "sh",
    "-c",
    'setsid "$@" >>"$0" 2>&1 </dev/null & echo $!',
    STDOUT_LOG,
    javaBin,
    ...jvmArgs(),
    "kafka.Kafka",
    PROPS,
  ], { check: true });
  const pid = Number(spawn.output);
  await Deno.writeTextFile(KAFKA_PID_FILE, `${pid}\n`);
  log("kafka", `started broker pid ${pid}, waiting for it on ${localBrokers(p)}...`);
  await waitForKafka(localBrokers(p), pid);
  log("kafka", `ready in ${((Date.now() - started) / 1000).toFixed(1)}s (log: ${KAFKA_LOG})`);
  return localBrokers(p);
}

/**
 * Stops the broker this checkout started. SIGTERM is a clean shutdown; SIGKILL simulates a
 * crash. A SIGTERM that does not finish within `timeoutMs` is escalated to SIGKILL.
 * Returns false when there was nothing of ours to stop.
 */
export async function stopKafka(
  signal: "SIGTERM" | "SIGKILL" = "SIGTERM",
  timeoutMs = 60_000,
): Promise<boolean> {
  const pid = managedKafkaPid();
  if (pid === undefined) return false;
  log("kafka", `stopping broker pid ${pid} (${signal})`);
  const kill = (sig: Deno.Signal) => {
    try {
      Deno.kill(pid, sig);
    } catch { /* exited between the check and the signal: that is what we wanted */ }
  };
  kill(signal);
  if (!(await waitForExit(pid, timeoutMs))) {
    log("kafka", `pid ${pid} still running after ${timeoutMs / 1000}s, sending SIGKILL`);
    kill("SIGKILL");
    await waitForExit(pid, 10_000);
  }
  await Deno.remove(KAFKA_PID_FILE).catch(() => {});
  return true;
}

/**
 * Returns a Kafka bootstrap address that answers: KAFKA_BROKERS if set and alive, else our
 * running broker, else a broker someone else runs on our port, else a freshly started one.
 */
export async function ensureKafka(): Promise<string> {
  const fromEnv = Deno.env.get("KAFKA_BROKERS");
  if (fromEnv && await kafkaAnswers(fromEnv)) {
    log("kafka", `using KAFKA_BROKERS=${fromEnv} from the environment`);
    return fromEnv;
  }
  if (fromEnv) log("kafka", `KAFKA_BROKERS=${fromEnv} does not answer; using a local broker`);
  const p = kafkaPorts();
  const pid = managedKafkaPid();
  if (pid !== undefined) {
    const props = await Deno.readTextFile(PROPS);
    if (props !== serverProperties(p, await ensureLocalTls())) {
      throw new Error(
        `our broker (pid ${pid}) runs with other ports or settings than this checkout's ` +
          `(KAFKA_PORT=${p.port}, KAFKA_SASL_PORT=${p.saslPort}); ` +
          "run `deno task services:down` first",
      );
    }
    await waitForKafka(localBrokers(p), pid);
    log("kafka", `reusing running broker pid ${pid} on ${localBrokers(p)}`);
    return localBrokers(p);
  }
  if (await kafkaAnswers(localBrokers(p))) {
    log("kafka", `a broker not started by this checkout answers on ${localBrokers(p)}; using it`);
    return localBrokers(p);
  }
  return await startKafka(p);
}

/**
 * Creates or updates a SCRAM-SHA-512 user on our broker, with Kafka's own ConfigCommand over
 * the PLAINTEXT listener (kafkajs has no API for SCRAM credentials). ACLs are separate: grant
 * them with the admin API (`createAcls`).
 *
 * @param name User name.
 * @param password Its password.
 */
export async function addScramUser(name: string, password: string): Promise<void> {
  const javaBin = await javaBinary(17, `Kafka ${KAFKA_VERSION}`);
  const p = kafkaPorts();
  await run([
    javaBin,
    ...jvmArgs(),
    "kafka.admin.ConfigCommand",
    "--bootstrap-server",
    localBrokers(p),
    "--alter",
    "--entity-type",
    "users",
    "--entity-name",
    name,
    "--add-config",
    `${LOCAL_SASL_MECHANISM}=[password=${password}]`,
  ], { check: true });
}
