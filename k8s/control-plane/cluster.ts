/**
 * A real Kubernetes control plane for the tests: etcd, kube-apiserver and
 * kube-controller-manager built by `build.sh`, with certificates from openssl.
 *
 * It must run inside a network namespace of its own with only loopback (`unshare -n`, see
 * {@link assertPrivateNetwork}): kube-apiserver dials Service cluster IPs (webhooks, aggregated
 * APIs), addresses that would otherwise leave this machine. There is no kubelet and no
 * scheduler; `kubelet.ts` stands in for both.
 *
 * @module
 */

import { type Certificates, makeCertificates } from "./certs.ts";

/** Where build.sh puts the binaries. */
export const BIN_DIR = new URL("../../.cache/control-plane/bin", import.meta.url).pathname;

/** Loopback ports, free in a network namespace of our own. */
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
/** The API server's port. */
export const APISERVER_PORT = 6443;

/** Controllers that need a cloud, a kubelet or volumes; the rest run. */
const CONTROLLERS = "*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach," +
  "-persistentvolume-expander";

/** A running control plane. */
export interface ControlPlane {
  /** Working folder: certificates, data, logs, kubeconfig. */
  dir: string;
  /** Administrator kubeconfig (`system:masters`). */
  kubeconfig: string;
  /** `https://127.0.0.1:6443`. */
  server: string;
  /** The certificates. */
  certs: Certificates;
  /** Stops every process. */
  stop(): Promise<void>;
}

/**
 * Throws unless this process sees no network interface but loopback, so that nothing the
 * control plane dials can leave the machine.
 */
export function assertPrivateNetwork(): void {
  const interfaces = Deno.networkInterfaces().filter((i) =>
    !(i.address.startsWith("127.") || i.address === "::1")
  );
  if (interfaces.length > 0) {
    throw new Error(
      "the test control plane runs only in a network namespace with nothing but loopback " +
        `(unshare -n); this one has ${interfaces.map((i) => `${i.name} ${i.address}`).join(", ")}`,
    );
  }
}

/** Writes a kubeconfig for a client certificate or a bearer token. */
export function writeKubeconfig(
  path: string,
  server: string,
  caCert: string,
  user: { cert: string; key: string } | { token: string },
): void {
  const credentials = "token" in user
    ? `      token: ${user.token}\n`
    : `      client-certificate: ${user.cert}\n      client-key: ${user.key}\n`;
  Deno.writeTextFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: ${server}
      certificate-authority: ${caCert}
users:
  - name: user
    user:
${credentials}contexts:
  - name: test
    context: { cluster: test, user: user }
current-context: test
`,
  );
}

/**
 * Starts one of the built binaries, its stdout and stderr appended to `<dir>/<name>.log`.
 *
 * @param dir The control plane's folder.
 * @param name Binary name in {@link BIN_DIR}.
 * @param args Arguments.
 * @param options Working folder and environment (added to this process's).
 * @returns The process.
 */
export function spawn(
  dir: string,
  name: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Deno.ChildProcess {
  const log = Deno.openSync(`${dir}/${name}.log`, { create: true, append: true });
  const child = new Deno.Command(`${BIN_DIR}/${name}`, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = log.writable.getWriter();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await writer.write(chunk);
  };
  Promise.all([pump(child.stdout), pump(child.stderr)]).finally(() =>
    writer.close().catch(() => {})
  );
  return child;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s`);
}

/** An HTTP client that presents the administrator's certificate. */
export function adminClient(certs: Certificates): Deno.HttpClient {
  return Deno.createHttpClient({
    caCerts: [Deno.readTextFileSync(certs.caCert)],
    cert: Deno.readTextFileSync(certs.adminCert),
    key: Deno.readTextFileSync(certs.adminKey),
  });
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager and waits until the API server is
 * ready.
 *
 * @param dir An empty working folder.
 * @returns The running control plane.
 */
export async function startControlPlane(dir: string): Promise<ControlPlane> {
  assertPrivateNetwork();
  const certs = await makeCertificates(dir);
  const server = `https://127.0.0.1:${APISERVER_PORT}`;
  const kubeconfig = `${dir}/admin.kubeconfig`;
  writeKubeconfig(kubeconfig, server, certs.caCert, { cert: certs.adminCert, key: certs.adminKey });

  const etcdUrl = `http://127.0.0.1:${ETCD_CLIENT_PORT}`;
  const peerUrl = `http://127.0.0.1:${ETCD_PEER_PORT}`;
  const children: Deno.ChildProcess[] = [];
  children.push(spawn(dir, "etcd", [
    "--name=test",
    `--data-dir=${dir}/etcd`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=test=${peerUrl}`,
    "--unsafe-no-fsync", // a throw-away store: durability costs seconds per test and buys nothing
  ]));
  await waitUntil("etcd", async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000);

  children.push(spawn(dir, "kube-apiserver", [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${APISERVER_PORT}`,
    `--tls-cert-file=${certs.serverCert}`,
    `--tls-private-key-file=${certs.serverKey}`,
    `--client-ca-file=${certs.caCert}`,
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    "--authorization-mode=RBAC",
    // A loopback advertise address is refused by the endpoint reconciler.
    "--endpoint-reconciler-type=none",
    // Dial webhooks and aggregated APIs at their endpoints, not at a Service cluster IP.
    "--enable-aggregator-routing=true",
  ]));
  const client = adminClient(certs);
  try {
    await waitUntil("kube-apiserver", async () => {
      const response = await fetch(`${server}/readyz`, { client });
      await response.body?.cancel();
      return response.ok;
    }, 120_000);
  } finally {
    client.close();
  }

  children.push(spawn(dir, "kube-controller-manager", [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    "--secure-port=10257",
    "--leader-elect=false",
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${certs.serviceAccountKey}`,
    `--root-ca-file=${certs.caCert}`,
    `--controllers=${CONTROLLERS}`,
  ]));

  return {
    dir,
    kubeconfig,
    server,
    certs,
    async stop() {
      for (const child of children.reverse()) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        await child.status;
      }
    },
  };
}
