/**
 * Serves the dashboard: the static files of `api/dashboard/` (plain ES modules, CSS, one HTML
 * page; no build step), read once at start-up and kept in memory. `/` is the page, `/dashboard/*`
 * its files. Every answer carries its content type, an ETag and `Cache-Control: no-cache`: file
 * names carry no version, so a browser must revalidate (a cheap 304) and never runs yesterday's
 * module against today's API. The page's Content-Security-Policy allows only this origin, plus
 * OpenStreetMap's tiles as images (an optional layer the page turns on only when asked).
 *
 * @module
 */

/** Content types by file extension: only what the dashboard ships. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  json: "application/json",
});

/** Where the page may load from and talk to. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: https://tile.openstreetmap.org",
  "connect-src 'self'",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A file held in memory. */
interface StaticFile {
  body: Uint8Array;
  type: string;
  etag: string;
}

/** Answers the dashboard's paths; `undefined` for any other path (the API's). */
export type DashboardHandler = (request: Request) => Response | undefined;

/**
 * Builds the handler from files already read (name relative to the folder -> bytes).
 *
 * @example
 * ```ts
 * import { dashboardHandler } from "./dashboard_files.ts";
 * import assert from "node:assert/strict";
 *
 * const serve = await dashboardHandler(new Map([["index.html", new TextEncoder().encode("<p>")]]));
 * assert.equal(serve(new Request("http://x/"))?.headers.get("content-type"), "text/html; charset=utf-8");
 * assert.equal(serve(new Request("http://x/api/devices")), undefined);
 * ```
 *
 * @throws {TypeError} when a file has an extension {@linkcode CONTENT_TYPES} does not know, or
 * there is no `index.html`.
 */
export async function dashboardHandler(
  files: ReadonlyMap<string, Uint8Array>,
): Promise<DashboardHandler> {
  const served = new Map<string, StaticFile>();
  for (const [name, body] of files) {
    const extension = name.slice(name.lastIndexOf(".") + 1);
    const type = CONTENT_TYPES[extension];
    if (!name.includes(".") || type === undefined) {
      throw new TypeError(`Cannot serve dashboard file ${JSON.stringify(name)}: unknown type`);
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
    const hex = Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
    served.set(name === "index.html" ? "/" : `/dashboard/${name}`, {
      body,
      type,
      etag: `"${hex}"`,
    });
  }
  if (!served.has("/")) throw new TypeError("Cannot serve the dashboard: no index.html");
  return (request) => {
    const path = new URL(request.url).pathname;
    const file = served.get(path === "/index.html" ? "/" : path);
    if (file === undefined) {
      return path.startsWith("/dashboard/") ? plain(404, "no such dashboard file\n") : undefined;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(405, "method not allowed\n", { allow: "GET, HEAD" });
    }
    const headers = new Headers({
      "content-type": file.type,
      "cache-control": "no-cache",
      etag: file.etag,
      "x-content-type-options": "nosniff",
    });
    if (file.type.startsWith("text/html")) {
      headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
      headers.set("referrer-policy", "no-referrer");
    }
    if (matches(request.headers.get("if-none-match"), file.etag)) {
      return new Response(null, { status: 304, headers });
    }
    headers.set("content-length", String(file.body.length));
    return new Response(request.method === "HEAD" ? null : file.body as BodyInit, { headers });
  };
}

/** Reads every file of `dir` (one level: the dashboard has no sub-folders). */
export async function readDashboardFiles(
  dir = new URL("./dashboard/", import.meta.url),
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || entry.name.endsWith("_test.ts")) continue;
    files.set(entry.name, await Deno.readFile(new URL(entry.name, dir)));
  }
  return files;
}

/** Whether an `If-None-Match` header names `etag` (or is `*`). */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...extra },
  });
}
