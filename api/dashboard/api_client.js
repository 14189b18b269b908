/**
 * The page's calls to the api (same origin): JSON reads, the acknowledge call with its bearer
 * token, and the live stream. Errors carry the problem document's detail.
 *
 * @module
 */

/**
 * GETs a JSON document.
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(await problemText(response));
  return await response.json();
}

/**
 * Every item of a paged list (follows `next_cursor`, at most `maxPages` pages).
 * @param {string} path with its query, without `cursor`
 * @param {number} maxPages
 * @returns {Promise<any[]>}
 */
export async function getAll(path, maxPages = 50) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const separator = path.includes("?") ? "&" : "?";
    const url = cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`;
    const body = await getJson(url);
    items.push(...body.items);
    cursor = body.next_cursor;
    if (cursor === null) break;
  }
  return items;
}

/**
 * Acknowledges an alert.
 * @param {number} id
 * @param {{ token: string, by: string, note: string }} ack
 * @returns {Promise<any>} the alert as it is now
 */
export async function acknowledge(id, { token, by, note }) {
  const response = await fetch(`/api/alerts/${id}/acknowledge`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ by, note }),
  });
  if (!response.ok) {
    const error = new Error(await problemText(response));
    /** @type {any} */ (error).status = response.status;
    throw error;
  }
  return await response.json();
}

/**
 * Opens the live stream; EventSource reconnects by itself and sends Last-Event-ID.
 * @param {{ reading: (r: any) => void, alert: (a: any) => void, state: (s: string) => void }} on
 * @returns {EventSource}
 */
export function openStream(on) {
  const source = new EventSource("/api/stream");
  source.addEventListener(
    "reading",
    (e) => on.reading(JSON.parse(/** @type {MessageEvent} */ (e).data)),
  );
  source.addEventListener(
    "alert",
    (e) => on.alert(JSON.parse(/** @type {MessageEvent} */ (e).data)),
  );
  source.addEventListener("open", () => on.state("live"));
  source.addEventListener(
    "error",
    () => on.state(source.readyState === 2 ? "closed" : "reconnecting"),
  );
  return source;
}

/** @param {Response} response */
async function problemText(response) {
  const text = await response.text();
  try {
    const problem = JSON.parse(text);
    return `${response.status} ${problem.detail ?? problem.title ?? text}`;
  } catch {
    return `${response.status} ${text.slice(0, 200)}`;
  }
}
