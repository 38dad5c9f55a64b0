/**
 * Conversion applied by a connector to every resource before it is published to the merged view.
 *
 * Remote clusters: a WorkloadEndpoint's or HostEndpoint's node and profile IDs get the `<cluster>/`
 * prefix, as do Profile names (so profile inheritance stays inside one cluster), and Node and IPPool
 * names (pulled with overlay routing; prefixed so they never collide across clusters, and so a
 * remote endpoint's node names a Node of the same cluster). Remote Profiles keep only their
 * `labelsToApply`. An RCC never pulls policies, tiers, network sets or RCCs, so those convert to null.
 *
 * Every cluster, the local one included: a WorkloadEndpoint without `ipNetworks` converts to null
 * (Calico ignores it), and its labels are normalised to its own labels (see `labels.ts`).
 */
import { workloadEndpointOwnLabels } from "./labels.js";
import { applyClusterPrefix, assertClusterName, isLocalCluster } from "./naming.js";
import type { CalicoResource, HostEndpoint, IPPool, Labels, Node, Profile, WorkloadEndpoint } from "./types.js";

function prefixAll(cluster: string, ids: string[] | undefined): string[] | undefined {
  return ids?.map((id) => applyClusterPrefix(cluster, id));
}

/**
 * A WorkloadEndpoint as the merged view holds it, or null when it has no `ipNetworks`. The name and
 * namespace are unchanged; `spec.node` and `spec.profiles` get the cluster prefix; labels become the
 * endpoint's own labels (`pcns.`/`pcsa.` keys dropped, `projectcalico.org/serviceaccount` from
 * `spec.serviceAccountName`, namespace and orchestrator labels set).
 */
export function toFederatedWorkloadEndpoint(cluster: string, wep: WorkloadEndpoint): WorkloadEndpoint | null {
  assertClusterName(cluster);
  if (!wep.spec.ipNetworks || wep.spec.ipNetworks.length === 0) return null;
  const labels: Labels = workloadEndpointOwnLabels(wep);
  const spec = { ...wep.spec };
  if (spec.node !== undefined) spec.node = applyClusterPrefix(cluster, spec.node);
  const profiles = prefixAll(cluster, spec.profiles);
  if (profiles !== undefined) spec.profiles = profiles;
  return { ...wep, metadata: { ...wep.metadata, labels }, spec };
}

/** A HostEndpoint as the merged view holds it: `spec.node` and `spec.profiles` get the cluster prefix. */
export function toFederatedHostEndpoint(cluster: string, hep: HostEndpoint): HostEndpoint {
  assertClusterName(cluster);
  const spec = { ...hep.spec };
  if (spec.node !== undefined) spec.node = applyClusterPrefix(cluster, spec.node);
  const profiles = prefixAll(cluster, spec.profiles);
  if (profiles !== undefined) spec.profiles = profiles;
  return { ...hep, spec };
}

/**
 * A Profile as the merged view holds it: a remote profile's name gets the cluster prefix and its
 * spec keeps only `labelsToApply` (rules never cross clusters); a local profile is unchanged.
 */
export function toFederatedProfile(cluster: string, profile: Profile): Profile {
  assertClusterName(cluster);
  if (isLocalCluster(cluster)) return profile;
  const spec: Profile["spec"] = {};
  if (profile.spec.labelsToApply !== undefined) spec.labelsToApply = { ...profile.spec.labelsToApply };
  return {
    ...profile,
    metadata: { ...profile.metadata, name: applyClusterPrefix(cluster, profile.metadata.name) },
    spec,
  };
}

function withPrefixedName<R extends Node | IPPool>(cluster: string, resource: R): R {
  assertClusterName(cluster);
  return { ...resource, metadata: { ...resource.metadata, name: applyClusterPrefix(cluster, resource.metadata.name) } };
}

/**
 * Converts any resource for the merged view (see the module comment); null means the resource is
 * not part of it. Never mutates its input. Throws `ClusterNameError` for an invalid cluster.
 */
export function toFederated<R extends CalicoResource>(cluster: string, resource: R): R | null;
export function toFederated(cluster: string, resource: CalicoResource): CalicoResource | null {
  assertClusterName(cluster);
  switch (resource.kind) {
    case "WorkloadEndpoint":
      return toFederatedWorkloadEndpoint(cluster, resource);
    case "HostEndpoint":
      return toFederatedHostEndpoint(cluster, resource);
    case "Profile":
      return toFederatedProfile(cluster, resource);
    case "Node":
    case "IPPool":
      return withPrefixedName(cluster, resource);
    default:
      // Policies, tiers, network sets and RCCs are read from the local cluster only.
      return isLocalCluster(cluster) ? resource : null;
  }
}
