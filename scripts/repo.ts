/**
 * Where the repository is, for every script, harness and test helper that reads or writes files
 * in it: one definition, derived from this file's location, so they work from any cwd and clone.
 * @module
 */

import { fileURLToPath } from "node:url";

/** Repository root, without a trailing slash. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** Everything downloaded or generated lives under the git-ignored .cache/. */
export const CACHE_DIR = `${ROOT}/.cache`;
