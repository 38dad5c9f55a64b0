/**
 * Realistic objects shared by the tests: shaped like `kubectl get -o json` and `calicoctl get -o json`
 * output, trimmed to what matters plus a few fields the model does not read (which must survive).
 */
import type { HostEndpoint, Profile, WorkloadEndpoint } from "../src/index.js";

/** A running Deployment pod, as the API server returns it. */
export function runningPod(overrides: { spec?: object; status?: object; metadata?: object } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "frontend-7d4b9c6f5-x2k8q",
      generateName: "frontend-7d4b9c6f5-",
      namespace: "shop",
      uid: "0b8c3a0e-5a8e-4c55-9d7b-1c2f3e4d5a6b",
      resourceVersion: "184467",
      creationTimestamp: "2025-03-14T09:26:53Z",
      labels: { app: "frontend", "pod-template-hash": "7d4b9c6f5", tier: "web" },
      annotations: {
        "cni.projectcalico.org/containerID": "3f9c1d0e8b7a",
        "cni.projectcalico.org/podIP": "10.244.1.17/32",
        "cni.projectcalico.org/podIPs": "10.244.1.17/32,fd00:10:244:1::11/128",
      },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "frontend-7d4b9c6f5", uid: "aa" }],
      ...overrides.metadata,
    },
    spec: {
      nodeName: "worker-1",
      serviceAccountName: "frontend",
      serviceAccount: "frontend",
      restartPolicy: "Always",
      containers: [
        {
          name: "web",
          image: "nginx:1.27",
          ports: [
            { name: "http", containerPort: 8080, protocol: "TCP" },
            { containerPort: 9090, protocol: "TCP" },
            { name: "dns", containerPort: 53, protocol: "UDP" },
          ],
        },
      ],
      ...overrides.spec,
    },
    status: {
      phase: "Running",
      hostIP: "192.168.10.21",
      podIP: "10.244.1.17",
      podIPs: [{ ip: "10.244.1.17" }, { ip: "fd00:10:244:1::11" }],
      qosClass: "BestEffort",
      ...overrides.status,
    },
  };
}

/** A namespace with the labels Kubernetes and an operator put on it. */
export const shopNamespace = {
  apiVersion: "v1",
  kind: "Namespace",
  metadata: {
    name: "shop",
    uid: "5e0f7c2a-1111-4c55-9d7b-000000000001",
    resourceVersion: "1200",
    creationTimestamp: "2025-01-02T10:00:00Z",
    labels: { "kubernetes.io/metadata.name": "shop", env: "prod" },
  },
  spec: { finalizers: ["kubernetes"] },
  status: { phase: "Active" },
};

/** A service account with one label. */
export const frontendServiceAccount = {
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: {
    name: "frontend",
    namespace: "shop",
    uid: "5e0f7c2a-2222-4c55-9d7b-000000000002",
    resourceVersion: "1300",
    creationTimestamp: "2025-01-02T10:05:00Z",
    labels: { team: "storefront" },
  },
};

/** A WorkloadEndpoint as Calico stores it in etcd for the running pod. */
export function storedWorkloadEndpoint(): WorkloadEndpoint {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "WorkloadEndpoint",
    metadata: {
      name: "worker--1-k8s-frontend--7d4b9c6f5--x2k8q-eth0",
      namespace: "shop",
      uid: "0b8c3a0e-5a8e-4c55-9d7b-1c2f3e4d5a6b",
      creationTimestamp: "2025-03-14T09:26:53Z",
      labels: {
        app: "frontend",
        "projectcalico.org/namespace": "shop",
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "frontend",
      },
    },
    spec: {
      orchestrator: "k8s",
      node: "worker-1",
      pod: "frontend-7d4b9c6f5-x2k8q",
      endpoint: "eth0",
      serviceAccountName: "frontend",
      ipNetworks: ["10.244.1.17/32"],
      profiles: ["kns.shop", "ksa.shop.frontend"],
      interfaceName: "cali1a2b3c4d5e6",
      mac: "ee:ee:ee:ee:ee:ee",
    },
  };
}

/** A HostEndpoint for a node's uplink. */
export function storedHostEndpoint(): HostEndpoint {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "HostEndpoint",
    metadata: { name: "worker-1-eth0", labels: { role: "worker", "host-endpoint": "ingress" } },
    spec: {
      node: "worker-1",
      interfaceName: "eth0",
      expectedIPs: ["192.168.10.21"],
      profiles: ["hep-default"],
    },
  };
}

/** The namespace profile as Calico stores it. */
export function storedNamespaceProfile(): Profile {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "Profile",
    metadata: { name: "kns.shop" },
    spec: {
      ingress: [{ action: "Allow" }],
      egress: [{ action: "Allow" }],
      labelsToApply: { "pcns.env": "prod", "pcns.projectcalico.org/name": "shop" },
    },
  };
}

/** A worker node with the annotations Calico's node agent writes, as the API server returns it. */
export function kubernetesNode(
  overrides: { metadata?: Record<string, unknown>; status?: Record<string, unknown> } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "worker-1",
      uid: "9c1b7e2d-3333-4c55-9d7b-000000000003",
      resourceVersion: "99120",
      creationTimestamp: "2025-01-02T09:00:00Z",
      labels: {
        "kubernetes.io/hostname": "worker-1",
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": "eu-west-1a",
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "projectcalico.org/IPv4Address": "192.168.10.21/24",
        "projectcalico.org/IPv4VXLANTunnelAddr": "10.244.1.0",
        "projectcalico.org/VXLANTunnelMACAddr": "66:3a:7f:0e:12:9b",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
      ...overrides.metadata,
    },
    spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"] },
    status: {
      addresses: [
        { type: "InternalIP", address: "192.168.10.21" },
        { type: "Hostname", address: "worker-1" },
      ],
      nodeInfo: { kubeletVersion: "v1.31.4", osImage: "Debian GNU/Linux 12 (bookworm)" },
      ...overrides.status,
    },
  };
}

/**
 * The NetworkPolicy of the Kubernetes documentation ("test-network-policy"), as the API server
 * returns it after `kubectl apply`.
 */
export function kubernetesNetworkPolicy(spec: Record<string, unknown> | undefined = undefined) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: "test-network-policy",
      namespace: "default",
      uid: "7f3e2a1b-4444-4c55-9d7b-000000000004",
      resourceVersion: "220341",
      generation: 1,
      creationTimestamp: "2025-03-20T08:15:00Z",
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"networking.k8s.io/v1"}\n' },
      managedFields: [
        {
          manager: "kubectl-client-side-apply",
          operation: "Update",
          apiVersion: "networking.k8s.io/v1",
          time: "2025-03-20T08:15:00Z",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:spec": { "f:podSelector": {}, "f:policyTypes": {} } },
        },
      ],
    },
    spec: spec ?? {
      podSelector: { matchLabels: { role: "db" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            { ipBlock: { cidr: "172.17.0.0/16", except: ["172.17.1.0/24"] } },
            { namespaceSelector: { matchLabels: { project: "myproject" } } },
            { podSelector: { matchLabels: { role: "frontend" } } },
          ],
          ports: [{ protocol: "TCP", port: 6379 }],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ protocol: "TCP", port: 5978 }] }],
    },
  };
}
