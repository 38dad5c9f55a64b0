/**
 * Turns zod issues into `ValidationIssue`s with dotted paths and messages an operator can act on
 * ("etcdEndpoints must be text, not a number") rather than zod's generic wording.
 */
import type { z } from "zod";
import type { ValidationIssue } from "./types.js";

type PathSegment = PropertyKey;

/** Joins a path as `spec.etcdCertFile`, `spec.profiles[0]`, `metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly PathSegment[], prefix = ""): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** "a string", "a number", "a list"… for an expected zod type. */
function describeExpected(expected: string): string {
  switch (expected) {
    case "string":
      return "text (a string)";
    case "number":
    case "int":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return "a list";
    case "object":
    case "record":
      return "a map of fields";
    default:
      return expected;
  }
}

/**
 * Fields whose values are credentials or hold them (an RCC's, a cluster access Secret's, a connection
 * spec's). An issue about one says what kind of value it holds, never the value: a password typed as
 * a bare number in YAML must not come back in an error, a reply or a log line.
 */
export const SECRET_VALUE_FIELDS: ReadonlySet<string> = new Set([
  "etcdUsername",
  "etcdPassword",
  "etcdKey",
  "k8sKey",
  "k8sAPIToken",
  "kubeconfig",
]);

/** True when `path` goes through a field of {@link SECRET_VALUE_FIELDS}. */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.some((segment) => typeof segment === "string" && SECRET_VALUE_FIELDS.has(segment));
}

/** What an input value is, in words; with `secret`, only its type (see {@link SECRET_VALUE_FIELDS}). */
export function describeValue(value: unknown, options: { secret?: boolean } = {}): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return options.secret ? "text" : `the text ${JSON.stringify(value)}`;
  if (typeof value === "number") return options.secret ? "a number" : `the number ${value}`;
  if (typeof value === "boolean") return options.secret ? "true or false" : `${value}`;
  if (typeof value === "object") return "a map of fields";
  return typeof value;
}

/**
 * `text` with the user info of a URL (`user:password@`) replaced by `[REDACTED]`, so that an endpoint
 * with credentials typed into it can be quoted back in an issue. Works without a scheme too.
 */
export function withoutUserInfo(text: string): string {
  return text.replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/)?[^/?#]*@/, "$1[REDACTED]@");
}

function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function fieldName(path: readonly PathSegment[]): string {
  const last = path[path.length - 1];
  return last === undefined ? "the value" : typeof last === "number" ? `item ${last}` : String(last);
}

function quoteList(values: readonly unknown[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/** Message for one zod issue, looking up the offending value in `input`. */
function messageFor(issue: z.core.$ZodIssue, input: unknown): string {
  const field = fieldName(issue.path);
  const secret = isSecretPath(issue.path);
  const described = (value: unknown) => describeValue(value, { secret });
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `${field} is required and must be ${describeExpected(issue.expected)}`;
      return `${field} must be ${describeExpected(issue.expected)}, not ${described(value)}`;
    case "invalid_value":
      if (value === undefined) {
        return `${field} is required and must be ${issue.values.length > 1 ? "one of " : ""}${quoteList(issue.values)}`;
      }
      return `${field} must be ${issue.values.length > 1 ? "one of " : ""}${quoteList(issue.values)}, not ${described(value)}`;
    case "invalid_union": {
      // A discriminated union reports the allowed discriminator values as `options`.
      const options: unknown = (issue as { options?: unknown }).options;
      if (Array.isArray(options)) {
        return `${field} must be ${options.length > 1 ? "one of " : ""}${quoteList(options)}, not ${described(value)}`;
      }
      return `${field} has an unsupported form: ${described(value)}`;
    }
    case "too_small":
      if (issue.origin === "string") return `${field} must not be empty`;
      return `${field} must be at least ${String(issue.minimum)}`;
    case "too_big":
      return `${field} must be at most ${String(issue.maximum)}`;
    default:
      return `${field}: ${issue.message}`;
  }
}

/** Converts every zod issue, with paths under `prefix` (e.g. `secret.data`). */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], input: unknown, prefix = ""): ValidationIssue[] {
  return issues.map((issue) => ({
    path: formatPath(issue.path, prefix),
    message: messageFor(issue, input),
  }));
}
