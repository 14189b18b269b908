/**
 * Keys a JSON object repeats. `JSON.parse` keeps the last value of a repeated key without a word,
 * while other parsers (Jackson, for one) keep the first or refuse: for the keys that say which
 * event and which device this is, two readers of one message would then disagree about its
 * identity. validate.ts refuses such a message when the repeated values differ.
 *
 * @module
 */

/**
 * The values of each of `keys` at the top level of the JSON object `text`, when one of them is
 * given more than once (in the exact spelling; escapes in a key are not seen). Empty when none is,
 * which a cheap search decides for nearly every message.
 *
 * @param text A JSON object that `JSON.parse` accepted.
 * @param keys Member names to look for.
 */
export function repeatedKeys(
  text: string,
  keys: readonly string[],
): ReadonlyMap<string, unknown[]> {
  let suspects: string[] | undefined;
  for (const k of keys) {
    // A second search only past the first: most keys are absent, and then the text is read once.
    const quoted = quotedKey(k);
    const first = text.indexOf(quoted);
    if (first < 0 || text.indexOf(quoted, first + 1) < 0) continue;
    (suspects ??= []).push(k);
  }
  if (suspects === undefined) return NONE;
  const found = new Map<string, unknown[]>();
  for (const [key, value] of topLevelMembers(text)) {
    if (!suspects.includes(key)) continue;
    found.set(key, [...(found.get(key) ?? []), value]);
  }
  for (const [key, values] of found) if (values.length < 2) found.delete(key);
  return found;
}

/** What nearly every message gets: no key repeated (nothing allocated per message). */
const NONE: ReadonlyMap<string, unknown[]> = new Map();

const QUOTED = new Map<string, string>();

/** `"key"`, made once per key: the hot path searches for it in every message. */
function quotedKey(key: string): string {
  let quoted = QUOTED.get(key);
  if (quoted === undefined) QUOTED.set(key, quoted = `"${key}"`);
  return quoted;
}

/** Every member of the top-level object, repeats included, in order. */
function* topLevelMembers(text: string): Generator<[string, unknown]> {
  let depth = 0;
  let inString = false;
  let tokenStart = -1;
  let key: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      if (depth === 1 && key === undefined) tokenStart = i;
      continue;
    }
    if (c === ":" && depth === 1 && key === undefined) {
      key = JSON.parse(text.slice(tokenStart, i).trim());
      tokenStart = i + 1;
    } else if (c === "{" || c === "[") {
      depth++;
    } else if (c === "}" || c === "]" || (c === "," && depth === 1)) {
      if (depth === 1 && key !== undefined) {
        yield [key, JSON.parse(text.slice(tokenStart, i))];
        key = undefined;
      }
      if (c !== ",") depth--;
    }
  }
}
