/**
 * The synthetic fleet every scenario uses, deterministic so that runs compare: per cluster, 250
 * namespaces with 3 service accounts each (1,000 profiles: `kns.<ns>` and `ksa.<ns>.<sa>`), and
 * endpoints with 10 labels each (the 3 Calico adds plus 7 application labels) inheriting from one
 * namespace and one service-account profile, spread over 100 nodes.
 *
 * Resources come out as Calico stores them in a remote etcd (`encodeEtcdResource`), and as bus events
 * the way a connector publishes them (`toFederated`, then one resource event per resource).
 */
import type { ResourceEvent } from "@fedview/bus";
import {
  type CalicoResource,
  encodeEtcdResource,
  encodeWorkloadEndpointName,
  type Profile,
  resourceId,
  resourceRef,
  toFederated,
  type WorkloadEndpoint,
} from "@fedview/model";

export const NAMESPACES = 250;
export const SERVICE_ACCOUNTS = 3;
export const NODES = 100;
export const HASHES = 20_000;
const API = "projectcalico.org/v3";

/** The 1,000 profiles of one cluster as stored in its etcd. */
export function fleetProfiles(): Profile[] {
  const out: Profile[] = [];
  for (let ns = 0; ns < NAMESPACES; ns++) {
    out.push({
      apiVersion: API,
      kind: "Profile",
      metadata: { name: `kns.ns-${ns}` },
      spec: {
        labelsToApply: {
          "pcns.projectcalico.org/name": `ns-${ns}`,
          "pcns.team": `team-${ns % 20}`,
          "pcns.env": ["prod", "staging", "dev"][ns % 3]!,
        },
        ingress: [{ action: "Allow" }],
        egress: [{ action: "Allow" }],
      },
    } as Profile);
    for (let sa = 0; sa < SERVICE_ACCOUNTS; sa++) {
      out.push({
        apiVersion: API,
        kind: "Profile",
        metadata: { name: `ksa.ns-${ns}.sa-${sa}` },
        spec: { labelsToApply: { "pcsa.projectcalico.org/name": `sa-${sa}`, "pcsa.role": `role-${sa}` } },
      } as Profile);
    }
  }
  return out;
}

/** A cheap integer hash (deterministic per endpoint number), so any endpoint can be built alone. */
function mix(n: number, salt: number): number {
  let x = (n * 0x9e3779b1 + salt * 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Endpoint `n` as stored in etcd. `version` changes what churn changes (the `release` label and the
 * IP), so an update is a real label change the index must apply.
 */
export function fleetEndpoint(n: number, version = 0): WorkloadEndpoint {
  const ns = mix(n, 1) % NAMESPACES;
  const sa = mix(n, 2) % SERVICE_ACCOUNTS;
  const node = `node-${mix(n, 3) % NODES}`;
  const pod = `pod-${n}`;
  const namespace = `ns-${ns}`;
  const ip = `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/32`;
  return {
    apiVersion: API,
    kind: "WorkloadEndpoint",
    metadata: {
      name: encodeWorkloadEndpointName({ node, orchestrator: "k8s", workload: pod, endpoint: "eth0" }),
      namespace,
      labels: {
        "projectcalico.org/namespace": namespace,
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": `sa-${sa}`,
        app: `app-${mix(n, 4) % 200}`,
        version: `v${mix(n, 5) % 5}`,
        tier: ["frontend", "backend", "db"][mix(n, 6) % 3]!,
        env: ["prod", "staging", "dev"][mix(n, 7) % 3]!,
        component: `comp-${mix(n, 8) % 50}`,
        release: `rel-${(mix(n, 9) + version) % 2000}`,
        "pod-template-hash": `h${mix(n, 10) % HASHES}`,
      },
    },
    spec: {
      orchestrator: "k8s",
      node,
      pod,
      endpoint: "eth0",
      interfaceName: `cali${(mix(n, 11) + version).toString(16).padStart(11, "0").slice(0, 11)}`,
      ipNetworks: [ip],
      profiles: [`kns.${namespace}`, `ksa.${namespace}.sa-${sa}`],
    },
  } as WorkloadEndpoint;
}

/** Key and value of a resource in etcd. */
export function etcdEntry(resource: CalicoResource): { key: string; value: string } {
  return encodeEtcdResource(resource);
}

/** The bus event a connector publishes for `resource` of `cluster` (federated names and labels). */
export function busUpsert(cluster: string, resource: CalicoResource, revision: number): ResourceEvent {
  const federated = toFederated(cluster, resource);
  if (federated === null) throw new Error(`${resource.kind} ${resource.metadata.name} does not federate`);
  return {
    v: 1,
    op: "upsert",
    cluster,
    kind: federated.kind,
    id: resourceId(resourceRef(federated)),
    revision: String(revision),
    generation: 1,
    resource: federated,
  };
}

/** Cluster names of the multi-cluster scenarios: `c000`, `c001`, … */
export function clusterName(i: number): string {
  return `c${String(i).padStart(3, "0")}`;
}

/** Selectors of the query scenario, by class. */
export const SELECTORS = {
  selective: [
    'pod-template-hash == "h12345"',
    'app == "app-7" && tier == "db" && component == "comp-3"',
    'pcsa.role == "role-1" && pod-template-hash in {"h1", "h2", "h3"}',
  ],
  broad: ['env == "prod"', 'pcns.env == "dev" && tier == "db"'],
  scan: ['pod-template-hash ends with "777"', 'app contains "-19" && version != "v1" && tier != "db"'],
} as const;
