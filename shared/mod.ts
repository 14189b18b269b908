/**
 * The sensor event shared by the producer and the consumer: its schema, validation, timestamp
 * normalization, alert rule and row mapping. Pure: importing it needs no permission.
 *
 * The runtime pieces both services use live apart, so that a unit test of the domain never
 * loads them: `@iot/shared/runtime` (settings, logs, metrics, operations endpoints, service
 * lifecycle, backoff, Kafka security settings) and `@iot/shared/kafka` (the kafkajs client,
 * which reads `NODE_ENV` when it loads).
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

export * from "./event.ts";
export * from "./row.ts";
export * from "./timestamp.ts";
export * from "./validate.ts";
