/**
 * `deno task up`: the whole pipeline on this machine. Starts (or reuses) Kafka and PostgreSQL,
 * creates the topic, runs the consumers, the api and the producer, and shows a live progress line
 * (scripts/progress.ts) read from the consumers' `/metrics` and the offsets in Kafka and
 * PostgreSQL. Ctrl-C stops the producer and the consumers gracefully; the servers keep running so
 * the data can be queried (`deno task services:down` stops them).
 *
 * Settings: the services' own variables (see README), plus UP_CONSUMERS (default 2),
 * KAFKA_TOPIC_PARTITIONS (default 6), UP_HTTP_PORT (default 8080: consumer i on 8080 + 2(i-1), the
 * producer on 8081), UP_API_PORT (default 8000), UP_API_DATABASE_URL (default:
 * DATABASE_URL as the role iot_api) and API_ACK_TOKEN (default: random, printed). Each service's
 * log goes to .cache/logs/.
 *
 * @module
 */

import postgres from "postgres";
import { type Progress, type ProgressSources, startProgress } from "./progress.ts";
import { ROOT } from "./repo.ts";
import { createTopic, endOffsetTotal, kafkaFor, waitForDrain } from "./services/admin.ts";
import { LocalStack } from "./services/stack.ts";
import { serviceRun } from "../testing/launch.ts";

const LOG_DIR = `${ROOT}/.cache/logs`;

interface Child {
  name: string;
  process: Deno.ChildProcess;
  port: number;
  done: Promise<void>;
}

async function main(): Promise<number> {
  const consumers = positiveInt("UP_CONSUMERS", 2);
  const partitions = positiveInt("KAFKA_TOPIC_PARTITIONS", 6);
  if (consumers > partitions) {
    throw new Error(
      `UP_CONSUMERS (${consumers}) must not exceed KAFKA_TOPIC_PARTITIONS (${partitions})`,
    );
  }
  const topic = Deno.env.get("KAFKA_TOPIC") ?? "iot.sensors";
  const groupId = Deno.env.get("KAFKA_GROUP_ID") ?? "iot-consumer";
  const services = await LocalStack.fromEnv(Deno.env.toObject()).ensure();
  console.log(`KAFKA_BROKERS=${services.kafkaBrokers}`);
  console.log(`DATABASE_URL=${services.databaseUrl}`);
  await ensureTopic(services.kafkaBrokers, topic, partitions);
  await Deno.mkdir(LOG_DIR, { recursive: true });

  const env = {
    KAFKA_BROKERS: services.kafkaBrokers,
    DATABASE_URL: services.databaseUrl,
    KAFKA_TOPIC: topic,
  };
  const children: Child[] = [];
  const httpBase = positiveInt("UP_HTTP_PORT", 8080);
  for (let i = 1; i <= consumers; i++) {
    children.push(
      spawn(`consumer-${i}`, "consumer/main.ts", {
        ...env,
        HTTP_PORT: String(httpBase + 2 * (i - 1)),
      }),
    );
  }
  const apiPort = positiveInt("UP_API_PORT", 8000);
  const ackToken = Deno.env.get("API_ACK_TOKEN") ??
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  children.push(spawn("api", "api/main.ts", {
    DATABASE_URL: apiDatabaseUrl(services.databaseUrl),
    HTTP_PORT: String(apiPort),
    API_ACK_TOKEN: ackToken,
  }));
  // The producer stays last: the stop below relies on it.
  children.push(spawn("producer", "producer/main.ts", { ...env, HTTP_PORT: String(httpBase + 1) }));
  console.log(
    `dashboard: http://127.0.0.1:${apiPort}/ · API: http://127.0.0.1:${apiPort}/openapi.json`,
  );
  console.log(`acknowledging alerts: Authorization: Bearer ${ackToken}`);
  console.log(
    `logs: ${LOG_DIR}/<service>.log · metrics: ${
      children.map((c) => `${c.name} :${c.port}/metrics`).join(", ")
    }`,
  );
  console.log("Ctrl-C stops the producer, the consumers and the api.\n");

  const stop = Promise.withResolvers<void>();
  const onSignal = () => stop.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
  const progress = await showProgress(sql, services.kafkaBrokers, children, topic, groupId);
  // The producer ends by itself when PRODUCER_COUNT or PRODUCER_DURATION_S is set.
  const producer = children[children.length - 1];
  const producerFinished = await Promise.race([
    stop.promise.then(() => false),
    producer.done.then(() => true),
  ]);
  if (producerFinished) {
    console.log("\nproducer finished; waiting for the consumers to drain the topic…");
    await Promise.race([stop.promise, drained(sql, services.kafkaBrokers, topic, groupId)]);
  }

  console.log(
    "\nstopping: producer first, then the consumers (each finishes its batch) and the api…",
  );
  await progress.stop();
  for (const child of [producer, ...children.slice(0, -1)]) {
    try {
      child.process.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.done;
  }
  // Offsets are read now; rows as last scraped, since a stopped consumer serves no /metrics (its
  // "consumer stopped" log line holds its exact total).
  console.log(`${await progress.line()} (rows as last scraped)`);
  await progress.close();
  await sql.end();
  console.log("The servers keep running for queries; `deno task services:down` stops them.");
  return 0;
}

function spawn(name: string, entry: string, env: Record<string, string>): Child {
  // As its deno.json task starts it: its permissions (the api and @platformatic/kafka read files),
  // and the consumer's V8 flags and malloc setting that bound its memory.
  const run = serviceRun(entry);
  const logFile = Deno.openSync(`${LOG_DIR}/${name}.log`, {
    write: true,
    create: true,
    truncate: true,
  });
  const process = new Deno.Command(Deno.execPath(), {
    args: run.args,
    cwd: ROOT,
    env: { ...run.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const echo = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      logFile.writeSync(new TextEncoder().encode(chunk));
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        // Errors reach the terminal at once; the rest stays in the log file.
        if (line.includes('"level":"error"')) console.log(`\n[${name}] ${line}`);
      }
    }
  };
  const done = Promise.all([echo(process.stdout), echo(process.stderr), process.status]).then(
    ([, , status]) => {
      logFile.close();
      if (status.code !== 0) console.log(`\n[${name}] exited with code ${status.code}`);
    },
  );
  return { name, process, port: Number(env.HTTP_PORT), done };
}

/**
 * The pipeline's database as the api's read-only role (iot_api, made by the local stack; the
 * consumer's migration grants it what it reads): UP_API_DATABASE_URL when set.
 */
function apiDatabaseUrl(databaseUrl: string): string {
  const own = Deno.env.get("UP_API_DATABASE_URL");
  if (own !== undefined && own !== "") return own;
  const url = new URL(databaseUrl);
  url.username = "iot_api";
  url.password = "iot_api";
  return url.toString();
}

async function ensureTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const state = await createTopic(kafkaFor(brokers, { clientId: "iot-up" }), topic, partitions);
  console.log(`topic ${topic}: ${state.partitions} partitions${state.created ? " (created)" : ""}`);
}

async function drained(sql: postgres.Sql, brokers: string, topic: string, groupId: string) {
  const target = await endOffsetTotal(kafkaFor(brokers, { clientId: "iot-up" }), topic);
  await waitForDrain(sql, { groupId, topic, target, pollMs: 500 });
}

/** Starts the progress line: on a terminal it rewrites itself every second, in a log every 5 s. */
async function showProgress(
  sql: postgres.Sql,
  brokers: string,
  children: Child[],
  topic: string,
  groupId: string,
): Promise<Progress & { close(): Promise<void> }> {
  const admin = kafkaFor(brokers, { clientId: "iot-up" }).admin();
  await admin.connect();
  const get = (port: number, path: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  const consumers = children.filter((c) => c.name.startsWith("consumer"));
  const sources: ProgressSources = {
    consumerMetrics: () =>
      Promise.all(
        consumers.map((c) => get(c.port, "/metrics").then((r) => r.text(), () => undefined)),
      ),
    readiness: () =>
      Promise.all(children.map((c) => get(c.port, "/readyz").then((r) => r.ok, () => false))),
    endOffset: async () => {
      const offsets = await withTimeout(admin.fetchTopicOffsets(topic), 2000);
      return offsets.reduce((n, p) => n + Number(p.high), 0);
    },
    storedOffset: async () => {
      try {
        const [row] = await sql<{ stored: string }[]>`SELECT coalesce(sum(next_offset), 0)::text
          AS stored FROM tb_kafka_offset WHERE topic = ${topic} AND group_id = ${groupId}`;
        return Number(row.stored);
      } catch (error) {
        // Before the first consumer migrated the schema, nothing is stored.
        if ((error as { code?: string }).code === "42P01") return 0;
        throw error;
      }
    },
  };
  const tty = Deno.stdout.isTerminal();
  let ticks = 0;
  const progress = startProgress(sources, async (text) => {
    if (tty) await Deno.stdout.write(new TextEncoder().encode(`\r\x1b[2K${text}`));
    else if (ticks++ % 5 === 0) console.log(text);
  });
  return { ...progress, close: () => admin.disconnect() };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function positiveInt(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number >= 1: got ${JSON.stringify(text)}`);
  }
  return value;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`up: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
