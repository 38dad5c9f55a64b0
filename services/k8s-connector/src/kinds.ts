/**
 * Which Kubernetes resource types a cluster is read from (calico.md §5): namespaces and service
 * accounts (profiles), pods (workload endpoints) and Calico's host endpoint CRD; with overlay routing
 * also nodes and IP pools; for the local cluster also its policies — Kubernetes NetworkPolicies (as
 * calicoq shows them, `knp.default.<name>`) and Calico's policy CRDs — and tiers.
 */
import { isLocalCluster, ResourceKind } from "@fedview/model";
import type { KubeResourceType } from "./types.js";

/** What every cluster serves: endpoints and profiles, never policies. */
export const REMOTE_KINDS: readonly ResourceKind[] = [
  ResourceKind.WorkloadEndpoint,
  ResourceKind.HostEndpoint,
  ResourceKind.Profile,
];
/** Pulled too with `overlayRoutingMode: Enabled`. */
export const OVERLAY_KINDS: readonly ResourceKind[] = [ResourceKind.Node, ResourceKind.IPPool];
/**
 * The local cluster also carries the policies calicoq evaluates (NetworkPolicy covers both Calico's
 * and Kubernetes' NetworkPolicies), and their tiers (for ordering).
 */
export const LOCAL_POLICY_KINDS: readonly ResourceKind[] = [
  ResourceKind.NetworkPolicy,
  ResourceKind.GlobalNetworkPolicy,
  ResourceKind.Tier,
];

/** The Calico kinds a Kubernetes source serves for `cluster`. */
export function kindsFor(cluster: string, overlayRouting: boolean): ResourceKind[] {
  return [
    ...REMOTE_KINDS,
    ...(overlayRouting ? OVERLAY_KINDS : []),
    ...(isLocalCluster(cluster) ? LOCAL_POLICY_KINDS : []),
  ];
}

const CALICO_GROUP = "crd.projectcalico.org";

const core = (plural: string, kind: ResourceKind, namespaced: boolean): KubeResourceType => ({
  kind,
  group: "",
  version: "v1",
  plural,
  namespaced,
  optional: false,
});

const NETWORKING_GROUP = "networking.k8s.io";

const calico = (plural: string, kind: ResourceKind, namespaced: boolean, optional = false): KubeResourceType => ({
  kind,
  group: CALICO_GROUP,
  version: "v1",
  plural,
  namespaced,
  optional,
});

/**
 * Every resource type the connector can read, in listing order. Namespaces come first: they are the
 * cheapest liveness check, and the `kube-system` namespace's UID identifies the cluster.
 */
export const KUBE_RESOURCE_TYPES: readonly KubeResourceType[] = [
  core("namespaces", ResourceKind.Profile, false),
  core("serviceaccounts", ResourceKind.Profile, true),
  core("pods", ResourceKind.WorkloadEndpoint, true),
  calico("hostendpoints", ResourceKind.HostEndpoint, false),
  core("nodes", ResourceKind.Node, false),
  calico("ippools", ResourceKind.IPPool, false),
  // Kubernetes NetworkPolicies become Calico NetworkPolicies `knp.default.<name>`, as in calicoq.
  {
    kind: ResourceKind.NetworkPolicy,
    group: NETWORKING_GROUP,
    version: "v1",
    plural: "networkpolicies",
    namespaced: true,
    optional: false,
  },
  calico("networkpolicies", ResourceKind.NetworkPolicy, true),
  calico("globalnetworkpolicies", ResourceKind.GlobalNetworkPolicy, false),
  // Older Calico releases have no tier CRD; such a cluster simply has no tiers.
  calico("tiers", ResourceKind.Tier, false, true),
];

/** The resource types that produce `kinds`, in listing order. */
export function resourceTypesFor(kinds: readonly ResourceKind[]): KubeResourceType[] {
  const wanted = new Set(kinds);
  return KUBE_RESOURCE_TYPES.filter((t) => wanted.has(t.kind));
}

/** `pods`, or `hostendpoints.crd.projectcalico.org` for a resource of a named group. */
export function qualifiedResource(type: KubeResourceType): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

/** The cluster-wide collection path, e.g. `/api/v1/pods` or `/apis/crd.projectcalico.org/v1/hostendpoints`. */
export function collectionPath(type: KubeResourceType): string {
  return type.group === ""
    ? `/api/${type.version}/${type.plural}`
    : `/apis/${type.group}/${type.version}/${type.plural}`;
}
