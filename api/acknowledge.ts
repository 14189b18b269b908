/**
 * Acknowledging an alert: the one write the API makes, and the only one its database role may
 * make (`acknowledged_at`, `acknowledged_by`, `acknowledge_note` of `tb_alerta`). It needs the
 * bearer token of `API_ACK_TOKEN`; without that setting, acknowledging is turned off.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import type { Sql } from "postgres";
import type { AcknowledgeBody } from "./params.ts";
import { ALERT_COLUMNS } from "./queries.ts";

/** Why a request may not acknowledge, as the status and detail of its problem response. */
export interface Refusal {
  /** 401 (no or wrong token) or 403 (acknowledging turned off). */
  status: 401 | 403;
  /** For the person. */
  detail: string;
}

/**
 * Checks a request's `Authorization` header against `API_ACK_TOKEN` (in constant time).
 *
 * @example
 * ```ts
 * import { checkAckToken } from "./acknowledge.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkAckToken("s3cret-token-1234", "Bearer s3cret-token-1234"), undefined);
 * assert.equal(checkAckToken(undefined, "Bearer x")?.status, 403);
 * ```
 *
 * @param configured `API_ACK_TOKEN`, or `undefined` when unset.
 * @param header The request's `Authorization` header.
 * @returns `undefined` when allowed, else why not.
 */
export function checkAckToken(
  configured: string | undefined,
  header: string | null,
): Refusal | undefined {
  if (configured === undefined) {
    return {
      status: 403,
      detail: "Acknowledging is turned off: the api has no API_ACK_TOKEN setting",
    };
  }
  const match = /^Bearer +(\S+)$/i.exec(header ?? "");
  if (match === null) {
    return { status: 401, detail: "Acknowledging needs the header Authorization: Bearer <token>" };
  }
  const given = new TextEncoder().encode(match[1]);
  const wanted = new TextEncoder().encode(configured);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return { status: 401, detail: "The bearer token is not API_ACK_TOKEN" };
  }
  return undefined;
}

/** What acknowledging found. */
export type AckResult =
  | { kind: "acknowledged"; alert: Record<string, unknown> }
  | { kind: "already"; alert: Record<string, unknown> }
  | { kind: "missing" };

/**
 * Acknowledges alert `id` unless it already is (the first acknowledgement stands). Only the
 * acknowledgement columns change: the lifecycle and the device's version are the consumer's.
 */
export async function acknowledgeAlert(
  sql: Sql,
  id: string,
  body: AcknowledgeBody,
): Promise<AckResult> {
  const [updated] = await sql.unsafe(
    `UPDATE tb_alerta SET acknowledged_at = now(), acknowledged_by = $2, acknowledge_note = $3
      WHERE id = $1::bigint AND acknowledged_at IS NULL RETURNING ${ALERT_COLUMNS}`,
    [id, body.by, body.note],
  );
  if (updated !== undefined) return { kind: "acknowledged", alert: { ...updated } };
  const [found] = await sql.unsafe(
    `SELECT ${ALERT_COLUMNS} FROM tb_alerta WHERE id = $1::bigint`,
    [id],
  );
  return found === undefined ? { kind: "missing" } : { kind: "already", alert: { ...found } };
}
