/**
 * Validation of custom resources (Strimzi, CloudNativePG, KEDA, prometheus-operator) with
 * kubeconform against JSON Schemas derived from the operators' CRDs kept in
 * `charts/testing/crds/` (see crd_schemas.ts). Only those schemas are searched: a kind without
 * one is an error, never a silent pass.
 *
 * @module
 */

import { stringify } from "yaml";
import { schemasDir } from "./crd_schemas.ts";
import { findTool, type K8sObject, run } from "./helm.ts";

/** API groups whose kinds are validated here. */
export const CUSTOM_GROUPS = [
  "kafka.strimzi.io",
  "postgresql.cnpg.io",
  "keda.sh",
  "monitoring.coreos.com",
];

/** Whether the object is a custom resource of one of those groups. */
export function isCustomKind(object: K8sObject): boolean {
  return CUSTOM_GROUPS.includes(object.apiVersion.split("/")[0]);
}

/** kubeconform's verdict on one resource. */
export interface Verdict {
  kind: string;
  name: string;
  status: string;
  problems: string[];
}

/**
 * Runs kubeconform (strict, offline schemas only) on YAML files.
 *
 * @param files Files to validate.
 * @returns One verdict per resource.
 */
export async function kubeconform(files: string[]): Promise<Verdict[]> {
  const result = await run([
    findTool("kubeconform"),
    "-strict",
    "-output",
    "json",
    "-verbose",
    "-schema-location",
    `${schemasDir()}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
    ...files,
  ]);
  if (result.stdout.trim() === "") {
    throw new Error(`kubeconform printed nothing (exit ${result.code}): ${result.stderr}`);
  }
  const report = JSON.parse(result.stdout) as {
    resources: {
      kind: string;
      name: string;
      status: string;
      msg: string;
      validationErrors?: { path: string; msg: string }[];
    }[];
  };
  return report.resources.map((r) => ({
    kind: r.kind,
    name: r.name,
    status: r.status,
    problems: r.status === "statusValid"
      ? []
      : r.validationErrors?.map((e) => `${e.path}: ${e.msg}`) ?? [r.msg],
  }));
}

/**
 * Validates custom resources.
 *
 * @param objects Custom resources.
 * @returns One verdict per object, in kubeconform's order.
 */
export async function validateCustom(objects: K8sObject[]): Promise<Verdict[]> {
  if (objects.length === 0) return [];
  const file = await Deno.makeTempFile({ prefix: "iot-crs-", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(file, objects.map((o) => stringify(o)).join("---\n"));
    return await kubeconform([file]);
  } finally {
    await Deno.remove(file);
  }
}
