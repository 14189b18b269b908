/**
 * [integration] The Grafana dashboard's PostgreSQL queries run on the consumer's real schema: a
 * renamed column would otherwise show as an empty panel, found by an operator in an incident.
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { migrate } from "../consumer/migrations.ts";
import { dropDatabase, freshDatabase, uniqueName } from "../testing/services.ts";
import { CHART_DIR } from "./testing/helm.ts";

/** Grafana's macros as its PostgreSQL data source expands them, for a one-hour range. */
function expandMacros(query: string): string {
  return query
    .replaceAll(/\$__timeGroupAlias\((\w+), \$__interval\)/g, "date_trunc('minute', $1) AS time")
    .replaceAll(/\$__timeFilter\((\w+)\)/g, "$1 BETWEEN now() - interval '1 hour' AND now()")
    .replaceAll("$device", "sensor-1");
}

Deno.test("[integration] every PostgreSQL query of the dashboard runs on the schema", async () => {
  const dashboard = JSON.parse(Deno.readTextFileSync(`${CHART_DIR}/dashboards/iot-pipeline.json`));
  const queries: string[] = dashboard.templating.list
    .filter((v: { datasource?: { type: string } }) => v.datasource?.type?.includes("postgres"))
    .map((v: { query: string }) => v.query);
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) if (target.rawSql) queries.push(target.rawSql);
  }
  assert.ok(queries.length >= 5, `${queries.length} queries`);
  const name = uniqueName("dashboard_sql");
  const sql = postgres(await freshDatabase(name), { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
    await sql`INSERT INTO tb_alerta (id_dispositivo, tipo, opened_at, last_triggered_at, peak_value)
      VALUES ('sensor-1', 'temperature_high', now(), now(), 41.5)`;
    for (const query of queries) {
      const expanded = expandMacros(query);
      assert.ok(!expanded.includes("$"), `a macro left unexpanded: ${expanded}`);
      await sql.unsafe(expanded);
    }
    const open = await sql.unsafe(
      expandMacros(queries.find((q) => q.includes("cleared_at IS NULL"))!),
    );
    assert.equal(open.length, 1, "the open alert is listed");
  } finally {
    await sql.end();
    await dropDatabase(name);
  }
});
