/**
 * A scenario rendered once per test process, split into what Helm creates and what the operands
 * Job applies, with small lookups the chart tests share.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  chartWithStandIns,
  findTool,
  type K8sObject,
  parseObjects,
  render,
  type RenderOptions,
  run,
  STUB_LABEL,
} from "./helm.ts";
import type { Scenario } from "./scenarios.ts";

/** Rendered objects of a scenario plus the custom resources inside the operands ConfigMap. */
export interface Rendered {
  /** Objects Helm creates (stand-in markers removed). */
  objects: K8sObject[];
  /** Custom resources the operands Job applies. */
  operands: K8sObject[];
  /** Marker objects of the stand-in dependencies. */
  standIns: K8sObject[];
}

const cache = new Map<string, Promise<Rendered>>();

/** Renders a scenario once (cached), failing the test when helm fails. */
export function rendered(scenario: Scenario): Promise<Rendered> {
  const key = scenario.files.join(",");
  if (!cache.has(key)) cache.set(key, renderOk({ files: scenario.files }));
  return cache.get(key)!;
}

/** Renders with `options`, failing the test when helm fails. */
export async function renderOk(options: RenderOptions): Promise<Rendered> {
  const result = await render(options);
  assert.equal(result.code, 0, `helm template failed: ${result.stderr}`);
  const standIns = result.objects.filter((o) => o.metadata?.labels?.[STUB_LABEL]);
  const objects = result.objects.filter((o) => !o.metadata?.labels?.[STUB_LABEL]);
  const operands: K8sObject[] = [];
  for (
    const cm of objects.filter((o) =>
      o.kind === "ConfigMap" && o.metadata.name.endsWith("-operands")
    )
  ) {
    for (const [key, text] of Object.entries(cm.data as Record<string, string>)) {
      if (key.endsWith(".yaml")) operands.push(...parseObjects(text));
    }
  }
  return { objects, operands, standIns };
}

/** The object of that kind (and name), failing the test when there is none. */
export function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find((o) =>
    o.kind === kind && (name === undefined || o.metadata.name === name)
  );
  assert.ok(
    found,
    `no ${kind}${name ? ` ${name}` : ""} among ${
      objects.map((o) => `${o.kind}/${o.metadata.name}`)
    }`,
  );
  return found;
}

/** The pod spec of a Pod, Deployment or Job. */
export function podSpec(workload: K8sObject) {
  return workload.kind === "Pod" ? workload.spec : workload.spec.template.spec;
}

/** A container's environment by variable name, failing the test when there is no such container. */
export function env(workload: K8sObject, container: string) {
  const c = podSpec(workload).containers.find((c: { name: string }) => c.name === container);
  assert.ok(c, `container ${container} in ${workload.metadata.name}`);
  return new Map<string, { value?: string; valueFrom?: Record<string, Record<string, string>> }>(
    c.env.map((e: { name: string }) => [e.name, e]),
  );
}

/** The NOTES.txt of `helm install --dry-run` with extra helm arguments (e.g. `--set`). */
export async function installNotes(...extra: string[]): Promise<string> {
  const dir = chartWithStandIns();
  const cmd = [findTool("helm"), "install", "iot", dir, "--dry-run=client", "--namespace", "iot"];
  const result = await run([...cmd, ...extra]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.slice(result.stdout.indexOf("NOTES:"));
}
