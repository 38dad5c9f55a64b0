/**
 * Label names Calico derives, and the labels an endpoint carries itself or inherits from its
 * profiles.
 *
 * Own labels of a WorkloadEndpoint, as fedview defines them (Calico writes the same labels when it
 * stores an endpoint, and its Felix conversion enforces the last two rules):
 * - the endpoint's `metadata.labels`, minus any key starting `pcns.` or `pcsa.` (those prefixes are
 *   reserved for labels inherited from namespace and service-account profiles, so an endpoint
 *   cannot fake them);
 * - `projectcalico.org/namespace` = `metadata.namespace`, always;
 * - `projectcalico.org/orchestrator` = `spec.orchestrator`, or the orchestrator encoded in the name;
 * - `projectcalico.org/serviceaccount` = `spec.serviceAccountName` when set, and absent otherwise
 *   (a label that the spec does not back is dropped).
 * The derived values override same-named labels in `metadata.labels`.
 * A HostEndpoint's own labels are its `metadata.labels` unchanged.
 */
import { assignOwn, setOwn } from "./objects.js";
import type { Endpoint, HostEndpoint, Labels, Profile, WorkloadEndpoint } from "./types.js";
import { parseWorkloadEndpointName } from "./workload-endpoint-name.js";

/** Label holding an endpoint's namespace. */
export const LABEL_NAMESPACE = "projectcalico.org/namespace";
/** Label holding an endpoint's orchestrator (`k8s` for Kubernetes pods). */
export const LABEL_ORCHESTRATOR = "projectcalico.org/orchestrator";
/** Label holding a workload's service account name. */
export const LABEL_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount";
/** Label, under the `pcns.`/`pcsa.` prefixes, holding a namespace's or service account's name. */
export const LABEL_NAME = "projectcalico.org/name";
/** Prefix of namespace labels inherited through a `kns.` profile. */
export const NAMESPACE_LABEL_PREFIX = "pcns.";
/** Prefix of service account labels inherited through a `ksa.` profile. */
export const SERVICE_ACCOUNT_LABEL_PREFIX = "pcsa.";
/** Name prefix of the profile Calico makes for a Kubernetes namespace. */
export const NAMESPACE_PROFILE_PREFIX = "kns.";
/** Name prefix of the profile Calico makes for a Kubernetes service account. */
export const SERVICE_ACCOUNT_PROFILE_PREFIX = "ksa.";
/** The orchestrator ID of Kubernetes workloads. */
export const ORCHESTRATOR_KUBERNETES = "k8s";

/** The labels a WorkloadEndpoint carries itself (see the module comment for the rules). */
export function workloadEndpointOwnLabels(wep: WorkloadEndpoint): Labels {
  const labels: Labels = {};
  for (const [key, value] of Object.entries(wep.metadata.labels ?? {})) {
    if (key.startsWith(NAMESPACE_LABEL_PREFIX) || key.startsWith(SERVICE_ACCOUNT_LABEL_PREFIX)) continue;
    if (key === LABEL_SERVICE_ACCOUNT) continue;
    setOwn(labels, key, value);
  }
  labels[LABEL_NAMESPACE] = wep.metadata.namespace;
  const orchestrator = wep.spec.orchestrator || parseWorkloadEndpointName(wep.metadata.name)?.orchestrator;
  if (orchestrator) labels[LABEL_ORCHESTRATOR] = orchestrator;
  if (wep.spec.serviceAccountName) labels[LABEL_SERVICE_ACCOUNT] = wep.spec.serviceAccountName;
  return labels;
}

/** The labels a HostEndpoint carries itself: its `metadata.labels`. */
export function hostEndpointOwnLabels(hep: HostEndpoint): Labels {
  return assignOwn({}, hep.metadata.labels);
}

/** The labels an endpoint of either kind carries itself. */
export function endpointOwnLabels(endpoint: Endpoint): Labels {
  return endpoint.kind === "WorkloadEndpoint" ? workloadEndpointOwnLabels(endpoint) : hostEndpointOwnLabels(endpoint);
}

/** The profile IDs an endpoint inherits labels from, in priority order. */
export function endpointProfileIds(endpoint: Endpoint): string[] {
  return [...(endpoint.spec.profiles ?? [])];
}

/** The labels a profile hands to its endpoints: `spec.labelsToApply`. */
export function profileLabels(profile: Profile): Labels {
  return assignOwn({}, profile.spec.labelsToApply);
}

/**
 * An endpoint's effective labels: its own labels, then each profile's labels in `profiles` order;
 * the first that defines a key wins. Pass `undefined` for a profile that does not exist (yet).
 */
export function effectiveLabels(own: Labels, inherited: Iterable<Labels | undefined>): Labels {
  const result: Labels = {};
  for (const source of [...inherited].reverse()) assignOwn(result, source);
  return assignOwn(result, own);
}
