/**
 * A stand-in for the scheduler and the kubelet of one node, for the test control plane. It
 * cannot run containers. It binds every pod to its node and then:
 *
 * - runs for real the containers whose image is the official kubectl image, in order (init
 *   containers first), as the same `/bin/kubectl` command with the same arguments and the
 *   pod's ServiceAccount token (a TokenRequest bound to the pod), its ConfigMap volumes written
 *   to a folder and mount paths in arguments and environment pointed at it. An executable the
 *   image does not have fails the container, as a container runtime would
 *   (charts/testing/images.ts says what each image holds). Restarts follow `restartPolicy`;
 * - reports every other pod of a Deployment Running and Ready once the Secrets and ConfigMaps
 *   its containers and volumes reference exist (the kubelet's CreateContainerConfigError or
 *   ContainerCreating until then);
 * - leaves any other pod Pending and says so in {@link KubeletStandIn.notRun};
 * - completes the deletion of pods being deleted, as a kubelet confirms them.
 *
 * @module
 */

import { imageContents } from "../../charts/testing/images.ts";
import { writeKubeconfig } from "./cluster.ts";

/** One run of one container. */
export interface ContainerRun {
  /** `namespace/pod`. */
  pod: string;
  /** Container name. */
  container: string;
  /** `command` + `args` as in the pod spec. */
  argv: string[];
  /** Exit code; 128 when the executable is not in the image. */
  exitCode: number;
  /** What it printed (stdout and stderr). */
  output: string;
}

// deno-lint-ignore no-explicit-any
type Pod = any;

/** Where to find the API server and the built kubectl. */
export interface StandInOptions {
  /** `https://127.0.0.1:6443`. */
  server: string;
  /** CA certificate path. */
  caCert: string;
  /** An HTTP client with administrator credentials. */
  client: Deno.HttpClient;
  /** The kubectl binary that stands in for the image's `/bin/kubectl`. */
  kubectl: string;
  /** A folder for the pods' files. */
  workDir: string;
}

const NODE = "stand-in-node";
const POLL_MS = 250;
/** The kubelet's crash-loop back-off starts at 10 s and doubles; kept as is. */
const FIRST_BACKOFF_MS = 10_000;

/** The scheduler and kubelet of one node, as far as the chart's pods need. */
export class KubeletStandIn {
  /** Every container run, in order. */
  readonly runs: ContainerRun[] = [];
  /** Pods it could not run, with why. */
  readonly notRun: Map<string, string> = new Map();
  #handled = new Set<string>();
  #stopped = false;
  #loop?: Promise<void>;
  #errors: string[] = [];

  constructor(private readonly options: StandInOptions) {}

  /** Registers the node and starts polling. */
  async start(): Promise<void> {
    await this.#api("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } },
    });
    await this.#api("PATCH", `/api/v1/nodes/${NODE}/status`, {
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "StandIn", message: "stand-in" }],
        allocatable: { cpu: "8", memory: "16Gi", pods: "110" },
        capacity: { cpu: "8", memory: "16Gi", pods: "110" },
      },
    });
    this.#loop = this.#poll();
  }

  /** Stops polling; returns the errors the loop met, if any. */
  async stop(): Promise<string[]> {
    this.#stopped = true;
    await this.#loop;
    return this.#errors;
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      try {
        const list = await this.#api("GET", "/api/v1/pods");
        for (const pod of list.items as Pod[]) this.#visit(pod);
      } catch (error) {
        this.#errors.push(String(error));
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  #visit(pod: Pod): void {
    const { namespace, name, uid } = pod.metadata;
    const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
    if (pod.metadata.deletionTimestamp) {
      this.#api("DELETE", `${path}?gracePeriodSeconds=0`).catch(() => {});
      return;
    }
    if (!pod.spec.nodeName) {
      this.#api("POST", `${path}/binding`, {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name },
        target: { apiVersion: "v1", kind: "Node", name: NODE },
      }).catch(() => {});
      return;
    }
    if (this.#handled.has(uid) || ["Succeeded", "Failed"].includes(pod.status?.phase)) return;
    this.#handled.add(uid);
    const work = runsKubectl(pod)
      ? this.#runPod(pod)
      : pod.spec.restartPolicy === "Always" || pod.spec.restartPolicy === undefined
      ? this.#reportReady(pod)
      : Promise.resolve(void this.notRun.set(`${namespace}/${name}`, cannotRun(pod)));
    work.catch((error) => this.#errors.push(`${namespace}/${name}: ${error}`));
  }

  /** Marks a long-running pod Running and Ready once what it references exists. */
  async #reportReady(pod: Pod): Promise<void> {
    const { namespace, name } = pod.metadata;
    for (;;) {
      const missing = await this.#missingReferences(pod);
      if (missing.length === 0) break;
      await this.#status(pod, {
        phase: "Pending",
        containerStatuses: pod.spec.containers.map((c: Pod) => ({
          ...containerStatus(c, false),
          state: {
            waiting: { reason: "CreateContainerConfigError", message: `missing ${missing}` },
          },
        })),
      });
      if (this.#stopped) return;
      await new Promise((r) => setTimeout(r, 1000));
      const current = await this.#api("GET", `/api/v1/namespaces/${namespace}/pods/${name}`)
        .catch(() => undefined);
      if (!current || current.metadata.uid !== pod.metadata.uid) return;
    }
    const now = new Date().toISOString();
    await this.#status(pod, {
      phase: "Running",
      startTime: now,
      hostIP: "127.0.0.1",
      podIP: "127.0.0.1",
      conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: now,
      })),
      containerStatuses: pod.spec.containers.map((c: Pod) => ({
        ...containerStatus(c, true),
        state: { running: { startedAt: now } },
      })),
    });
  }

  /** Secrets and ConfigMaps the containers or volumes need that do not exist yet. */
  async #missingReferences(pod: Pod): Promise<string[]> {
    const ns = pod.metadata.namespace;
    const wanted = new Set<string>();
    // A missing Secret or ConfigMap volume keeps a pod in ContainerCreating on a real kubelet.
    for (const v of pod.spec.volumes ?? []) {
      if (v.secret && !v.secret.optional) wanted.add(`secrets/${v.secret.secretName}`);
      if (v.configMap && !v.configMap.optional) wanted.add(`configmaps/${v.configMap.name}`);
    }
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
        if (ref && !ref.optional) {
          wanted.add(`${e.valueFrom.secretKeyRef ? "secrets" : "configmaps"}/${ref.name}`);
        }
      }
      for (const from of c.envFrom ?? []) {
        const ref = from.secretRef ?? from.configMapRef;
        if (ref && !ref.optional) {
          wanted.add(`${from.secretRef ? "secrets" : "configmaps"}/${ref.name}`);
        }
      }
    }
    const missing: string[] = [];
    for (const ref of wanted) {
      const found = await this.#api("GET", `/api/v1/namespaces/${ns}/${ref}`).then(
        () => true,
        () => false,
      );
      if (!found) missing.push(ref);
    }
    return missing;
  }

  /** Runs a pod of kubectl containers for real. */
  async #runPod(pod: Pod): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    const dir = `${this.options.workDir}/${namespace}_${name}_${uid}`;
    const mounts = await this.#prepareVolumes(pod, dir);
    const token = await this.#api(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${pod.spec.serviceAccountName}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name, uid },
        },
      },
    );
    const kubeconfig = `${dir}/kubeconfig`;
    writeKubeconfig(kubeconfig, this.options.server, this.options.caCert, {
      token: token.status.token,
    });
    const statuses = new Map<string, Pod>();
    const publish = (phase: string) =>
      this.#status(pod, {
        phase,
        initContainerStatuses: (pod.spec.initContainers ?? []).map((c: Pod) =>
          statuses.get(c.name) ??
            { ...containerStatus(c, false), state: { waiting: { reason: "PodInitializing" } } }
        ),
        containerStatuses: pod.spec.containers.map((c: Pod) =>
          statuses.get(c.name) ??
            { ...containerStatus(c, false), state: { waiting: { reason: "PodInitializing" } } }
        ),
      });
    await publish("Pending");
    const policy = pod.spec.restartPolicy ?? "Always";
    const sequence = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
    for (const container of sequence) {
      let restarts = 0;
      for (;;) {
        const run = await this.#runContainer(pod, container, mounts, kubeconfig);
        this.runs.push(run);
        const finishedAt = new Date().toISOString();
        statuses.set(container.name, {
          ...containerStatus(container, false),
          restartCount: restarts,
          state: {
            terminated: {
              exitCode: run.exitCode,
              reason: run.exitCode === 0 ? "Completed" : "Error",
              finishedAt,
            },
          },
        });
        if (run.exitCode === 0) break;
        if (policy === "Never") return void await publish("Failed");
        await publish("Pending");
        if (this.#stopped) return;
        await new Promise((r) => setTimeout(r, FIRST_BACKOFF_MS * 2 ** Math.min(restarts, 5)));
        const current = await this.#api("GET", `/api/v1/namespaces/${namespace}/pods/${name}`)
          .catch(() => undefined);
        if (!current || current.metadata.uid !== uid || current.metadata.deletionTimestamp) return;
        restarts++;
      }
    }
    await publish("Succeeded");
  }

  /** Writes the pod's ConfigMap and emptyDir volumes; returns mount path → folder. */
  async #prepareVolumes(pod: Pod, dir: string): Promise<Map<string, string>> {
    const ns = pod.metadata.namespace;
    const volumes = new Map<string, string>();
    for (const volume of pod.spec.volumes ?? []) {
      const path = `${dir}/volumes/${volume.name}`;
      Deno.mkdirSync(path, { recursive: true });
      if (volume.configMap) {
        const cm = await this.#api(
          "GET",
          `/api/v1/namespaces/${ns}/configmaps/${volume.configMap.name}`,
        );
        for (const [key, value] of Object.entries(cm.data ?? {})) {
          Deno.writeTextFileSync(`${path}/${key}`, value as string);
        }
      } else if (!volume.emptyDir && !volume.projected) {
        throw new Error(
          `volume ${volume.name}: only configMap, emptyDir and projected are stood in for`,
        );
      }
      volumes.set(volume.name, path);
    }
    const mounts = new Map<string, string>();
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      for (const m of c.volumeMounts ?? []) {
        const target = volumes.get(m.name);
        if (target) mounts.set(m.mountPath.replace(/\/$/, ""), target);
      }
    }
    return mounts;
  }

  async #runContainer(
    pod: Pod,
    container: Pod,
    mounts: Map<string, string>,
    kubeconfig: string,
  ): Promise<ContainerRun> {
    const where = {
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      container: container.name,
    };
    const contents = imageContents(container.image);
    const entrypoint = contents instanceof Error ? [] : contents.entrypoint;
    const argv: string[] = [...(container.command ?? entrypoint), ...(container.args ?? [])];
    if (contents instanceof Error || !contents.executables.includes(argv[0])) {
      return {
        ...where,
        argv,
        exitCode: 128,
        output: `exec: "${argv[0]}": no such file or directory in ${container.image}`,
      };
    }
    // Longest mount path first; one substitution per value, so a mapped path is not re-mapped.
    const byLength = [...mounts].sort(([a], [b]) => b.length - a.length);
    const toHost = (value: string) => {
      for (const [mountPath, host] of byLength) {
        const pattern = new RegExp(`(^|=)${mountPath}(?=/|$)`);
        if (pattern.test(value)) return value.replace(pattern, `$1${host}`);
      }
      return value;
    };
    const env: Record<string, string> = { PATH: "/usr/bin:/bin", KUBECONFIG: kubeconfig };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = toHost(e.value);
      else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") {
        env[e.name] = pod.metadata.namespace;
      } else throw new Error(`${where.container}: env ${e.name} is not stood in for`);
    }
    const out = await new Deno.Command(this.options.kubectl, {
      args: argv.slice(1).map(toHost),
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return {
      ...where,
      argv,
      exitCode: out.code,
      output: text.decode(out.stdout) + text.decode(out.stderr),
    };
  }

  async #status(pod: Pod, status: Record<string, unknown>): Promise<void> {
    const { namespace, name } = pod.metadata;
    await this.#api("PATCH", `/api/v1/namespaces/${namespace}/pods/${name}/status`, { status })
      .catch(() => {}); // the pod may be gone
  }

  // deno-lint-ignore no-explicit-any
  async #api(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${this.options.server}${path}`, {
      method,
      client: this.options.client,
      headers: {
        "content-type": method === "PATCH" ? "application/merge-patch+json" : "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

/** Whether every container of the pod runs in an image that holds `/bin/kubectl`. */
function runsKubectl(pod: Pod): boolean {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].every((c: Pod) => {
    const contents = imageContents(c.image);
    return !(contents instanceof Error) && contents.executables.includes("/bin/kubectl");
  });
}

function cannotRun(pod: Pod): string {
  const images = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c: Pod) =>
    c.image
  );
  return `a run-to-completion pod of ${
    [...new Set(images)].join(", ")
  }: the stand-in runs only kubectl`;
}

function containerStatus(container: Pod, ready: boolean) {
  return {
    name: container.name,
    image: container.image,
    imageID: "",
    ready,
    started: ready,
    restartCount: 0,
  };
}
