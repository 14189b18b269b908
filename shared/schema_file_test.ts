import assert from "node:assert/strict";
import { schemaFileText } from "../scripts/schema.ts";
// A static JSON import, not a file read: this unit test needs no permission.
import committed from "./sensor_event.schema.json" with { type: "json" };

Deno.test("sensor_event.schema.json matches the schema the code generates (run `deno task schema`)", () => {
  assert.equal(JSON.stringify(committed, null, 2) + "\n", schemaFileText());
});
