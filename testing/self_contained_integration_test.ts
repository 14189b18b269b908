/**
 * A user's clone is all a user has: no file of the project may read outside the repository.
 * Development machines keep operator CRDs and derived schemas in a folder beside the project;
 * the tests use the copies in `charts/testing/crds/` instead, and this test keeps it that way.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "../scripts/repo.ts";

/** Folders that hold downloads, build output or third-party files, not the project's own text. */
const NOT_OURS = new Set([".git", ".cache", "node_modules"]);

/** Names of the folders kept beside the project on development machines. */
const NEIGHBOUR_NAMES = ["k8s-crds", "k8s-schemas"];

/** Files not scanned, and why. */
const NOT_SCANNED = [
  // The operators' CRDs are copied verbatim: their text is theirs, not a reference of ours.
  (file: string) => file.startsWith("charts/testing/crds/"),
  // This file: its examples point outside on purpose.
  (file: string) => file === "testing/self_contained_integration_test.ts",
];

/** A relative path that climbs at least one level, e.g. `../shared/x.ts` or `../../a/b`. */
const CLIMBING_PATH = /(?:^|[\s"'`(=:])((?:\.\.\/)+[\w.\-/]*)/g;

/** Every text file of the project, as paths relative to the root. */
function projectFiles(dir = ""): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(`${ROOT}/${dir}`)) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory && !NOT_OURS.has(entry.name)) files.push(...projectFiles(path));
    if (
      entry.isFile &&
      /\.(ts|js|json|ya?ml|tpl|txt|md|sh|toml|conf|sql|html|css)$|^run$/.test(entry.name)
    ) {
      files.push(path);
    }
  }
  return files;
}

/** Resolves `relative` against the folder of `file` (both relative to the root); `..` may escape. */
function resolveFrom(file: string, relative: string): string {
  const parts = file.split("/").slice(0, -1);
  for (const part of relative.split("/")) {
    if (part === "..") parts.length > 0 ? parts.pop() : parts.push("\u0000outside");
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/");
}

/**
 * Finds what in one file's text points outside the repository.
 *
 * @param file Path relative to the root.
 * @param text The file's content.
 * @returns One line per finding, with its line number.
 */
export function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    for (const name of NEIGHBOUR_NAMES) {
      if (line.includes(name)) {
        found.push(`${where}: names the folder "${name}" kept beside the project`);
      }
    }
    for (const match of line.matchAll(CLIMBING_PATH)) {
      if (resolveFrom(file, match[1]).includes("\u0000outside")) {
        found.push(`${where}: "${match[1]}" leads outside the repository`);
      }
    }
  });
  return found;
}

Deno.test("outsideReferences: flags paths that climb out and the neighbour folders' names", () => {
  assert.deepEqual(outsideReferences("scripts/schema.ts", 'import "../shared/event.ts";'), []);
  assert.deepEqual(outsideReferences("README.md", "see ./charts/README.md"), []);
  assert.deepEqual(outsideReferences("charts/testing/x.ts", 'read("../../charts/a")'), []);
  assert.deepEqual(outsideReferences("charts/x.ts", 'const dir = "../../shared/schemas";'), [
    'charts/x.ts:1: "../../shared/schemas" leads outside the repository',
  ]);
  assert.deepEqual(outsideReferences("README.md", "\nagainst `../shared/x` here"), [
    'README.md:2: "../shared/x" leads outside the repository',
  ]);
  assert.deepEqual(outsideReferences("a.ts", `ROOT + "/${NEIGHBOUR_NAMES[1]}"`), [
    `a.ts:1: names the folder "${NEIGHBOUR_NAMES[1]}" kept beside the project`,
  ]);
});

Deno.test("no project file reads or names a folder outside the repository", () => {
  const files = projectFiles();
  assert.ok(files.includes("README.md") && files.includes("deno.json"), "walked the project");
  const found = files
    .filter((file) => !NOT_SCANNED.some((skip) => skip(file)))
    .flatMap((file) => outsideReferences(file, Deno.readTextFileSync(`${ROOT}/${file}`)));
  assert.deepEqual(found, []);
});
