import assert from "node:assert/strict";
import { SCHEMA_FILE, schemaFileText } from "../scripts/schema.ts";

Deno.test("sensor_event.schema.json matches the schema the code generates (run `deno task schema`)", async () => {
  assert.equal(await Deno.readTextFile(SCHEMA_FILE), schemaFileText());
});
