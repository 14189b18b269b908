/**
 * The opaque `cursor` of keyset pages: the sort key and id of a page's last item, as base64url
 * JSON. Which keys a list accepts is checked where its query is parsed (params.ts).
 *
 * @module
 */

/** A keyset position: the sort key of the last item of a page, and its id. */
export interface PageKey {
  /** The sort key as text (a timestamp with microseconds, or a device id). */
  key: string;
  /** The row's id (uuid, alert id, reject id); empty when the key is unique. */
  id: string;
}

/**
 * The opaque `next_cursor` of a page: the key and id of its last item, base64url JSON.
 *
 * @example
 * ```ts
 * import { decodeCursor, encodeCursor } from "./cursor.ts";
 * import assert from "node:assert/strict";
 *
 * const key = { key: "2026-12-04T10:00:00.000000Z", id: "7" };
 * assert.deepEqual(decodeCursor(encodeCursor(key)), key);
 * ```
 */
export function encodeCursor(key: PageKey): string {
  const bytes = new TextEncoder().encode(JSON.stringify([key.key, key.id]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The key of a cursor made by {@linkcode encodeCursor}; `undefined` if it is not one. */
export function decodeCursor(text: string): PageKey | undefined {
  if (text.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const json = new TextDecoder("utf-8", { fatal: true })
      .decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const value = JSON.parse(json);
    if (
      !Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" ||
      typeof value[1] !== "string"
    ) return undefined;
    return { key: value[0], id: value[1] };
  } catch {
    return undefined;
  }
}
