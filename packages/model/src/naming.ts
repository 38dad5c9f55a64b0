/**
 * Names in the merged view. A remote cluster's endpoints, host endpoints and profiles are
 * identified with the `<cluster>/` prefix (the RemoteClusterConfiguration name); the local cluster,
 * `_local`, carries no prefix. Also the calicoq display names built on those.
 */
import { ClusterNameError } from "./errors.js";
import type {
  ClusterScopedName,
  HostEndpoint,
  HostEndpointIdentity,
  WorkloadEndpoint,
  WorkloadEndpointIdentity,
} from "./types.js";
import { parseWorkloadEndpointName } from "./workload-endpoint-name.js";

/**
 * The reserved cluster token of the local cluster. RemoteClusterConfiguration names cannot contain
 * `_`, so it never collides with a remote cluster.
 */
export const LOCAL_CLUSTER = "_local";

/** Longest RemoteClusterConfiguration name: a DNS-1123 label. */
export const MAX_CLUSTER_NAME_LENGTH = 63;

const CLUSTER_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Whether `name` is a valid RemoteClusterConfiguration name: lower-case letters, digits and `-`,
 * starting and ending with a letter or digit, at most 63 characters.
 */
export function isValidClusterName(name: string): boolean {
  return name.length <= MAX_CLUSTER_NAME_LENGTH && CLUSTER_NAME_PATTERN.test(name);
}

/** Whether `cluster` is the local cluster token. */
export function isLocalCluster(cluster: string): boolean {
  return cluster === LOCAL_CLUSTER;
}

/** Throws `ClusterNameError` unless `cluster` is `_local` or a valid RCC name. */
export function assertClusterName(cluster: string): void {
  if (!isLocalCluster(cluster) && !isValidClusterName(cluster)) {
    throw new ClusterNameError(
      `"${cluster}" is not a cluster: expected "${LOCAL_CLUSTER}" or a RemoteClusterConfiguration name`,
    );
  }
}

/**
 * The merged-view ID of `name` in `cluster`: `<cluster>/<name>` for a remote cluster, `name`
 * unchanged for the local one. Throws `ClusterNameError` for an invalid cluster.
 */
export function applyClusterPrefix(cluster: string, name: string): string {
  assertClusterName(cluster);
  return isLocalCluster(cluster) ? name : `${cluster}/${name}`;
}

/**
 * Splits a merged-view ID into its cluster and name. An ID without a valid `<cluster>/` prefix is
 * local: Calico node and profile names never contain `/`.
 */
export function stripClusterPrefix(id: string): ClusterScopedName {
  const slash = id.indexOf("/");
  if (slash > 0) {
    const cluster = id.slice(0, slash);
    if (isValidClusterName(cluster)) return { cluster, name: id.slice(slash + 1) };
  }
  return { cluster: LOCAL_CLUSTER, name: id };
}

/**
 * Resolves the cluster of an endpoint and its unprefixed node: an explicit `cluster` wins,
 * otherwise a federated endpoint's `spec.node` prefix tells it.
 */
function resolveHost(specNode: string | undefined, cluster: string | undefined): { cluster: string; node: string } {
  const fromSpec = stripClusterPrefix(specNode ?? "");
  const resolved = cluster ?? fromSpec.cluster;
  assertClusterName(resolved);
  return { cluster: resolved, node: fromSpec.name };
}

/**
 * How calicoq identifies a workload endpoint. Like Calico, the parts come from the endpoint's
 * name (falling back to the spec when the name is not in the canonical encoding); the workload
 * is `<namespace>/<pod>`. Works on raw and on federated endpoints: `cluster` may be omitted for
 * a federated one, whose `spec.node` carries the prefix.
 */
export function workloadEndpointIdentity(wep: WorkloadEndpoint, cluster?: string): WorkloadEndpointIdentity {
  const parsed = parseWorkloadEndpointName(wep.metadata.name);
  const resolved = resolveHost(wep.spec.node, cluster);
  const node = parsed?.node ?? resolved.node;
  const workloadName = parsed?.workload ?? wep.spec.pod ?? wep.spec.workload ?? "";
  return {
    cluster: resolved.cluster,
    node,
    host: applyClusterPrefix(resolved.cluster, node),
    orchestrator: parsed?.orchestrator ?? wep.spec.orchestrator ?? "",
    workload: `${wep.metadata.namespace}/${workloadName}`,
    endpoint: parsed?.endpoint ?? wep.spec.endpoint ?? "",
  };
}

/** `<orchestrator>/<ns>.<pod>/<endpoint>`: calicoq's per-endpoint heading, without the host. */
function workloadPath(identity: WorkloadEndpointIdentity): string {
  return `${identity.orchestrator}/${identity.workload.replaceAll("/", ".")}/${identity.endpoint}`;
}

/**
 * calicoq's name of a workload endpoint, `<host>/<orchestrator>/<ns>.<pod>/<endpoint>`, with
 * `<cluster>/` in front for a remote cluster (given, or read from a federated `spec.node`).
 */
export function workloadEndpointDisplayName(wep: WorkloadEndpoint, cluster?: string): string {
  const identity = workloadEndpointIdentity(wep, cluster);
  return `${identity.host}/${workloadPath(identity)}`;
}

/** calicoq's heading for a workload endpoint in `endpoint`/`host` output: `<orch>/<ns>.<pod>/<endpoint>`. */
export function workloadEndpointShortDisplayName(wep: WorkloadEndpoint): string {
  return workloadPath(workloadEndpointIdentity(wep, LOCAL_CLUSTER));
}

/** How calicoq identifies a host endpoint: its node and its name. */
export function hostEndpointIdentity(hep: HostEndpoint, cluster?: string): HostEndpointIdentity {
  const resolved = resolveHost(hep.spec.node, cluster);
  return {
    cluster: resolved.cluster,
    node: resolved.node,
    host: applyClusterPrefix(resolved.cluster, resolved.node),
    name: hep.metadata.name,
  };
}

/** calicoq's name of a host endpoint, `<host>/<name>`, with `<cluster>/` in front for a remote cluster. */
export function hostEndpointDisplayName(hep: HostEndpoint, cluster?: string): string {
  const identity = hostEndpointIdentity(hep, cluster);
  return `${identity.host}/${identity.name}`;
}
