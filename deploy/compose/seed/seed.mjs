// The compose stack's one-shot seeding job: writes a small federation into the two etcd servers in
// Calico's etcd v3 layout (calico.md §4), so that `fedview eval 'all()'` has something to show.
//
//   remote etcd: a namespace profile, two workload endpoints and a host endpoint of cluster "remote-a"
//   local etcd:  a namespace profile, a workload endpoint, a global policy whose rule selects the
//                remote frontend, and the RemoteClusterConfiguration "remote-a" (written last, so
//                config-service sees a complete remote when it picks the RCC up)
//
// Environment:
//   SEED_LOCAL_ETCD_ENDPOINTS   local etcd, comma-separated URLs (required)
//   SEED_REMOTE_ETCD_ENDPOINTS  remote etcd as this job reaches it (required)
//   SEED_RCC_ETCD_ENDPOINTS     remote etcd as the etcd connector reaches it, written into the RCC
//                               (default: SEED_REMOTE_ETCD_ENDPOINTS)
//
// Idempotent: every run overwrites the same keys. Uses only the etcd3 client the image ships.
import { Etcd3 } from "etcd3";

const PREFIX = "/calico/resources/v3/projectcalico.org";
const API_VERSION = "projectcalico.org/v3";

function endpoints(name, fallback) {
  const value = (process.env[name] ?? fallback ?? "").trim();
  if (value === "") {
    process.stderr.write(`seed: ${name} is required (comma-separated etcd URLs)\n`);
    process.exit(64);
  }
  return value;
}

const localEndpoints = endpoints("SEED_LOCAL_ETCD_ENDPOINTS");
const remoteEndpoints = endpoints("SEED_REMOTE_ETCD_ENDPOINTS");
const rccEndpoints = endpoints("SEED_RCC_ETCD_ENDPOINTS", remoteEndpoints);

/** A workload endpoint's name: the four segments joined by "-", each "-" inside a segment doubled. */
function workloadEndpointName(node, pod, endpoint) {
  return [node, "k8s", pod, endpoint].map((part) => part.replaceAll("-", "--")).join("-");
}

function workloadEndpoint({ node, namespace, pod, ip, labels, serviceAccount }) {
  return {
    apiVersion: API_VERSION,
    kind: "WorkloadEndpoint",
    metadata: {
      name: workloadEndpointName(node, pod, "eth0"),
      namespace,
      labels: {
        ...labels,
        "projectcalico.org/namespace": namespace,
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": serviceAccount,
      },
    },
    spec: {
      orchestrator: "k8s",
      node,
      pod,
      endpoint: "eth0",
      serviceAccountName: serviceAccount,
      interfaceName: `cali${pod.replaceAll("-", "").slice(0, 11)}`,
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${namespace}`, `ksa.${namespace}.${serviceAccount}`],
    },
  };
}

function namespaceProfile(namespace, labels) {
  const labelsToApply = { "pcns.projectcalico.org/name": namespace };
  for (const [key, value] of Object.entries(labels)) labelsToApply[`pcns.${key}`] = value;
  return {
    apiVersion: API_VERSION,
    kind: "Profile",
    metadata: { name: `kns.${namespace}` },
    spec: { labelsToApply },
  };
}

function keyOf(resource) {
  const plural = `${resource.kind.toLowerCase()}s`.replace(/ys$/, "ies");
  const { name, namespace } = resource.metadata;
  return namespace === undefined ? `${PREFIX}/${plural}/${name}` : `${PREFIX}/${plural}/${namespace}/${name}`;
}

const remoteResources = [
  namespaceProfile("shop", { team: "shop" }),
  workloadEndpoint({
    node: "remote-node1",
    namespace: "shop",
    pod: "frontend-1",
    ip: "10.65.0.11",
    labels: { app: "frontend", tier: "web" },
    serviceAccount: "frontend",
  }),
  workloadEndpoint({
    node: "remote-node2",
    namespace: "shop",
    pod: "frontend-2",
    ip: "10.65.1.12",
    labels: { app: "frontend", tier: "web" },
    serviceAccount: "frontend",
  }),
  {
    apiVersion: API_VERSION,
    kind: "HostEndpoint",
    metadata: { name: "remote-node1-eth0", labels: { role: "gateway" } },
    spec: { node: "remote-node1", interfaceName: "eth0", expectedIPs: ["192.168.50.10"] },
  },
];

const localResources = [
  namespaceProfile("shop", { team: "shop" }),
  workloadEndpoint({
    node: "node1",
    namespace: "shop",
    pod: "backend-1",
    ip: "10.64.0.21",
    labels: { app: "backend" },
    serviceAccount: "backend",
  }),
  {
    apiVersion: API_VERSION,
    kind: "GlobalNetworkPolicy",
    metadata: { name: "default.allow-frontend-to-backend" },
    spec: {
      tier: "default",
      order: 100,
      selector: "app == 'backend'",
      types: ["Ingress"],
      ingress: [
        {
          action: "Allow",
          protocol: "TCP",
          source: { selector: "app == 'frontend'" },
          destination: { ports: [8080] },
        },
      ],
    },
  },
  {
    apiVersion: API_VERSION,
    kind: "RemoteClusterConfiguration",
    metadata: { name: "remote-a" },
    spec: { datastoreType: "etcdv3", etcdEndpoints: rccEndpoints },
  },
];

async function put(endpointList, resources, what) {
  const client = new Etcd3({ hosts: endpointList.split(",").map((s) => s.trim()), dialTimeout: 10_000 });
  try {
    for (const resource of resources) {
      await client.put(keyOf(resource)).value(JSON.stringify(resource));
      process.stdout.write(`seed: ${what}: ${resource.kind} ${resource.metadata.name}\n`);
    }
  } finally {
    client.close();
  }
}

try {
  await put(remoteEndpoints, remoteResources, "remote etcd");
  await put(localEndpoints, localResources, "local etcd");
  process.stdout.write(
    `seed: done: ${remoteResources.length} resources in the remote etcd, ${localResources.length} in the local one\n`,
  );
} catch (error) {
  process.stderr.write(`seed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
