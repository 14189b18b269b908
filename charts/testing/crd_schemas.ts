/**
 * JSON Schemas for kubeconform, derived at test time from the operators' real CRDs in
 * `charts/testing/crds/` (see its README).
 *
 * One schema per served version, in kubeconform's layout
 * `<group>/<kind in lower case>_<version>.json`. Each is the CRD's `openAPIV3Schema` with the
 * `apiVersion` and `kind` pinned and required, made strict: every object that lists `properties` and neither
 * allows other keys (`additionalProperties`) nor keeps unknown fields
 * (`x-kubernetes-preserve-unknown-fields`) gets `additionalProperties: false`, so a misspelled
 * field fails as it would on the API server. Branches of `oneOf`/`anyOf`/`allOf` are left open:
 * closing them would reject the keys that other branches declare. CEL rules
 * (`x-kubernetes-validations`) are carried along but only a real API server checks them.
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import { ROOT } from "./helm.ts";

/** The operators' CRDs kept in the repository, one folder per operator release. */
export const CRDS_DIR = `${ROOT}/charts/testing/crds`;

/** A CustomResourceDefinition, the parts read here. */
interface Crd {
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema: JsonSchema } }[];
  };
}

// deno-lint-ignore no-explicit-any
type JsonSchema = Record<string, any>;

/** Every CRD manifest under {@link CRDS_DIR}, in path order. */
export function crdFiles(): string[] {
  const files: string[] = [];
  for (const dir of [...Deno.readDirSync(CRDS_DIR)].filter((e) => e.isDirectory)) {
    for (const file of Deno.readDirSync(`${CRDS_DIR}/${dir.name}`)) {
      if (file.name.endsWith(".yaml")) files.push(`${CRDS_DIR}/${dir.name}/${file.name}`);
    }
  }
  return files.sort();
}

/**
 * Reads the CRDs of the given manifests.
 *
 * @param files CRD manifests (YAML, one or more documents each).
 * @returns The CustomResourceDefinitions they hold.
 * @throws {SyntaxError} When a file is not YAML, or holds something else than a CRD.
 */
export function readCrds(files: string[] = crdFiles()): Crd[] {
  const crds: Crd[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(Deno.readTextFileSync(file))) {
      if (doc.errors.length > 0) {
        throw new SyntaxError(`Cannot parse ${file} as YAML: ${doc.errors[0].message}`);
      }
      const value = doc.toJS();
      if (value === null) continue;
      if (value.kind !== "CustomResourceDefinition") {
        throw new SyntaxError(`${file} holds a ${value.kind}, not a CustomResourceDefinition`);
      }
      crds.push(value);
    }
  }
  return crds;
}

/**
 * Closes every object schema that lists its properties and allows nothing else.
 *
 * @param schema A node of an `openAPIV3Schema`; not modified.
 * @param insideCombinator Whether the node is a branch of `oneOf`, `anyOf` or `allOf`.
 * @returns The strict copy.
 */
export function strict(schema: JsonSchema, insideCombinator = false): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" || key === "patternProperties") {
      out[key] = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([name, sub]) => [name, strict(sub)]),
      );
    } else if (key === "items" && typeof value === "object" && !Array.isArray(value)) {
      out[key] = strict(value);
    } else if (key === "additionalProperties" && typeof value === "object") {
      out[key] = strict(value);
    } else if (key === "oneOf" || key === "anyOf" || key === "allOf") {
      out[key] = (value as JsonSchema[]).map((branch) => strict(branch, true));
    } else if (key === "not") {
      out[key] = strict(value, true);
    } else {
      out[key] = value;
    }
  }
  const open = "additionalProperties" in schema ||
    schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (schema.properties && !open && !insideCombinator) out.additionalProperties = false;
  return out;
}

/** One derived schema file. */
export interface DerivedSchema {
  /** Path in kubeconform's layout, e.g. `kafka.strimzi.io/kafkatopic_v1.json`. */
  path: string;
  /** The JSON Schema. */
  schema: JsonSchema;
}

/**
 * Derives kubeconform's schemas from CRDs: one per served version.
 *
 * @param crds The CRDs.
 * @returns The schemas, with their paths.
 * @throws {TypeError} When a served version has no schema.
 */
export function deriveSchemas(crds: Crd[]): DerivedSchema[] {
  const out: DerivedSchema[] = [];
  for (const crd of crds) {
    const { group, names } = crd.spec;
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const source = version.schema?.openAPIV3Schema;
      if (!source) throw new TypeError(`${crd.metadata.name} ${version.name} has no schema`);
      const schema = strict(source);
      schema.$schema = "http://json-schema.org/draft-07/schema#";
      const { apiVersion, kind } = schema.properties ?? {};
      schema.properties = {
        ...schema.properties,
        apiVersion: { ...apiVersion, type: "string", enum: [`${group}/${version.name}`] },
        kind: { ...kind, type: "string", enum: [names.kind] },
        // The API server owns metadata's schema; the CRD only says "object".
        metadata: { type: "object" },
      };
      schema.required = [...new Set([...(schema.required ?? []), "apiVersion", "kind"])];
      out.push({ path: `${group}/${names.kind.toLowerCase()}_${version.name}.json`, schema });
    }
  }
  return out;
}

let written: string | undefined;

/**
 * Writes the schemas of every CRD in the repository to a temporary folder, once per test run.
 *
 * @returns The folder, to use as kubeconform's `-schema-location` root.
 */
export function schemasDir(): string {
  if (written) return written;
  const dir = Deno.makeTempDirSync({ prefix: "iot-crd-schemas-" });
  for (const { path, schema } of deriveSchemas(readCrds())) {
    Deno.mkdirSync(`${dir}/${path.split("/")[0]}`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/${path}`, JSON.stringify(schema));
  }
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
  written = dir;
  return dir;
}
