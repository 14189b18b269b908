/**
 * Fetching jars from Maven Central with `mvn dependency:copy-dependencies`, into the shared
 * .cache/m2 repository, with a progress line every few seconds on the first (slow) download.
 * @module
 */

import { run } from "./command.ts";
import { MavenProgress } from "./maven_progress.ts";
import { CACHE_DIR } from "./repo.ts";

/** What to fetch. */
export interface CopyDependencies {
  /** The pom.xml whose runtime dependencies are wanted. */
  pom: string;
  /** Where the jars go. */
  outputDir: string;
  /** `-D` properties, e.g. `{ "kafka.version": "4.3.1" }`. */
  properties?: Record<string, string>;
  /** Progress lines. */
  log: (line: string) => void;
}

/**
 * Copies the runtime dependencies of `pom` into `outputDir`. Maven names every file it downloads;
 * those lines are summed up into one line every 5 s, not echoed (a first run fetches hundreds).
 *
 * @throws when Maven is missing or fails, with the end of its output.
 */
export async function copyDependencies(opts: CopyDependencies): Promise<void> {
  const progress = new MavenProgress(Date.now());
  const mvn = await run([
    "mvn",
    "-B",
    "-Dstyle.color=never",
    `-Dmaven.repo.local=${CACHE_DIR}/m2`,
    ...Object.entries(opts.properties ?? {}).map(([k, v]) => `-D${k}=${v}`),
    "-f",
    opts.pom,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${opts.outputDir}`,
  ], {
    onLine: (line) => {
      const report = progress.line(line, Date.now());
      if (report !== undefined) opts.log(`maven: ${report}`);
    },
  }).catch((err) => {
    throw new Error(`${err.message} (install Maven 3.8+, Debian package "maven")`);
  });
  if (mvn.code !== 0) {
    const last = mvn.output.split("\n").slice(-40).join("\n");
    throw new Error(`Maven failed to fetch the dependencies of ${opts.pom}:\n${last}`);
  }
  if (progress.files > 0) opts.log(`maven: ${progress.summary()}`);
}
