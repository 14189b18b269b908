/**
 * Installs what the Flink peer needs, once, under .cache/flink/<version>/:
 *
 * - `jars/`: Flink's streaming API and local runtime, the Kafka source, the JDBC sink, the
 *   PostgreSQL driver and a logger binding, from Maven Central through
 *   `mvn dependency:copy-dependencies` on bench/flink/pom.xml (the shared .cache/m2 repository).
 * - `classes/`: bench/flink/Job.java compiled with the local javac against those jars (no build
 *   tool: the job is one file).
 *
 *     deno run -A bench/flink/setup.ts     # prints the java command's classpath
 *
 * @module
 */

import { run as runCommand } from "../../scripts/command.ts";
import { copyDependencies } from "../../scripts/maven.ts";
import { ROOT } from "../../scripts/repo.ts";

/** Flink release; its connectors' versions are in bench/flink/pom.xml. */
export const FLINK_VERSION = "2.0.1";
const HOME = `${ROOT}/.cache/flink/${FLINK_VERSION}`;

/** Where the Flink peer is. */
export interface FlinkInstall {
  /** `-cp` value for `java`: the compiled job, then every jar. */
  classpath: string;
  /** Flink version. */
  version: string;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Fetches the jars and compiles the job on first use (again when Job.java changed). */
export async function setupFlink(log: (line: string) => void = () => {}): Promise<FlinkInstall> {
  const jarsMarker = `${HOME}/jars/.installed`;
  if (!(await exists(jarsMarker))) {
    log(`fetching Flink ${FLINK_VERSION}, its Kafka and JDBC connectors (Maven Central)`);
    await copyDependencies({
      pom: `${ROOT}/bench/flink/pom.xml`,
      outputDir: `${HOME}/jars`,
      log,
    });
    await Deno.writeTextFile(jarsMarker, `${new Date().toISOString()}\n`);
  }
  const source = `${ROOT}/bench/flink/Job.java`;
  const compiled = `${HOME}/classes/Job.class`;
  const sourceTime = (await Deno.stat(source)).mtime?.getTime() ?? 0;
  const classTime = await Deno.stat(compiled).then((s) => s.mtime?.getTime() ?? 0, () => -1);
  if (classTime < sourceTime) {
    log("compiling bench/flink/Job.java");
    await runCommand(["javac", "-d", `${HOME}/classes`, "-cp", `${HOME}/jars/*`, source], {
      cwd: ROOT,
      check: true,
      what: "javac bench/flink/Job.java (needs a JDK 17+)",
    });
  }
  return { classpath: `${HOME}/classes:${HOME}/jars/*`, version: FLINK_VERSION };
}

if (import.meta.main) {
  const install = await setupFlink((l) => console.error(l));
  console.log(JSON.stringify(install, null, 2));
}
