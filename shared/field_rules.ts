/**
 * The rule of one field of the sensor event: type, range, allowed values, format. Applied by
 * validate.ts to every field event.ts lists.
 *
 * @module
 */

import { DEVICE_ID_PATTERN, type FieldSpec, STATUSES, UUID_PATTERN } from "./event.ts";
import { kind, normalizeTimestamp, quote } from "./timestamp.ts";
import type { Reason, ReasonCode } from "./validate.ts";

const UUID = new RegExp(UUID_PATTERN);
const DEVICE_ID = new RegExp(DEVICE_ID_PATTERN, "u");
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Checks `value`, sent under the name `sentAs`, against the field's rule: the normalized value, or
 * `undefined` with the reason pushed onto `reasons`.
 */
export function checkField(
  field: FieldSpec,
  value: unknown,
  sentAs: string,
  referenceMs: number,
  reasons: Reason[],
): unknown {
  const rule = field.rule;
  switch (rule.type) {
    case "number": {
      if (typeof value !== "number") {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_type",
          `must be a JSON number: got ${kind(value)}`,
        );
      }
      if (!Number.isFinite(value)) {
        return refuse(field, sentAs, reasons, "invalid_type", "must be a finite number");
      }
      if (value < rule.min || value > rule.max) {
        return refuse(
          field,
          sentAs,
          reasons,
          "out_of_range",
          `must be between ${rule.min} and ${rule.max} ${rule.unit}: got ${value}`,
        );
      }
      return value;
    }
    case "status": {
      if (typeof value !== "string") {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_type",
          `must be a string: got ${kind(value)}`,
        );
      }
      if (!(STATUSES as readonly string[]).includes(value)) {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_value",
          `must be one of ${STATUSES.join(", ")} (exact case): got ${quote(value)}`,
        );
      }
      return value;
    }
    case "uuid": {
      if (typeof value !== "string") {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_type",
          `must be a UUID string: got ${kind(value)}`,
        );
      }
      if (!UUID.test(value)) {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_format",
          `must be a UUID (8-4-4-4-12 hex): got ${quote(value)}`,
        );
      }
      return value;
    }
    case "device_id": {
      if (typeof value !== "string") {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_type",
          `must be a string: got ${kind(value)}`,
        );
      }
      // One device, one id: "café" typed precomposed (NFC) or decomposed (NFD) is the same
      // device, so ids are stored and compared in NFC. ASCII ids (nearly all) are NFC already.
      const id = NON_ASCII.test(value) ? value.normalize("NFC") : value;
      if (!DEVICE_ID.test(id)) {
        return refuse(
          field,
          sentAs,
          reasons,
          "invalid_format",
          "must be 1-64 letters or digits (any script) or . _ : / - , starting with a letter " +
            `or digit: got ${quote(value)}`,
        );
      }
      return id;
    }
    case "timestamp": {
      const result = normalizeTimestamp(value, referenceMs);
      if (!result.ok) return refuse(field, sentAs, reasons, result.code, result.message);
      return result.value;
    }
  }
}

/**
 * Pushes the reason a field's value is refused; returns `undefined` (no value). Its name and
 * message are built only here: checkField runs for every field of every event, nearly all valid.
 */
function refuse(
  field: FieldSpec,
  sentAs: string,
  reasons: Reason[],
  code: ReasonCode,
  what: string,
): undefined {
  const name = sentAs === field.key ? field.key : `${field.key} (sent as ${sentAs})`;
  reasons.push({ field: field.key, code, message: `${name} ${what}` });
  return undefined;
}
