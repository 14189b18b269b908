import assert from "node:assert/strict";
import { deviceStatus, iso } from "./queries.ts";

Deno.test("deviceStatus() puts offline first, then any open alert, then data or none", () => {
  assert.equal(deviceStatus({ latest: {}, open_alerts: ["anomaly", "offline"] }), "offline");
  assert.equal(deviceStatus({ latest: {}, open_alerts: ["battery_low"] }), "alert");
  assert.equal(deviceStatus({ latest: {}, open_alerts: [] }), "ok");
  assert.equal(deviceStatus({ latest: null, open_alerts: [] }), "no_data");
});

Deno.test("iso() renders a timestamptz as UTC with microseconds", () => {
  assert.equal(iso("t"), `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
});
