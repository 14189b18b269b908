/**
 * The sensor event shared by the producer and the consumer: its schema, validation, timestamp
 * normalization, alert rule and row mapping, plus the small runtime pieces both services use
 * (settings, JSON logs, metrics, operations endpoints, Kafka client).
 *
 * ```ts
 * import { DEFAULT_ALERT_RULE, toRow, validateEvent } from "@iot/shared";
 * import assert from "node:assert/strict";
 *
 * const payload = JSON.stringify({
 *   ID: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
 *   ID_DISPOSITIVO: "sensor-0001",
 *   TIMESTAMP: "2026-11-26T10:15:30-03:00",
 *   TEMPERATURA: 36.2,
 *   UMIDADE: 55,
 *   LATITUDE: -23.55,
 *   LONGITUDE: -46.63,
 *   STATUS: "WARN",
 *   BATERIA: 80,
 * });
 * const result = validateEvent(payload, Date.UTC(2026, 10, 27));
 * assert.ok(result.ok);
 * const row = toRow(result.event, result.event.id!, DEFAULT_ALERT_RULE);
 * assert.equal(row.timestamp_ts, "2026-11-26T13:15:30.000000Z");
 * assert.equal(row.alerta, true);
 * ```
 *
 * @module
 */

export * from "./backoff.ts";
export * from "./env.ts";
export * from "./event.ts";
export * from "./http.ts";
export * from "./kafka.ts";
export * from "./kafka_security.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./row.ts";
export * from "./service.ts";
export * from "./service_settings.ts";
export * from "./settings.ts";
export * from "./timestamp.ts";
export * from "./validate.ts";
