/**
 * The operations endpoints both services serve: `/healthz`, `/readyz` and `/metrics`.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { MetricsExposition } from "./metrics.ts";

/** What the server asks the service. */
export interface HealthSource {
  /** Reasons the service is not ready; empty when ready. */
  notReadyReasons(): string[];
}

/** A running operations server. */
export interface OpsServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Stops accepting connections. */
  close(): Promise<void>;
}

/**
 * Starts the operations HTTP server.
 *
 * - `GET /healthz`: 200 while the process can answer (liveness).
 * - `GET /readyz`: 200 when ready, else 503 with the reasons as JSON (readiness).
 * - `GET /metrics`: Prometheus text exposition.
 *
 * @param port Port to listen on; 0 picks a free one.
 * @param health Readiness source.
 * @param registry Metrics to expose.
 * @param log Logger for the start line.
 */
export function startOpsServer(
  port: number,
  health: HealthSource,
  registry: MetricsExposition,
  log: Logger,
): OpsServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ port, hostname: "0.0.0.0", onListen: () => {} }, route);
  } catch (error) {
    throw new Error(`Cannot listen on HTTP_PORT ${port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const bound = server.addr.port;
  log.info("http server listening", {
    port: bound,
    endpoints: ["/healthz", "/readyz", "/metrics"],
  });
  return { port: bound, close: () => server.shutdown() };

  async function route(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405 });
    }
    switch (path) {
      case "/healthz":
        return Response.json({ status: "ok" });
      case "/readyz": {
        const reasons = health.notReadyReasons();
        return Response.json(
          reasons.length === 0 ? { status: "ready" } : { status: "not ready", reasons },
          { status: reasons.length === 0 ? 200 : 503 },
        );
      }
      case "/metrics":
        return new Response(await registry.metrics(), {
          headers: { "content-type": registry.contentType },
        });
      default:
        return new Response("not found\n", { status: 404 });
    }
  }
}
