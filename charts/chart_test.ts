/**
 * Chart tests: lint, render every scenario, validate every object against its schema, and assert
 * what matters (restricted pods, selectors, secrets, topic/partitions, image tags, render-time
 * checks, install ordering). Offline: helm and kubeconform come from scripts/install-tools.sh,
 * the operator charts are replaced by stand-ins (see testing/helm.ts), custom resources are
 * validated against schemas derived from the operators' CRDs in testing/crds/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  CHART_DIR,
  chartWithStandIns,
  dependencies,
  findTool,
  type K8sObject,
  render,
  run,
  STUB_LABEL,
} from "./testing/helm.ts";
import {
  isCoreKind,
  TYPES_FILE,
  typesAvailable,
  validateFields,
  validateWithModels,
} from "./testing/validate_core.ts";
import { isCustomKind, validateCustom } from "./testing/validate_custom.ts";
import { missingExecutable, ownImageContents } from "./testing/images.ts";
import { type Scenario, SCENARIOS } from "./testing/scenarios.ts";
import { env, find, installNotes, podSpec, rendered, renderOk } from "./testing/rendered.ts";

const APP_VERSION: string = parse(Deno.readTextFileSync(`${CHART_DIR}/Chart.yaml`)).appVersion;
const WORKLOAD_KINDS = ["Deployment", "Job", "Pod"];
const POD_VOLUME_TYPES = [
  "configMap",
  "emptyDir",
  "secret",
  "projected",
  "downwardAPI",
  "csi",
  "ephemeral",
  "persistentVolumeClaim",
];

function podLabels(workload: K8sObject): Record<string, string> {
  return workload.kind === "Pod"
    ? workload.metadata.labels ?? {}
    : workload.spec.template.metadata.labels ?? {};
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

function matches(selector: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === "In" && !(has && e.values!.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values!.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

async function renderFails(set: string[], files: string[] = []): Promise<string> {
  const result = await render({ set, files });
  assert.notEqual(result.code, 0, `expected helm template to fail with --set ${set.join(" ")}`);
  return result.stderr;
}

// ---- tools and lint ------------------------------------------------------------------------

Deno.test("[chart] helm and kubeconform are installed (scripts/install-tools.sh)", async () => {
  const helm = await run([findTool("helm"), "version", "--short"]);
  assert.equal(helm.code, 0, helm.stderr);
  assert.match(helm.stdout, /^v[34]\./);
  findTool("kubeconform");
  console.log(`helm ${helm.stdout.trim()}, kubeconform at ${findTool("kubeconform")}`);
});

Deno.test("[chart] every ci/ values file is one of the rendered scenarios", () => {
  const covered = new Set(SCENARIOS.flatMap((s) => s.files));
  for (const entry of Deno.readDirSync(`${CHART_DIR}/ci`)) {
    assert.ok(
      covered.has(`ci/${entry.name}`),
      `ci/${entry.name} is not in SCENARIOS of testing/scenarios.ts`,
    );
  }
});

Deno.test("[chart] helm lint --strict", async (t) => {
  const present = (() => {
    try {
      return [...Deno.readDirSync(`${CHART_DIR}/charts`)].length > 0;
    } catch {
      return false;
    }
  })();
  await t.step(
    "charts/ as is: the only finding is the operator charts missing offline",
    async () => {
      const result = await run([findTool("helm"), "lint", "--strict", CHART_DIR]);
      if (present) {
        assert.equal(result.code, 0, result.stdout + result.stderr);
        return;
      }
      const findings = result.stdout.split("\n").filter((l) => /^\[(ERROR|WARNING)\]/.test(l));
      const names = dependencies().map((d) => d.name).join(",");
      assert.equal(findings.length, 1, result.stdout);
      assert.match(
        findings[0],
        new RegExp(`^\\[WARNING\\] .*: chart directory is missing these dependencies: ${names}$`),
      );
      console.log(
        `  helm lint --strict charts/: only "${
          findings[0]
        }" (operator charts are not downloadable here; ` +
          "the scenarios below are linted with stand-in subcharts)",
      );
    },
  );
  for (const scenario of SCENARIOS) {
    await t.step(`with stand-in dependencies: ${scenario.name}`, async () => {
      const dir = chartWithStandIns();
      const result = await run([
        findTool("helm"),
        "lint",
        "--strict",
        dir,
        ...scenario.files.flatMap((f) => ["-f", `${dir}/${f}`]),
      ]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }
});

// ---- schema validation ---------------------------------------------------------------------

for (const scenario of SCENARIOS) {
  Deno.test(`[chart] ${scenario.name}: every built-in object validates (kubernetes-models + client-go types)`, async () => {
    assert.ok(
      typesAvailable(),
      `${TYPES_FILE} is missing: run \`bash scripts/install-tools.sh\` (it extracts the types from client-go)`,
    );
    const { objects, operands } = await rendered(scenario);
    const unknown = [...objects, ...operands].filter((o) => !isCoreKind(o) && !isCustomKind(o));
    assert.deepEqual(
      unknown.map((o) => `${o.apiVersion} ${o.kind}`),
      [],
      "kinds no validator knows",
    );
    const core = objects.filter(isCoreKind);
    const problems = core.flatMap((o) =>
      [...validateWithModels(o), ...validateFields(o)].map((p) =>
        `${o.kind}/${o.metadata.name}: ${p}`
      )
    );
    assert.deepEqual(problems, []);
    const byKind = Object.entries(
      core.reduce<Record<string, number>>(
        (acc, o) => ({ ...acc, [o.kind]: (acc[o.kind] ?? 0) + 1 }),
        {},
      ),
    ).map(([k, n]) => `${n} ${k}`).join(", ");
    console.log(`  ${scenario.name}: ${core.length} built-in objects valid (${byKind})`);
  });

  Deno.test(`[chart] ${scenario.name}: every custom resource validates against its operator's CRD`, async () => {
    const { objects, operands } = await rendered(scenario);
    const custom = [...objects.filter(isCustomKind), ...operands];
    const verdicts = await validateCustom(custom);
    assert.equal(verdicts.length, custom.length, "kubeconform judged every custom resource");
    const bad = verdicts.filter((v) => v.status !== "statusValid")
      .map((v) => `${v.kind}/${v.name}: ${v.status} ${v.problems.join("; ")}`);
    assert.deepEqual(bad, []);
    console.log(
      `  ${scenario.name}: ${custom.length} custom resources valid ` +
        `(${
          custom.map((o) => o.kind).join(", ") || "none"
        }; ${operands.length} of them in the operands ConfigMap)`,
    );
  });
}

Deno.test("[chart] the validators reject what they should", async (t) => {
  await t.step("client-go types: a misspelled field, a wrong scalar and a null fail", () => {
    const deployment: K8sObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: {
        replicas: "3",
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "c", image: "i", readinesProbe: {}, resources: null }] },
        },
      },
    };
    assert.deepEqual(validateFields(deployment), [
      'spec.replicas: string "3" where numeric is expected',
      "spec.template.spec.containers[0].readinesProbe: unknown field",
      "spec.template.spec.containers[0].resources: null value (a template rendered a key with nothing after it?)",
    ]);
    assert.match(validateWithModels(deployment).join(), /replicas must be integer/);
  });
  await t.step("CRD schemas: well-formed resources of each operator pass", async () => {
    const verdicts = await validateCustom(WELL_FORMED_CUSTOM);
    assert.deepEqual(
      verdicts.map((v) => `${v.kind}/${v.name}: ${v.status} ${v.problems.join("; ")}`).sort(),
      WELL_FORMED_CUSTOM.map((o) => `${o.kind}/${o.metadata.name}: statusValid `).sort(),
    );
  });
  await t.step(
    "CRD schemas: a misspelled field, a wrong type or a missing spec fails",
    async () => {
      for (const [object, expected] of MALFORMED_CUSTOM) {
        const [verdict] = await validateCustom([object]);
        assert.equal(verdict.status, "statusInvalid", `${object.kind}/${object.metadata.name}`);
        assert.match(
          verdict.problems.join("; "),
          expected,
          `${object.kind}/${object.metadata.name}`,
        );
      }
    },
  );
});

/** One resource of each custom kind the chart renders, as an operator's docs would write it. */
const WELL_FORMED_CUSTOM: K8sObject[] = [
  {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "Kafka",
    metadata: { name: "k" },
    spec: {
      kafka: { listeners: [{ name: "plain", port: 9092, type: "internal", tls: false }] },
      entityOperator: { topicOperator: {} },
    },
  },
  {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaNodePool",
    metadata: { name: "pool", labels: { "strimzi.io/cluster": "k" } },
    spec: { replicas: 1, roles: ["controller", "broker"], storage: { type: "ephemeral" } },
  },
  {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaTopic",
    metadata: { name: "t", labels: { "strimzi.io/cluster": "k" } },
    spec: { partitions: 6, replicas: 1, config: { "retention.ms": 86400000 } },
  },
  {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: { name: "pg" },
    spec: { instances: 1, storage: { size: "1Gi" }, bootstrap: { initdb: { database: "iot" } } },
  },
  {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: "so" },
    spec: {
      scaleTargetRef: { name: "consumer" },
      triggers: [{ type: "kafka", metadata: { topic: "iot.sensors", lagThreshold: "100" } }],
    },
  },
  {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: "pm" },
    spec: { selector: { matchLabels: { app: "consumer" } }, podMetricsEndpoints: [{ port: "m" }] },
  },
];

/** Broken copies of {@link WELL_FORMED_CUSTOM}, each with the problem kubeconform must name. */
const MALFORMED_CUSTOM: [K8sObject, RegExp][] = [
  [
    {
      ...WELL_FORMED_CUSTOM[0],
      spec: { kafka: { listners: [{ name: "plain", port: 9092, type: "internal", tls: false }] } },
    },
    /listners/,
  ],
  [{ ...WELL_FORMED_CUSTOM[2], spec: { partiton: 6, replicas: 1 } }, /partiton/],
  [{ ...WELL_FORMED_CUSTOM[2], spec: { partitions: "six", replicas: 1 } }, /partitions/],
  [
    { ...WELL_FORMED_CUSTOM[3], spec: { instances: 1, bootstrap: { initDb: {} } } },
    /initDb/,
  ],
  [
    { ...WELL_FORMED_CUSTOM[4], spec: { scaleTargetRef: { name: "consumer" } } },
    /triggers/,
  ],
  [{ ...WELL_FORMED_CUSTOM[5], spec: undefined }, /spec/],
];

// ---- what matters -------------------------------------------------------------------------

Deno.test("[chart] every container starts an executable its image has", async (t) => {
  await t.step("the check itself: a shell in the kubectl image, an unknown image", () => {
    const kubectlImage = "registry.k8s.io/kubectl:v1.37.0";
    assert.equal(
      missingExecutable({ name: "a", image: kubectlImage, command: ["/bin/bash", "apply.sh"] }),
      "a: registry.k8s.io/kubectl:v1.37.0 has no /bin/bash (it has /bin/kubectl, /go-runner)",
    );
    assert.equal(
      missingExecutable({ name: "b", image: kubectlImage, command: ["/bin/kubectl"] }),
      undefined,
    );
    assert.equal(missingExecutable({ name: "c", image: kubectlImage }), undefined);
    assert.match(missingExecutable({ name: "d", image: "busybox:1" })!, /no facts about busybox:1/);
    assert.match(
      missingExecutable({
        name: "e",
        image: "docker.io/library/postgres:18-alpine",
        command: ["sh"],
      })!,
      /"sh" is not an absolute path/,
    );
    assert.deepEqual(ownImageContents("consumer/Dockerfile"), {
      executables: ["/app/consumer"],
      entrypoint: ["/app/consumer"],
    });
  });
  for (const scenario of SCENARIOS) {
    await t.step(scenario.name, async () => {
      const { objects } = await rendered(scenario);
      const containers = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind)).flatMap((w) => {
        const spec = podSpec(w);
        return [...(spec.initContainers ?? []), ...spec.containers].map((c) => ({
          ...c,
          name: `${w.kind}/${w.metadata.name} ${c.name}`,
        }));
      });
      assert.ok(containers.length >= 3, "containers rendered");
      assert.deepEqual(containers.map(missingExecutable).filter(Boolean), []);
    });
  }
});

Deno.test("[chart] every pod of ours meets the restricted profile with a read-only root filesystem", async () => {
  for (const scenario of SCENARIOS) {
    const { objects } = await rendered(scenario);
    const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
    assert.ok(workloads.length >= 3, `${scenario.name}: workloads rendered`);
    for (const w of workloads) {
      const where = `${scenario.name}: ${w.kind}/${w.metadata.name}`;
      const spec = podSpec(w);
      const psc = spec.securityContext ?? {};
      assert.equal(psc.runAsNonRoot, true, `${where}: pod runAsNonRoot`);
      assert.ok(psc.runAsUser > 0, `${where}: non-zero runAsUser`);
      assert.equal(psc.seccompProfile?.type, "RuntimeDefault", `${where}: seccomp RuntimeDefault`);
      for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) {
        assert.ok(!spec[flag], `${where}: ${flag}`);
      }
      for (const v of spec.volumes ?? []) {
        const type = Object.keys(v).find((k) => k !== "name")!;
        assert.ok(POD_VOLUME_TYPES.includes(type), `${where}: volume type ${type} not allowed`);
      }
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        const cw = `${where} container ${c.name}`;
        assert.equal(sc.allowPrivilegeEscalation, false, `${cw}: allowPrivilegeEscalation false`);
        assert.deepEqual(sc.capabilities?.drop, ["ALL"], `${cw}: drop ALL`);
        assert.equal(sc.capabilities?.add, undefined, `${cw}: adds no capability`);
        assert.notEqual(sc.privileged, true, `${cw}: not privileged`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${cw}: read-only root filesystem`);
        assert.ok(sc.runAsNonRoot !== false && sc.runAsUser !== 0, `${cw}: non-root`);
        assert.ok(!c.ports?.some((p: { hostPort?: number }) => p.hostPort), `${cw}: no hostPort`);
        assert.ok(
          c.resources?.requests && c.resources?.limits?.memory,
          `${cw}: requests and a memory limit`,
        );
        // Writes only into an explicit emptyDir.
        for (const m of c.volumeMounts ?? []) {
          if (m.readOnly) continue;
          const volume = spec.volumes.find((v: { name: string }) => v.name === m.name);
          assert.ok(volume?.emptyDir, `${cw}: writable mount ${m.mountPath} is an emptyDir`);
        }
      }
      const sa = objects.find((o) =>
        o.kind === "ServiceAccount" && o.metadata.name === spec.serviceAccountName
      );
      if (w.metadata.labels?.["app.kubernetes.io/component"] === "operands") {
        assert.equal(
          spec.automountServiceAccountToken,
          true,
          `${where}: the operands Job needs its token`,
        );
      } else {
        assert.equal(spec.automountServiceAccountToken, false, `${where}: no API token`);
        if (sa) {
          assert.equal(
            sa.automountServiceAccountToken,
            false,
            `${where}: its ServiceAccount automounts no token`,
          );
        }
      }
    }
  }
});

Deno.test("[chart] selectors match labels", async () => {
  for (const scenario of SCENARIOS) {
    const { objects, operands } = await rendered(scenario);
    const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
    const deployments = objects.filter((o) => o.kind === "Deployment");
    const selects = (selector: Selector) =>
      workloads.filter((w) => matches(selector, podLabels(w)));
    for (const d of deployments) {
      assert.ok(
        matches(d.spec.selector, podLabels(d)),
        `${d.metadata.name}: selector matches its pods`,
      );
      // No other workload's pods fall under this Deployment's selector.
      assert.deepEqual(selects(d.spec.selector).map((w) => w.metadata.name), [d.metadata.name]);
      for (const c of podSpec(d).topologySpreadConstraints ?? []) {
        assert.ok(matches(c.labelSelector, podLabels(d)), `${d.metadata.name}: spread selector`);
      }
    }
    for (const svc of objects.filter((o) => o.kind === "Service")) {
      const picked = selects({ matchLabels: svc.spec.selector });
      assert.deepEqual(picked.map((w) => w.kind), ["Deployment"], `Service ${svc.metadata.name}`);
      assert.equal(picked[0].metadata.name, svc.metadata.name);
      const port = podSpec(picked[0]).containers[0].ports.find((p: { name: string }) =>
        p.name === svc.spec.ports[0].targetPort
      );
      assert.equal(port?.containerPort, 8080, `Service ${svc.metadata.name} targets the http port`);
    }
    for (const kind of ["PodDisruptionBudget", "NetworkPolicy"]) {
      for (const o of objects.filter((o) => o.kind === kind)) {
        const selector = kind === "PodDisruptionBudget" ? o.spec.selector : o.spec.podSelector;
        assert.deepEqual(
          selects(selector).map((w) => w.metadata.name),
          [o.metadata.name],
          `${kind} ${o.metadata.name}`,
        );
      }
    }
    for (const pm of objects.filter((o) => o.kind === "PodMonitor")) {
      const picked = selects(pm.spec.selector).map((w) => w.metadata.name).sort();
      assert.deepEqual(
        picked,
        ["iot-api", "iot-consumer", "iot-producer"],
        "PodMonitor selects the three services only",
      );
      for (const name of picked) {
        const ports = podSpec(find(objects, "Deployment", name)).containers[0].ports;
        assert.ok(
          ports.some((p: { name: string }) => p.name === pm.spec.podMetricsEndpoints[0].port),
        );
      }
    }
    for (
      const scaler of objects.filter((o) =>
        o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject"
      )
    ) {
      find(deployments, "Deployment", scaler.spec.scaleTargetRef.name);
    }
    // Strimzi and CloudNativePG wiring.
    const kafka = operands.find((o) => o.kind === "Kafka");
    for (const o of operands.filter((o) => o.kind === "KafkaNodePool" || o.kind === "KafkaTopic")) {
      assert.equal(
        o.metadata.labels?.["strimzi.io/cluster"],
        kafka?.metadata.name,
        `${o.kind} ${o.metadata.name} names its Kafka`,
      );
    }
    const cluster = operands.find((o) => o.kind === "Cluster");
    for (const np of objects.filter((o) => o.kind === "NetworkPolicy")) {
      const peers = np.spec.egress.flatMap((e: { to?: { podSelector?: Selector }[] }) =>
        e.to ?? []
      );
      const labels = peers.map((p: { podSelector?: Selector }) => p.podSelector?.matchLabels ?? {});
      if (kafka) {
        assert.equal(
          labels.some((l: Record<string, string>) =>
            l["strimzi.io/cluster"] === kafka.metadata.name
          ),
          !np.metadata.name.endsWith("-api"),
          `${np.metadata.name} reaches Kafka (the api does not)`,
        );
      }
      const toPg = cluster !== undefined &&
        labels.some((l: Record<string, string>) => l["cnpg.io/cluster"] === cluster.metadata.name);
      assert.equal(
        toPg,
        Boolean(cluster) && /-(consumer|api)$/.test(np.metadata.name),
        `${np.metadata.name}: PostgreSQL egress only for the consumer and the api`,
      );
    }
  }
});

Deno.test("[chart] the consumer's DATABASE_URL comes from the CloudNativePG secret; no password anywhere", async (t) => {
  await t.step("default: <cluster>-app, key uri, host <cluster>-rw", async () => {
    const { objects, operands } = await rendered(SCENARIOS[0]);
    const cluster = find(operands, "Cluster");
    for (
      const [kind, name, container] of [["Deployment", "iot-consumer", "consumer"], [
        "Pod",
        "iot-test-rows",
        "psql",
      ]]
    ) {
      const url = env(find(objects, kind, name), container).get("DATABASE_URL");
      assert.deepEqual(url, {
        name: "DATABASE_URL",
        valueFrom: { secretKeyRef: { name: `${cluster.metadata.name}-app`, key: "uri" } },
      });
    }
    assert.equal(cluster.spec.bootstrap.initdb.database, "iot");
    assert.equal(
      env(find(objects, "Deployment", "iot-producer"), "producer").get("DATABASE_URL"),
      undefined,
    );
  });
  await t.step("external database: the existing secret and key from values", async () => {
    const { objects, operands } = await rendered(SCENARIOS[1]);
    assert.equal(operands.length, 0);
    const url = env(find(objects, "Deployment", "iot-consumer"), "consumer").get("DATABASE_URL");
    assert.deepEqual(url?.valueFrom, { secretKeyRef: { name: "iot-database", key: "url" } });
  });
  await t.step("no password in values files or rendered objects", async () => {
    for (
      const file of [
        "values.yaml",
        "values-production.yaml",
        ...SCENARIOS.flatMap((s) => s.files),
      ]
    ) {
      // Keys and values, not comments (which say that there is none).
      const values = JSON.stringify(parse(Deno.readTextFileSync(`${CHART_DIR}/${file}`)));
      assert.doesNotMatch(values, /passw(or)?d/i, file);
    }
    for (const scenario of SCENARIOS) {
      const { objects, operands } = await rendered(scenario);
      // The only Secrets are the api's, with values generated at install (api_test.ts).
      const secrets = objects.filter((o) => o.kind === "Secret").map((o) => o.metadata.name);
      assert.ok(
        secrets.every((name) => name === "iot-api-db" || name === "iot-api"),
        `the chart renders no Secret but the api's generated ones: ${secrets}`,
      );
      for (const o of [...objects, ...operands].filter((o) => o.kind !== "Secret")) {
        // The allowed mentions are references to the Secrets Strimzi makes for KafkaUsers: where
        // a password file is mounted and named, and KEDA's pointer to its Secret.
        const text = JSON.stringify(o.kind === "ConfigMap" ? { ...o, data: undefined } : o)
          .replaceAll(
            '{"name":"KAFKA_SASL_PASSWORD_FILE","value":"/etc/iot/kafka-user/password"}',
            "",
          )
          .replaceAll('{"key":"password","path":"password"}', "")
          // CloudNativePG's pointer to the api role's Secret.
          .replace(/"passwordSecret":\{"name":"iot-api-db"\}/, "")
          .replace(/\{"parameter":"password","name":"[a-z0-9-]+","key":"password"\}/, "");
        assert.doesNotMatch(text, /passw(or)?d/i, `${o.kind}/${o.metadata.name}`);
      }
    }
  });
});

Deno.test("[chart] topic name and partitions agree between the KafkaTopic and the services", async (t) => {
  for (const scenario of SCENARIOS) {
    await t.step(scenario.name, async () => {
      const { objects, operands } = await rendered(scenario);
      const values = await effectiveValues(scenario);
      const producer = env(find(objects, "Deployment", "iot-producer"), "producer");
      const consumer = env(find(objects, "Deployment", "iot-consumer"), "consumer");
      const topicName = producer.get("KAFKA_TOPIC")?.value;
      assert.equal(consumer.get("KAFKA_TOPIC")?.value, topicName);
      assert.equal(producer.get("KAFKA_BROKERS")?.value, consumer.get("KAFKA_BROKERS")?.value);
      const topic = operands.find((o) => o.kind === "KafkaTopic");
      const kafka = operands.find((o) => o.kind === "Kafka");
      let partitions = values.topic.partitions;
      if (topic) {
        assert.equal(topic.spec.topicName, topicName);
        partitions = topic.spec.partitions;
        assert.equal(partitions, values.topic.partitions);
        const scram = values.kafka.security === "scram-sha-512";
        const port = scram ? 9093 : 9092;
        assert.equal(
          consumer.get("KAFKA_BROKERS")?.value,
          `${kafka!.metadata.name}-kafka-bootstrap:${port}`,
        );
        const [listener, ...others] = kafka!.spec.kafka.listeners;
        assert.deepEqual(others, [], "one listener");
        assert.deepEqual([listener.port, listener.tls, listener.type], [port, scram, "internal"]);
      } else {
        assert.equal(consumer.get("KAFKA_BROKERS")?.value, values.kafka.externalBrokers);
      }
      const deployment = find(objects, "Deployment", "iot-consumer");
      const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler");
      const keda = objects.find((o) => o.kind === "ScaledObject");
      const most = keda?.spec.maxReplicaCount ?? hpa?.spec.maxReplicas ?? deployment.spec.replicas;
      assert.ok(most <= partitions, `${most} consumers at most, ${partitions} partitions`);
      if (hpa || keda) {
        assert.equal(deployment.spec.replicas, undefined, "the autoscaler owns replicas");
      }
      if (keda?.spec.triggers[0].type === "kafka") {
        const m = keda.spec.triggers[0].metadata;
        assert.equal(m.topic, topicName);
        assert.equal(m.consumerGroup, consumer.get("KAFKA_GROUP_ID")?.value);
        assert.equal(m.bootstrapServers, consumer.get("KAFKA_BROKERS")?.value);
      } else if (keda) {
        assert.match(
          keda.spec.triggers[0].metadata.query,
          new RegExp(`topic="${topicName!.replace(".", "\\.")}"`),
        );
      }
    });
  }
  await t.step(
    "a topic name that is not a Kubernetes name keeps spec.topicName exact",
    async () => {
      const { objects, operands } = await renderOk({ set: ["topic.name=Plant_1.Readings"] });
      const topic = find(operands, "KafkaTopic");
      assert.equal(topic.metadata.name, "plant-1.readings");
      assert.equal(topic.spec.topicName, "Plant_1.Readings");
      assert.equal(
        env(find(objects, "Deployment", "iot-producer"), "producer").get("KAFKA_TOPIC")?.value,
        "Plant_1.Readings",
      );
    },
  );
});

Deno.test("[chart] image tags follow the chart's appVersion", async () => {
  for (const scenario of SCENARIOS) {
    const { objects } = await rendered(scenario);
    const values = await effectiveValues(scenario);
    const prefix = values.image.registry ? `${values.image.registry}/` : "";
    for (const name of ["producer", "consumer", "api"]) {
      const image = podSpec(find(objects, "Deployment", `iot-${name}`)).containers[0].image;
      assert.equal(image, `${prefix}iot/${name}:${APP_VERSION}`, scenario.name);
    }
  }
  const { objects } = await renderOk({ set: ["consumer.image.tag=sha-abc123"] });
  assert.equal(
    podSpec(find(objects, "Deployment", "iot-consumer")).containers[0].image,
    "iot/consumer:sha-abc123",
  );
  assert.equal(
    podSpec(find(objects, "Deployment", "iot-producer")).containers[0].image,
    `iot/producer:${APP_VERSION}`,
  );
});

Deno.test("[chart] the replicas-versus-partitions check fails when it should, naming the values", async (t) => {
  await t.step("consumer.replicaCount above topic.partitions fails", async () => {
    const stderr = await renderFails(["consumer.replicaCount=7"]);
    assert.match(stderr, /consumer\.replicaCount \(7\) exceeds topic\.partitions \(6\)/);
  });
  await t.step("fewer partitions than the default 3 consumers fails", async () => {
    assert.match(
      await renderFails(["topic.partitions=2"]),
      /consumer\.replicaCount \(3\) exceeds topic\.partitions \(2\)/,
    );
  });
  await t.step("as many consumers as partitions renders", async () => {
    const { objects } = await renderOk({ set: ["consumer.replicaCount=6"] });
    assert.equal(find(objects, "Deployment", "iot-consumer").spec.replicas, 6);
  });
  await t.step("the HPA's maximum above topic.partitions fails", async () => {
    const stderr = await renderFails([
      "consumer.autoscaling.enabled=true",
      "consumer.autoscaling.maxReplicas=8",
    ]);
    assert.match(
      stderr,
      /consumer\.autoscaling\.maxReplicas \(8\) exceeds topic\.partitions \(6\)/,
    );
  });
  await t.step("KEDA's maximum above topic.partitions fails (production sizing: 12)", async () => {
    const stderr = await renderFails([
      "consumer.keda.enabled=true",
      "consumer.keda.maxReplicaCount=13",
    ], ["values-production.yaml"]);
    assert.match(stderr, /consumer\.keda\.maxReplicaCount \(13\) exceeds topic\.partitions \(12\)/);
  });
  await t.step("the autoscaler's maximum counts, not replicaCount", async () => {
    await renderOk({
      set: [
        "consumer.replicaCount=9",
        "consumer.autoscaling.enabled=true",
        "consumer.autoscaling.maxReplicas=6",
      ],
    });
  });
  await t.step("every problem is reported at once", async () => {
    const stderr = await renderFails([
      "consumer.replicaCount=7",
      "consumer.terminationGracePeriodSeconds=20",
    ]);
    assert.match(stderr, /invalid values for the iot chart \(2 problem\(s\)\)/);
    assert.match(
      stderr,
      /consumer\.terminationGracePeriodSeconds \(20\) must exceed consumer\.env\.SHUTDOWN_TIMEOUT_S \(25\)/,
    );
  });
});

Deno.test("[chart] other contradictions fail at render time, naming the values", async (t) => {
  const cases: [string, string[], RegExp][] = [
    [
      "external Kafka without brokers",
      ["kafka.create=false"],
      /kafka\.create is false but kafka\.externalBrokers is empty/,
    ],
    [
      "external PostgreSQL without a secret",
      ["postgresql.create=false"],
      /postgresql\.create is false but postgresql\.external\.existingSecret is empty/,
    ],
    [
      "HPA and KEDA together",
      ["consumer.autoscaling.enabled=true", "consumer.keda.enabled=true"],
      /consumer\.autoscaling\.enabled and consumer\.keda\.enabled are both true/,
    ],
    [
      "more topic replicas than brokers",
      ["topic.replicas=3"],
      /topic\.replicas \(3\) exceeds the brokers in kafka\.nodePools \(1\)/,
    ],
    [
      "min.insync.replicas above replication",
      ["kafka.minInsyncReplicas=2"],
      /kafka\.minInsyncReplicas \(2\) exceeds kafka\.replicationFactor \(1\)/,
    ],
    [
      "a test-only planted-bug variable in extraEnv",
      ["consumer.extraEnv[0].name=IOT_PLANTED_BUG", "consumer.extraEnv[0].value=no-fence"],
      /consumer\.extraEnv sets IOT_PLANTED_BUG, a test-only name no image reads/,
    ],
    [
      "synchronous standbys without instances",
      ["postgresql.synchronous.number=1"],
      /postgresql\.synchronous\.number \(1\) must be below postgresql\.instances \(1\)/,
    ],
    [
      "pool smaller than concurrency",
      ["consumer.env.DATABASE_POOL_SIZE=2"],
      /DATABASE_POOL_SIZE \(2\) must be at least consumer\.env\.CONSUMER_CONCURRENCY \(3\)/,
    ],
    [
      "producer grace below its flush timeout",
      ["producer.terminationGracePeriodSeconds=10"],
      /producer\.terminationGracePeriodSeconds \(10\) must exceed producer\.env\.SHUTDOWN_TIMEOUT_S \(25\)/,
    ],
    [
      "a variable the chart owns (schema)",
      ["consumer.env.DATABASE_URL=postgres://x"],
      /additional properties 'DATABASE_URL' not allowed/,
    ],
    [
      "a misspelled variable (schema)",
      ["producer.env.PRODUCER_RAT=5"],
      /additional properties 'PRODUCER_RAT' not allowed/,
    ],
    ["an unknown log level (schema)", ["consumer.env.LOG_LEVEL=verbose"], /LOG_LEVEL/],
    [
      "a setting above its bound (schema, from the settings table)",
      ["consumer.env.CONSUMER_CONCURRENCY=65"],
      /at '\/consumer\/env\/CONSUMER_CONCURRENCY': maximum: got 65, want 64/,
    ],
    [
      "a setting below its bound (schema, from the settings table)",
      ["producer.env.PRODUCER_RATE=0"],
      /at '\/producer\/env\/PRODUCER_RATE': minimum: got 0, want 0\.001/,
    ],
    [
      "a whole number expected (schema, from the settings table)",
      ["consumer.env.KAFKA_SESSION_TIMEOUT_MS=30s"],
      /at '\/consumer\/env\/KAFKA_SESSION_TIMEOUT_MS': got string, want integer/,
    ],
    [
      "a removed value counts as the service's default (templates/_settings.tpl)",
      ["consumer.env.SHUTDOWN_TIMEOUT_S=null", "consumer.terminationGracePeriodSeconds=20"],
      /consumer\.terminationGracePeriodSeconds \(20\) must exceed consumer\.env\.SHUTDOWN_TIMEOUT_S \(25\)/,
    ],
  ];
  for (const [name, set, message] of cases) {
    await t.step(name, async () => assert.match(await renderFails(set), message));
  }
});

Deno.test("[chart] operator dependencies switch off with their conditions", async () => {
  const expected: Record<string, string[]> = {
    "default (kind)": ["cloudnative-pg", "strimzi-kafka-operator"],
    "operators off, external Kafka and PostgreSQL": [],
    "production sizing": ["cloudnative-pg", "strimzi-kafka-operator"],
    "KEDA on Kafka lag": ["cloudnative-pg", "strimzi-kafka-operator"],
    "KEDA on Prometheus, operators already installed": [],
    "plaintext Kafka, no NetworkPolicies (insecure, asked for)": [
      "cloudnative-pg",
      "strimzi-kafka-operator",
    ],
  };
  for (const scenario of SCENARIOS) {
    const { standIns } = await rendered(scenario);
    assert.deepEqual(
      standIns.map((o) => o.metadata.labels![STUB_LABEL]).sort(),
      expected[scenario.name],
      scenario.name,
    );
  }
  for (const dep of dependencies()) assert.equal(dep.condition, `${dep.name}.enabled`);
  assert.deepEqual(dependencies().map((d) => [d.name, d.version]), [[
    "strimzi-kafka-operator",
    "1.2.0",
  ], ["cloudnative-pg", "0.29.0"]]);
});

Deno.test("[chart] install ordering: custom resources are applied by a Job, never created by Helm", async (t) => {
  const { objects, operands } = await rendered(SCENARIOS[0]);
  await t.step(
    "Helm's manifest holds no custom resource Helm could not map on a fresh cluster",
    () => {
      const crs = objects.filter((o) =>
        ["kafka.strimzi.io", "postgresql.cnpg.io"].includes(o.apiVersion.split("/")[0])
      );
      assert.deepEqual(crs, []);
      assert.deepEqual(operands.map((o) => o.kind).sort(), [
        "Cluster",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "KafkaUser",
      ]);
    },
  );
  const kubectl = (container: { command: string[]; args: string[] }) => {
    assert.deepEqual(container.command, ["/bin/kubectl"], "one kubectl command, no shell");
    return container.args;
  };
  await t.step(
    "the Job is a release object (not a hook: --wait would deadlock), one per revision",
    () => {
      const job = objects.find((o) =>
        o.kind === "Job" && !o.metadata.annotations?.["helm.sh/hook"]
      );
      assert.ok(job);
      assert.equal(job.metadata.name, "iot-operands-1");
      const spec = podSpec(job);
      assert.equal(spec.restartPolicy, "OnFailure", "a refusal is retried by the kubelet");
      assert.deepEqual(spec.initContainers.map((c: { name: string }) => c.name), [
        "wait-for-crds",
        "wait-for-cloudnative-pg",
      ]);
      assert.deepEqual(kubectl(spec.initContainers[0]), [
        "wait",
        "--for=create",
        "--for=condition=Established",
        "--timeout=600s",
        "customresourcedefinitions.apiextensions.k8s.io/kafkas.kafka.strimzi.io",
        "customresourcedefinitions.apiextensions.k8s.io/kafkanodepools.kafka.strimzi.io",
        "customresourcedefinitions.apiextensions.k8s.io/kafkatopics.kafka.strimzi.io",
        "customresourcedefinitions.apiextensions.k8s.io/kafkausers.kafka.strimzi.io",
        "customresourcedefinitions.apiextensions.k8s.io/clusters.postgresql.cnpg.io",
      ]);
      assert.deepEqual(kubectl(spec.initContainers[1]), [
        "wait",
        "--namespace=iot",
        "--for=condition=Available",
        "--timeout=600s",
        "deployments",
        "--selector=app.kubernetes.io/name=cloudnative-pg,app.kubernetes.io/instance=iot",
      ]);
      assert.deepEqual(kubectl(spec.containers[0]), [
        "apply",
        "--namespace=iot",
        "--server-side",
        "--field-manager=iot-chart",
        "--force-conflicts",
        "--filename=/operands/",
      ]);
      const cm = find(objects, "ConfigMap", "iot-operands");
      assert.deepEqual(Object.keys(cm.data).sort(), [
        "kafka.yaml",
        "postgresql.yaml",
        "topic.yaml",
        "users.yaml",
      ]);
    },
  );
  await t.step(
    "a post-rollback hook re-applies the resources of the revision rolled back to",
    () => {
      const job = objects.find((o) => o.kind === "Job" && o.metadata.name === "iot-operands-1")!;
      const hook = objects.find((o) =>
        o.metadata.annotations?.["helm.sh/hook"] === "post-rollback"
      );
      assert.ok(hook, "a rollback re-uses the old Job's name: only a hook is sure to run");
      assert.equal(hook.metadata.name, "iot-operands-rollback");
      assert.equal(
        hook.metadata.annotations!["helm.sh/hook-delete-policy"],
        "before-hook-creation,hook-succeeded",
      );
      assert.deepEqual(podSpec(hook), podSpec(job));
    },
  );
  await t.step("its RBAC: our custom resources in the namespace, our CRDs read by name", () => {
    const role = find(objects, "Role", "iot-operands");
    assert.deepEqual(
      role.rules.map((
        r: { apiGroups: string[]; resources: string[]; verbs: string[] },
      ) => [r.apiGroups, r.resources, r.verbs.join()]),
      [
        [
          ["kafka.strimzi.io"],
          ["kafkas", "kafkanodepools", "kafkatopics", "kafkausers"],
          "get,list,watch,create,patch,update,delete",
        ],
        [["postgresql.cnpg.io"], ["clusters"], "get,list,watch,create,patch,update,delete"],
        [["apps"], ["deployments"], "get,list,watch"],
      ],
    );
    const clusterWide = objects.filter((o) => o.kind.startsWith("Cluster"));
    assert.deepEqual(clusterWide.map((o) => `${o.kind}/${o.metadata.name}`), [
      "ClusterRole/iot-iot-operands",
      "ClusterRoleBinding/iot-iot-operands",
    ]);
    assert.deepEqual(clusterWide[0].rules, [{
      apiGroups: ["apiextensions.k8s.io"],
      resources: ["customresourcedefinitions"],
      resourceNames: [
        "kafkas.kafka.strimzi.io",
        "kafkanodepools.kafka.strimzi.io",
        "kafkatopics.kafka.strimzi.io",
        "kafkausers.kafka.strimzi.io",
        "clusters.postgresql.cnpg.io",
      ],
      verbs: ["get", "list", "watch"],
    }]);
  });
  await t.step("the pre-delete hook deletes the KafkaTopic first, then the rest", () => {
    const hook = objects.find((o) => o.metadata.annotations?.["helm.sh/hook"] === "pre-delete");
    assert.ok(hook);
    const spec = podSpec(hook);
    assert.equal(spec.restartPolicy, "Never");
    assert.deepEqual(kubectl(spec.initContainers[0]), [
      "delete",
      "--namespace=iot",
      "--ignore-not-found",
      "--timeout=300s",
      "kafkatopics.kafka.strimzi.io/iot.sensors",
    ]);
    assert.deepEqual(kubectl(spec.containers[0]), [
      "delete",
      "--namespace=iot",
      "--ignore-not-found",
      "--timeout=300s",
      "kafkas.kafka.strimzi.io/iot",
      "kafkanodepools.kafka.strimzi.io/dual-role",
      "kafkausers.kafka.strimzi.io/iot-producer",
      "kafkausers.kafka.strimzi.io/iot-consumer",
      "clusters.postgresql.cnpg.io/iot-pg",
    ]);
  });
  await t.step(
    "production keeps Kafka and PostgreSQL on uninstall: no pre-delete hook",
    async () => {
      const production = await rendered(SCENARIOS[2]);
      assert.deepEqual(
        production.objects.filter((o) => o.metadata.annotations?.["helm.sh/hook"] === "pre-delete"),
        [],
      );
    },
  );
  await t.step("nothing of the kind when Kafka and PostgreSQL are external", async () => {
    const external = await rendered(SCENARIOS[1]);
    assert.deepEqual(external.objects.filter((o) => o.metadata.name.includes("operands")), []);
  });
});

Deno.test("[chart] Kafka and PostgreSQL sizing: kind default and production", async (t) => {
  await t.step(
    "default: one dual-role node on a persistent volume, replication 1, one PostgreSQL instance",
    async () => {
      const { operands } = await rendered(SCENARIOS[0]);
      const pools = operands.filter((o) => o.kind === "KafkaNodePool");
      assert.deepEqual(pools.map((p) => [p.spec.roles, p.spec.replicas, p.spec.storage]), [[
        ["controller", "broker"],
        1,
        { type: "persistent-claim", size: "5Gi", deleteClaim: true },
      ]]);
      const config = find(operands, "Kafka").spec.kafka.config;
      for (
        const key of [
          "offsets.topic.replication.factor",
          "transaction.state.log.replication.factor",
          "default.replication.factor",
          "min.insync.replicas",
        ]
      ) {
        assert.equal(config[key], 1, key);
      }
      const topic = find(operands, "KafkaTopic");
      assert.deepEqual([
        topic.spec.partitions,
        topic.spec.replicas,
        topic.spec.config["retention.ms"],
      ], [6, 1, 604800000]);
      assert.equal(find(operands, "Cluster").spec.instances, 1);
    },
  );
  await t.step(
    "production: 3 controllers + 3 brokers on volumes, replication 3, min ISR 2, 3 synchronous instances",
    async () => {
      const { operands } = await rendered(SCENARIOS[2]);
      const pools = operands.filter((o) => o.kind === "KafkaNodePool");
      assert.deepEqual(
        pools.map((p) => [p.metadata.name, p.spec.roles, p.spec.replicas, p.spec.storage.type]),
        [
          ["controller", ["controller"], 3, "persistent-claim"],
          ["broker", ["broker"], 3, "jbod"],
        ],
      );
      const config = find(operands, "Kafka").spec.kafka.config;
      assert.equal(config["default.replication.factor"], 3);
      assert.equal(config["min.insync.replicas"], 2);
      assert.equal(find(operands, "KafkaTopic").spec.replicas, 3);
      const cluster = find(operands, "Cluster");
      assert.equal(cluster.spec.instances, 3);
      assert.deepEqual(cluster.spec.postgresql.synchronous, {
        dataDurability: "required",
        method: "any",
        number: 1,
      });
    },
  );
  await t.step("large numbers stay integers (no 6.048e+08)", async () => {
    const { objects, operands } = await renderOk({
      set: ["topic.retentionMs=2592000000"],
      files: ["ci/production-values.yaml"],
    });
    assert.equal(find(operands, "KafkaTopic").spec.config["retention.ms"], 2592000000);
    const text = JSON.stringify(objects);
    assert.doesNotMatch(text, /\de\+\d/);
  });
});

Deno.test("[chart] services: probes, port 8080, grace period above SHUTDOWN_TIMEOUT_S, scrape annotations", async () => {
  for (const scenario of SCENARIOS) {
    const { objects } = await rendered(scenario);
    for (const name of ["producer", "consumer", "api"]) {
      const d = find(objects, "Deployment", `iot-${name}`);
      const c = podSpec(d).containers[0];
      const e = env(d, name);
      assert.equal(e.get("HTTP_PORT")?.value, "8080");
      assert.deepEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
      assert.deepEqual([
        c.livenessProbe.httpGet.path,
        c.readinessProbe.httpGet.path,
        c.startupProbe.httpGet.path,
      ], ["/healthz", "/readyz", "/healthz"]);
      assert.ok(
        podSpec(d).terminationGracePeriodSeconds > Number(e.get("SHUTDOWN_TIMEOUT_S")?.value ?? 25),
      );
      assert.equal(d.spec.template.metadata.annotations?.["prometheus.io/scrape"], "true");
      assert.equal(d.spec.template.metadata.annotations?.["prometheus.io/port"], "8080");
    }
    const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
    assert.equal(pdbs.length, 3, `${scenario.name}: a PodDisruptionBudget per service`);
  }
});

Deno.test("[chart] values.yaml documents every key, and values.schema.json knows every key", () => {
  const schema = JSON.parse(Deno.readTextFileSync(`${CHART_DIR}/values.schema.json`));
  const lines = Deno.readTextFileSync(`${CHART_DIR}/values.yaml`).split("\n");
  assert.match(lines[0], /^# yaml-language-server: \$schema=values\.schema\.json$/);
  const values = parse(lines.join("\n"));
  const undocumented: string[] = [];
  const unknown: string[] = [];
  // Walk values.yaml by indentation, following the schema: a key of an object whose schema lists
  // `properties` is the chart's own and must have a `# --` comment block right above it.
  const stack: { indent: number; schema: Record<string, unknown> | undefined; path: string }[] = [
    { indent: -1, schema, path: "" },
  ];
  lines.forEach((line, i) => {
    const m = line.match(/^( *)([A-Za-z0-9_.-]+):/);
    if (!m) return;
    const indent = m[1].length;
    while (stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1)!;
    const props = parent.schema?.properties as Record<string, Record<string, unknown>> | undefined;
    const path = parent.path ? `${parent.path}.${m[2]}` : m[2];
    let own: Record<string, unknown> | undefined;
    if (props) {
      own = props[m[2]];
      if (own === undefined) unknown.push(path);
      let j = i - 1;
      while (j >= 0 && /^ *# (?!--)/.test(lines[j])) j--;
      if (!/^ *# --/.test(lines[j] ?? "")) undocumented.push(path);
      if (own?.$ref) own = schema.definitions[(own.$ref as string).split("/").pop()!];
    }
    stack.push({ indent, schema: own, path });
  });
  assert.deepEqual(undocumented, [], "keys without a `# --` comment");
  assert.deepEqual(unknown, [], "keys missing from values.schema.json");
  assert.ok(values.consumer.replicaCount === 3 && values.topic.partitions === 6);
});

/** NOTES.txt as `helm install --dry-run` prints it, with extra helm arguments. */
Deno.test("[chart] NOTES.txt gives the next commands", async () => {
  const notes = await installNotes();
  assert.match(notes, /kubectl -n iot logs deploy\/iot-producer -f/);
  assert.match(
    notes,
    /kubectl -n iot logs -l app\.kubernetes\.io\/instance=iot,app\.kubernetes\.io\/component=consumer -f/,
  );
  assert.match(notes, /exec -it iot-pg-1 -c postgres -- psql iot/);
  assert.match(notes, /--set consumer\.replicaCount=N/);
  assert.match(notes, /kubectl -n iot scale deploy\/iot-consumer --replicas=N/);
  assert.match(notes, /helm test iot -n iot/);
  assert.doesNotMatch(notes, /WARNING/, "persistent storage by default: no warning");
});

Deno.test("[chart] NOTES.txt warns when a Kafka node pool keeps its log on ephemeral storage", async () => {
  for (
    const storage of [
      { type: "ephemeral" },
      { type: "jbod", volumes: [{ id: 0, type: "ephemeral", kraftMetadata: "shared" }] },
    ]
  ) {
    const pool = { name: "scratch", roles: ["controller", "broker"], replicas: 1, storage };
    const notes = await installNotes("--set-json", `kafka.nodePools=${JSON.stringify([pool])}`);
    assert.match(notes, /WARNING: Kafka node pool "scratch" keeps its log on ephemeral storage/);
  }
});

Deno.test("[chart] helm test checks that rows arrive in PostgreSQL", async () => {
  const { objects } = await rendered(SCENARIOS[0]);
  const pod = find(objects, "Pod", "iot-test-rows");
  assert.equal(pod.metadata.annotations?.["helm.sh/hook"], "test");
  const script = pod.spec.containers[0].command.join(" ");
  assert.match(script, /psql "\$DATABASE_URL"/);
  assert.match(script, /FROM tb_sensor_evento WHERE dt_carga > now\(\) - interval '10 minutes'/);
  assert.match(script, /exit 1/);
});

/** The values helm would use for a scenario (values.yaml overlaid with the scenario files). */
async function effectiveValues(scenario: Scenario) {
  // deno-lint-ignore no-explicit-any
  const merge = (a: any, b: any): any => {
    if (
      typeof a !== "object" || a === null || Array.isArray(a) || typeof b !== "object" ||
      b === null || Array.isArray(b)
    ) return b;
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
    return out;
  };
  let values = parse(await Deno.readTextFile(`${CHART_DIR}/values.yaml`));
  for (const file of scenario.files) {
    values = merge(values, parse(await Deno.readTextFile(`${CHART_DIR}/${file}`)));
  }
  return values;
}
