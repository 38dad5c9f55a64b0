/**
 * Valid documents of every shape the fuzz targets read: RCCs, cluster access Secret data, Calico v3
 * values as etcd stores them, Kubernetes objects as the API serves them, and bus envelopes. The
 * fuzzers mutate these at random paths, so malformed input stays close to the real thing.
 */

export const VALID_RCCS: readonly unknown[] = [
  {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name: "east" },
    spec: {
      datastoreType: "etcdv3",
      etcdEndpoints: "https://10.0.0.1:2379,https://10.0.0.2:2379",
      etcdUsername: "reader",
      etcdPassword: "pw",
      etcdCACertFile: "/etc/fedview/east/ca.pem",
      etcdCertFile: "/etc/fedview/east/cert.pem",
      etcdKeyFile: "/etc/fedview/east/key.pem",
    },
  },
  {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name: "west-2" },
    spec: {
      datastoreType: "kubernetes",
      kubeconfig: "/etc/fedview/west/kubeconfig",
      k8sAPIEndpoint: "https://10.1.0.1:6443",
      k8sAPIToken: "token",
      syncOptions: { overlayRoutingMode: "Enabled", staleDataExpiry: "10m" },
    },
  },
  {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name: "north" },
    spec: {
      clusterAccessSecret: { kind: "Secret", name: "north-access", namespace: "calico-system" },
      syncOptions: { overlayRoutingMode: "Disabled" },
    },
  },
];

export const VALID_SECRET_DATA: readonly unknown[] = [
  {
    datastoreType: "etcdv3",
    etcdEndpoints: "https://10.0.0.1:2379",
    etcdUsername: "reader",
    etcdPassword: "pw",
    etcdCACert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    etcdCert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    etcdKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
  },
  { datastoreType: "kubernetes", kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n" },
];

const CALICO = "projectcalico.org/v3";

/** Calico v3 values by etcd key. */
export const VALID_ETCD_VALUES: readonly { key: string; value: unknown }[] = [
  {
    key: "/calico/resources/v3/projectcalico.org/workloadendpoints/prod/node1-k8s-web--1-eth0",
    value: {
      apiVersion: CALICO,
      kind: "WorkloadEndpoint",
      metadata: { name: "node1-k8s-web--1-eth0", namespace: "prod", labels: { app: "web", "pcns.x": "y" } },
      spec: {
        orchestrator: "k8s",
        node: "node1",
        pod: "web-1",
        endpoint: "eth0",
        interfaceName: "cali0",
        ipNetworks: ["10.0.0.5/32", "fd00::5/128"],
        profiles: ["kns.prod", "ksa.prod.default"],
        serviceAccountName: "default",
        ports: [{ name: "http", protocol: "TCP", port: 80 }],
      },
    },
  },
  {
    key: "/calico/resources/v3/projectcalico.org/hostendpoints/node1-eth0",
    value: {
      apiVersion: CALICO,
      kind: "HostEndpoint",
      metadata: { name: "node1-eth0", labels: { role: "edge" } },
      spec: { node: "node1", interfaceName: "eth0", expectedIPs: ["192.168.0.1"], profiles: ["edge"] },
    },
  },
  {
    key: "/calico/resources/v3/projectcalico.org/profiles/kns.prod",
    value: {
      apiVersion: CALICO,
      kind: "Profile",
      metadata: { name: "kns.prod" },
      spec: { labelsToApply: { "pcns.team": "a" }, ingress: [{ action: "Allow" }] },
    },
  },
];

/** Kubernetes objects by the plural they are listed from. */
export const VALID_KUBE_OBJECTS: readonly { plural: string; object: unknown }[] = [
  {
    plural: "pods",
    object: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", namespace: "prod", uid: "u1", resourceVersion: "42", labels: { app: "web" } },
      spec: { nodeName: "node1", serviceAccountName: "default", containers: [{ name: "c", image: "x" }] },
      status: { phase: "Running", podIP: "10.0.0.5", podIPs: [{ ip: "10.0.0.5" }, { ip: "fd00::5" }] },
    },
  },
  {
    plural: "namespaces",
    object: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "prod", uid: "u2", resourceVersion: "7", labels: { team: "a" } },
    },
  },
  {
    plural: "serviceaccounts",
    object: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: "prod", uid: "u3", resourceVersion: "8", labels: { tier: "x" } },
    },
  },
  {
    plural: "hostendpoints",
    object: {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "HostEndpoint",
      metadata: { name: "node1-eth0", uid: "u4", resourceVersion: "9", labels: { role: "edge" } },
      spec: { node: "node1", interfaceName: "eth0", expectedIPs: ["192.168.0.1"] },
    },
  },
];

/** Bus envelopes of every kind. */
export const VALID_RESOURCE_EVENTS: readonly unknown[] = [
  {
    v: 1,
    op: "upsert",
    cluster: "east",
    kind: "WorkloadEndpoint",
    id: "prod/node1-k8s-web--1-eth0",
    revision: "12",
    generation: 3,
    resource: (VALID_ETCD_VALUES[0] as { value: unknown }).value,
  },
  { v: 1, op: "delete", cluster: "_local", kind: "Profile", id: "kns.prod", revision: "13", generation: 0 },
];

export const VALID_STATUSES: readonly unknown[] = [
  {
    v: 1,
    op: "upsert",
    cluster: "east",
    status: "ConnectionFailed",
    error: "connection refused",
    since: "2025-01-01T00:00:00.000Z",
    generation: 3,
    counts: { WorkloadEndpoint: 10 },
    stale: true,
    staleSince: "2025-01-01T00:00:00.000Z",
  },
  { v: 1, op: "delete", cluster: "east", generation: 4, since: "2025-01-01T00:00:00Z" },
];

export const VALID_CONNECTION_CONFIGS: readonly unknown[] = [
  {
    v: 1,
    cluster: "east",
    datastoreType: "etcdv3",
    generation: 5,
    status: "valid",
    spec: { etcdEndpoints: ["https://10.0.0.1:2379"], etcdCACert: "-----BEGIN CERTIFICATE-----\n" },
    sealed: { sender: `X${"A".repeat(55)}`, data: "AAAA" },
  },
  {
    v: 1,
    cluster: "west",
    datastoreType: "kubernetes",
    generation: 6,
    status: "invalid",
    error: "spec.kubeconfig: cannot read /x",
    spec: {},
  },
];

export const VALID_LEASES: readonly unknown[] = [
  { v: 1, holder: "replica-1", acquiredAt: "2025-01-01T00:00:00Z", renewedAt: "2025-01-01T00:00:05Z" },
];
