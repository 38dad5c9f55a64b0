/**
 * Splits a request path into what it addresses, as apiserver's RequestInfoFactory does. Authorization
 * runs on this before the resource is looked up, so an unknown resource is a 403 for a user without
 * rights and a 404 only for one with them — the same order as the real server.
 */

/** A request under `/api/v1` or `/apis/<group>/<version>` that names a resource. */
export interface ResourceRequestInfo {
  kind: "resource";
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  /** The namespace in the path; for `/namespaces/<name>` itself, the namespace's own name. */
  namespace?: string;
  name?: string;
  /** A `/namespaces/<ns>/...` path (as opposed to all namespaces). */
  namespacedPath: boolean;
}

/** Discovery of one group version: `/api/v1`, `/apis/<group>/<version>`. */
export interface GroupVersionRequestInfo {
  kind: "groupVersion";
  group: string;
  version: string;
}

/** Anything else: `/version`, `/api`, `/apis`, `/apis/<group>`, `/healthz`, unknown paths. */
export interface NonResourceRequestInfo {
  kind: "nonResource";
  path: string;
  verb: string;
}

export type RequestInfo = ResourceRequestInfo | GroupVersionRequestInfo | NonResourceRequestInfo;

/** Go's strconv.ParseBool, which is what `watch=` accepts. */
export function parseBool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

function nonResourceVerb(method: string): string {
  return (
    { GET: "get", HEAD: "head", POST: "post", PUT: "put", PATCH: "patch", DELETE: "delete" }[method] ??
    method.toLowerCase()
  );
}

function resourceVerb(method: string, hasName: boolean, watch: boolean): string | undefined {
  switch (method) {
    case "GET":
    case "HEAD":
      return watch ? "watch" : hasName ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return hasName ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

/** Reads method + URL into a RequestInfo. An unknown HTTP method on a resource path gets verb `""`. */
export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { kind: "nonResource", path, verb: nonResourceVerb(method) };
  }
  if (rest.length === 0) return { kind: "groupVersion", group, version };

  let namespace: string | undefined;
  let namespacedPath = false;
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    // `/namespaces/<ns>/<resource>` moves on to the resource; `/namespaces/<name>/status|finalize` does not.
    if (rest.length > 2 && rest[2] !== "status" && rest[2] !== "finalize") {
      rest = rest.slice(2);
      namespacedPath = true;
    }
  }
  const [resource, name, subresource] = rest as [string, string | undefined, string | undefined];
  const watch = parseBool(url.searchParams.get("watch")) === true;
  return {
    kind: "resource",
    verb: resourceVerb(method, name !== undefined, watch) ?? "",
    group,
    version,
    resource,
    ...(subresource !== undefined ? { subresource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    namespacedPath,
  };
}
