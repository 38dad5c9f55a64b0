/**
 * An offline check of Kubernetes manifests against the OpenAPI models that @kubernetes/client-node
 * generates from the Kubernetes API (its `dist/gen/models`): every field must be known to the model
 * (unknown fields are what `kubectl apply --validate=strict` rejects), every value must have the
 * model's type, and every field the API marks required must be there. Required-ness is not in the
 * models' attribute maps, so it is read from their declaration files (`'name': T` vs `'name'?: T`).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as k8s from "@kubernetes/client-node";

/** One problem, at a JSON path such as `spec.template.spec.containers[0].ports[0].containerPort`. */
export interface SchemaIssue {
  path: string;
  message: string;
}

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

/** The apiVersion of each kind fedview deploys, and whether its objects live in a namespace. */
export const KNOWN_KINDS: Readonly<Record<string, { apiVersion: string; namespaced: boolean }>> = {
  ConfigMap: { apiVersion: "v1", namespaced: true },
  Namespace: { apiVersion: "v1", namespaced: false },
  Secret: { apiVersion: "v1", namespaced: true },
  Service: { apiVersion: "v1", namespaced: true },
  ServiceAccount: { apiVersion: "v1", namespaced: true },
  Deployment: { apiVersion: "apps/v1", namespaced: true },
  StatefulSet: { apiVersion: "apps/v1", namespaced: true },
  PodDisruptionBudget: { apiVersion: "policy/v1", namespaced: true },
  ClusterRole: { apiVersion: "rbac.authorization.k8s.io/v1", namespaced: false },
  ClusterRoleBinding: { apiVersion: "rbac.authorization.k8s.io/v1", namespaced: false },
  Role: { apiVersion: "rbac.authorization.k8s.io/v1", namespaced: true },
  RoleBinding: { apiVersion: "rbac.authorization.k8s.io/v1", namespaced: true },
  CustomResourceDefinition: { apiVersion: "apiextensions.k8s.io/v1", namespaced: false },
};

const modelsDir = join(dirname(createRequire(import.meta.url).resolve("@kubernetes/client-node")), "gen", "models");
const requiredCache = new Map<string, Set<string>>();

function modelClass(name: string): ModelClass | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[name];
  if (typeof candidate === "function" && "getAttributeTypeMap" in candidate) return candidate as unknown as ModelClass;
  return undefined;
}

/** The attribute names the API requires on a model, from its generated declaration file. */
export function requiredAttributes(model: string): Set<string> {
  let required = requiredCache.get(model);
  if (required === undefined) {
    const text = readFileSync(join(modelsDir, `${model}.d.ts`), "utf8");
    required = new Set([...text.matchAll(/^ {4}'([^']+)': /gm)].map((m) => m[1]!));
    requiredCache.set(model, required);
  }
  return required;
}

/** The model class name of a kind, e.g. `apps/v1` `Deployment` → `V1Deployment`. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").pop() ?? "";
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkValue(type: string, format: string, value: unknown, path: string, issues: SchemaIssue[]): void {
  if (value === null || value === undefined) {
    issues.push({ path, message: `is ${describe(value)}; leave the field out instead` });
    return;
  }
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `expected an array, got ${describe(value)}` });
      return;
    }
    value.forEach((item, i) => {
      checkValue(array[1]!, format, item, `${path}[${i}]`, issues);
    });
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isPlainObject(value)) {
      issues.push({ path, message: `expected a map, got ${describe(value)}` });
      return;
    }
    for (const [key, item] of Object.entries(value)) checkValue(map[1]!, format, item, `${path}.${key}`, issues);
    return;
  }
  switch (type) {
    case "any":
      return;
    case "string":
      if (typeof value !== "string") issues.push({ path, message: `expected a string, got ${describe(value)}` });
      return;
    case "boolean":
      if (typeof value !== "boolean") issues.push({ path, message: `expected a boolean, got ${describe(value)}` });
      return;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) {
        issues.push({ path, message: `expected a number, got ${describe(value)}` });
      } else if ((format === "int32" || format === "int64") && !Number.isInteger(value)) {
        issues.push({ path, message: `expected an integer (${format}), got ${value}` });
      }
      return;
    case "IntOrString":
      if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value))) {
        issues.push({ path, message: `expected an integer or a string, got ${describe(value)}` });
      }
      return;
    case "Date":
      if (typeof value !== "string" || !RFC3339.test(value)) {
        issues.push({ path, message: `expected an RFC 3339 time, got ${describe(value)}` });
      }
      return;
  }
  checkModel(type, value, path, issues);
}

function checkModel(model: string, value: unknown, path: string, issues: SchemaIssue[]): void {
  const cls = modelClass(model);
  if (cls === undefined) throw new Error(`no OpenAPI model named ${model} in @kubernetes/client-node`);
  if (!isPlainObject(value)) {
    issues.push({ path, message: `expected an object (${model}), got ${describe(value)}` });
    return;
  }
  const attributes = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a]));
  const at = (key: string) => (path === "" ? key : `${path}.${key}`);
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.get(key);
    if (attribute === undefined) {
      issues.push({ path: at(key), message: `unknown field "${key}" in ${model}` });
      continue;
    }
    checkValue(attribute.type, attribute.format, item, at(key), issues);
  }
  for (const key of requiredAttributes(model)) {
    if (!(key in value)) issues.push({ path: at(key), message: `required field "${key}" of ${model} is missing` });
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kinds whose names become DNS labels (a Service's name is a host name, a Namespace's a label). */
const LABEL_NAMED = new Set(["Namespace", "Service"]);

/**
 * Validates one manifest: the kind must be one fedview deploys, with its apiVersion; the object must
 * match the OpenAPI model; `metadata.name` must be there and valid; namespaced kinds need
 * `metadata.namespace`, cluster-scoped kinds must not have one.
 */
export function validateManifest(manifest: unknown): SchemaIssue[] {
  if (!isPlainObject(manifest)) return [{ path: "", message: `a manifest is an object, not ${describe(manifest)}` }];
  const { apiVersion, kind } = manifest;
  if (typeof kind !== "string" || typeof apiVersion !== "string") {
    return [{ path: "", message: "apiVersion and kind are required strings" }];
  }
  const known = KNOWN_KINDS[kind];
  if (known === undefined) return [{ path: "kind", message: `kind ${kind} is not one this validator knows` }];
  if (apiVersion !== known.apiVersion) {
    return [{ path: "apiVersion", message: `${kind} is served as ${known.apiVersion}, not ${apiVersion}` }];
  }
  const issues: SchemaIssue[] = [];
  checkModel(modelName(apiVersion, kind), manifest, "", issues);
  const metadata = isPlainObject(manifest["metadata"]) ? manifest["metadata"] : {};
  const name = metadata["name"];
  if (typeof name !== "string" || name === "") {
    issues.push({ path: "metadata.name", message: "metadata.name is required" });
  } else {
    const pattern = LABEL_NAMED.has(kind) ? DNS_LABEL : DNS_SUBDOMAIN;
    const limit = LABEL_NAMED.has(kind) ? 63 : 253;
    if (!pattern.test(name) || name.length > limit) {
      issues.push({ path: "metadata.name", message: `"${name}" is not a valid ${kind} name` });
    }
  }
  const namespace = metadata["namespace"];
  if (known.namespaced && (typeof namespace !== "string" || !DNS_LABEL.test(namespace))) {
    issues.push({ path: "metadata.namespace", message: `${kind} is namespaced: set metadata.namespace` });
  }
  if (!known.namespaced && namespace !== undefined) {
    issues.push({ path: "metadata.namespace", message: `${kind} is cluster-scoped and takes no namespace` });
  }
  return issues;
}
