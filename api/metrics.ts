/**
 * The api's Prometheus metrics: requests by route and status, their duration, stream clients
 * and events, and the process metrics every service has.
 *
 * @module
 */

import { addProcessMetrics } from "@iot/shared/runtime";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The api's metrics. */
export interface ApiMetrics {
  /** What `/metrics` serves. */
  registry: Registry;
  /** `iot_api_requests_total{route,status}`. */
  requests: Counter<"route" | "status">;
  /** `iot_api_request_duration_seconds{route}`. */
  duration: Histogram<"route">;
  /** `iot_api_stream_clients`. */
  streamClients: Gauge;
  /** `iot_api_stream_events_total{type}`. */
  streamEvents: Counter<"type">;
  /** Stops the process metrics' probe. */
  stop(): void;
}

/** Creates the api's registry and metrics. */
export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  const stop = addProcessMetrics(registry);
  return {
    registry,
    requests: new Counter({
      name: "iot_api_requests_total",
      help: "Requests answered, by route and status",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "iot_api_request_duration_seconds",
      help: "Time to answer a request (a stream: to its first byte), by route",
      labelNames: ["route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    streamClients: new Gauge({
      name: "iot_api_stream_clients",
      help: "Clients connected to /api/stream",
      registers: [registry],
    }),
    streamEvents: new Counter({
      name: "iot_api_stream_events_total",
      help: "Events sent to stream clients, by type (reading, alert)",
      labelNames: ["type"],
      registers: [registry],
    }),
    stop,
  };
}
