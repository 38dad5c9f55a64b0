/**
 * A realistic federation for the engine and service tests, built the way the connectors build it:
 * Kubernetes pods, namespaces and service accounts through the model's KDD conversion, then the
 * model's federation conversion (cluster prefixes, own labels), wrapped in bus resource events.
 *
 * - `_local`: namespaces prod, dev, kube-system; five pods on node-1/node-2 (one finished, which
 *   Calico ignores); two host endpoints; tiers `security` (order 100) and `platform` (no order);
 *   namespaced and global policies with rule selectors, namespaceSelector and serviceAccounts.
 * - `east` (InSync): namespace prod, two pods and a host endpoint on node-a.
 * - `west` (ConnectionFailed, stale): namespace prod labelled staging, one pod on node-x.
 */

import type { ClusterStatus, ResourceEvent, ResourceUpsert } from "@fedview/bus";
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

let revision = 100;

/** An upsert event for `resource` in `cluster`, converted as a connector converts it. */
export function upsert(cluster: string, resource: CalicoResource, generation = 1, rev?: number): ResourceUpsert {
  const federated = toFederated(cluster, resource);
  if (federated === null) throw new Error(`fixture ${resource.metadata.name} does not federate`);
  return {
    v: 1,
    op: "upsert",
    cluster,
    kind: federated.kind,
    id: resourceId(resourceRef(federated)),
    revision: String(rev ?? ++revision),
    generation,
    resource: federated,
  };
}

/** A delete event. */
export function remove(cluster: string, kind: string, id: string, generation = 1, rev?: number): ResourceEvent {
  return { v: 1, op: "delete", cluster, kind, id, revision: String(rev ?? ++revision), generation };
}

/** A raw resource event (no conversion), e.g. a policy a remote cluster should never send. */
export function raw(cluster: string, resource: CalicoResource, generation = 1, rev?: number): ResourceUpsert {
  return {
    v: 1,
    op: "upsert",
    cluster,
    kind: resource.kind,
    id: resourceId(resourceRef(resource)),
    revision: String(rev ?? ++revision),
    generation,
    resource,
  };
}

interface PodSpec {
  ns: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  sa?: string;
  ip?: string;
  phase?: string;
}

/** A pod converted to its WorkloadEndpoint (KDD). */
export function pod(spec: PodSpec) {
  const p: Pod = {
    metadata: { name: spec.name, namespace: spec.ns, labels: spec.labels },
    spec: { nodeName: spec.node, ...(spec.sa ? { serviceAccountName: spec.sa } : {}) },
    status: { phase: spec.phase ?? "Running", ...(spec.ip ? { podIPs: [{ ip: spec.ip }] } : {}) },
  } as Pod;
  const wep = podToWorkloadEndpoint(p);
  if (wep === null) throw new Error(`pod ${spec.name} has no endpoint`);
  return wep;
}

export function namespace(name: string, labels: Record<string, string> = {}) {
  return namespaceToProfile({ metadata: { name, labels } } as Parameters<typeof namespaceToProfile>[0]);
}

export function serviceAccount(ns: string, name: string, labels: Record<string, string> = {}) {
  return serviceAccountToProfile({
    metadata: { name, namespace: ns, labels },
  } as Parameters<typeof serviceAccountToProfile>[0]);
}

export function hostEndpoint(name: string, node: string, labels: Record<string, string>): HostEndpoint {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "HostEndpoint",
    metadata: { name, labels },
    spec: { node, interfaceName: "eth0", expectedIPs: ["192.168.0.10"] },
  };
}

export function tier(name: string, order?: number): Tier {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "Tier",
    metadata: { name },
    spec: order === undefined ? {} : { order },
  };
}

export function globalPolicy(name: string, spec: GlobalNetworkPolicy["spec"]): GlobalNetworkPolicy {
  return { apiVersion: "projectcalico.org/v3", kind: "GlobalNetworkPolicy", metadata: { name }, spec };
}

export function networkPolicy(ns: string, name: string, spec: NetworkPolicy["spec"]): NetworkPolicy {
  return { apiVersion: "projectcalico.org/v3", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec };
}

/** The local cluster: endpoints, profiles, tiers and policies. */
export function localEvents(): ResourceEvent[] {
  const c = LOCAL_CLUSTER;
  return [
    upsert(c, namespace("prod", { env: "production", team: "shop" })),
    upsert(c, namespace("dev", { env: "dev" })),
    upsert(c, namespace("kube-system")),
    upsert(c, serviceAccount("prod", "api", { team: "payments" })),
    upsert(c, serviceAccount("prod", "default")),
    upsert(c, serviceAccount("dev", "default")),
    upsert(
      c,
      pod({
        ns: "prod",
        name: "frontend-7d4",
        node: "node-1",
        labels: { app: "frontend", tier: "web" },
        sa: "default",
        ip: "10.0.1.5",
      }),
    ),
    upsert(c, pod({ ns: "prod", name: "api-5f9", node: "node-1", labels: { app: "api" }, sa: "api", ip: "10.0.1.6" })),
    upsert(
      c,
      pod({
        ns: "prod",
        name: "db-0",
        node: "node-2",
        labels: { app: "db", role: "primary" },
        sa: "default",
        ip: "10.0.2.7",
      }),
    ),
    upsert(
      c,
      pod({ ns: "dev", name: "api-6c1", node: "node-2", labels: { app: "api" }, sa: "default", ip: "10.0.2.8" }),
    ),
    upsert(
      c,
      pod({ ns: "kube-system", name: "coredns-1", node: "node-1", labels: { "k8s-app": "kube-dns" }, ip: "10.0.1.2" }),
    ),
    // A finished pod keeps its endpoint but loses its addresses: Calico ignores it.
    raw(c, pod({ ns: "prod", name: "job-1", node: "node-2", labels: { app: "api" }, phase: "Succeeded" })),
    upsert(c, hostEndpoint("node-1-eth0", "node-1", { "host-endpoint": "true", role: "gateway" })),
    upsert(c, hostEndpoint("node-2-eth0", "node-2", { "host-endpoint": "true" })),
    upsert(c, tier("security", 100)),
    upsert(c, tier("platform")),
    upsert(
      c,
      globalPolicy("security.block-external", {
        tier: "security",
        order: 10,
        selector: "has(app)",
        ingress: [{ action: "Allow", source: { namespaceSelector: 'env == "production"' } }],
        egress: [
          { action: "Allow", destination: { selector: "role == 'gateway'", notSelector: "host-endpoint == 'false'" } },
        ],
      }),
    ),
    upsert(
      c,
      globalPolicy("default.host-untracked", {
        order: 1,
        doNotTrack: true,
        applyOnForward: true,
        selector: 'host-endpoint == "true"',
        ingress: [{ action: "Allow", source: { selector: 'app == "api"' } }],
      }),
    ),
    upsert(
      c,
      networkPolicy("prod", "default.allow-api", {
        tier: "default",
        order: 100,
        selector: "app == 'api'",
        ingress: [
          { action: "Allow", source: { selector: "app == 'frontend'" } },
          {
            action: "Allow",
            source: { serviceAccounts: { names: ["default", "api"], selector: "team == 'payments'" } },
          },
        ],
        egress: [{ action: "Allow", destination: { namespaceSelector: "global()" } }],
      }),
    ),
    upsert(
      c,
      networkPolicy("prod", "knp.default.db-access", {
        selector: 'app == "db"',
        ingress: [{ action: "Allow", source: { selector: 'app == "api"', namespaceSelector: "all()" } }],
      }),
    ),
    // Stored without its tier prefix, as older Calico versions do for the default tier.
    upsert(
      c,
      globalPolicy("allow-dns", {
        order: 500,
        egress: [{ action: "Allow", destination: { selector: 'k8s-app == "kube-dns"', notSelector: 'app == "db"' } }],
      }),
    ),
    upsert(c, globalPolicy("platform.audit", { tier: "platform", selector: "all()" })),
  ];
}

/** The `east` remote cluster. */
export function eastEvents(): ResourceEvent[] {
  return [
    upsert("east", namespace("prod", { env: "production" })),
    upsert("east", serviceAccount("prod", "api", { team: "payments" })),
    upsert(
      "east",
      pod({ ns: "prod", name: "api-e1", node: "node-a", labels: { app: "api" }, sa: "api", ip: "10.1.0.5" }),
    ),
    upsert(
      "east",
      pod({
        ns: "prod",
        name: "frontend-e1",
        node: "node-a",
        labels: { app: "frontend" },
        sa: "default",
        ip: "10.1.0.6",
      }),
    ),
    upsert("east", hostEndpoint("node-a-eth0", "node-a", { "host-endpoint": "true", role: "gateway" })),
  ];
}

/** The `west` remote cluster. */
export function westEvents(): ResourceEvent[] {
  return [
    upsert("west", namespace("prod", { env: "staging" })),
    upsert(
      "west",
      pod({ ns: "prod", name: "api-w1", node: "node-x", labels: { app: "api" }, sa: "default", ip: "10.2.0.5" }),
    ),
  ];
}

export const SINCE = "2025-03-01T10:00:00.000Z";
export const FAILED_SINCE = "2025-03-01T11:30:00.000Z";

/** Statuses: local and east in sync, west lost. */
export function statuses(): ClusterStatus[] {
  const base = { v: 1 as const, op: "upsert" as const, generation: 1, stale: false, lastSync: SINCE };
  return [
    { ...base, cluster: LOCAL_CLUSTER, status: "InSync", since: SINCE, counts: { WorkloadEndpoint: 5 } },
    { ...base, cluster: "east", status: "InSync", since: SINCE, counts: { WorkloadEndpoint: 2 } },
    {
      ...base,
      cluster: "west",
      status: "ConnectionFailed",
      error: "dial tcp 10.9.0.1:2379: connect: connection refused",
      since: FAILED_SINCE,
      counts: { WorkloadEndpoint: 1 },
      stale: true,
      staleSince: FAILED_SINCE,
    },
  ];
}

/** Every event of the scenario. */
export function allEvents(): ResourceEvent[] {
  return [...localEvents(), ...eastEvents(), ...westEvents()];
}
