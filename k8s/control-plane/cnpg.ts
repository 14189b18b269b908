/**
 * The real CloudNativePG operator v1.30.0 (`cnpg-manager`, built by `build.sh` from `cnpg/`) for
 * the test control plane. It runs as a plain process outside the cluster, in the same loopback-only
 * network namespace, with the administrator's kubeconfig. Its webhooks are registered by URL
 * (`https://127.0.0.1:9443`), not by Service: no Service cluster IP leads anywhere here.
 *
 * What it does here is what it does in a cluster: its mutating webhook defaults every Cluster,
 * its validating webhook refuses invalid ones, and its controller creates a Cluster's Secrets
 * (`<cluster>-app` with `uri`, which the consumer reads), Services and the first instance's
 * initdb Job. That Job's pod cannot run: there is no container runtime (kubelet.ts).
 *
 * @module
 */

import { issue } from "./certs.ts";
import { adminClient, BIN_DIR, type ControlPlane, spawn } from "./cluster.ts";

/** The operator's webhook port, its default (`--webhook-port`). */
export const WEBHOOK_PORT = 9443;
/** Where the operator's metrics listen: loopback, not its default `:8080`. */
const METRICS_ADDRESS = "127.0.0.1:8081";
/** A namespace of its own, as in a cluster. */
export const OPERATOR_NAMESPACE = "cnpg-system";

/** A running operator. */
export interface Operator {
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** One webhook of the operator for `clusters.postgresql.cnpg.io`, as its own manifest has it. */
function clusterWebhook(name: string, path: string, caBundle: string) {
  return {
    name,
    // By URL: the API server cannot reach the operator through a Service here.
    clientConfig: { url: `https://127.0.0.1:${WEBHOOK_PORT}${path}`, caBundle },
    rules: [{
      apiGroups: ["postgresql.cnpg.io"],
      apiVersions: ["v1"],
      operations: ["CREATE", "UPDATE"],
      resources: ["clusters"],
    }],
    failurePolicy: "Fail",
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
  };
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function api(
  plane: ControlPlane,
  client: Deno.HttpClient,
  method: string,
  path: string,
  body?: unknown,
): Promise<Json> {
  const response = await fetch(`${plane.server}${path}`, {
    method,
    client,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

async function create(plane: ControlPlane, client: Deno.HttpClient, path: string, body: unknown) {
  await api(plane, client, "POST", path, body);
}

/** What the operator made of a Cluster. */
export interface DatabaseOutcome {
  /** Keys of the `<cluster>-app` Secret; empty when it does not exist. */
  secretKeys: string[];
  /** The Cluster's spec as stored: what the mutating webhook defaulted; null when absent. */
  clusterSpec: Json;
}

/**
 * Reads the `<cluster>-app` Secret's keys and the Cluster's stored spec.
 *
 * @param plane The control plane.
 * @param client An HTTP client with administrator credentials.
 * @param namespace The Cluster's namespace.
 * @param cluster The Cluster's name.
 */
export async function observeDatabase(
  plane: ControlPlane,
  client: Deno.HttpClient,
  namespace: string,
  cluster: string,
): Promise<DatabaseOutcome> {
  const ns = `/namespaces/${namespace}`;
  const secret = await api(plane, client, "GET", `/api/v1${ns}/secrets/${cluster}-app`)
    .catch(() => undefined);
  const stored = await api(
    plane,
    client,
    "GET",
    `/apis/postgresql.cnpg.io/v1${ns}/clusters/${cluster}`,
  )
    .catch(() => undefined);
  return {
    secretKeys: Object.keys(secret?.data ?? {}).sort(),
    clusterSpec: stored?.spec ?? null,
  };
}

/**
 * The control that shows the validating webhook is consulted: a server-side dry-run of a Cluster
 * that sets `port`, a parameter the operator fixes, which its webhook (not the CRD's schema)
 * refuses. Through the API, not kubectl: kubectl prints an Invalid error's causes and drops the
 * message that names the webhook.
 *
 * @param plane The control plane.
 * @param client An HTTP client with administrator credentials.
 * @param namespace An existing namespace.
 * @returns The HTTP status and the API server's message.
 */
export async function webhookControl(
  plane: ControlPlane,
  client: Deno.HttpClient,
  namespace: string,
): Promise<string> {
  const response = await fetch(
    `${plane.server}/apis/postgresql.cnpg.io/v1/namespaces/${namespace}/clusters?dryRun=All`,
    {
      method: "POST",
      client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: "control" },
        spec: {
          instances: 1,
          storage: { size: "1Gi" },
          postgresql: { parameters: { port: "5433" } },
        },
      }),
    },
  );
  const status = await response.json().catch(() => ({}));
  return `${response.status}: ${status.message ?? JSON.stringify(status)}`;
}

/**
 * Waits until every named CRD exists and is Established.
 *
 * @param plane The control plane.
 * @param client An HTTP client with administrator credentials.
 * @param names CRD names, e.g. {@link OPERATOR_CRDS}.
 * @param timeoutMs How long to wait in all.
 */
export async function waitForCrds(
  plane: ControlPlane,
  client: Deno.HttpClient,
  names: string[],
  timeoutMs = 300_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await api(
        plane,
        client,
        "GET",
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      ).catch(() => undefined);
      const conditions: Json[] = crd?.status?.conditions ?? [];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established in time`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Registers the operator's Cluster webhooks (mcluster.cnpg.io, vcluster.cnpg.io), pointed at
 * `https://127.0.0.1:9443` and trusting the test CA. Call it before `helm install`: until the
 * operator serves them, the API server refuses every Cluster (`failurePolicy: Fail`), as on a
 * cluster whose operator is still starting, which the chart's operands Job must survive.
 *
 * @param plane The control plane.
 * @param client An HTTP client with administrator credentials.
 */
export async function registerWebhooks(plane: ControlPlane, client: Deno.HttpClient) {
  const caBundle = btoa(Deno.readTextFileSync(plane.certs.caCert));
  const api = "/apis/admissionregistration.k8s.io/v1";
  await create(plane, client, `${api}/mutatingwebhookconfigurations`, {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: "cnpg-mutating-webhook-configuration" },
    webhooks: [
      clusterWebhook("mcluster.cnpg.io", "/mutate-postgresql-cnpg-io-v1-cluster", caBundle),
    ],
  });
  await create(plane, client, `${api}/validatingwebhookconfigurations`, {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: "cnpg-validating-webhook-configuration" },
    webhooks: [
      clusterWebhook("vcluster.cnpg.io", "/validate-postgresql-cnpg-io-v1-cluster", caBundle),
    ],
  });
}

/**
 * The operator's CRDs, as the chart installs them (`charts/testing/crds/cloudnative-pg-1.30.0`).
 * It needs every one: at start it sets up a controller per kind and exits when a kind is
 * unknown ("no matches for kind \"Pooler\""), so waiting for `clusters` alone races the others.
 */
export const OPERATOR_CRDS: string[] = [
  ...Deno.readDirSync(new URL("../../charts/testing/crds/cloudnative-pg-1.30.0", import.meta.url)),
]
  .map((e) => e.name.match(/^postgresql\.cnpg\.io_(\w+)\.yaml$/)?.[1])
  .filter((plural) => plural !== undefined)
  .map((plural) => `${plural}.postgresql.cnpg.io`)
  .sort();

/** The last lines of the operator's log, for error messages. */
function logTail(plane: ControlPlane): string {
  try {
    return Deno.readTextFileSync(`${plane.dir}/cnpg-manager.log`).split("\n").slice(-5).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts the operator once all its CRDs are Established (the chart installs them), and waits
 * until its webhook server answers.
 *
 * @param plane The control plane: its kubeconfig, CA and folder (the log is `cnpg-manager.log`).
 * @param waitForCrds Resolves once every CRD named in its argument ({@link OPERATOR_CRDS}) is
 *   Established.
 * @returns The running operator.
 */
export async function startOperator(
  plane: ControlPlane,
  waitForCrds: (names: string[]) => Promise<void>,
): Promise<Operator> {
  const home = `${plane.dir}/cnpg`;
  // With WEBHOOK_CERT_DIR set the operator neither makes its own CA nor patches the webhook
  // configurations, and reads apiserver.crt/apiserver.key there (the names OLM uses; see
  // internal/cmd/manager/controller/controller.go).
  const certDir = `${home}/webhook`;
  Deno.mkdirSync(certDir, { recursive: true });
  await issue(plane.dir, "cnpg-webhook", "/CN=cnpg-webhook", [
    "subjectAltName=IP:127.0.0.1",
    "extendedKeyUsage=serverAuth",
  ]);
  Deno.copyFileSync(`${plane.dir}/cnpg-webhook.crt`, `${certDir}/apiserver.crt`);
  Deno.copyFileSync(`${plane.dir}/cnpg-webhook.key`, `${certDir}/apiserver.key`);
  // It looks for its instance manager, which it copies into every PostgreSQL pod, at
  // ./operator/manager_<arch> (its image's layout); without one it fails "invalid architecture".
  // It is the same binary.
  Deno.mkdirSync(`${home}/operator`, { recursive: true });
  Deno.symlinkSync(`${BIN_DIR}/cnpg-manager`, `${home}/operator/manager_amd64`);

  await waitForCrds(OPERATOR_CRDS);
  // OPERATOR_NAMESPACE names an existing namespace, as in a cluster: the operator watches the
  // EndpointSlices of its plugins there.
  const admin = adminClient(plane.certs);
  try {
    await create(plane, admin, "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: OPERATOR_NAMESPACE },
    });
  } finally {
    admin.close();
  }
  const child = spawn(plane.dir, "cnpg-manager", [
    "controller",
    `--webhook-port=${WEBHOOK_PORT}`,
    `--metrics-bind-address=${METRICS_ADDRESS}`,
    "--leader-elect=false",
  ], {
    cwd: home,
    env: {
      KUBECONFIG: plane.kubeconfig,
      WEBHOOK_CERT_DIR: certDir,
      OPERATOR_NAMESPACE,
    },
  });
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };

  const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(plane.certs.caCert)] });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const response = await fetch(`https://127.0.0.1:${WEBHOOK_PORT}/readyz`, { client })
        .catch(() => undefined);
      if (response) {
        await response.body?.cancel();
        break; // any answer: the webhook server is up with our certificate
      }
      const gone = await Promise.race([child.status, new Promise((r) => setTimeout(r, 250))]);
      if (gone || Date.now() > deadline) {
        const why = gone ? `exited (${JSON.stringify(gone)})` : "did not answer in 120s";
        throw new Error(`cnpg-manager ${why}; its log ends:\n${logTail(plane)}`);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.close();
  }
  return { stop };
}
