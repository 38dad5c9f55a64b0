/**
 * Calico's etcd v3 datastore layout: every v3 resource is stored as JSON under
 * `/calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>`. The stored value has no
 * `resourceVersion`; it is the key's etcd ModRevision.
 */
import { EtcdKeyError } from "./errors.js";
import { fromZodIssues } from "./issues.js";
import { isResourceKind, kindFromPlural, type ResourceKind, resourceKindInfo, resourceRef } from "./kinds.js";
import { isRecord } from "./objects.js";
import type { CalicoResource, NamespacedName, ValidationResult } from "./types.js";

/** The prefix of every Calico v3 resource key. */
export const ETCD_RESOURCE_PREFIX = "/calico/resources/v3/projectcalico.org/";

/** A resource key taken apart. */
export interface EtcdKeyRef extends NamespacedName {
  kind: ResourceKind;
}

function checkSegment(what: string, value: string, kind: ResourceKind): void {
  if (value === "" || value.includes("/")) {
    throw new EtcdKeyError(
      `cannot build an etcd key for ${kind}: ${what} ${JSON.stringify(value)} is empty or contains "/"`,
    );
  }
}

/**
 * The key prefix under which every resource of `kind` lives (ending in `/`), or, for a namespaced
 * kind with `namespace`, every resource of that namespace. Throws `EtcdKeyError` for a namespace
 * given to a global kind.
 */
export function etcdPrefix(kind: ResourceKind, namespace?: string): string {
  const info = resourceKindInfo[kind];
  const base = `${ETCD_RESOURCE_PREFIX}${info.plural}/`;
  if (namespace === undefined) return base;
  if (!info.namespaced) throw new EtcdKeyError(`${kind} is not namespaced; it has no per-namespace prefix`);
  checkSegment("namespace", namespace, kind);
  return `${base}${namespace}/`;
}

/**
 * The etcd key of a resource. Namespaced kinds need a namespace, global kinds must have none;
 * names and namespaces must be non-empty and free of `/`. Throws `EtcdKeyError` otherwise.
 */
export function toEtcdKey(kind: ResourceKind, ref: NamespacedName): string {
  const info = resourceKindInfo[kind];
  checkSegment("name", ref.name, kind);
  if (info.namespaced) {
    if (ref.namespace === undefined)
      throw new EtcdKeyError(`cannot build an etcd key for ${kind}: it needs a namespace`);
    checkSegment("namespace", ref.namespace, kind);
    return `${ETCD_RESOURCE_PREFIX}${info.plural}/${ref.namespace}/${ref.name}`;
  }
  if (ref.namespace !== undefined && ref.namespace !== "") {
    throw new EtcdKeyError(`cannot build an etcd key for ${kind}: it is not namespaced`);
  }
  return `${ETCD_RESOURCE_PREFIX}${info.plural}/${ref.name}`;
}

/** Takes a resource key apart; null for keys outside the layout or of kinds the model does not know. */
export function parseEtcdKey(key: string): EtcdKeyRef | null {
  if (!key.startsWith(ETCD_RESOURCE_PREFIX)) return null;
  const parts = key.slice(ETCD_RESOURCE_PREFIX.length).split("/");
  const kind = kindFromPlural(parts[0] ?? "");
  if (kind === undefined) return null;
  if (resourceKindInfo[kind].namespaced) {
    const [, namespace, name] = parts;
    if (parts.length !== 3 || !namespace || !name) return null;
    return { kind, namespace, name };
  }
  const [, name] = parts;
  if (parts.length !== 2 || !name) return null;
  return { kind, name };
}

/** The key and JSON value under which Calico stores `resource`; `resourceVersion` is left out. */
export function encodeEtcdResource(resource: CalicoResource): { key: string; value: string } {
  const { resourceVersion: _dropped, ...metadata } = resource.metadata;
  return {
    key: toEtcdKey(resource.kind, resourceRef(resource)),
    value: JSON.stringify({ ...resource, metadata }),
  };
}

/**
 * Decodes a stored value: parses the JSON, checks it against the kind the key names, takes name and
 * namespace from the key (the key is what identifies it), and sets `resourceVersion` to the key's
 * ModRevision when given. Never throws; problems come back as issues (`key`, `value`, or a field).
 */
export function decodeEtcdResource(
  key: string,
  value: string | Uint8Array,
  modRevision?: string | number | bigint,
): ValidationResult<CalicoResource> {
  const ref = parseEtcdKey(key);
  if (ref === null) {
    return {
      success: false,
      issues: [{ path: "key", message: `${JSON.stringify(key)} is not a Calico v3 resource key` }],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof value === "string" ? value : new TextDecoder().decode(value));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { success: false, issues: [{ path: "value", message: `the stored value is not JSON: ${reason}` }] };
  }
  if (!isRecord(json)) {
    return { success: false, issues: [{ path: "value", message: "the stored value is not a JSON object" }] };
  }
  const kind = json["kind"];
  if (typeof kind === "string" && kind !== ref.kind && isResourceKind(kind)) {
    return {
      success: false,
      issues: [{ path: "kind", message: `the key holds ${ref.kind} resources, but the value is a ${kind}` }],
    };
  }
  const metadata: Record<string, unknown> = { ...(isRecord(json["metadata"]) ? json["metadata"] : {}), name: ref.name };
  if (ref.namespace !== undefined) metadata["namespace"] = ref.namespace;
  if (modRevision !== undefined) metadata["resourceVersion"] = String(modRevision);
  const candidate = { ...json, metadata };
  const parsed = resourceKindInfo[ref.kind].schema.safeParse(candidate);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, issues: fromZodIssues(parsed.error.issues, candidate) };
}
