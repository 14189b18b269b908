/**
 * Single-node Kafka (KRaft, broker+controller in one JVM) from Maven Central jars.
 * Used by scripts/services.ts; see there for the public API.
 * @module
 */

import { Kafka, logLevel } from "kafkajs";
import { run } from "../command.ts";
import { copyDependencies } from "../maven.ts";
import { CACHE_DIR, ROOT } from "../repo.ts";
import { localBrokers, portVariable, type StackConfig, stackPaths } from "./stack_config.ts";
import { clusterId, jvmArgs, LOCAL_SASL_MECHANISM, wantedProperties } from "./kafka_config.ts";
import {
  assertPortFree,
  cmdline,
  fileSize,
  isAlive,
  javaBinary,
  log,
  readPid,
  sleep,
  tail,
  waitForExit,
  withTimeout,
} from "./util.ts";

/** Kafka version; must match scripts/kafka/pom.xml (we also pass it to Maven to be sure). */
export const KAFKA_VERSION = "4.3.1";
const LIBS = `${CACHE_DIR}/kafka/${KAFKA_VERSION}/libs`;
/** Marker written only after a complete Maven copy, so an interrupted install is redone. */
const INSTALLED = `${LIBS}/.installed`;

export { LOCAL_SASL_MECHANISM };

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
  await copyDependencies({
    pom: `${ROOT}/scripts/kafka/pom.xml`,
    outputDir: partial,
    properties: { "kafka.version": KAFKA_VERSION },
    log: (line) => log("kafka", line),
  });
  await Deno.rename(partial, LIBS);
  await Deno.writeTextFile(INSTALLED, `${new Date().toISOString()}\n`);
  log("kafka", `installed jars in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Pid of the broker `stack` started, if it still runs; clears a stale pid file. */
export function managedKafkaPid(stack: StackConfig): number | undefined {
  const { kafkaPidFile, kafkaProps } = stackPaths(stack.dir);
  const pid = readPid(kafkaPidFile);
  if (pid === undefined) return undefined;
  // Check identity, not just liveness: after a reboot the pid may belong to anything.
  if (isAlive(pid) && cmdline(pid).includes("kafka.Kafka") && cmdline(pid).includes(kafkaProps)) {
    return pid;
  }
  log("kafka", `removing stale pid file (pid ${pid} is not our broker)`);
  Deno.removeSync(kafkaPidFile);
  return undefined;
}

/** Log sizes before a start, so errors quote only that run's lines. */
interface LogMark {
  server: number;
  stdout: number;
}

/** Polls until the broker answers; fails fast with the log tail if the JVM dies. */
async function waitForKafka(
  stack: StackConfig,
  pid: number,
  mark: LogMark = { server: 0, stdout: 0 },
  timeoutMs = 120_000,
): Promise<void> {
  const { kafkaLog, kafkaStdoutLog } = stackPaths(stack.dir);
  const brokers = localBrokers(stack.ports);
  const deadline = Date.now() + timeoutMs;
  while (!(await kafkaAnswers(brokers, { groups: true }))) {
    if (!isAlive(pid)) {
      throw new Error(
        `Kafka (pid ${pid}) exited during startup; see ${kafkaLog} ` +
          `and ${kafkaStdoutLog}:\n${tail(kafkaStdoutLog, 10, mark.stdout)}\n` +
          tail(kafkaLog, 25, mark.server),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka did not answer on ${brokers} within ${timeoutMs / 1000}s; ` +
          `see ${kafkaLog}:\n${tail(kafkaLog, 25, mark.server)}`,
      );
    }
    await sleep(500);
  }
}

/** Installs if needed, formats storage on first use, starts the broker detached, waits. */
export async function startKafka(stack: StackConfig): Promise<string> {
  await installKafka();
  const javaBin = await javaBinary(17, `Kafka ${KAFKA_VERSION}`);
  const paths = stackPaths(stack.dir);
  const p = stack.ports;
  assertPortFree(p.kafka, portVariable(stack, "kafka"), "our broker");
  assertPortFree(p.controller, portVariable(stack, "controller"), "our broker");
  await Deno.mkdir(paths.kafkaData, { recursive: true });
  await Deno.writeTextFile(paths.kafkaProps, await wantedProperties(stack));
  try {
    await Deno.stat(`${paths.kafkaData}/meta.properties`);
  } catch {
    log("kafka", `formatting ${paths.kafkaData}`);
    const tool = [javaBin, ...jvmArgs(stack, LIBS), "kafka.tools.StorageTool", "format"];
    await run([...tool, "-t", clusterId(), "-c", paths.kafkaProps], { check: true });
  }
  const started = Date.now();
  const mark = { server: fileSize(paths.kafkaLog), stdout: fileSize(paths.kafkaStdoutLog) };
  // setsid: its own session, so neither Ctrl-C in the terminal nor the exit of the test or
  // `deno task` process that started it takes the broker down. `sh` reports the java pid.
  const spawn = await run([
    "sh",
    "-c",
    'setsid "$@" >>"$0" 2>&1 </dev/null & echo $!',
    paths.kafkaStdoutLog,
    javaBin,
    ...jvmArgs(stack, LIBS),
    "kafka.Kafka",
    paths.kafkaProps,
  ], { check: true });
  const pid = Number(spawn.output);
  await Deno.writeTextFile(paths.kafkaPidFile, `${pid}\n`);
  log("kafka", `started broker pid ${pid}, waiting for it on ${localBrokers(p)}...`);
  await waitForKafka(stack, pid, mark);
  log(
    "kafka",
    `ready in ${((Date.now() - started) / 1000).toFixed(1)}s (log: ${paths.kafkaLog})`,
  );
  return localBrokers(p);
}

/**
 * Stops the broker `stack` started. SIGTERM is a clean shutdown; SIGKILL simulates a crash. A
 * SIGTERM that does not finish within `timeoutMs` is escalated to SIGKILL. Returns false when
 * there was nothing of ours to stop.
 */
export async function stopKafka(
  stack: StackConfig,
  signal: "SIGTERM" | "SIGKILL" = "SIGTERM",
  timeoutMs = 60_000,
): Promise<boolean> {
  const pid = managedKafkaPid(stack);
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
  await Deno.remove(stackPaths(stack.dir).kafkaPidFile).catch(() => {});
  return true;
}

/**
 * Returns a Kafka bootstrap address that answers: the stack's external KAFKA_BROKERS if set and
 * alive, else its running broker, else a broker someone else runs on its port, else a freshly
 * started one.
 */
export async function ensureKafka(stack: StackConfig): Promise<string> {
  const fromEnv = stack.external.kafkaBrokers;
  if (fromEnv && await kafkaAnswers(fromEnv)) {
    log("kafka", `using KAFKA_BROKERS=${fromEnv} from the environment`);
    return fromEnv;
  }
  if (fromEnv) log("kafka", `KAFKA_BROKERS=${fromEnv} does not answer; using a local broker`);
  const brokers = localBrokers(stack.ports);
  const pid = managedKafkaPid(stack);
  if (pid !== undefined) {
    const props = await Deno.readTextFile(stackPaths(stack.dir).kafkaProps);
    if (props !== await wantedProperties(stack)) {
      throw new Error(
        `our broker (pid ${pid}) runs with other ports or settings than this checkout's ` +
          `(${portVariable(stack, "kafka")}=${stack.ports.kafka}, ` +
          `${portVariable(stack, "sasl")}=${stack.ports.sasl}); stop it first ` +
          `(\`deno task services:down\` with the same variables)`,
      );
    }
    await waitForKafka(stack, pid);
    log("kafka", `reusing running broker pid ${pid} on ${brokers}`);
    return brokers;
  }
  if (await kafkaAnswers(brokers)) {
    log("kafka", `a broker not started by this checkout answers on ${brokers}; using it`);
    return brokers;
  }
  return await startKafka(stack);
}

/**
 * Creates or updates a SCRAM-SHA-512 user on the stack's broker, with Kafka's own ConfigCommand
 * over the PLAINTEXT listener (kafkajs has no API for SCRAM credentials). ACLs are separate:
 * grant them with the admin API (`createAcls`).
 *
 * @param stack The stack.
 * @param name User name.
 * @param password Its password.
 */
export async function addScramUser(
  stack: StackConfig,
  name: string,
  password: string,
): Promise<void> {
  const javaBin = await javaBinary(17, `Kafka ${KAFKA_VERSION}`);
  await run([
    javaBin,
    ...jvmArgs(stack, LIBS),
    "kafka.admin.ConfigCommand",
    "--bootstrap-server",
    localBrokers(stack.ports),
    "--alter",
    "--entity-type",
    "users",
    "--entity-name",
    name,
    "--add-config",
    `${LOCAL_SASL_MECHANISM}=[password=${password}]`,
  ], { check: true });
}
