/**
 * A realistic federation as Calico stores it (v3 objects, as in etcd), used both to feed a
 * `FederatedView` directly (golden tests) and to fill real etcd servers (mode-equivalence tests).
 *
 * - local: namespaces prod and dev (profiles kns.*, ksa.*), four pods on node-1/node-2, two host
 *   endpoints; tiers `security` (order 100) and `platform` (no order); global and namespaced
 *   policies with rule selectors, a namespaceSelector, serviceAccounts, a doNotTrack policy, a policy
 *   stored without its tier prefix, and one with an order that Go prints as `2e+06`.
 * - east (a remote etcd): namespace prod, two pods and a host endpoint on node-a.
 */
import type { ClusterStatus, ResourceEvent } from "@fedview/bus";
import {
  type CalicoResource,
  type GlobalNetworkPolicy,
  type HostEndpoint,
  LOCAL_CLUSTER,
  type NetworkPolicy,
  namespaceToProfile,
  type Pod,
  podToWorkloadEndpoint,
  resourceId,
  resourceRef,
  serviceAccountToProfile,
  type Tier,
  toFederated,
} from "@fedview/model";

export interface PodSpec {
  ns: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  sa?: string;
  ip: string;
}

/** The Kubernetes Pod of a spec, as the API server stores it. */
export function kubePod(spec: PodSpec): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: spec.name, namespace: spec.ns, labels: spec.labels },
    spec: {
      nodeName: spec.node,
      ...(spec.sa ? { serviceAccountName: spec.sa } : {}),
      containers: [{ name: "main", image: "app" }],
    },
    status: { phase: "Running", podIP: spec.ip, podIPs: [{ ip: spec.ip }] },
  } as unknown as Pod;
}

function pod(spec: PodSpec): CalicoResource {
  const wep = podToWorkloadEndpoint(kubePod(spec));
  if (wep === null) throw new Error(`pod ${spec.name} has no endpoint`);
  return wep;
}

function namespace(name: string, labels: Record<string, string> = {}): CalicoResource {
  return namespaceToProfile({ metadata: { name, labels } } as Parameters<typeof namespaceToProfile>[0]);
}

function serviceAccount(ns: string, name: string, labels: Record<string, string> = {}): CalicoResource {
  return serviceAccountToProfile({ metadata: { name, namespace: ns, labels } } as Parameters<
    typeof serviceAccountToProfile
  >[0]);
}

function hostEndpoint(name: string, node: string, labels: Record<string, string>): HostEndpoint {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "HostEndpoint",
    metadata: { name, labels },
    spec: { node, interfaceName: "eth0", expectedIPs: ["192.168.0.10"], profiles: ["hep-base"] },
  };
}

function tier(name: string, order?: number): Tier {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "Tier",
    metadata: { name },
    spec: order === undefined ? {} : { order },
  };
}

function globalPolicy(name: string, spec: GlobalNetworkPolicy["spec"]): GlobalNetworkPolicy {
  return { apiVersion: "projectcalico.org/v3", kind: "GlobalNetworkPolicy", metadata: { name }, spec };
}

function networkPolicy(ns: string, name: string, spec: NetworkPolicy["spec"]): NetworkPolicy {
  return { apiVersion: "projectcalico.org/v3", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec };
}

function profile(name: string, labels: Record<string, string>): CalicoResource {
  return { apiVersion: "projectcalico.org/v3", kind: "Profile", metadata: { name }, spec: { labelsToApply: labels } };
}

/** The local cluster's namespaces (name, labels). */
export const LOCAL_NAMESPACES: [string, Record<string, string>][] = [
  ["prod", { env: "production", team: "shop" }],
  ["dev", { env: "dev" }],
];

/** The local cluster's service accounts (namespace, name, labels). */
export const LOCAL_SERVICE_ACCOUNTS: [string, string, Record<string, string>][] = [
  ["prod", "api", { team: "payments" }],
  ["prod", "default", {}],
  ["dev", "default", {}],
];

/** The local cluster's pods. */
export const LOCAL_PODS: PodSpec[] = [
  { ns: "prod", name: "frontend-7d4", node: "node-1", labels: { app: "frontend" }, sa: "default", ip: "10.0.1.5" },
  { ns: "prod", name: "api-5f9", node: "node-1", labels: { app: "api" }, sa: "api", ip: "10.0.1.6" },
  { ns: "prod", name: "db-0", node: "node-2", labels: { app: "db" }, sa: "default", ip: "10.0.2.7" },
  { ns: "dev", name: "api-6c1", node: "node-2", labels: { app: "api" }, sa: "default", ip: "10.0.2.8" },
];

/** The local Calico resources that no Kubernetes object gives: host endpoints, tiers, policies. */
export function localCalicoResources(): CalicoResource[] {
  return [
    hostEndpoint("node-1-eth0", "node-1", { role: "gateway" }),
    hostEndpoint("node-2-eth0", "node-2", {}),
    tier("security", 100),
    tier("platform"),
    globalPolicy("security.block-external", {
      tier: "security",
      order: 10,
      selector: "has(app)",
      ingress: [{ action: "Allow", source: { namespaceSelector: 'env == "production"' } }],
      egress: [{ action: "Allow", destination: { selector: "role == 'gateway'" } }],
    }),
    globalPolicy("default.host-untracked", {
      order: 1,
      doNotTrack: true,
      applyOnForward: true,
      selector: 'host-endpoint == "true"',
      ingress: [{ action: "Allow", source: { selector: 'app == "api"' } }],
    }),
    networkPolicy("prod", "default.allow-api", {
      tier: "default",
      order: 100,
      selector: "app == 'api'",
      ingress: [
        { action: "Allow", source: { selector: "app == 'frontend'" } },
        { action: "Allow", source: { serviceAccounts: { names: ["default", "api"], selector: "team == 'payments'" } } },
      ],
      egress: [{ action: "Allow", destination: { namespaceSelector: "global()" } }],
    }),
    networkPolicy("prod", "knp.default.db-access", {
      selector: 'app == "db"',
      ingress: [{ action: "Allow", source: { selector: 'app == "api"', namespaceSelector: "all()" } }],
    }),
    // Stored without its tier prefix, as older Calico versions do for the default tier.
    globalPolicy("allow-dns", {
      order: 500,
      egress: [{ action: "Allow", destination: { selector: 'app == "db"', notSelector: "has(role)" } }],
    }),
    globalPolicy("platform.audit", { tier: "platform", order: 2_000_000, selector: "all()" }),
  ];
}

/** The local cluster's resources as stored in an etcd datastore. */
export function localResources(): CalicoResource[] {
  return [
    ...LOCAL_NAMESPACES.map(([name, labels]) => namespace(name, labels)),
    ...LOCAL_SERVICE_ACCOUNTS.map(([ns, name, labels]) => serviceAccount(ns, name, labels)),
    profile("hep-base", { "host-endpoint": "true" }),
    ...LOCAL_PODS.map(pod),
    ...localCalicoResources(),
  ];
}

/** The `east` remote cluster's resources as stored in its etcd. */
export function eastResources(): CalicoResource[] {
  return [
    namespace("prod", { env: "production" }),
    serviceAccount("prod", "api", { team: "payments" }),
    pod({ ns: "prod", name: "api-e1", node: "node-a", labels: { app: "api" }, sa: "api", ip: "10.1.0.5" }),
    pod({
      ns: "prod",
      name: "frontend-e1",
      node: "node-a",
      labels: { app: "frontend" },
      sa: "default",
      ip: "10.1.0.6",
    }),
    hostEndpoint("node-a-eth0", "node-a", { role: "gateway" }),
    profile("hep-base", { "host-endpoint": "true" }),
  ];
}

let revision = 1000;

/** Resource events for a cluster, converted as a connector converts them. */
export function eventsFor(cluster: string, resources: readonly CalicoResource[]): ResourceEvent[] {
  const events: ResourceEvent[] = [];
  for (const resource of resources) {
    const federated = toFederated(cluster, resource);
    if (federated === null) continue;
    events.push({
      v: 1,
      op: "upsert",
      cluster,
      kind: federated.kind,
      id: resourceId(resourceRef(federated)),
      revision: String(++revision),
      generation: 1,
      resource: federated,
    });
  }
  return events;
}

export const SINCE = "2026-03-01T10:00:00.000Z";

/** An upsert status message. */
export function statusOf(
  cluster: string,
  status: ClusterStatus["status"],
  extra: Partial<ClusterStatus> = {},
): ClusterStatus {
  return { v: 1, op: "upsert", cluster, status, since: SINCE, generation: 1, counts: {}, stale: false, ...extra };
}

export { LOCAL_CLUSTER };
