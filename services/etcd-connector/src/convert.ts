import {
  applyClusterPrefix,
  decodeEtcdResource,
  type EtcdKeyRef,
  isLocalCluster,
  LOCAL_CLUSTER,
  parseEtcdKey,
  type ResourceKind,
  resourceId,
  resourceRef,
  toFederated,
} from "@fedview/model";
import { fastDecodeEtcdResource } from "./fast-decode.js";
import type { ConvertedValue } from "./types.js";

/** What every cluster serves: calico.md §1 — endpoints and profiles, never policies. */
export const REMOTE_KINDS: readonly ResourceKind[] = ["WorkloadEndpoint", "HostEndpoint", "Profile"];
/** Pulled too with `overlayRoutingMode: Enabled`. */
export const OVERLAY_KINDS: readonly ResourceKind[] = ["Node", "IPPool"];
/** The local cluster also carries the policies calicoq evaluates, and their tiers (for ordering). */
export const LOCAL_POLICY_KINDS: readonly ResourceKind[] = ["NetworkPolicy", "GlobalNetworkPolicy", "Tier"];

/** The kinds an etcd source serves for `cluster`. */
export function kindsFor(cluster: string, overlayRouting: boolean): ResourceKind[] {
  return [
    ...REMOTE_KINDS,
    ...(overlayRouting ? OVERLAY_KINDS : []),
    ...(isLocalCluster(cluster) ? LOCAL_POLICY_KINDS : []),
  ];
}

// Kinds whose own name gets the `<cluster>/` prefix in the merged view (model's federation rules).
const PREFIXED_NAME_KINDS: ReadonlySet<ResourceKind> = new Set<ResourceKind>(["Profile", "Node", "IPPool"]);

/**
 * The merged-view ID of the resource stored under `ref` in `cluster`, without its value: needed for
 * deletes and for values that cannot be decoded. Must equal `resourceId(resourceRef(toFederated(…)))`
 * for every kind (a test holds it to that).
 */
export function federatedId(cluster: string, ref: EtcdKeyRef): string {
  if (PREFIXED_NAME_KINDS.has(ref.kind) && cluster !== LOCAL_CLUSTER) {
    return resourceId({ name: applyClusterPrefix(cluster, ref.name) });
  }
  return resourceId(ref);
}

function describeIssues(issues: { path: string; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join("; ");
}

/**
 * Converts one stored key-value of `cluster` to the merged view: decode and validate (the common
 * shapes by hand, `fast-decode.ts`, anything else with the model's schema), then
 * federate (prefixes, profile labels only, WorkloadEndpoints without `ipNetworks` hidden). Never
 * throws: anything unusable comes back as `malformed` with a reason that never quotes the value.
 */
export function convertKeyValue(cluster: string, key: string, value: Uint8Array, modRevision: string): ConvertedValue {
  const ref = parseEtcdKey(key);
  if (ref === null) return { type: "malformed", reason: "not a Calico v3 resource key" };
  const id = federatedId(cluster, ref);
  let resource = fastDecodeEtcdResource(ref, value, modRevision);
  if (resource === undefined) {
    const decoded = decodeEtcdResource(key, value, modRevision);
    if (!decoded.success) return { type: "malformed", kind: ref.kind, id, reason: describeIssues(decoded.issues) };
    resource = decoded.data;
  }
  let federated: ReturnType<typeof toFederated>;
  try {
    federated = toFederated(cluster, resource);
  } catch (err) {
    return { type: "malformed", kind: ref.kind, id, reason: err instanceof Error ? err.message : String(err) };
  }
  if (federated === null) return { type: "hidden", kind: ref.kind, id };
  return { type: "resource", kind: ref.kind, id: resourceId(resourceRef(federated)), resource: federated };
}
