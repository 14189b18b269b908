/**
 * The runtime pieces both services use: settings read from the environment, one-line JSON
 * logs, metrics, the operations HTTP server (`/healthz`, `/readyz`, `/metrics`), the service
 * start and shutdown, backoff, and the Kafka security settings. The Kafka client itself is in
 * `@iot/shared/kafka`, the event domain in `@iot/shared`.
 *
 * ```ts
 * import { backoffDelay } from "@iot/shared/runtime";
 * import assert from "node:assert/strict";
 *
 * // The random factor is passed in, so the delay is known: 250 ms doubled twice, then halved.
 * assert.equal(backoffDelay({ initialMs: 250, maxMs: 10_000 }, 2, () => 0), 500);
 * ```
 *
 * @module
 */

export * from "./backoff.ts";
export * from "./env.ts";
export * from "./http.ts";
export * from "./kafka_security.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./retry.ts";
export * from "./service.ts";
export * from "./service_settings.ts";
export * from "./settings.ts";
