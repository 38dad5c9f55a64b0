/**
 * The two things the API server does with a CRD's `openAPIV3Schema` that matter to fedview:
 * `structuralProblems` applies the rules of a structural schema (apiextensions.k8s.io/v1 refuses a
 * CRD whose schema breaks them), and `validateObject` checks an object against the schema the way
 * the API server validates and prunes a custom resource — here strictly: a field the schema does not
 * know is reported, since the API server would silently drop it.
 */
import type { SchemaIssue } from "./kube-openapi.js";

/** A node of an OpenAPI v3 schema, as far as structural schemas allow. */
export interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema | JsonSchema[];
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  format?: string;
  pattern?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-list-type"?: string;
  [other: string]: unknown;
}

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);
/** Keywords apiextensions.k8s.io/v1 forbids in a schema. */
const FORBIDDEN = ["$ref", "$schema", "id", "definitions", "dependencies", "additionalItems", "patternProperties"];
const ALLOWED = new Set([
  "type",
  "description",
  "properties",
  "additionalProperties",
  "items",
  "required",
  "enum",
  "default",
  "nullable",
  "format",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "title",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "x-kubernetes-map-type",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-validations",
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problems that make a schema non-structural (an empty list for a structural one). */
export function structuralProblems(schema: JsonSchema, path = "openAPIV3Schema"): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const walk = (node: JsonSchema, at: string, isRoot: boolean): void => {
    for (const key of Object.keys(node)) {
      if (FORBIDDEN.includes(key))
        issues.push({ path: `${at}.${key}`, message: `${key} is forbidden in a CRD schema` });
      else if (!ALLOWED.has(key))
        issues.push({ path: `${at}.${key}`, message: `${key} is not a keyword this CRD uses` });
    }
    const exempt = node["x-kubernetes-int-or-string"] === true || node["x-kubernetes-preserve-unknown-fields"] === true;
    if (node.type === undefined || node.type === "") {
      if (!exempt) issues.push({ path: at, message: "has no type: every node of a structural schema needs one" });
    } else if (!TYPES.has(node.type)) {
      issues.push({ path: at, message: `type "${node.type}" is not an OpenAPI type` });
    }
    if (node.properties !== undefined && node.additionalProperties !== undefined) {
      issues.push({ path: at, message: "properties and additionalProperties are mutually exclusive" });
    }
    if ((node.properties !== undefined || node.additionalProperties !== undefined) && node.type !== "object") {
      issues.push({ path: at, message: "properties belong to a node of type object" });
    }
    if (node.type === "array") {
      if (node.items === undefined || Array.isArray(node.items)) {
        issues.push({ path: at, message: "an array needs one items schema" });
      }
    }
    if (node.enum !== undefined) {
      node.enum.forEach((value, i) => {
        const problems = validateObject({ ...node, enum: undefined, default: undefined }, value, `${at}.enum[${i}]`);
        issues.push(...problems);
      });
    }
    if (node.default !== undefined) {
      issues.push(...validateObject({ ...node, default: undefined }, node.default, `${at}.default`));
    }
    if (isRoot && node.properties?.["metadata"] !== undefined) {
      const metadata = node.properties["metadata"];
      const extra = Object.keys(metadata).filter((k) => k !== "type" && k !== "description");
      if (metadata.type !== "object" || extra.length > 0) {
        issues.push({ path: `${at}.properties.metadata`, message: "metadata may only be declared as type object" });
      }
    }
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      if (isRoot && name === "metadata") continue;
      walk(child, `${at}.properties.${name}`, false);
    }
    if (isObject(node.additionalProperties)) {
      walk(node.additionalProperties as JsonSchema, `${at}.additionalProperties`, false);
    }
    if (isObject(node.items)) walk(node.items as JsonSchema, `${at}.items`, false);
  };
  walk(schema, path, true);
  return issues;
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return false;
  }
}

/**
 * Validates `value` against `schema`: types, enums, required fields, and unknown fields (reported
 * unless the node preserves unknown fields). The root's `metadata` is the API server's to check.
 */
export function validateObject(schema: JsonSchema, value: unknown, path = ""): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const walk = (node: JsonSchema, item: unknown, at: string, isRoot: boolean): void => {
    if (item === null && node.nullable === true) return;
    if (node["x-kubernetes-int-or-string"] === true) {
      if (!(typeof item === "string" || (typeof item === "number" && Number.isInteger(item)))) {
        issues.push({ path: at, message: `expected an integer or a string, got ${JSON.stringify(item)}` });
      }
      return;
    }
    if (node.type !== undefined && !typeMatches(node.type, item)) {
      issues.push({ path: at, message: `expected ${node.type}, got ${JSON.stringify(item)}` });
      return;
    }
    if (node.enum !== undefined && !node.enum.some((allowed) => allowed === item)) {
      issues.push({ path: at, message: `${JSON.stringify(item)} is not one of ${JSON.stringify(node.enum)}` });
    }
    const child = (key: string) => (at === "" ? key : `${at}.${key}`);
    if (isObject(item)) {
      for (const key of node.required ?? []) {
        if (!(key in item)) issues.push({ path: child(key), message: "is required" });
      }
      for (const [key, field] of Object.entries(item)) {
        const property = node.properties?.[key];
        if (property !== undefined) {
          if (!(isRoot && key === "metadata")) walk(property, field, child(key), false);
          else if (!isObject(field)) issues.push({ path: child(key), message: "metadata must be an object" });
        } else if (isObject(node.additionalProperties)) {
          walk(node.additionalProperties as JsonSchema, field, child(key), false);
        } else if (node.additionalProperties !== true && node["x-kubernetes-preserve-unknown-fields"] !== true) {
          issues.push({ path: child(key), message: `unknown field "${key}" (the API server would prune it)` });
        }
      }
    }
    if (Array.isArray(item) && isObject(node.items)) {
      const items = node.items as JsonSchema;
      item.forEach((element, i) => {
        walk(items, element, `${at}[${i}]`, false);
      });
    }
  };
  walk(schema, value, path, path === "");
  return issues;
}

/** Every `x-kubernetes-preserve-unknown-fields: true` node, by path. */
export function preservingNodes(schema: JsonSchema, path = "openAPIV3Schema"): string[] {
  const found: string[] = [];
  const walk = (node: JsonSchema, at: string): void => {
    if (node["x-kubernetes-preserve-unknown-fields"] === true) found.push(at);
    for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, `${at}.properties.${name}`);
    if (isObject(node.additionalProperties))
      walk(node.additionalProperties as JsonSchema, `${at}.additionalProperties`);
    if (isObject(node.items)) walk(node.items as JsonSchema, `${at}.items`);
  };
  walk(schema, path);
  return found;
}
