/**
 * Chart tests of the api (read API, live stream, dashboard): its Deployment is restricted and
 * probed like the others, it connects as the read-only role `iot_api` (declared in the
 * CloudNativePG Cluster with a generated password, or an existing Secret for an external
 * database), its ack token comes from a Secret, and its NetworkPolicy lets it reach PostgreSQL and
 * DNS only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { CHART_DIR, type K8sObject, render } from "./testing/helm.ts";
import { env, find, installNotes, podSpec, rendered, renderOk } from "./testing/rendered.ts";
import { SCENARIOS } from "./testing/scenarios.ts";
import { loadApiConfig } from "../api/config.ts";

const DEFAULT = SCENARIOS[0];
const EXTERNAL = SCENARIOS.find((s) => s.files.includes("ci/external-values.yaml"))!;
const APP_VERSION: string = parse(Deno.readTextFileSync(`${CHART_DIR}/Chart.yaml`)).appVersion;

/** Pod labels of a Deployment. */
function podLabels(d: K8sObject): Record<string, string> {
  return d.spec.template.metadata.labels;
}

/** Whether every matchLabels entry is among the labels. */
function selects(matchLabels: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

Deno.test("[chart] api: a restricted Deployment of the api image, probed on /healthz and /readyz", async () => {
  const { objects } = await rendered(DEFAULT);
  const d = find(objects, "Deployment", "iot-api");
  const spec = podSpec(d);
  const [c, ...others] = spec.containers;
  assert.deepEqual(others, []);
  assert.equal(c.name, "api");
  assert.equal(c.image, `iot/api:${APP_VERSION}`);
  assert.equal(d.spec.replicas, 1);
  assert.equal(podLabels(d)["app.kubernetes.io/component"], "api");
  assert.deepEqual(spec.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    fsGroup: 65532,
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.deepEqual(c.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.equal(spec.automountServiceAccountToken, false);
  assert.deepEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
  assert.deepEqual(
    [c.startupProbe, c.livenessProbe, c.readinessProbe].map((
      p,
    ) => [p.httpGet.path, p.httpGet.port]),
    [["/healthz", "http"], ["/healthz", "http"], ["/readyz", "http"]],
  );
  assert.equal(env(d, "api").get("KAFKA_BROKERS"), undefined, "the api has no Kafka settings");
});

Deno.test("[chart] api: DATABASE_URL as the role iot_api, declared in the Cluster with a generated Secret", async () => {
  const { objects, operands } = await rendered(DEFAULT);
  const d = find(objects, "Deployment", "iot-api");
  const e = env(d, "api");
  assert.deepEqual(e.get("DATABASE_URL")?.valueFrom, {
    secretKeyRef: { name: "iot-api-db", key: "uri" },
  });
  assert.equal(e.get("DATABASE_CA_FILE")?.value, "/etc/iot/postgres-ca/ca.crt");
  const caVolume = podSpec(d).volumes.find((v: { name: string }) => v.name === "postgres-ca");
  assert.deepEqual(caVolume.secret, {
    secretName: "iot-pg-ca",
    items: [{ key: "ca.crt", path: "ca.crt" }],
  });
  const cluster = find(operands, "Cluster");
  assert.deepEqual(cluster.spec.managed.roles, [{
    name: "iot_api",
    ensure: "present",
    login: true,
    inherit: true,
    passwordSecret: { name: "iot-api-db" },
  }]);
  // Made at bootstrap, before the consumer's first migration, which grants only to a role that
  // exists then; CloudNativePG makes managed roles only after bootstrap.
  assert.deepEqual(cluster.spec.bootstrap.initdb.postInitApplicationSQL, [
    "CREATE ROLE iot_api NOLOGIN",
  ]);
  const secret = find(objects, "Secret", "iot-api-db");
  assert.equal(secret.type, "kubernetes.io/basic-auth");
  assert.equal(secret.metadata.labels?.["cnpg.io/reload"], "true");
  const { username, password, uri } = secret.stringData;
  assert.equal(username, "iot_api");
  assert.match(password, /^[A-Za-z0-9]{32}$/);
  assert.equal(uri, `postgresql://iot_api:${password}@iot-pg-rw.iot:5432/iot`);
  // Not the owner's Secret: the api never gets the consumer's role.
  assert.notEqual(e.get("DATABASE_URL")?.valueFrom?.secretKeyRef.name, "iot-pg-app");
});

Deno.test("[chart] api: API_ACK_TOKEN from a generated Secret the api accepts", async () => {
  const { objects } = await rendered(DEFAULT);
  const d = find(objects, "Deployment", "iot-api");
  const e = env(d, "api");
  assert.deepEqual(e.get("API_ACK_TOKEN")?.valueFrom, {
    secretKeyRef: { name: "iot-api", key: "ack-token" },
  });
  const token = find(objects, "Secret", "iot-api").stringData["ack-token"];
  const db = find(objects, "Secret", "iot-api-db").stringData.uri;
  // The environment the pod gets, secrets resolved, read by the api's own settings reader.
  const vars: Record<string, string> = { DATABASE_URL: db, API_ACK_TOKEN: token };
  for (const [name, entry] of e) if (entry.value !== undefined) vars[name] = entry.value;
  const config = loadApiConfig(vars, () => "-----BEGIN CERTIFICATE-----\n");
  assert.equal(config.ackToken, token);
  assert.equal(config.databaseUrl, db);
  assert.equal(config.httpPort, 8080);
  assert.equal(config.streamWake, "notify");
});

Deno.test("[chart] api: an external database and token come from existing Secrets", async (t) => {
  await t.step("the ci scenario's Secrets, no generated ones, no managed role", async () => {
    const { objects, operands } = await rendered(EXTERNAL);
    const e = env(find(objects, "Deployment", "iot-api"), "api");
    assert.deepEqual(e.get("DATABASE_URL")?.valueFrom, {
      secretKeyRef: { name: "iot-api-database", key: "url" },
    });
    assert.deepEqual(e.get("API_ACK_TOKEN")?.valueFrom, {
      secretKeyRef: { name: "iot-api-ack", key: "token" },
    });
    assert.equal(e.get("DATABASE_CA_FILE"), undefined);
    assert.deepEqual(objects.filter((o) => o.kind === "Secret"), []);
    assert.deepEqual(operands, []);
  });
  await t.step("without api.database.existingSecret the chart refuses, naming it", async () => {
    const result = await render({
      set: ["postgresql.create=false", "postgresql.external.existingSecret=db"],
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /api\.database\.existingSecret is empty/);
  });
});

Deno.test("[chart] api: NetworkPolicy selects it, egress to DNS and PostgreSQL only, ingress on http", async () => {
  for (const scenario of [DEFAULT, EXTERNAL]) {
    const { objects } = await rendered(scenario);
    const d = find(objects, "Deployment", "iot-api");
    const np = find(objects, "NetworkPolicy", "iot-api");
    assert.ok(selects(np.spec.podSelector.matchLabels, podLabels(d)), scenario.name);
    for (const other of ["iot-producer", "iot-consumer"]) {
      const pods = podLabels(find(objects, "Deployment", other));
      assert.ok(!selects(np.spec.podSelector.matchLabels, pods), `${other} is not selected`);
    }
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(np.spec.ingress.map((r: { ports: unknown }) => r.ports), [[{
      port: "http",
      protocol: "TCP",
    }]]);
    const ports = np.spec.egress.map((r: { ports: { port: number }[] }) =>
      r.ports.map((p) => p.port)
    );
    const pgPort = scenario === DEFAULT ? 5432 : 5433;
    assert.deepEqual(ports, [[53, 53], [pgPort]], `${scenario.name}: DNS and PostgreSQL only`);
    if (scenario === DEFAULT) {
      assert.deepEqual(np.spec.egress[1].to, [{
        podSelector: { matchLabels: { "cnpg.io/cluster": "iot-pg" } },
      }]);
    } else {
      assert.deepEqual(np.spec.egress[1].to, [{ ipBlock: { cidr: "10.30.0.0/24" } }]);
    }
  }
  const { objects } = await renderOk({
    set: ["networkPolicy.apiFrom[0].namespaceSelector.matchLabels.team=web"],
  });
  assert.deepEqual(find(objects, "NetworkPolicy", "iot-api").spec.ingress[0].from, [
    { namespaceSelector: { matchLabels: { team: "web" } } },
  ]);
});

Deno.test("[chart] api: the Service's port reaches the container's http port; a PDB", async () => {
  const { objects } = await rendered(DEFAULT);
  const d = find(objects, "Deployment", "iot-api");
  const svc = find(objects, "Service", "iot-api");
  assert.ok(selects(svc.spec.selector, podLabels(d)));
  const [port] = svc.spec.ports;
  assert.equal(port.name, "http");
  const container = podSpec(d).containers[0].ports.find((p: { name: string }) =>
    p.name === port.targetPort
  );
  assert.equal(container?.containerPort, 8080);
  const pdb = find(objects, "PodDisruptionBudget", "iot-api");
  assert.ok(selects(pdb.spec.selector.matchLabels, podLabels(d)));
  assert.equal(pdb.spec.maxUnavailable, 1);
});

Deno.test("[chart] api: settings from api.env, checked at render time", async () => {
  const { objects } = await renderOk({ set: ["api.env.STREAM_WAKE=poll", "api.replicaCount=2"] });
  const d = find(objects, "Deployment", "iot-api");
  assert.equal(env(d, "api").get("STREAM_WAKE")?.value, "poll");
  assert.equal(d.spec.replicas, 2);
  const bad = await render({
    set: ["api.env.STREAM_INTERVAL_MS=5000", "api.env.STREAM_POLL_INTERVAL_MS=1000"],
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /api\.env\.STREAM_POLL_INTERVAL_MS \(1000\) must be at least/);
  const grace = await render({ set: ["api.terminationGracePeriodSeconds=20"] });
  assert.match(grace.stderr, /api\.terminationGracePeriodSeconds \(20\) must exceed/);
  const unknown = await render({ set: ["api.env.KAFKA_BROKERS=x:9092"] });
  assert.notEqual(unknown.code, 0, "the schema refuses a name the api does not read");
});

Deno.test("[chart] api: api.enabled=false removes every api object and the role", async () => {
  const { objects, operands } = await renderOk({ set: ["api.enabled=false"] });
  const api = objects.filter((o) =>
    o.metadata.labels?.["app.kubernetes.io/component"] === "api" ||
    o.metadata.name.startsWith("iot-api")
  );
  assert.deepEqual(api.map((o) => `${o.kind}/${o.metadata.name}`), []);
  const cluster = find(operands, "Cluster");
  assert.equal(cluster.spec.managed, undefined);
  assert.equal(cluster.spec.bootstrap.initdb.postInitApplicationSQL, undefined);
});

Deno.test("[chart] api: the PodMonitor scrapes it; NOTES.txt tells how to open the dashboard", async () => {
  const { objects } = await renderOk({ set: ["metrics.podMonitor.enabled=true"] });
  const pm = find(objects, "PodMonitor");
  assert.deepEqual(pm.spec.selector.matchExpressions[0].values, ["producer", "consumer", "api"]);
  const notes = await installNotes();
  assert.match(notes, /kubectl -n iot port-forward svc\/iot-api 8080:8080/);
  assert.match(notes, /get secret iot-api -o jsonpath='\{\.data\.ack-token\}'/);
  const off = await installNotes("--set", "api.enabled=false");
  assert.doesNotMatch(off, /iot-api/);
});
