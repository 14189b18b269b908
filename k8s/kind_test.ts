import assert from "node:assert/strict";
import { parse } from "yaml";
import { ROOT } from "../scripts/repo.ts";
import { downPlan, images, type KindOptions, readAppVersion, upPlan } from "./kind.ts";

async function options(): Promise<KindOptions> {
  return {
    root: ROOT,
    cluster: "iot",
    namespace: "iot",
    release: "iot",
    appVersion: await readAppVersion(ROOT),
    containerCli: "docker",
    test: true,
    removeImages: true,
  };
}

Deno.test("[kind] k8s/kind-config.yaml: one control plane and two workers on one pinned node image", () => {
  const config = parse(Deno.readTextFileSync(`${ROOT}/k8s/kind-config.yaml`));
  assert.equal(config.kind, "Cluster");
  assert.equal(config.apiVersion, "kind.x-k8s.io/v1alpha4");
  assert.deepEqual(config.nodes.map((n: { role: string }) => n.role), [
    "control-plane",
    "worker",
    "worker",
  ]);
  const nodeImages = new Set(config.nodes.map((n: { image: string }) => n.image));
  assert.equal(nodeImages.size, 1);
  assert.match([...nodeImages][0] as string, /^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
});

Deno.test("[kind] kind:up creates the cluster, builds and loads the three images, installs, waits, tests", async () => {
  const o = await options();
  const steps = upPlan(o).map((s) => s.cmd.join(" "));
  const tags = images(o.appVersion).map((i) => i.tag);
  assert.deepEqual(tags, [
    `iot/producer:${o.appVersion}`,
    `iot/consumer:${o.appVersion}`,
    `iot/api:${o.appVersion}`,
  ]);
  assert.deepEqual(steps, [
    `kind create cluster --name iot --config ${ROOT}/k8s/kind-config.yaml --wait 120s`,
    `docker build -f ${ROOT}/producer/Dockerfile -t ${
      tags[0]
    } --build-arg VERSION=${o.appVersion} ${ROOT}`,
    `docker build -f ${ROOT}/consumer/Dockerfile -t ${
      tags[1]
    } --build-arg VERSION=${o.appVersion} ${ROOT}`,
    `docker build -f ${ROOT}/api/Dockerfile -t ${
      tags[2]
    } --build-arg VERSION=${o.appVersion} ${ROOT}`,
    `kind load docker-image ${tags[0]} --name iot`,
    `kind load docker-image ${tags[1]} --name iot`,
    `kind load docker-image ${tags[2]} --name iot`,
    "helm repo add strimzi https://strimzi.io/charts/ --force-update",
    "helm repo add cnpg https://cloudnative-pg.github.io/charts --force-update",
    `helm dependency update ${ROOT}/charts`,
    `helm upgrade --install iot ${ROOT}/charts --namespace iot --create-namespace --wait --wait-for-jobs --timeout 15m`,
    "helm test iot --namespace iot --logs --timeout 5m",
  ]);
  // The chart's Dockerfiles exist where the plan builds them.
  for (const image of images(o.appVersion)) Deno.statSync(`${ROOT}/${image.dockerfile}`);
});

Deno.test("[kind] kind:down uninstalls (pre-delete cleanup) before deleting the cluster", async () => {
  const o = await options();
  const steps = downPlan(o);
  assert.deepEqual(steps.map((s) => s.cmd.slice(0, 2).join(" ")), [
    "helm uninstall",
    "kind delete",
    "docker rmi",
  ]);
  assert.ok(steps.every((s) => s.allowFailure), "down goes on when the cluster is half gone");
  assert.deepEqual(downPlan({ ...o, removeImages: false }).length, 2);
});

Deno.test("[kind] --dry-run prints the plan and runs nothing", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-env",
      `${ROOT}/k8s/kind.ts`,
      "up",
      "--dry-run",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.match(stderr, /\$ kind create cluster --name iot/);
  assert.match(stderr, /\$ helm upgrade --install iot/);
});
