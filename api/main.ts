/**
 * The api service: reads what the consumer stores and serves it as JSON (`/api/...`, described
 * at `/openapi.json`) and as a live stream (`/api/stream`), beside `/healthz`, `/readyz` and
 * `/metrics` on the same port. This file only wires the parts and owns the process lifecycle.
 *
 * @module
 */

import {
  createLogger,
  loadServiceConfig,
  onShutdownSignal,
  runAsProcess,
  sleepUnless,
  startDeadline,
  startOpsServer,
} from "@iot/shared/runtime";
import { loadApiConfig } from "./config.ts";
import { checkRole, connectApiDatabase } from "./database.ts";
import { postgresFeedSource } from "./feed_reader.ts";
import { createApiMetrics } from "./metrics.ts";
import { dashboardHandler, readDashboardFiles } from "./dashboard_files.ts";
import { createApiHandler } from "./routes.ts";
import { StreamFeed } from "./stream_feed.ts";

const SERVICE = "iot-api";

/** How often the schema and privileges are checked again until they are right. */
const ROLE_RETRY_MS = 5000;

/** Runs the api until SIGTERM or SIGINT; returns the exit code. */
export async function main(): Promise<number> {
  const config = loadServiceConfig(SERVICE, (env) => loadApiConfig(env));
  if (config === undefined) return 2;
  const log = createLogger(SERVICE, { level: config.logLevel, format: config.logFormat });
  const metrics = createApiMetrics();
  const caPem = config.databaseCaFile === undefined
    ? undefined
    : Deno.readTextFileSync(config.databaseCaFile);
  const sql = connectApiDatabase(
    config.databaseUrl,
    config.databasePoolSize,
    caPem,
    config.databaseStatementTimeoutS * 1000,
  );
  const source = postgresFeedSource(sql);
  const feed = new StreamFeed(source, {
    wake: config.streamWake,
    minIntervalMs: config.streamIntervalMs,
    pollIntervalMs: config.streamPollIntervalMs,
  }, log);
  let roleProblems = ["privileges not checked yet"];
  let stopping = false;
  const notReady = () => [...(stopping ? ["shutting down"] : []), ...roleProblems];
  const handler = createApiHandler({
    sql,
    stream: {
      feed,
      read: source.read,
      heartbeatMs: config.streamHeartbeatS * 1000,
      maxBufferedBytes: 4 * 1024 * 1024,
      observe: {
        clients: (delta) => metrics.streamClients.inc(delta),
        events: (type, n) => metrics.streamEvents.inc({ type }, n),
      },
      log,
    },
    ackToken: config.ackToken,
    pageLimitMax: config.pageLimitMax,
    notReady,
    metrics,
    log,
    now: () => new Date(),
  });
  // The dashboard's page at / and its files at /dashboard/*; every other path is the API's.
  const dashboard = await dashboardHandler(await readDashboardFiles());
  const ops = startOpsServer(
    config.httpPort,
    {
      notReadyReasons: () => {
        const reasons = notReady();
        const stream = feed.problem();
        return stream === undefined ? reasons : [...reasons, `stream: ${stream}`];
      },
    },
    metrics.registry,
    log,
    (request) => dashboard(request) ?? handler(request),
  );
  log.info("api starting", {
    port: ops.port,
    acknowledging: config.ackToken === undefined ? "off (no API_ACK_TOKEN)" : "on",
    streamWake: config.streamWake,
  });

  const stopped = Promise.withResolvers<void>();
  let cancelDeadline = () => {};
  const removeSignals = onShutdownSignal((signal) => {
    log.info("shutdown requested", { signal, timeoutS: config.shutdownTimeoutS });
    stopping = true;
    cancelDeadline = startDeadline(config.shutdownTimeoutS, () => {
      log.error("graceful shutdown timed out; exiting", { timeoutS: config.shutdownTimeoutS });
      Deno.exit(1);
    });
    stopped.resolve();
  });

  while (!stopping) {
    try {
      const role = await checkRole(sql);
      roleProblems = role.missing;
      if (role.missing.length === 0) {
        if (role.excess.length > 0) {
          log.warn("the api's database role may write more than it needs", {
            excess: role.excess,
            fix: 'connect as the read-only role (README, "The read API")',
          });
        }
        break;
      }
      log.warn("not ready", { problems: role.missing, retryInMs: ROLE_RETRY_MS });
    } catch (error) {
      roleProblems = [`database: ${(error as Error).message}`];
      log.warn("database check failed", { error, retryInMs: ROLE_RETRY_MS });
    }
    await sleepUnless(stopped.promise, ROLE_RETRY_MS);
  }
  if (!stopping) {
    await feed.start();
    log.info("api ready", { stream: config.streamWake });
  }
  const stopSummary = startSummary(config.summaryIntervalS, () => {
    const rate = feed.rate();
    log.info("summary", {
      streamClients: feed.clients(),
      rowsPerSecond: rate === undefined ? null : Math.round(rate.rows_per_second * 10) / 10,
    });
  });

  await stopped.promise;
  removeSignals();
  stopSummary();
  try {
    await feed.stop(); // ends the streams, so the server's shutdown does not wait on them
    await ops.close();
    await sql.end({ timeout: 5 });
  } catch (error) {
    log.warn("error during shutdown", { error });
  }
  cancelDeadline();
  metrics.stop();
  log.info("api stopped");
  return 0;
}

function startSummary(seconds: number, line: () => void): () => void {
  if (seconds === 0) return () => {};
  const timer = setInterval(line, seconds * 1000);
  return () => clearInterval(timer);
}

if (import.meta.main) await runAsProcess(SERVICE, main);
