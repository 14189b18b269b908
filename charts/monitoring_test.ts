/**
 * The chart's monitoring: the PrometheusRule's alerts and the Grafana dashboard speak only of
 * metrics the services really export (a renamed metric would silence an alert without a word),
 * and both render where they are asked for and nowhere else.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { addReadinessMetric } from "@iot/shared/runtime";
import { createConsumerMetrics } from "../consumer/metrics.ts";
import { createProducerMetrics } from "../producer/metrics.ts";
import { CHART_DIR } from "./testing/helm.ts";
import { find, rendered } from "./testing/rendered.ts";
import { SCENARIOS } from "./testing/scenarios.ts";

const PRODUCTION = SCENARIOS.find((s) => s.name === "production sizing")!;
const DEFAULT = SCENARIOS.find((s) => s.name === "default (kind)")!;

/** Every metric name the services export (a histogram's series names included). */
async function exportedNames(): Promise<Set<string>> {
  const consumer = createConsumerMetrics();
  const producer = createProducerMetrics();
  const ops = new Registry();
  addReadinessMetric(ops, () => []);
  try {
    const names = new Set<string>(["up"]);
    for (const registry of [consumer.registry, producer.registry, ops]) {
      for (const metric of await registry.getMetricsAsJSON()) {
        names.add(metric.name);
        if (String(metric.type) === "histogram") {
          for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
        }
      }
    }
    return names;
  } finally {
    consumer.close();
    producer.close();
  }
}

/** Metric names in a PromQL expression: ours and the process ones (not functions or labels). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:iot|process)_[a-z_]+|up)\s*\{/g)].map((m) => m[1]);
}

Deno.test("every alert of the PrometheusRule names metrics the consumer exports", async () => {
  const { objects } = await rendered(PRODUCTION);
  const rule = find(objects, "PrometheusRule");
  const exported = await exportedNames();
  const alerts = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules);
  assert.ok(alerts.length >= 5, `${alerts.length} alerts`);
  for (const alert of alerts) {
    const used = metricsIn(alert.expr);
    assert.ok(used.length > 0, `${alert.alert} uses no metric: ${alert.expr}`);
    for (const name of used) {
      assert.ok(exported.has(name), `${alert.alert}: ${name} is not exported`);
    }
    assert.match(alert.for, /^\d+[smh]$/, `${alert.alert}: for`);
    assert.ok(alert.labels.severity, `${alert.alert}: severity`);
    assert.ok(alert.annotations.summary && alert.annotations.description, `${alert.alert}: texts`);
  }
  assert.deepEqual(
    ["IotConsumerNotReady", "IotConsumerLagGrowing", "IotRejectRateHigh", "IotNoRowsWritten"]
      .filter((name) => !alerts.some((a: { alert: string }) => a.alert === name)),
    [],
    "the alerts the monitoring issue asks for",
  );
});

Deno.test("the rules select the pods of the consumer Deployment", async () => {
  const { objects } = await rendered(PRODUCTION);
  const rule = find(objects, "PrometheusRule");
  const consumer = objects.find((o) =>
    o.kind === "Deployment" && o.metadata.labels?.["app.kubernetes.io/component"] === "consumer"
  );
  assert.ok(consumer);
  const pod = `${consumer.metadata.name}-5d9c7b8f4-x2x7q`; // a ReplicaSet's pod name
  for (const alert of rule.spec.groups[0].rules) {
    const selector = /pod=~"([^"]+)"/.exec(alert.expr);
    assert.ok(selector, `${alert.alert} selects no pod`);
    assert.match(pod, new RegExp(`^(?:${selector[1]})$`), alert.alert);
    assert.ok(alert.expr.includes(`namespace="${rule.metadata.namespace}"`), alert.alert);
  }
});

Deno.test("the Grafana dashboard is valid JSON whose queries name exported metrics", async () => {
  const { objects } = await rendered(PRODUCTION);
  const map = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard"));
  assert.ok(map, "dashboard ConfigMap");
  assert.equal(map.metadata.labels?.grafana_dashboard, "1");
  const text: string = map.data["iot-pipeline.json"];
  assert.ok(!text.includes("__IOT_"), "placeholders replaced");
  const dashboard = JSON.parse(text);
  const release = dashboard.templating.list.find((v: { name: string }) => v.name === "release");
  assert.equal(release.query, "iot", "the release variable is the chart's full name");
  const exported = await exportedNames();
  const panels = dashboard.panels.filter((p: { type: string }) => p.type !== "row");
  assert.equal(
    new Set(dashboard.panels.map((p: { id: number }) => p.id)).size,
    dashboard.panels.length,
  );
  let promQueries = 0;
  for (const panel of panels) {
    assert.ok(panel.targets.length > 0, `${panel.title}: no query`);
    for (const target of panel.targets) {
      assert.match(target.datasource.uid, /^\$\{(prometheus|postgresql)\}$/, panel.title);
      if (target.expr === undefined) continue;
      promQueries++;
      const used = metricsIn(target.expr);
      assert.ok(used.length > 0, `${panel.title}: ${target.expr}`);
      for (const name of used) assert.ok(exported.has(name), `${panel.title}: ${name}`);
    }
  }
  assert.ok(promQueries >= 10, `${promQueries} Prometheus queries`);
});

Deno.test("the rules and the dashboard are off unless asked for", async () => {
  const { objects } = await rendered(DEFAULT);
  assert.equal(objects.filter((o) => o.kind === "PrometheusRule").length, 0);
  assert.equal(objects.filter((o) => o.metadata.name.endsWith("-dashboard")).length, 0);
  // The file the ConfigMap reads ships with the chart (.helmignore keeps *.ts and testing/ out).
  assert.ok(Deno.statSync(`${CHART_DIR}/dashboards/iot-pipeline.json`).isFile);
});
