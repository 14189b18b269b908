/**
 * The chart on a real control plane: what `k8s/control_plane_test.ts` asserts on. Run it only
 * inside a network namespace with nothing but loopback; the test does:
 *
 *   unshare -n -- deno run -A k8s/control-plane/lifecycle.ts <report.json>
 *
 * It starts etcd, kube-apiserver and kube-controller-manager (cluster.ts) and the kubelet
 * stand-in (kubelet.ts), then
 *
 * 1. the Helm lifecycle in a namespace that enforces the `restricted` Pod Security profile:
 *    `helm install --wait --wait-for-jobs`, `helm upgrade`, `helm rollback` twice to the same
 *    revision (the second after the KafkaTopic was edited by hand), `helm uninstall`. The operands
 *    Jobs run for real with their ServiceAccount's token; the services' pods cannot run;
 * 2. for every values scenario, a server-side dry-run of every rendered object and every custom
 *    resource of the operands ConfigMap, after the KEDA and prometheus-operator CRDs are applied.
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
import { type ContainerRun, KubeletStandIn } from "./kubelet.ts";

/** One command's outcome. */
export interface Step {
  /** What was run, as a person would type it. */
  command: string;
  /** Exit code. */
  code: number;
  /** stdout + stderr, trimmed to the last 4000 characters. */
  output: string;
  /** Seconds it took. */
  seconds: number;
}

/** The KafkaTopic's partitions and the operands Jobs after one lifecycle step. */
export interface Observation {
  step: Step;
  /** `spec.partitions` of the KafkaTopic, or null when it does not exist. */
  topicPartitions: number | null;
  /** Names of the custom resources of the release that exist. */
  customResources: string[];
  /** Containers the stand-in ran during this step. */
  runs: ContainerRun[];
}

/** What lifecycle.ts saw. */
export interface Report {
  /** Server version, from `kubectl version`. */
  serverVersion: string;
  install: Observation;
  upgrade: Observation;
  rollback: Observation;
  /** The KafkaTopic edited by hand (partitions 10), then a second rollback to revision 1. */
  handEdit: Step;
  secondRollback: Observation;
  uninstall: Observation;
  /** Pods the stand-in could not run. */
  notRun: Record<string, string>;
  /** Errors of the stand-in's loop. */
  standInErrors: string[];
  /** The dry-run's problems for a Deployment that runs as root with no security context: the
   * control that shows a Pod Security violation would be seen. */
  controlProblems: string[];
  /** Per scenario: the dry-run's problems (errors and warnings), empty when all were accepted. */
  dryRun: Record<string, { objects: number; customResources: number; problems: string[] }>;
  /** Total seconds. */
  seconds: number;
}

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

async function sh(argv: string[], stdin?: string, quiet = false): Promise<Ran> {
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
  if (!quiet) log(`${command} -> exit ${out.code}`);
  return {
    command,
    code: out.code,
    output: output.slice(-4000),
    seconds: (Date.now() - t) / 1000,
    stdout,
  };
}

const kubectl = (...args: string[]) => sh([kubectlBin, ...args]);
const quietKubectl = (...args: string[]) => sh([kubectlBin, ...args], undefined, true);
const helm = (...args: string[]) => sh([findTool("helm"), ...args]);

const client = adminClient(plane.certs);
const standIn = new KubeletStandIn({
  server: plane.server,
  caCert: plane.certs.caCert,
  client,
  kubectl: kubectlBin,
  workDir: `${dir}/pods`,
});

/** Stands in for the CloudNativePG operator's one effect the consumer needs: `<cluster>-app`. */
async function provideDatabaseSecret(stop: { done: boolean }): Promise<void> {
  while (!stop.done) {
    const cluster = await quietKubectl(
      "get",
      "--namespace",
      NAMESPACE,
      "clusters.postgresql.cnpg.io",
      "-o",
      "name",
    );
    for (const name of cluster.stdout.split("\n").filter((l) => l.startsWith("cluster"))) {
      const secret = `${name.split("/")[1]}-app`;
      const exists = await quietKubectl("get", "--namespace", NAMESPACE, "secret", secret);
      if (exists.code !== 0) {
        await quietKubectl(
          "create",
          "secret",
          "generic",
          secret,
          "--namespace",
          NAMESPACE,
          "--from-literal=uri=postgresql://app:stand-in@iot-pg-rw:5432/iot",
        );
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

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
const stop = { done: false };
let secretLoop: Promise<void> | undefined;
try {
  await standIn.start();
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
  secretLoop = provideDatabaseSecret(stop);

  const chart = chartWithStandIns(true);
  const timeout = Deno.env.get("LIFECYCLE_TIMEOUT") ?? "5m";
  const common = ["--namespace", NAMESPACE, "--wait", "--wait-for-jobs", "--timeout", timeout];
  report.install = await lifecycleStep(["install", RELEASE, chart, ...common]);
  if (Deno.env.get("LIFECYCLE_DEBUG")) {
    for (const what of ["get all,jobs,events -o wide", "get pods -o yaml"]) {
      console.error((await kubectl("--namespace", NAMESPACE, ...what.split(" "))).stdout);
    }
    console.error(JSON.stringify(standIn.runs, null, 1), [...standIn.notRun]);
  }
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
  stop.done = true;
  await secretLoop;
  report.standInErrors = await standIn.stop();
  report.notRun = Object.fromEntries(standIn.notRun);
  client.close();
  await plane.stop();
  report.seconds = (Date.now() - started) / 1000;
  Deno.writeTextFileSync(reportPath, JSON.stringify(report, null, 2));
  log(`report written to ${reportPath}`);
  Deno.removeSync(dir, { recursive: true });
}
