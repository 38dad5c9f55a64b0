/** Kubernetes objects and RBAC rules the connector tests build on. */
import type { PolicyRule } from "@fedview/testkit";
import { pino } from "pino";

export const logger = pino({ level: "silent" });

/** The ClusterRole calico.md §5 asks a remote cluster to grant fedview (get/list/watch). */
export const FEDVIEW_RULES: PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["namespaces", "serviceaccounts", "pods", "nodes", "services", "endpoints"],
    verbs: ["get", "list", "watch"],
  },
  {
    apiGroups: ["crd.projectcalico.org"],
    resources: ["hostendpoints", "ippools", "ipamblocks"],
    verbs: ["get", "list", "watch"],
  },
];

/** `FEDVIEW_RULES` without one resource of one group. */
export function rulesWithout(group: string, resource: string): PolicyRule[] {
  return FEDVIEW_RULES.map((r) =>
    r.apiGroups.includes(group) ? { ...r, resources: r.resources.filter((x) => x !== resource) } : r,
  );
}

/** What the local cluster's credentials need besides `FEDVIEW_RULES`: the policies calicoq evaluates. */
export const LOCAL_POLICY_RULES: PolicyRule[] = [
  {
    apiGroups: ["crd.projectcalico.org"],
    resources: ["networkpolicies", "globalnetworkpolicies", "tiers"],
    verbs: ["get", "list", "watch"],
  },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"] },
];

export const KUBERNETES_NETWORK_POLICIES = {
  group: "networking.k8s.io",
  version: "v1",
  plural: "networkpolicies",
} as const;
export const CALICO_NETWORK_POLICIES = {
  group: "crd.projectcalico.org",
  version: "v1",
  plural: "networkpolicies",
} as const;

/** A Kubernetes NetworkPolicy as `kubectl apply` sends it. */
export function kubernetesNetworkPolicy(ns: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec };
}

export const HOST_ENDPOINTS = { group: "crd.projectcalico.org", version: "v1", plural: "hostendpoints" } as const;
export const IP_POOLS = { group: "crd.projectcalico.org", version: "v1", plural: "ippools" } as const;

export function namespace(name: string, labels?: Record<string, string>) {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(labels ? { labels } : {}) } };
}

export function serviceAccount(ns: string, name: string, labels?: Record<string, string>) {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns, ...(labels ? { labels } : {}) } };
}

export interface PodOptions {
  node?: string;
  serviceAccount?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
  status?: Record<string, unknown>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

/** A pod; `node` defaults to `node-1` (use `node: ""` for an unscheduled pod). */
export function pod(ns: string, name: string, o: PodOptions = {}) {
  const node = o.node ?? "node-1";
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      ...(node !== "" ? { nodeName: node } : {}),
      ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      automountServiceAccountToken: false,
      containers: [{ name: "main", image: "registry.k8s.io/pause:3.9", ...(o.ports ? { ports: o.ports } : {}) }],
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

/** A running pod's status with its IPs. */
export function running(...ips: string[]) {
  return { phase: "Running", ...(ips[0] ? { podIP: ips[0] } : {}), podIPs: ips.map((ip) => ({ ip })) };
}

export function hostEndpoint(name: string, spec: Record<string, unknown>, labels?: Record<string, string>) {
  return {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "HostEndpoint",
    metadata: { name, ...(labels ? { labels } : {}) },
    spec,
  };
}

/** Collects an async iterable's batches until `until` holds for everything collected, then stops. */
export async function collect<T>(iterable: AsyncIterable<T[]>, until: (all: T[]) => boolean): Promise<T[]> {
  const all: T[] = [];
  for await (const batch of iterable) {
    all.push(...batch);
    if (until(all)) break;
  }
  return all;
}

/** The converted object of a listed resource; fails the test when the resource is missing. */
export function resourceOf<T>(r: { resource: unknown } | undefined): T {
  if (r === undefined) throw new Error("the resource is not in the listing");
  return r.resource as T;
}
