/**
 * The operations endpoints both services serve: `/healthz`, `/readyz` and `/metrics`.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { addReadinessMetric, type MetricsRegistry } from "./metrics.ts";

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

/** The paths the operations server answers itself. */
const OPS_PATHS = ["/healthz", "/readyz", "/metrics"];

/** A service's own endpoints, served beside the operations ones (the api's). */
export type AppHandler = (request: Request) => Response | Promise<Response>;

/**
 * Starts the operations HTTP server.
 *
 * - `GET /healthz`: 200 while the process can answer (liveness).
 * - `GET /readyz`: 200 when ready, else 503 with the reasons as JSON (readiness).
 * - `GET /metrics`: Prometheus text exposition.
 *
 * The registry also gets `iot_ready` (see {@linkcode addReadinessMetric}) from `health`.
 *
 * @param port Port to listen on; 0 picks a free one.
 * @param health Readiness source.
 * @param registry Metrics to expose.
 * @param log Logger for the start line.
 * @param app Answers every other path and method, when given (without it: 404).
 */
export function startOpsServer(
  port: number,
  health: HealthSource,
  registry: MetricsRegistry,
  log: Logger,
  app?: AppHandler,
): OpsServer {
  addReadinessMetric(registry, () => health.notReadyReasons());
  const servers = listenEverywhere(port, route);
  const bound = servers[0].addr.port;
  log.info("http server listening", {
    port: bound,
    addresses: servers.map((server) => server.addr.hostname),
    endpoints: ["/healthz", "/readyz", "/metrics", ...(app ? ["(the service's own)"] : [])],
  });
  return {
    port: bound,
    close: async () => void await Promise.all(servers.map((server) => server.shutdown())),
  };

  async function route(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (app !== undefined && !OPS_PATHS.includes(path)) return await app(request);
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

/**
 * Serves on every address of the pod, IPv6 and IPv4, so probes work in IPv4-only, IPv6-only and
 * dual-stack clusters: `::` first (on Linux it takes IPv4 too, unless net.ipv6.bindv6only is
 * set), then `0.0.0.0` on the same port, which fails with "address in use" exactly when `::`
 * already covers IPv4. Without IPv6 in the kernel, `0.0.0.0` alone.
 */
function listenEverywhere(
  port: number,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.HttpServer<Deno.NetAddr>[] {
  const serve = (hostname: string, on: number) =>
    Deno.serve({ port: on, hostname, onListen: () => {} }, handler);
  const cannotListen = (error: unknown) =>
    new Error(`Cannot listen on HTTP_PORT ${port}: ${(error as Error).message}`, { cause: error });
  let v6: Deno.HttpServer<Deno.NetAddr>;
  try {
    v6 = serve("::", port);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied) {
      throw cannotListen(error);
    }
    try {
      return [serve("0.0.0.0", port)]; // no IPv6 here
    } catch (v4Error) {
      throw cannotListen(v4Error);
    }
  }
  try {
    return [v6, serve("0.0.0.0", v6.addr.port)];
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return [v6]; // `::` serves IPv4 as well
    void v6.shutdown();
    throw cannotListen(error);
  }
}
