/**
 * Runs helm on the chart, offline.
 *
 * The operator charts (Strimzi, CloudNativePG) are dependencies that `helm dependency build`
 * downloads; here there is no internet, and helm refuses to lint cleanly or to template a chart
 * whose dependencies are missing, even disabled ones. So the chart is copied to a temporary
 * directory with stand-in subcharts: same names and versions, one marker ConfigMap each, so the
 * tests can see each dependency switched on or off by its `condition`. Our own templates render
 * exactly as they would with the real dependencies.
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import { run as runCommand, type RunResult } from "../../scripts/command.ts";
import { ROOT } from "../../scripts/repo.ts";

export { ROOT, type RunResult };
/** The chart. */
export const CHART_DIR = `${ROOT}/charts`;
/** Where scripts/install-tools.sh puts helm and kubeconform. */
export const TOOLS_BIN = `${ROOT}/.cache/tools/bin`;

/** A rendered Kubernetes object. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // deno-lint-ignore no-explicit-any
  [key: string]: any;
};

/** Label carried by the stand-in subcharts' marker objects. */
export const STUB_LABEL = "iot.test/stand-in-for";

/**
 * Finds a tool in .cache/tools/bin, then on PATH.
 *
 * @param name Tool name.
 * @returns Its absolute path.
 * @throws {Error} When missing, telling how to install it.
 */
export function findTool(name: string): string {
  const dirs = [TOOLS_BIN, ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean)];
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} not found in ${TOOLS_BIN} or on PATH: run \`bash scripts/install-tools.sh\` ` +
      "(installs helm and kubeconform from the Go module proxy) before `deno task test`",
  );
}

/**
 * Runs a command without colours and captures its output.
 *
 * @param cmd argv.
 * @returns Exit code, stdout and stderr.
 */
export function run(cmd: string[]): Promise<RunResult> {
  return runCommand(cmd, { env: { NO_COLOR: "1" } });
}

/** The chart's dependencies, from Chart.yaml. */
export function dependencies(): { name: string; version: string; condition: string }[] {
  const chart = parseAllDocuments(Deno.readTextFileSync(`${CHART_DIR}/Chart.yaml`))[0].toJS();
  return chart.dependencies;
}

const copies = new Map<boolean, string>();

/**
 * A temporary copy of the chart with stand-in subcharts in charts/, made once per test run.
 *
 * @param operators Whether the stand-ins also carry what the real operator charts install
 *   before our resources need it, for a real API server: Strimzi's CRDs in `crds/` (as its
 *   chart ships them), CloudNativePG's CRDs as templates kept on uninstall, and a Deployment
 *   with the CloudNativePG operator's selector labels (the operands Job waits for it).
 * @returns Its path.
 */
export function chartWithStandIns(operators = false): string {
  const existing = copies.get(operators);
  if (existing) return existing;
  const dir = Deno.makeTempDirSync({ prefix: "iot-chart-" });
  copyDir(CHART_DIR, dir, (name) => name !== "charts" && !name.endsWith(".ts"));
  for (const dep of dependencies()) {
    const sub = `${dir}/charts/${dep.name}`;
    Deno.mkdirSync(`${sub}/templates`, { recursive: true });
    Deno.writeTextFileSync(
      `${sub}/Chart.yaml`,
      `apiVersion: v2\nname: ${dep.name}\nversion: ${dep.version}\n` +
        "description: offline stand-in for the tests (the real chart cannot be downloaded here)\n",
    );
    Deno.writeTextFileSync(
      `${sub}/templates/marker.yaml`,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stand-in-{{ .Chart.Name }}\n" +
        `  labels:\n    ${STUB_LABEL}: {{ .Chart.Name }}\n`,
    );
    if (operators) addOperatorStandIn(dep.name, sub);
  }
  copies.set(operators, dir);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
  return dir;
}

const CRDS = `${CHART_DIR}/testing/crds`;

function addOperatorStandIn(name: string, sub: string): void {
  if (name === "strimzi-kafka-operator") {
    copyDir(`${CRDS}/strimzi-1.2.0`, `${sub}/crds`, () => true);
  } else if (name === "cloudnative-pg") {
    // As the real chart does: the CRDs outlive `helm uninstall`.
    const keep = "    helm.sh/resource-policy: keep\n";
    const crds = [...Deno.readDirSync(`${CRDS}/cloudnative-pg-1.30.0`)].map((e) =>
      Deno.readTextFileSync(`${CRDS}/cloudnative-pg-1.30.0/${e.name}`)
        .replace(/^metadata:\n {2}annotations:\n/m, `metadata:\n  annotations:\n${keep}`)
        // Helm would read the CRDs' own {{ }} (in descriptions) as template actions.
        .replaceAll("{{", '{{ "{{" }}')
    );
    Deno.writeTextFileSync(`${sub}/templates/crds.yaml`, crds.join("\n---\n"));
    Deno.writeTextFileSync(`${sub}/templates/operator.yaml`, CNPG_OPERATOR_STAND_IN);
  } else {
    throw new Error(`no operator stand-in for ${name}`);
  }
}

/** The CloudNativePG operator's Deployment, as its chart labels it; the image never runs. */
const CNPG_OPERATOR_STAND_IN = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-cloudnative-pg
  labels:
    app.kubernetes.io/name: cloudnative-pg
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: cloudnative-pg
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: cloudnative-pg
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: manager
          image: ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL] }
            readOnlyRootFilesystem: true
            runAsUser: 10001
`;

function copyDir(from: string, to: string, keep: (name: string) => boolean): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (!keep(entry.name)) continue;
    if (entry.isDirectory) copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`, keep);
    else Deno.copyFileSync(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Options of a render. */
export interface RenderOptions {
  /** Values files, relative to the chart. */
  files?: string[];
  /** `--set` entries. */
  set?: string[];
  /** Release name. @default {"iot"} */
  release?: string;
  /** Namespace. @default {"iot"} */
  namespace?: string;
}

/**
 * `helm template` on the chart (with stand-in dependencies).
 *
 * @param options Values and names.
 * @returns The exit code, helm's stderr and the parsed objects (empty on failure).
 */
export async function render(
  options: RenderOptions = {},
): Promise<{ code: number; stderr: string; objects: K8sObject[] }> {
  const dir = chartWithStandIns();
  const cmd = [
    findTool("helm"),
    "template",
    options.release ?? "iot",
    dir,
    "--namespace",
    options.namespace ?? "iot",
  ];
  for (const file of options.files ?? []) cmd.push("-f", `${dir}/${file}`);
  for (const entry of options.set ?? []) cmd.push("--set", entry);
  const result = await run(cmd);
  if (result.code !== 0) return { code: result.code, stderr: result.stderr, objects: [] };
  return { code: 0, stderr: result.stderr, objects: parseObjects(result.stdout) };
}

/**
 * Parses multi-document YAML into objects, dropping empty documents.
 *
 * @param text YAML.
 * @returns The objects.
 * @throws {SyntaxError} On a YAML error.
 */
export function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new SyntaxError(`Cannot parse YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}
