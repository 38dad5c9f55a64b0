/**
 * The demo federation, as data: a payments "hub" (the local cluster) with tiered policies, a storefront
 * region on etcd (`cluster-east`) and a checkout region on Kubernetes (`cluster-west`). The policies'
 * rule selectors (plain selectors, `namespaceSelector`, `serviceAccounts`, `global()`) are written so
 * that `fedview policy …` shows endpoints of all three clusters. No I/O here.
 */
import { createHash } from "node:crypto";
import {
  CALICO_API_VERSION,
  type GlobalNetworkPolicy,
  type HostEndpoint,
  NamespaceSchema,
  type NetworkPolicy,
  type Node,
  namespaceToProfile,
  PodSchema,
  type Profile,
  podToWorkloadEndpoint,
  ServiceAccountSchema,
  serviceAccountToProfile,
  type Tier,
  type WorkloadEndpoint,
} from "@fedview/model";

/** The demo's remote clusters (RemoteClusterConfiguration names, hence the `<name>/` prefixes). */
export const EAST_CLUSTER = "cluster-east";
export const WEST_CLUSTER = "cluster-west";

/** The Secret `cluster-west`'s RCC names in `clusterAccessSecret`, in the local Kubernetes API. */
export const WEST_ACCESS_SECRET = { namespace: "calico-system", name: "cluster-west-access" } as const;
/** The ServiceAccount of `cluster-west` whose token the local cluster is given (calico.md §5). */
export const WEST_REMOTE_ACCOUNT = { namespace: "fedview", name: "fedview-remote" } as const;
/** The ServiceAccount config-service reads that Secret as, in the local Kubernetes API. */
export const SECRET_READER_ACCOUNT = { namespace: "calico-system", name: "fedview-config-service" } as const;

/** A namespace of a demo cluster. */
export interface DemoNamespace {
  name: string;
  labels: Record<string, string>;
}

/** A ServiceAccount of a demo cluster. */
export interface DemoServiceAccount {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

/** A pod of a demo cluster; on an etcd cluster it is stored as the WorkloadEndpoint Calico writes. */
export interface DemoPod {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  serviceAccount: string;
  ip: string;
  /** Default `Running`. A finished pod keeps no addresses: Calico and fedview ignore it. */
  phase?: "Running" | "Succeeded" | "Failed";
  /** Host-network pods have no workload endpoint at all. */
  hostNetwork?: boolean;
  containerPort?: { name: string; port: number; protocol?: "TCP" | "UDP" };
}

/** A host endpoint (a node's interface) of a demo cluster. */
export interface DemoHostEndpoint {
  name: string;
  node: string;
  ip: string;
  labels: Record<string, string>;
}

/** Everything one demo cluster holds. */
export interface DemoCluster {
  nodes: { name: string; ip: string }[];
  namespaces: DemoNamespace[];
  serviceAccounts: DemoServiceAccount[];
  pods: DemoPod[];
  hostEndpoints: DemoHostEndpoint[];
}

const ns = (name: string, labels: Record<string, string> = {}): DemoNamespace => ({
  name,
  labels: { "kubernetes.io/metadata.name": name, ...labels },
});

/** The local cluster: the payments hub. */
export const LOCAL_DEMO: DemoCluster = {
  nodes: [
    { name: "hub-node-1", ip: "192.168.10.11" },
    { name: "hub-node-2", ip: "192.168.10.12" },
  ],
  namespaces: [
    ns("payments", { env: "production", team: "payments" }),
    ns("shop", { env: "production", team: "storefront" }),
    ns("kube-system"),
  ],
  serviceAccounts: [
    { namespace: "payments", name: "ledger", labels: { "app.kubernetes.io/part-of": "payments" } },
    { namespace: "payments", name: "payments-api", labels: { "app.kubernetes.io/part-of": "payments" } },
    { namespace: "shop", name: "storefront", labels: { role: "storefront" } },
    { namespace: "kube-system", name: "coredns" },
  ],
  pods: [
    {
      namespace: "payments",
      name: "payments-api-5d8f7c9b6-jx2lq",
      node: "hub-node-1",
      labels: { app: "payments-api", tier: "backend", env: "production" },
      serviceAccount: "payments-api",
      ip: "10.48.1.21",
      containerPort: { name: "https", port: 8443 },
    },
    {
      namespace: "payments",
      name: "ledger-0",
      node: "hub-node-2",
      labels: { app: "ledger", tier: "db", env: "production" },
      serviceAccount: "ledger",
      ip: "10.48.2.14",
      containerPort: { name: "postgres", port: 5432 },
    },
    {
      namespace: "shop",
      name: "storefront-6c9b8d7f5-w4n8r",
      node: "hub-node-1",
      labels: { app: "storefront", tier: "web", env: "production" },
      serviceAccount: "storefront",
      ip: "10.48.1.33",
      containerPort: { name: "http", port: 8080 },
    },
    {
      namespace: "kube-system",
      name: "coredns-5d78c9869d-k9t2x",
      node: "hub-node-1",
      labels: { "k8s-app": "kube-dns" },
      serviceAccount: "coredns",
      ip: "10.48.1.2",
      containerPort: { name: "dns", port: 53, protocol: "UDP" },
    },
  ],
  hostEndpoints: [
    { name: "hub-node-1-eth0", node: "hub-node-1", ip: "192.168.10.11", labels: { role: "ingress-gateway" } },
    { name: "hub-node-2-eth0", node: "hub-node-2", ip: "192.168.10.12", labels: { role: "worker" } },
  ],
};

/** `cluster-east`: the storefront region, Calico on etcd. */
export const EAST_DEMO: DemoCluster = {
  nodes: [
    { name: "east-node-1", ip: "192.168.20.11" },
    { name: "east-node-2", ip: "192.168.20.12" },
    { name: "east-node-3", ip: "192.168.20.13" },
  ],
  namespaces: [
    ns("shop", { env: "production", team: "storefront" }),
    ns("checkout", { env: "production", team: "payments" }),
    ns("monitoring", { team: "platform" }),
    ns("kube-system"),
  ],
  serviceAccounts: [
    { namespace: "shop", name: "storefront", labels: { role: "storefront" } },
    { namespace: "checkout", name: "checkout", labels: { "app.kubernetes.io/part-of": "payments" } },
    { namespace: "monitoring", name: "prometheus" },
    { namespace: "kube-system", name: "coredns" },
  ],
  pods: [
    {
      namespace: "shop",
      name: "storefront-7d9f8b6c4-m8w2n",
      node: "east-node-1",
      labels: { app: "storefront", tier: "web", env: "production" },
      serviceAccount: "storefront",
      ip: "10.60.1.10",
      containerPort: { name: "http", port: 8080 },
    },
    {
      namespace: "shop",
      name: "storefront-7d9f8b6c4-q4z7t",
      node: "east-node-2",
      labels: { app: "storefront", tier: "web", env: "production" },
      serviceAccount: "storefront",
      ip: "10.60.2.11",
      containerPort: { name: "http", port: 8080 },
    },
    {
      namespace: "checkout",
      name: "checkout-5c8d7f9b6-tx4lp",
      node: "east-node-2",
      labels: { app: "checkout", tier: "backend", env: "production" },
      serviceAccount: "checkout",
      ip: "10.60.2.20",
    },
    {
      namespace: "monitoring",
      name: "prometheus-0",
      node: "east-node-3",
      labels: { app: "prometheus", tier: "monitoring" },
      serviceAccount: "prometheus",
      ip: "10.60.3.5",
    },
    {
      namespace: "kube-system",
      name: "coredns-6f6b679f8f-r2v9k",
      node: "east-node-1",
      labels: { "k8s-app": "kube-dns" },
      serviceAccount: "coredns",
      ip: "10.60.1.2",
    },
    // A finished migration job: its endpoint is stored without addresses, which Calico ignores.
    {
      namespace: "checkout",
      name: "db-migrate-28391520-5tq8z",
      node: "east-node-3",
      labels: { app: "db-migrate", "job-name": "db-migrate-28391520" },
      serviceAccount: "checkout",
      ip: "10.60.3.41",
      phase: "Succeeded",
    },
  ],
  hostEndpoints: [
    {
      name: "east-node-1-eth0",
      node: "east-node-1",
      ip: "192.168.20.11",
      labels: { role: "ingress-gateway", env: "production" },
    },
    { name: "east-node-2-eth0", node: "east-node-2", ip: "192.168.20.12", labels: { role: "worker" } },
  ],
};

/** `cluster-west`: the checkout region, Calico on the Kubernetes API. */
export const WEST_DEMO: DemoCluster = {
  nodes: [
    { name: "west-node-1", ip: "192.168.30.11" },
    { name: "west-node-2", ip: "192.168.30.12" },
  ],
  namespaces: [
    ns("checkout", { env: "production", team: "payments" }),
    ns("payments", { env: "production", team: "payments" }),
    ns("reports", { env: "staging", team: "analytics" }),
    ns("kube-system"),
    ns(WEST_REMOTE_ACCOUNT.namespace),
  ],
  serviceAccounts: [
    { namespace: "checkout", name: "checkout", labels: { "app.kubernetes.io/part-of": "payments" } },
    { namespace: "payments", name: "payments-api", labels: { "app.kubernetes.io/part-of": "payments" } },
    { namespace: "reports", name: "reporter" },
    { namespace: "kube-system", name: "coredns" },
    { namespace: "kube-system", name: "kube-proxy" },
    { namespace: WEST_REMOTE_ACCOUNT.namespace, name: WEST_REMOTE_ACCOUNT.name },
  ],
  pods: [
    {
      namespace: "checkout",
      name: "checkout-6b7c8d9f5-2kq9x",
      node: "west-node-1",
      labels: { app: "checkout", tier: "backend", env: "production" },
      serviceAccount: "checkout",
      ip: "10.70.1.15",
    },
    {
      namespace: "payments",
      name: "payments-api-7f6d5c4b3-hq8zm",
      node: "west-node-2",
      labels: { app: "payments-api", tier: "backend", env: "production" },
      serviceAccount: "payments-api",
      ip: "10.70.2.21",
      containerPort: { name: "https", port: 8443 },
    },
    {
      namespace: "reports",
      name: "report-builder-84c6d5f7b-hw6tj",
      node: "west-node-2",
      labels: { app: "report-builder", tier: "batch", env: "staging" },
      serviceAccount: "reporter",
      ip: "10.70.2.8",
    },
    {
      namespace: "kube-system",
      name: "coredns-6f6b679f8f-8nq4d",
      node: "west-node-1",
      labels: { "k8s-app": "kube-dns" },
      serviceAccount: "coredns",
      ip: "10.70.1.2",
    },
    // A finished CronJob pod: no endpoint (calico.md §5).
    {
      namespace: "reports",
      name: "nightly-export-28391520-xk2vq",
      node: "west-node-2",
      labels: { app: "nightly-export", "job-name": "nightly-export-28391520" },
      serviceAccount: "reporter",
      ip: "10.70.2.40",
      phase: "Succeeded",
    },
    // kube-proxy runs on the host network: no endpoint either.
    {
      namespace: "kube-system",
      name: "kube-proxy-7xk2p",
      node: "west-node-1",
      labels: { "k8s-app": "kube-proxy" },
      serviceAccount: "kube-proxy",
      ip: "192.168.30.11",
      hostNetwork: true,
    },
  ],
  hostEndpoints: [
    { name: "west-node-1-eth0", node: "west-node-1", ip: "192.168.30.11", labels: { role: "ingress-gateway" } },
  ],
};

/** Tiers of the local cluster: security before platform before `default`. */
export const DEMO_TIERS: Tier[] = [
  { apiVersion: CALICO_API_VERSION, kind: "Tier", metadata: { name: "security" }, spec: { order: 100 } },
  { apiVersion: CALICO_API_VERSION, kind: "Tier", metadata: { name: "platform" }, spec: { order: 200 } },
];

/** Global policies of the local cluster; their rules reach into the remote clusters. */
export const DEMO_GLOBAL_POLICIES: GlobalNetworkPolicy[] = [
  {
    apiVersion: CALICO_API_VERSION,
    kind: "GlobalNetworkPolicy",
    metadata: { name: "security.payments-from-federation" },
    spec: {
      tier: "security",
      order: 10,
      selector: 'app == "payments-api"',
      types: ["Ingress", "Egress"],
      ingress: [
        // Checkout in any cluster whose namespace belongs to the payments team, by its service account.
        {
          action: "Allow",
          protocol: "TCP",
          source: { namespaceSelector: 'team == "payments"', serviceAccounts: { names: ["checkout"] } },
          destination: { ports: [8443] },
        },
        // Storefronts, wherever they run.
        {
          action: "Allow",
          protocol: "TCP",
          source: { selector: 'app == "storefront"' },
          destination: { ports: [8443] },
        },
        { action: "Deny" },
      ],
      egress: [{ action: "Allow", protocol: "TCP", destination: { selector: 'app == "ledger"', ports: [5432] } }],
    },
  },
  {
    apiVersion: CALICO_API_VERSION,
    kind: "GlobalNetworkPolicy",
    metadata: { name: "platform.allow-prometheus-scrape" },
    spec: {
      tier: "platform",
      order: 50,
      selector: "has(app)",
      types: ["Ingress"],
      ingress: [
        {
          action: "Allow",
          protocol: "TCP",
          source: { selector: 'app == "prometheus"', namespaceSelector: 'kubernetes.io/metadata.name == "monitoring"' },
        },
      ],
    },
  },
  {
    apiVersion: CALICO_API_VERSION,
    kind: "GlobalNetworkPolicy",
    metadata: { name: "default.allow-cluster-dns" },
    spec: {
      order: 1000,
      selector: "all()",
      types: ["Egress"],
      egress: [
        {
          action: "Allow",
          protocol: "UDP",
          destination: {
            selector: 'k8s-app == "kube-dns"',
            namespaceSelector: 'projectcalico.org/name == "kube-system"',
            ports: [53],
          },
        },
      ],
    },
  },
];

/** Namespaced policies of the local cluster. */
export const DEMO_NETWORK_POLICIES: NetworkPolicy[] = [
  {
    apiVersion: CALICO_API_VERSION,
    kind: "NetworkPolicy",
    metadata: { name: "security.ledger-access", namespace: "payments" },
    spec: {
      tier: "security",
      order: 20,
      selector: 'app == "ledger"',
      types: ["Ingress"],
      ingress: [
        // Same namespace: the payments API here and its standby in cluster-west's payments namespace.
        {
          action: "Allow",
          protocol: "TCP",
          source: { selector: 'app == "payments-api"' },
          destination: { ports: [5432] },
        },
        // Any workload running as a payments service account, in any cluster.
        {
          action: "Allow",
          protocol: "TCP",
          source: {
            namespaceSelector: "all()",
            serviceAccounts: { selector: 'app.kubernetes.io/part-of == "payments"' },
          },
          destination: { ports: [5432] },
        },
      ],
    },
  },
  {
    apiVersion: CALICO_API_VERSION,
    kind: "NetworkPolicy",
    metadata: { name: "default.storefront-from-gateways", namespace: "shop" },
    spec: {
      order: 100,
      selector: 'app == "storefront"',
      types: ["Ingress"],
      ingress: [
        // Host endpoints (no namespace) acting as ingress gateways, in every cluster.
        {
          action: "Allow",
          protocol: "TCP",
          source: { namespaceSelector: "global()", selector: 'role == "ingress-gateway"' },
          destination: { ports: [8080] },
        },
      ],
    },
  },
];

/** Policies worth trying first; the printed next commands use them. */
export const DEMO_POLICY_EXAMPLES = ["security.payments-from-federation", "payments/security.ledger-access"] as const;

// ---- Kubernetes objects -------------------------------------------------------------------------

/** A stable, made-up UID for a demo object (so restarts recreate the same objects). */
function uid(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("/")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const CREATED = "2025-01-15T09:30:00Z";

/** The Kubernetes Namespace object. */
export function namespaceObject(cluster: string, namespace: DemoNamespace) {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace.name,
      uid: uid(cluster, "ns", namespace.name),
      labels: namespace.labels,
      creationTimestamp: CREATED,
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

/** The Kubernetes ServiceAccount object. */
export function serviceAccountObject(cluster: string, account: DemoServiceAccount) {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: account.name,
      namespace: account.namespace,
      uid: uid(cluster, "sa", account.namespace, account.name),
      creationTimestamp: CREATED,
      ...(account.labels ? { labels: account.labels } : {}),
    },
  };
}

/** The Kubernetes Pod object, scheduled and (unless finished) running with its IP. */
export function podObject(cluster: string, pod: DemoPod) {
  const phase = pod.phase ?? "Running";
  const running = phase === "Running";
  const image = `registry.example.com/${pod.labels["app"] ?? pod.labels["k8s-app"] ?? "app"}:1.4.2`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: uid(cluster, "pod", pod.namespace, pod.name),
      labels: pod.labels,
      creationTimestamp: CREATED,
      ...(pod.hostNetwork ? {} : { annotations: { "cni.projectcalico.org/podIP": `${pod.ip}/32` } }),
    },
    spec: {
      nodeName: pod.node,
      serviceAccountName: pod.serviceAccount,
      ...(pod.hostNetwork ? { hostNetwork: true } : {}),
      restartPolicy: running ? "Always" : "OnFailure",
      containers: [
        {
          name: pod.labels["app"] ?? pod.labels["k8s-app"] ?? "main",
          image,
          ...(pod.containerPort
            ? {
                ports: [
                  {
                    name: pod.containerPort.name,
                    containerPort: pod.containerPort.port,
                    protocol: pod.containerPort.protocol ?? "TCP",
                  },
                ],
              }
            : {}),
        },
      ],
    },
    status: {
      phase,
      hostIP: LOCAL_DEMO.nodes.concat(EAST_DEMO.nodes, WEST_DEMO.nodes).find((n) => n.name === pod.node)?.ip,
      // A finished pod's IPs are released; the API keeps reporting the last one, Calico ignores it.
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      startTime: CREATED,
    },
  };
}

/** The Kubernetes Node object. */
export function nodeObject(cluster: string, node: { name: string; ip: string }) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      uid: uid(cluster, "node", node.name),
      labels: { "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux" },
      creationTimestamp: CREATED,
    },
    spec: {},
    status: { addresses: [{ type: "InternalIP", address: node.ip }] },
  };
}

// ---- Calico v3 resources, as Calico stores them in etcd -----------------------------------------

/** The WorkloadEndpoint Calico's CNI plugin writes for a pod (null: the pod gets none). */
export function workloadEndpointOf(cluster: string, pod: DemoPod): WorkloadEndpoint | null {
  const wep = podToWorkloadEndpoint(PodSchema.parse(podObject(cluster, pod)));
  if (wep === null) return null;
  // The host-side veth Calico names from a hash of the workload, as its CNI plugin does.
  const veth = `cali${createHash("sha1").update(`${pod.namespace}.${pod.name}`).digest("hex").slice(0, 11)}`;
  return { ...wep, spec: { ...wep.spec, interfaceName: veth } };
}

/** The namespace and service-account profiles (`kns.*`, `ksa.*`) with their labels. */
export function profilesOf(cluster: string, demo: DemoCluster): Profile[] {
  return [
    ...demo.namespaces.map((n) => namespaceToProfile(NamespaceSchema.parse(namespaceObject(cluster, n)))),
    ...demo.serviceAccounts.map((a) =>
      serviceAccountToProfile(ServiceAccountSchema.parse(serviceAccountObject(cluster, a))),
    ),
  ];
}

/** The Calico HostEndpoint of a node interface. */
export function hostEndpointOf(hep: DemoHostEndpoint): HostEndpoint {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "HostEndpoint",
    metadata: { name: hep.name, labels: hep.labels },
    spec: { node: hep.node, interfaceName: "eth0", expectedIPs: [hep.ip] },
  };
}

/** The Calico Node resource of a host. */
export function calicoNodeOf(node: { name: string; ip: string }): Node {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "Node",
    metadata: { name: node.name },
    spec: {
      bgp: { ipv4Address: `${node.ip}/24` },
      orchRefs: [{ nodeName: node.name, orchestrator: "k8s" }],
    },
  };
}
