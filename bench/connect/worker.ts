/**
 * The Kafka Connect peer's process: a standalone worker (ConnectStandalone) with Debezium's JDBC
 * sink, configured the way a user would for our topic. The worker and connector properties are
 * written at run time into a scratch directory, with this run's brokers, database and ports.
 *
 * @module
 */

import { type PeerProcess, spawnPeer } from "../peer_process.ts";
import type { Stack } from "../stack.ts";
import type { ConnectInstall } from "./setup.ts";

/** Connect's REST listener (the peers' range 34000-34999 unless CONNECT_REST_PORT moves it). */
export const CONNECT_REST_PORT = Number(Deno.env.get("CONNECT_REST_PORT") ?? 34083);

/** Records per poll = rows per batch, as the trial run found best. */
const BATCH = 2000;

/**
 * The value schema JsonConverter applies to plain JSON (`schema.content`, Kafka 4.x): producers
 * send no envelope. ID is `io.debezium.data.Uuid` so the sink binds it to the uuid column.
 */
const field = (name: string, type: string, logical?: string) => ({
  field: name,
  type,
  optional: false,
  ...(logical ? { name: logical } : {}),
});
const SCHEMA = JSON.stringify({
  type: "struct",
  optional: false,
  fields: [
    field("ID", "string", "io.debezium.data.Uuid"),
    field("ID_DISPOSITIVO", "string"),
    field("TIMESTAMP", "string"),
    field("TEMPERATURA", "double"),
    field("UMIDADE", "double"),
    field("LATITUDE", "double"),
    field("LONGITUDE", "double"),
    field("STATUS", "string"),
    field("BATERIA", "double"),
  ],
});

/** Java properties text (values escaped for backslashes only; ours have no newlines). */
const properties = (p: Record<string, string | number>) =>
  Object.entries(p).map(([k, v]) => `${k}=${String(v).replaceAll("\\", "\\\\")}`).join("\n") +
  "\n";

/** One connector: `tasks` tasks reading `topic` into the database at `url`. */
export interface ConnectorSpec {
  /** Connector name (its consumer group is `connect-<name>`). */
  name: string;
  /** Topic to drain. */
  topic: string;
  /** `tasks.max`. */
  tasks: number;
}

/** Starts a standalone worker running `connectors`, all writing into the database at `url`. */
export async function startWorker(
  install: ConnectInstall,
  stack: Stack,
  url: string,
  connectors: ConnectorSpec[],
  scratch: string,
): Promise<PeerProcess> {
  const db = new URL(url);
  await Deno.writeTextFile(
    `${scratch}/worker.properties`,
    properties({
      "bootstrap.servers": stack.kafkaBrokers,
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      "value.converter": "org.apache.kafka.connect.json.JsonConverter",
      "value.converter.schemas.enable": "true",
      "value.converter.schema.content": SCHEMA,
      "offset.storage.file.filename": `${scratch}/offsets`,
      "offset.flush.interval.ms": 10_000,
      "plugin.path": install.pluginPath,
      "plugin.discovery": "service_load",
      "listeners": `http://127.0.0.1:${CONNECT_REST_PORT}`,
      "consumer.max.poll.records": BATCH,
      "consumer.auto.offset.reset": "earliest",
    }),
  );
  const files: string[] = [];
  for (const c of connectors) {
    const file = `${scratch}/${c.name}.properties`;
    await Deno.writeTextFile(
      file,
      properties({
        "name": c.name,
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": c.tasks,
        "topics": c.topic,
        "connection.url": `jdbc:postgresql://${db.hostname}:${db.port}${db.pathname}`,
        "connection.username": decodeURIComponent(db.username),
        "connection.password": decodeURIComponent(db.password),
        "insert.mode": "upsert",
        "primary.key.mode": "record_value",
        "primary.key.fields": "ID",
        "schema.evolution": "none",
        "collection.name.format": "tb_sensor_evento",
        "batch.size": BATCH,
      }),
    );
    files.push(file);
  }
  // Warnings and errors on the console (kept by spawnPeer for error messages); a failed task's
  // stack trace is logged at ERROR.
  await Deno.writeTextFile(
    `${scratch}/log4j2.properties`,
    properties({
      "status": "warn",
      "appender.console.type": "Console",
      "appender.console.name": "console",
      "appender.console.layout.type": "PatternLayout",
      "appender.console.layout.pattern": "[%d] %p %m (%c)%n",
      "rootLogger.level": "WARN",
      "rootLogger.appenderRef.console.ref": "console",
    }),
  );
  return spawnPeer([
    "-Xmx512m",
    "-cp",
    install.classpath,
    `-Dlog4j2.configurationFile=${scratch}/log4j2.properties`,
    "org.apache.kafka.connect.cli.ConnectStandalone",
    `${scratch}/worker.properties`,
    ...files,
  ], scratch);
}

/** Each task's state from the worker's REST API: "RUNNING", "FAILED: <first trace line>"… */
export async function taskStates(connector: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${CONNECT_REST_PORT}/connectors/${connector}/status`);
  if (!res.ok) return [`status ${res.status}`];
  const body = await res.json() as { tasks: { state: string; trace?: string }[] };
  return body.tasks.map((t) => t.trace ? `${t.state}: ${firstCause(t.trace)}` : t.state);
}

/** The deepest "Caused by:" of a Java trace (the line that says what went wrong). */
function firstCause(trace: string): string {
  const causes = trace.split("\n").filter((l) => l.startsWith("Caused by: "));
  const line = causes.length > 0 ? causes[causes.length - 1].slice(11) : trace.split("\n")[0];
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
