/**
 * Validation of built-in Kubernetes kinds, two ways:
 *
 * 1. The npm package `kubernetes-models`: types, required fields, formats (int32, ...). It lets
 *    unknown fields through.
 * 2. Unknown fields and scalar types against the structured schema that server-side apply uses,
 *    extracted from k8s.io/client-go (Kubernetes 1.37) by scripts/install-tools.sh. This catches
 *    a misspelled `readinesProbe`, or a `key:` left empty (null) by a template.
 *
 * @module
 */

import * as appsV1 from "kubernetes-models/apps/v1";
import * as autoscalingV2 from "kubernetes-models/autoscaling/v2";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as rbacV1 from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as coreV1 from "kubernetes-models/v1";
import { parse } from "yaml";
import { type K8sObject, ROOT } from "./helm.ts";

/** Version of client-go whose types scripts/install-tools.sh extracts. */
export const CLIENT_GO_VERSION = "v0.37.1";
/** The extracted types. */
export const TYPES_FILE = `${ROOT}/.cache/tools/share/kubernetes-types-${CLIENT_GO_VERSION}.yaml`;

type ModelClass = new (data: unknown) => { validate(): void };
const MODELS: Record<string, Record<string, unknown>> = {
  "v1": coreV1,
  "apps/v1": appsV1,
  "batch/v1": batchV1,
  "policy/v1": policyV1,
  "autoscaling/v2": autoscalingV2,
  "networking.k8s.io/v1": networkingV1,
  "rbac.authorization.k8s.io/v1": rbacV1,
};

/** Group of an apiVersion as the client-go type names spell it (`io.k8s.api.<group>.<version>`). */
const TYPE_PREFIX: Record<string, string> = {
  "v1": "io.k8s.api.core.v1",
  "apps/v1": "io.k8s.api.apps.v1",
  "batch/v1": "io.k8s.api.batch.v1",
  "policy/v1": "io.k8s.api.policy.v1",
  "autoscaling/v2": "io.k8s.api.autoscaling.v2",
  "networking.k8s.io/v1": "io.k8s.api.networking.v1",
  "rbac.authorization.k8s.io/v1": "io.k8s.api.rbac.v1",
};

/** Whether this validator knows the kind. */
export function isCoreKind(object: K8sObject): boolean {
  return MODELS[object.apiVersion]?.[object.kind] !== undefined;
}

/**
 * Validates with kubernetes-models.
 *
 * @param object The object.
 * @returns Problems (empty when valid).
 */
export function validateWithModels(object: K8sObject): string[] {
  const Model = MODELS[object.apiVersion]?.[object.kind] as ModelClass | undefined;
  if (Model === undefined) {
    return [`no kubernetes-models class for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`kubernetes-models: ${(error as Error).message}`];
  }
}

// ---- structured-merge-diff schema (client-go applyconfigurations) ---------------------------

interface TypeRef {
  namedType?: string;
  scalar?: string;
  map?: Atom["map"];
  list?: Atom["list"];
}
interface Atom {
  scalar?: string;
  map?: { fields?: { name: string; type: TypeRef }[]; elementType?: TypeRef };
  list?: { elementType?: TypeRef };
}

let types: Map<string, Atom> | undefined;

/** Whether scripts/install-tools.sh extracted the types. */
export function typesAvailable(): boolean {
  try {
    return Deno.statSync(TYPES_FILE).isFile;
  } catch {
    return false;
  }
}

function loadTypes(): Map<string, Atom> {
  if (types) return types;
  const doc = parse(Deno.readTextFileSync(TYPES_FILE)) as { types: (Atom & { name: string })[] };
  types = new Map(doc.types.map((t) => [t.name, t]));
  return types;
}

/**
 * Checks unknown fields and scalar types against client-go's schema of the kind.
 *
 * @param object The object.
 * @returns Problems, each with its path (empty when valid).
 */
export function validateFields(object: K8sObject): string[] {
  const prefix = TYPE_PREFIX[object.apiVersion];
  const typeName = `${prefix}.${object.kind}`;
  if (prefix === undefined || !loadTypes().has(typeName)) return [`no schema for ${typeName}`];
  const problems: string[] = [];
  check(object, { namedType: typeName }, "", problems);
  return problems;
}

function resolve(ref: TypeRef): Atom | undefined {
  if (ref.namedType === undefined) return ref;
  if (ref.namedType.startsWith("__untyped")) return undefined;
  // Types without an entry (Quantity, IntOrString, Time, RawExtension...) are untyped scalars.
  return loadTypes().get(ref.namedType);
}

function check(value: unknown, ref: TypeRef, path: string, problems: string[]): void {
  const atom = resolve(ref);
  if (atom === undefined) return; // untyped: anything goes
  const where = path || "(root)";
  if (value === null) {
    problems.push(`${where}: null value (a template rendered a key with nothing after it?)`);
  } else if (Array.isArray(value)) {
    if (!atom.list) return void problems.push(`${where}: a list where the schema wants no list`);
    value.forEach((v, i) => check(v, atom.list!.elementType ?? {}, `${path}[${i}]`, problems));
  } else if (typeof value === "object") {
    if (!atom.map) return void problems.push(`${where}: an object where the schema wants none`);
    const fields = atom.map.fields;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const child = path ? `${path}.${key}` : key;
      if (fields) {
        const field = fields.find((f) => f.name === key);
        if (field === undefined) problems.push(`${child}: unknown field`);
        else check(v, field.type, child, problems);
      } else if (atom.map.elementType) {
        check(v, atom.map.elementType, child, problems);
      }
    }
  } else {
    const scalar = atom.scalar;
    if (scalar === undefined) {
      return void problems.push(`${where}: a scalar where an object/list is expected`);
    }
    const expected = scalar === "numeric" ? "number" : scalar;
    if (scalar !== "untyped" && typeof value !== expected) {
      problems.push(
        `${where}: ${typeof value} ${JSON.stringify(value)} where ${scalar} is expected`,
      );
    }
  }
}
