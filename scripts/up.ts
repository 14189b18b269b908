/**
 * `deno task up`: the whole pipeline on this machine. Starts (or reuses) Kafka and PostgreSQL,
 * creates the topic, runs the consumers and the producer, and shows a live progress line read from
 * PostgreSQL itself. Ctrl-C stops the producer and the consumers gracefully; the servers keep
 * running so the data can be queried (`deno task services:down` stops them).
 *
 * Settings: the services' own variables (see README), plus UP_CONSUMERS (default 2) and
 * KAFKA_TOPIC_PARTITIONS (default 6). Each service's log goes to .cache/logs/.
 *
 * @module
 */

import postgres from "postgres";
import { ROOT } from "./repo.ts";
import { createTopic, endOffsetTotal, kafkaFor, waitForDrain } from "./services/admin.ts";
import { LocalStack } from "./services/stack.ts";

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
  for (let i = 1; i <= consumers; i++) {
    children.push(
      spawn(`consumer-${i}`, "consumer/main.ts", { ...env, HTTP_PORT: String(8080 + 2 * (i - 1)) }),
    );
  }
  children.push(spawn("producer", "producer/main.ts", { ...env, HTTP_PORT: "8081" }));
  console.log(
    `logs: ${LOG_DIR}/<service>.log · metrics: ${
      children.map((c) => `${c.name} :${c.port}/metrics`).join(", ")
    }`,
  );
  console.log("Ctrl-C stops the producer and the consumers.\n");

  const stop = Promise.withResolvers<void>();
  const onSignal = () => stop.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
  const progress = startProgress(sql, children, topic, groupId);
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

  console.log("\nstopping: producer first, then the consumers (each finishes its batch)…");
  await progress.stop();
  for (const child of [producer, ...children.slice(0, -1)]) {
    try {
      child.process.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.done;
  }
  console.log(await progress.line());
  await sql.end();
  console.log("The servers keep running for queries; `deno task services:down` stops them.");
  return 0;
}

function spawn(name: string, entry: string, env: Record<string, string>): Child {
  const logFile = Deno.openSync(`${LOG_DIR}/${name}.log`, {
    write: true,
    create: true,
    truncate: true,
  });
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", entry],
    cwd: ROOT,
    env,
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

async function ensureTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const state = await createTopic(kafkaFor(brokers, { clientId: "iot-up" }), topic, partitions);
  console.log(`topic ${topic}: ${state.partitions} partitions${state.created ? " (created)" : ""}`);
}

async function drained(sql: postgres.Sql, brokers: string, topic: string, groupId: string) {
  const target = await endOffsetTotal(kafkaFor(brokers, { clientId: "iot-up" }), topic);
  await waitForDrain(sql, { groupId, topic, target, pollMs: 500 });
}

function startProgress(sql: postgres.Sql, children: Child[], topic: string, groupId: string) {
  const started = performance.now();
  let lastRows = 0;
  let lastAt = started;
  const line = async () => {
    const [row] = await sql<{ rows: number; rejects: number; alerts: number; stored: string }[]>`
      SELECT (SELECT count(*) FROM tb_sensor_evento)::int AS rows,
        (SELECT count(*) FROM tb_sensor_evento_rejeitado)::int AS rejects,
        (SELECT count(*) FROM tb_sensor_evento WHERE alerta)::int AS alerts,
        (SELECT coalesce(sum(next_offset), 0)::text FROM tb_kafka_offset
          WHERE topic = ${topic} AND group_id = ${groupId}) AS stored`.catch(() => [
      { rows: 0, rejects: 0, alerts: 0, stored: "0" },
    ]);
    const now = performance.now();
    const rate = Math.round((row.rows - lastRows) / ((now - lastAt) / 1000));
    lastRows = row.rows;
    lastAt = now;
    const ready = await Promise.all(children.map(async (c) => {
      try {
        return (await fetch(`http://127.0.0.1:${c.port}/readyz`)).ok;
      } catch {
        return false;
      }
    }));
    const elapsed = Math.round((now - started) / 1000);
    return `[${elapsed}s] rows ${row.rows} (${rate}/s) · rejected ${row.rejects} · alerts ${row.alerts}` +
      ` · offsets stored ${row.stored} · ready ${ready.filter(Boolean).length}/${children.length}`;
  };
  const tty = Deno.stdout.isTerminal();
  let ticks = 0;
  const timer = setInterval(async () => {
    const text = await line();
    // On a terminal the line rewrites itself; in a log, one line every 5 s.
    if (tty) await Deno.stdout.write(new TextEncoder().encode(`\r\x1b[2K${text}`));
    else if (ticks++ % 5 === 0) console.log(text);
  }, 1000);
  return { line, stop: () => Promise.resolve(clearInterval(timer)) };
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
