/**
 * Installs what the Kafka Connect peer needs, once, under .cache/connect/<debezium version>/:
 * the plugin directory of Debezium's JDBC sink connector, from Maven Central through
 * `mvn dependency:copy-dependencies` on bench/connect/pom.xml (the shared .cache/m2 repository).
 * The Connect runtime itself is the broker's: .cache/kafka/<version>/libs (connect-runtime,
 * connect-json, kafka-clients, Jackson, log4j), fetched by scripts/services.
 *
 *     deno run -A bench/connect/setup.ts     # prints the classpath and the plugin path
 *
 * @module
 */

import { copyDependencies } from "../../scripts/maven.ts";
import { CACHE_DIR, ROOT } from "../../scripts/repo.ts";
import { KAFKA_VERSION } from "../../scripts/services/kafka.ts";

/** Debezium's JDBC sink; pinned in bench/connect/pom.xml too. */
export const DEBEZIUM_VERSION = "3.6.0.Final";
const HOME = `${CACHE_DIR}/connect/${DEBEZIUM_VERSION}`;

/** Where the Connect peer is. */
export interface ConnectInstall {
  /** `-cp` for `java`: the broker's jars (Connect runtime included). */
  classpath: string;
  /** `plugin.path`: a directory holding the connector's own directory. */
  pluginPath: string;
  /** "Kafka Connect 4.3.1, Debezium JDBC sink 3.6.0.Final". */
  version: string;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Fetches the plugin on first use; the Kafka jars must be there (the bench's stack needs them). */
export async function setupConnect(
  log: (line: string) => void = () => {},
): Promise<ConnectInstall> {
  const libs = `${CACHE_DIR}/kafka/${KAFKA_VERSION}/libs`;
  if (!(await exists(`${libs}/connect-runtime-${KAFKA_VERSION}.jar`))) {
    throw new Error(
      `no connect-runtime-${KAFKA_VERSION}.jar in ${libs} (scripts/services fetches it)`,
    );
  }
  const plugin = `${HOME}/plugins/debezium-connector-jdbc`;
  const marker = `${plugin}/.installed`;
  if (!(await exists(marker))) {
    log(`fetching Debezium's JDBC sink connector ${DEBEZIUM_VERSION} (Maven Central)`);
    await copyDependencies({
      pom: `${ROOT}/bench/connect/pom.xml`,
      outputDir: plugin,
      properties: { "debezium.version": DEBEZIUM_VERSION },
      log,
    });
    await Deno.writeTextFile(marker, `${new Date().toISOString()}\n`);
  }
  return {
    classpath: `${libs}/*`,
    pluginPath: `${HOME}/plugins`,
    version: `Kafka Connect ${KAFKA_VERSION}, Debezium JDBC sink ${DEBEZIUM_VERSION}`,
  };
}

if (import.meta.main) {
  const install = await setupConnect((l) => console.error(l));
  console.log(JSON.stringify(install, null, 2));
}
