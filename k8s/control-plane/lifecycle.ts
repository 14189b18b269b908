/**
 * The chart on a real control plane: what `k8s/control_plane_test.ts` asserts on. Run it only
 * inside a network namespace with nothing but loopback; the test does:
 *
 *   unshare -n -- deno run -A k8s/control-plane/lifecycle.ts <report.json>
 *
 * It starts etcd, kube-apiserver and kube-controller-manager (cluster.ts), the kubelet
 * stand-in (kubelet.ts) and the real CloudNativePG operator, its webhooks registered before the
 * install and the process started once the chart has created its CRDs (cnpg.ts), then
 *
 * 1. the Helm lifecycle in a namespace that enforces the `restricted` Pod Security profile:
 *    `helm install --wait --wait-for-jobs`, `helm test`, `helm upgrade`, `helm rollback` twice
 *    to the same revision (the second after the KafkaTopic was edited by hand), `helm
 *    uninstall`. The operands Jobs run for real with their ServiceAccount's token; the services'
 *    pods, PostgreSQL's and the test pod cannot run;
 * 2. for every values scenario, a server-side dry-run of every rendered object and every custom
 *    resource of the operands ConfigMap (the Clusters through the operator's webhooks), after
 *    the KEDA and prometheus-operator CRDs are applied.
 *
 * It observes and records; it asserts nothing. The report is written as JSON to the given path.
 *
 * @module
 */

import {
  chartWithStandIns,
  findTool,
  type K8sObject,
  parseObjects,
  ROOT,
} from "../../charts/testing/helm.ts";
import { SCENARIOS } from "../../charts/testing/scenarios.ts";
import { adminClient, BIN_DIR, startControlPlane } from "./cluster.ts";
import { KubeletStandIn } from "./kubelet.ts";
import { StrimziSecretsStandIn } from "./strimzi.ts";
import type { Observation, Report, Step } from "./report.ts";
import {
  observeDatabase,
  type Operator,
  registerWebhooks,
  startOperator,
  waitForCrds,
  webhookControl,
} from "./cnpg.ts";

const NAMESPACE = "iot";
const RELEASE = "iot";
const TOPIC = "kafkatopics.kafka.strimzi.io/iot.sensors";
const started = Date.now();
const reportPath = Deno.args[0];
if (!reportPath) throw new Error("usage: lifecycle.ts <report.json>");

const dir = Deno.makeTempDirSync({ prefix: "iot-control-plane-" });
const log = (msg: string) =>
  console.error(`[control-plane ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`);
log(`working in ${dir}`);
const plane = await startControlPlane(dir);
log("API server ready");
const kubectlBin = `${BIN_DIR}/kubectl`;
const env = {
  KUBECONFIG: plane.kubeconfig,
  HOME: dir,
  HELM_CACHE_HOME: `${dir}/helm/cache`,
  HELM_CONFIG_HOME: `${dir}/helm/config`,
  HELM_DATA_HOME: `${dir}/helm/data`,
  PATH: "/usr/bin:/bin",
  NO_COLOR: "1",
};

/** A step, with its whole stdout for the caller (not reported). */
type Ran = Step & { stdout: string };

async function sh(argv: string[], stdin?: string): Promise<Ran> {
  const t = Date.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder();
  const stdout = text.decode(out.stdout);
  const output = (stdout + text.decode(out.stderr)).trim();
  const command = [argv[0].split("/").pop(), ...argv.slice(1)].join(" ").replaceAll(dir, "$TMP");
  log(`${command} -> exit ${out.code}`);
  return {
    command,
    code: out.code,
    output: output.slice(-4000),
    seconds: (Date.now() - t) / 1000,
    stdout,
  };
}

const kubectl = (...args: string[]) => sh([kubectlBin, ...args]);
const helm = (...args: string[]) => sh([findTool("helm"), ...args]);

const client = adminClient(plane.certs);
const standIn = new KubeletStandIn({
  server: plane.server,
  caCert: plane.certs.caCert,
  client,
  kubectl: kubectlBin,
  workDir: `${dir}/pods`,
});

const strimzi = new StrimziSecretsStandIn({
  server: plane.server,
  client,
  namespace: NAMESPACE,
  caPem: Deno.readTextFileSync(plane.certs.caCert),
});

function withoutStdout({ stdout: _, ...step }: Ran): Step {
  return step;
}

async function observe(ran: Ran, runsBefore: number): Promise<Observation> {
  const step = withoutStdout(ran);
  const topic = await kubectl(
    "get",
    "--namespace",
    NAMESPACE,
    TOPIC,
    "-o",
    "jsonpath={.spec.partitions}",
  );
  const crs = await kubectl(
    "get",
    "--namespace",
    NAMESPACE,
    "kafkas.kafka.strimzi.io,kafkanodepools.kafka.strimzi.io,kafkatopics.kafka.strimzi.io,clusters.postgresql.cnpg.io",
    "-o",
    "name",
  );
  return {
    step,
    topicPartitions: topic.code === 0 ? Number(topic.stdout) : null,
    customResources: crs.stdout.split("\n").filter((l) => l.includes("/")).sort(),
    runs: standIn.runs.slice(runsBefore),
  };
}

async function lifecycleStep(args: string[]): Promise<Observation> {
  const before = standIn.runs.length;
  return await observe(await helm(...args), before);
}

const report: Partial<Report> = {};
let operator: Promise<Operator> | undefined;
try {
  await standIn.start();
  strimzi.start();
  const version = await kubectl("version", "-o", "json");
  if (version.code !== 0) throw new Error(`kubectl version: ${version.output}`);
  report.serverVersion = JSON.parse(version.stdout).serverVersion?.gitVersion;
  await kubectl("create", "namespace", NAMESPACE);
  await kubectl(
    "label",
    "namespace",
    NAMESPACE,
    "pod-security.kubernetes.io/enforce=restricted",
    "pod-security.kubernetes.io/warn=restricted",
  );
  // The webhooks first: until the operator serves them the API server refuses any Cluster,
  // as on a fresh cluster whose operator is still starting.
  await registerWebhooks(plane, client);
  report.operatorError = null;
  operator = startOperator(plane, (crds) => waitForCrds(plane, client, crds));
  // Recorded, not thrown: the install goes on (and times out) and the report says why.
  operator.then(() => log("CloudNativePG operator serving its webhooks"), (error) => {
    report.operatorError = String(error);
    log(`CloudNativePG operator: ${error}`);
  });

  const chart = chartWithStandIns(true);
  const timeout = Deno.env.get("LIFECYCLE_TIMEOUT") ?? "5m";
  const common = ["--namespace", NAMESPACE, "--wait", "--wait-for-jobs", "--timeout", timeout];
  report.install = await lifecycleStep(["install", RELEASE, chart, ...common]);
  const database = await observeDatabase(plane, client, NAMESPACE, "iot-pg");
  report.databaseSecretKeys = database.secretKeys;
  report.clusterSpec = database.clusterSpec;
  if (Deno.env.get("LIFECYCLE_DEBUG")) {
    for (const what of ["get all,jobs,events -o wide", "get pods -o yaml"]) {
      console.error((await kubectl("--namespace", NAMESPACE, ...what.split(" "))).stdout);
    }
    console.error(JSON.stringify(standIn.runs, null, 1), [...standIn.notRun]);
  }
  // The chart's test pod runs psql against PostgreSQL; neither can run here, so Helm waits for
  // a pod that stays Pending: a short timeout, and the test says what it could check.
  report.helmTest = await lifecycleStep([
    "test",
    RELEASE,
    "--namespace",
    NAMESPACE,
    "--timeout",
    "20s",
  ]);
  // A failed test pod stays, as Helm leaves it; deleted so that the dry-runs below meet no
  // object of this release.
  await kubectl("delete", "--namespace", NAMESPACE, "pod", `${RELEASE}-test-rows`, "--wait");
  report.upgrade = await lifecycleStep([
    "upgrade",
    RELEASE,
    chart,
    ...common,
    "--set",
    "topic.partitions=8",
  ]);
  report.rollback = await lifecycleStep(["rollback", RELEASE, "1", ...common]);
  report.handEdit = withoutStdout(
    await kubectl(
      "patch",
      "--namespace",
      NAMESPACE,
      TOPIC,
      "--type=merge",
      "--patch",
      '{"spec":{"partitions":10}}',
    ),
  );
  report.secondRollback = await lifecycleStep(["rollback", RELEASE, "1", ...common]);
  report.uninstall = await lifecycleStep([
    "uninstall",
    RELEASE,
    "--namespace",
    NAMESPACE,
    "--wait",
    "--timeout",
    "5m",
  ]);

  // ---- every scenario, dry-run on the server -------------------------------------------------
  for (const folder of Deno.readDirSync(`${ROOT}/charts/testing/crds`)) {
    if (!folder.isDirectory) continue;
    await kubectl(
      "apply",
      "--server-side",
      `--filename=${ROOT}/charts/testing/crds/${folder.name}/`,
    );
  }
  await kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s");
  const dryRun = async (what: string, items: K8sObject[]): Promise<string[]> => {
    const applied = await sh(
      [
        kubectlBin,
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager=iot-test",
        "--namespace",
        NAMESPACE,
        "--filename=-",
      ],
      JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    );
    const lines = applied.output.split("\n").filter((l) => /^(Warning|Error|error)/i.test(l));
    const problems = lines.map((l) => `${what}: ${l}`);
    if (applied.code !== 0 && lines.length === 0) {
      problems.push(`${what}: exit ${applied.code}: ${applied.output}`);
    }
    return problems;
  };
  report.controlProblems = await dryRun("control", [{
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "control" },
    spec: {
      selector: { matchLabels: { app: "control" } },
      template: {
        metadata: { labels: { app: "control" } },
        spec: { containers: [{ name: "c", image: "registry.k8s.io/kubectl:v1.37.0" }] },
      },
    },
  }]);
  report.webhookControl = await webhookControl(plane, client, NAMESPACE);
  report.dryRun = {};
  // Our objects only: the plain stand-ins carry nothing but a labelled marker.
  const plain = chartWithStandIns();
  for (const scenario of SCENARIOS) {
    const files = scenario.files.flatMap((f) => ["--values", `${plain}/${f}`]);
    const rendered = await helm("template", RELEASE, plain, "--namespace", NAMESPACE, ...files);
    const objects = rendered.code === 0 ? parseObjects(rendered.stdout) : [];
    const ours = objects.filter((o) => !o.metadata.labels?.["iot.test/stand-in-for"]);
    const operands = ours.filter((o) =>
      o.kind === "ConfigMap" && o.metadata.name.endsWith("-operands")
    )
      .flatMap((cm) => Object.entries(cm.data as Record<string, string>))
      .filter(([key]) => key.endsWith(".yaml"))
      .flatMap(([, text]) => parseObjects(text));
    const problems: string[] = rendered.code === 0 ? [] : [`helm template: ${rendered.output}`];
    for (const [what, batch] of [["objects", ours], ["custom resources", operands]] as const) {
      if (batch.length > 0) problems.push(...await dryRun(what, batch));
    }
    report.dryRun[scenario.name] = {
      objects: ours.length,
      customResources: operands.length,
      problems,
    };
  }
} finally {
  await (await operator?.catch(() => undefined))?.stop();
  report.standInErrors = [...await standIn.stop(), ...await strimzi.stop()];
  report.strimziSecrets = strimzi.made;
  report.notRun = Object.fromEntries(standIn.notRun);
  client.close();
  await plane.stop();
  report.seconds = (Date.now() - started) / 1000;
  Deno.writeTextFileSync(reportPath, JSON.stringify(report, null, 2));
  log(`report written to ${reportPath}`);
  // With LIFECYCLE_DEBUG the folder stays: every process's log is there (cnpg-manager.log...).
  if (Deno.env.get("LIFECYCLE_DEBUG")) log(`logs kept in ${dir}`);
  else Deno.removeSync(dir, { recursive: true });
}
