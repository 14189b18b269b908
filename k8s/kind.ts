/**
 * The Kubernetes path on a local kind cluster, end to end:
 *
 * - `deno task kind:up`: create the cluster (k8s/kind-config.yaml: one control plane, two
 *   workers), build the three images (producer, consumer, api) tagged with the chart's
 *   `appVersion`, load them into kind, fetch the chart's operator dependencies, `helm upgrade
 *   --install --wait`, then `helm test` (rows must arrive in PostgreSQL).
 * - `deno task kind:down`: `helm uninstall` (the chart's pre-delete hook removes the Kafka topic
 *   while its operator still runs), delete the cluster, remove the three local images.
 *
 * Flags: `--dry-run` prints the commands instead of running them; `--no-test` skips `helm test`;
 * `--keep-images` (down) keeps the local images.
 * Environment: `KIND_CLUSTER` (default `iot`), `IOT_NAMESPACE` (`iot`), `IOT_RELEASE` (`iot`),
 * `CONTAINER_CLI` (`docker`; `podman` also works with `KIND_EXPERIMENTAL_PROVIDER=podman`).
 * Needs docker (or podman), kind and helm: `bash scripts/install-tools.sh --kind` installs kind
 * and helm into .cache/tools/bin, which this script puts first on PATH.
 *
 * @module
 */

import { parse } from "yaml";
import { ROOT } from "../scripts/repo.ts";

/** What the plan needs to know. */
export interface KindOptions {
  /** Repository root (absolute). */
  root: string;
  /** kind cluster name. @default {"iot"} */
  cluster: string;
  /** Namespace of the release. @default {"iot"} */
  namespace: string;
  /** Helm release name. @default {"iot"} */
  release: string;
  /** The chart's appVersion: the tag of the images. */
  appVersion: string;
  /** Container CLI. @default {"docker"} */
  containerCli: string;
  /** Run `helm test` at the end of `up`. @default {true} */
  test: boolean;
  /** Remove the local images in `down`. @default {true} */
  removeImages: boolean;
}

/** One command of a plan. */
export interface Step {
  /** What the step does, for the log. */
  title: string;
  /** argv. */
  cmd: string[];
  /** A failure is reported and the plan goes on. */
  allowFailure?: boolean;
  /** Skipped when this returns true at run time (not evaluated in --dry-run). */
  skipIf?: () => Promise<boolean>;
}

/** The three service images the chart runs, tagged with the chart's appVersion. */
export function images(appVersion: string): { name: string; dockerfile: string; tag: string }[] {
  return ["producer", "consumer", "api"].map((name) => ({
    name,
    dockerfile: `${name}/Dockerfile`,
    tag: `iot/${name}:${appVersion}`,
  }));
}

/**
 * The commands of `kind:up`, in order.
 *
 * @param o Options.
 * @param clusterExists Checked at run time to skip `kind create cluster` on a second run.
 * @returns The steps.
 */
export function upPlan(o: KindOptions, clusterExists?: () => Promise<boolean>): Step[] {
  const steps: Step[] = [{
    title: `create kind cluster "${o.cluster}" (1 control plane, 2 workers)`,
    cmd: [
      "kind",
      "create",
      "cluster",
      "--name",
      o.cluster,
      "--config",
      `${o.root}/k8s/kind-config.yaml`,
      "--wait",
      "120s",
    ],
    skipIf: clusterExists,
  }];
  for (const image of images(o.appVersion)) {
    steps.push({
      title: `build ${image.tag}`,
      cmd: [
        o.containerCli,
        "build",
        "-f",
        `${o.root}/${image.dockerfile}`,
        "-t",
        image.tag,
        "--build-arg",
        `VERSION=${o.appVersion}`,
        o.root,
      ],
    });
  }
  for (const image of images(o.appVersion)) {
    steps.push({
      title: `load ${image.tag} into kind`,
      cmd: ["kind", "load", "docker-image", image.tag, "--name", o.cluster],
    });
  }
  steps.push(
    {
      title: "add the operator chart repositories",
      cmd: ["helm", "repo", "add", "strimzi", "https://strimzi.io/charts/", "--force-update"],
    },
    {
      title: "",
      cmd: [
        "helm",
        "repo",
        "add",
        "cnpg",
        "https://cloudnative-pg.github.io/charts",
        "--force-update",
      ],
    },
    {
      title: "fetch the chart's dependencies (Strimzi 1.2.0, CloudNativePG chart 0.29.0)",
      cmd: ["helm", "dependency", "update", `${o.root}/charts`],
    },
    {
      title: `install release "${o.release}" and wait (operators, Kafka, PostgreSQL, services)`,
      cmd: [
        "helm",
        "upgrade",
        "--install",
        o.release,
        `${o.root}/charts`,
        "--namespace",
        o.namespace,
        "--create-namespace",
        "--wait",
        "--wait-for-jobs",
        "--timeout",
        "15m",
      ],
    },
  );
  if (o.test) {
    steps.push({
      title: "helm test: rows arrive in PostgreSQL",
      cmd: ["helm", "test", o.release, "--namespace", o.namespace, "--logs", "--timeout", "5m"],
    });
  }
  return steps;
}

/**
 * The commands of `kind:down`, in order. Every step may fail (the cluster may be half gone).
 *
 * @param o Options.
 * @returns The steps.
 */
export function downPlan(o: KindOptions): Step[] {
  const steps: Step[] = [
    {
      title: `uninstall release "${o.release}" (pre-delete hook removes the Kafka topic first)`,
      cmd: [
        "helm",
        "uninstall",
        o.release,
        "--namespace",
        o.namespace,
        "--wait",
        "--timeout",
        "10m",
        "--ignore-not-found",
      ],
      allowFailure: true,
    },
    {
      title: `delete kind cluster "${o.cluster}"`,
      cmd: ["kind", "delete", "cluster", "--name", o.cluster],
      allowFailure: true,
    },
  ];
  if (o.removeImages) {
    steps.push({
      title: "remove the local images",
      cmd: [o.containerCli, "rmi", ...images(o.appVersion).map((i) => i.tag)],
      allowFailure: true,
    });
  }
  return steps;
}

/**
 * Reads `appVersion` from charts/Chart.yaml.
 *
 * @param root Repository root.
 * @returns The appVersion.
 */
export async function readAppVersion(root: string): Promise<string> {
  const chart = parse(await Deno.readTextFile(`${root}/charts/Chart.yaml`));
  const version = chart?.appVersion;
  if (typeof version !== "string" || version === "") {
    throw new TypeError(`Cannot read appVersion from ${root}/charts/Chart.yaml`);
  }
  return version;
}

/** Resolved options from the environment and flags. */
export async function resolveOptions(
  args: string[],
  env: Record<string, string | undefined>,
  root: string,
): Promise<KindOptions> {
  return {
    root,
    cluster: env.KIND_CLUSTER || "iot",
    namespace: env.IOT_NAMESPACE || "iot",
    release: env.IOT_RELEASE || "iot",
    appVersion: await readAppVersion(root),
    containerCli: env.CONTAINER_CLI || "docker",
    test: !args.includes("--no-test"),
    removeImages: !args.includes("--keep-images"),
  };
}

async function run(cmd: string[], env: Record<string, string>): Promise<number> {
  const { code } = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  return code;
}

async function which(tool: string, path: string): Promise<boolean> {
  for (const dir of path.split(":")) {
    try {
      const info = await Deno.stat(`${dir}/${tool}`);
      if (info.isFile) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

async function main(args: string[]): Promise<number> {
  const command = args[0];
  if (command !== "up" && command !== "down") {
    console.error("usage: deno task kind:up|kind:down [--dry-run] [--no-test] [--keep-images]");
    return 2;
  }
  const options = await resolveOptions(args, Deno.env.toObject(), ROOT);
  const path = `${ROOT}/.cache/tools/bin:${Deno.env.get("PATH") ?? ""}`;
  const env = { PATH: path };
  const dryRun = args.includes("--dry-run");

  const steps = command === "up"
    ? upPlan(options, async () => {
      const out = await new Deno.Command("kind", { args: ["get", "clusters"], env }).output();
      return new TextDecoder().decode(out.stdout).split("\n").includes(options.cluster);
    })
    : downPlan(options);

  if (!dryRun) {
    const needed = new Set(steps.map((s) => s.cmd[0]));
    const missing = [];
    for (const tool of needed) if (!(await which(tool, path))) missing.push(tool);
    if (missing.length > 0) {
      console.error(
        `kind:${command}: missing ${missing.join(", ")}. ` +
          "Run `bash scripts/install-tools.sh --kind` for kind and helm; docker comes from your system.",
      );
      return 1;
    }
  }
  for (const step of steps) {
    if (step.title) console.error(`\n==> ${step.title}`);
    console.error(`$ ${step.cmd.join(" ")}`);
    if (dryRun) continue;
    if (step.skipIf && await step.skipIf()) {
      console.error("(already done, skipped)");
      continue;
    }
    const code = await run(step.cmd, env);
    if (code !== 0) {
      if (step.allowFailure) {
        console.error(`(exit ${code}, going on)`);
        continue;
      }
      console.error(`kind:${command}: "${step.cmd.join(" ")}" failed with exit code ${code}`);
      return code;
    }
  }
  if (command === "up" && !dryRun) {
    const ns = options.namespace;
    console.error(
      `\nDone. Next:\n  kubectl -n ${ns} logs deploy/${options.release}-producer -f\n` +
        `  kubectl -n ${ns} logs -l app.kubernetes.io/component=consumer -f --prefix\n` +
        `  kubectl -n ${ns} port-forward svc/${options.release}-api 8080:8080   (the dashboard: http://localhost:8080/)\n` +
        `  helm status ${options.release} -n ${ns}   (prints the chart's notes again)\n` +
        "  deno task kind:down",
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
