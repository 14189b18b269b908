/**
 * `deno task schema`: writes the event's JSON Schema to shared/sensor_event.schema.json, for
 * producers in other languages and for schema registries. shared/schema_file_test.ts fails when
 * the committed file and the code disagree.
 *
 * @module
 */

import { sensorEventJsonSchema } from "../shared/event.ts";

/** Where the schema file lives. */
export const SCHEMA_FILE = new URL("../shared/sensor_event.schema.json", import.meta.url);

/** The file's exact text. */
export function schemaFileText(): string {
  return JSON.stringify(sensorEventJsonSchema(), null, 2) + "\n";
}

if (import.meta.main) {
  await Deno.writeTextFile(SCHEMA_FILE, schemaFileText());
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
}
