/**
 * The demo's local cluster, in the embedded etcd: its own endpoints and profiles, the tiers and the
 * policies whose rules match remote endpoints, and the two RemoteClusterConfigurations — `cluster-east`
 * by file paths, `cluster-west` by `clusterAccessSecret`.
 */
import { type CalicoResource, LOCAL_CLUSTER, type RemoteClusterConfiguration } from "@fedview/model";
import {
  DEMO_GLOBAL_POLICIES,
  DEMO_NETWORK_POLICIES,
  DEMO_TIERS,
  hostEndpointOf,
  LOCAL_DEMO,
  profilesOf,
  WEST_ACCESS_SECRET,
  WEST_CLUSTER,
  workloadEndpointOf,
} from "./demo-data.js";

/** The local cluster's endpoints, profiles, tiers and policies, in Calico's etcd layout. */
export function localResources(): CalicoResource[] {
  const weps = LOCAL_DEMO.pods.map((p) => workloadEndpointOf(LOCAL_CLUSTER, p)).filter((w) => w !== null);
  return [
    ...profilesOf(LOCAL_CLUSTER, LOCAL_DEMO),
    ...weps,
    ...LOCAL_DEMO.hostEndpoints.map(hostEndpointOf),
    ...DEMO_TIERS,
    ...DEMO_GLOBAL_POLICIES,
    ...DEMO_NETWORK_POLICIES,
  ];
}

/** `cluster-west`'s RCC: every connection field comes from the Secret (calico.md §1). */
export function westRcc(): RemoteClusterConfiguration {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name: WEST_CLUSTER },
    spec: {
      clusterAccessSecret: { kind: "Secret", namespace: WEST_ACCESS_SECRET.namespace, name: WEST_ACCESS_SECRET.name },
      syncOptions: { overlayRoutingMode: "Disabled" },
    },
  };
}
