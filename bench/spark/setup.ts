/**
 * Installs what the Spark baseline needs, once, under .cache/:
 *
 * - `.cache/venv`: a Python virtual environment with `pyspark==SPARK_VERSION` from PyPI (Spark
 *   itself, Scala and the JVM jars come with the wheel; it runs on the local Java 17).
 * - `.cache/spark/<version>/jars`: the Kafka connector (`spark-sql-kafka-0-10_2.12`) and the
 *   PostgreSQL JDBC driver from Maven Central, through `mvn dependency:copy-dependencies` on
 *   bench/spark/pom.xml. Jars the wheel already ships are not passed to Spark again.
 *
 *     deno run -A bench/spark/setup.ts     # prints the spark-submit path and the jar list
 *
 * @module
 */

import { run as runCommand } from "../../scripts/command.ts";
import { copyDependencies } from "../../scripts/maven.ts";
import { ROOT } from "../../scripts/repo.ts";

/** pyspark from PyPI; the connector of the same version must exist on Maven Central. */
export const SPARK_VERSION = "3.5.7";
const VENV = `${ROOT}/.cache/venv`;
const JARS = `${ROOT}/.cache/spark/${SPARK_VERSION}/jars`;
const SITE_JARS = `${VENV}/lib/python3.11/site-packages/pyspark/jars`;

/** Where Spark is. */
export interface SparkInstall {
  /** spark-submit of the venv. */
  sparkSubmit: string;
  /** Python of the venv (the driver's). */
  python: string;
  /** Jars to pass with --jars. */
  jars: string[];
  /** pyspark version. */
  version: string;
}

/** Runs a command in the repository; its output, or an error saying `what` failed. */
async function run(cmd: string[], what: string): Promise<string> {
  return (await runCommand(cmd, { cwd: ROOT, check: true, what: `${what} (${cmd.join(" ")})` }))
    .output;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Installs on first use; returns paths. */
export async function setupSpark(log: (line: string) => void = () => {}): Promise<SparkInstall> {
  const marker = `${VENV}/.pyspark-${SPARK_VERSION}`;
  if (!(await exists(marker))) {
    log(`installing pyspark ${SPARK_VERSION} into .cache/venv (first run only, ~400 MB)`);
    // Python 3.11's site-packages path is assumed below; check it is the interpreter we get.
    const python =
      (await run(["python3", "-c", "import sys; print(sys.version_info[:2])"], "python3"))
        .trim();
    if (python !== "(3, 11)") log(`note: python3 is ${python}; site-packages path may differ`);
    if (!(await exists(`${VENV}/bin/python`))) {
      await run(["python3", "-m", "venv", VENV], "venv").catch((error) => {
        throw new Error(
          "the Spark baseline needs python3 with its venv module (Debian: apt-get install " +
            `python3-venv); the rest of the benchmark runs without it.\n${error.message}`,
        );
      });
    }
    await run([
      `${VENV}/bin/pip`,
      "install",
      "-q",
      "--disable-pip-version-check",
      `pyspark==${SPARK_VERSION}`,
    ], "pip install pyspark");
    await Deno.writeTextFile(marker, `${new Date().toISOString()}\n`);
  }
  const jarsMarker = `${JARS}/.installed`;
  if (!(await exists(jarsMarker))) {
    log("fetching the Spark Kafka connector and the PostgreSQL JDBC driver (Maven Central)");
    await copyDependencies({
      pom: `${ROOT}/bench/spark/pom.xml`,
      outputDir: JARS,
      properties: { "spark.version": SPARK_VERSION },
      log,
    });
    await Deno.writeTextFile(jarsMarker, `${new Date().toISOString()}\n`);
  }
  // Pass only jars whose artifact the wheel does not ship (no second, older copy of a library).
  const shipped = new Set<string>();
  for await (const e of Deno.readDir(await sitePackagesJars())) shipped.add(artifactOf(e.name));
  const jars: string[] = [];
  for await (const e of Deno.readDir(JARS)) {
    if (e.name.endsWith(".jar") && !shipped.has(artifactOf(e.name))) jars.push(`${JARS}/${e.name}`);
  }
  return {
    sparkSubmit: `${VENV}/bin/spark-submit`,
    python: `${VENV}/bin/python`,
    jars: jars.sort(),
    version: SPARK_VERSION,
  };
}

async function sitePackagesJars(): Promise<string> {
  if (await exists(SITE_JARS)) return SITE_JARS;
  const out = await run([
    `${VENV}/bin/python`,
    "-c",
    "import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), 'jars'))",
  ], "locating pyspark");
  return out.trim();
}

/** "kafka-clients-3.4.1.jar" → "kafka-clients". */
function artifactOf(jar: string): string {
  return jar.replace(/\.jar$/, "").replace(/-\d[\w.]*$/, "");
}

if (import.meta.main) {
  const install = await setupSpark((l) => console.error(l));
  console.log(JSON.stringify(install, null, 2));
}
