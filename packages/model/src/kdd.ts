/**
 * Kubernetes datastore (KDD) conversion: what Calico derives from Kubernetes objects when a cluster
 * keeps its data in the Kubernetes API. Pod → WorkloadEndpoint, Namespace → `kns.<ns>` Profile,
 * ServiceAccount → `ksa.<ns>.<sa>` Profile, Node → Node (NetworkPolicy → `knp.default.<name>` lives
 * in `kubernetes-network-policy.ts`). The input schemas validate only the fields read here
 * and keep the rest, so a connector can check remote objects at the edge and skip malformed ones.
 */
import { z } from "zod";
import { CALICO_API_VERSION } from "./calico-v3.js";
import { KddConversionError } from "./errors.js";
import { canonicalIPNetwork } from "./ip.js";
import {
  LABEL_NAME,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  ORCHESTRATOR_KUBERNETES,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
} from "./labels.js";
import { assignOwn, setOwn } from "./objects.js";
import type {
  EndpointPort,
  KubernetesNode,
  Labels,
  Namespace,
  Node,
  ObjectMeta,
  Pod,
  Profile,
  ServiceAccount,
  WorkloadEndpoint,
} from "./types.js";
import { encodeWorkloadEndpointName } from "./workload-endpoint-name.js";

/** Annotation in which Calico's CNI plugin records a pod's IPs (comma-separated CIDRs). */
export const ANNOTATION_POD_IPS = "cni.projectcalico.org/podIPs";
/** Annotation in which Calico's CNI plugin records a pod's IP (older form, one CIDR). */
export const ANNOTATION_POD_IP = "cni.projectcalico.org/podIP";
/** Annotation in which Calico's CNI plugin records a pod's container ID. */
export const ANNOTATION_CONTAINER_ID = "cni.projectcalico.org/containerID";
/** The endpoint name of every Kubernetes pod's workload endpoint. */
export const KUBERNETES_POD_ENDPOINT = "eth0";

/** Go's JSON writes an unset map as `null`; treat it as absent. */
export const OptionalStringMapSchema = z
  .record(z.string(), z.string())
  .nullish()
  .transform((value) => value ?? undefined);

/**
 * A Kubernetes timestamp: RFC 3339 text on the wire, a `Date` when `@kubernetes/client-node` has
 * deserialised the object, `null` when unset.
 */
const TimestampSchema = z.union([z.string(), z.date(), z.null()]).optional();

/** The ObjectMeta fields fedview reads from Kubernetes objects. */
export const KubernetesObjectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  labels: OptionalStringMapSchema,
  annotations: OptionalStringMapSchema,
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: TimestampSchema,
});

/** A container port: named ports become workload endpoint ports. */
export const ContainerPortSchema = z.looseObject({
  name: z.string().optional(),
  containerPort: z.number().int().min(0).max(65535),
  protocol: z.string().optional(),
  hostPort: z.number().int().min(0).max(65535).optional(),
  hostIP: z.string().optional(),
});

/** The Pod fields the Pod → WorkloadEndpoint conversion reads. `kind` is absent on list items. */
export const PodSchema = z.looseObject({
  apiVersion: z.literal("v1").optional(),
  kind: z.literal("Pod").optional(),
  metadata: KubernetesObjectMetaSchema.extend({ namespace: z.string().min(1) }),
  spec: z
    .looseObject({
      nodeName: z.string().optional(),
      hostNetwork: z.boolean().optional(),
      serviceAccountName: z.string().optional(),
      containers: z
        .array(z.looseObject({ name: z.string().optional(), ports: z.array(ContainerPortSchema).nullish() }))
        .optional(),
    })
    .prefault({}),
  status: z
    .looseObject({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      podIPs: z.array(z.looseObject({ ip: z.string() })).nullish(),
    })
    .prefault({}),
});

/** The Namespace fields the Namespace → Profile conversion reads. */
export const NamespaceSchema = z.looseObject({
  apiVersion: z.literal("v1").optional(),
  kind: z.literal("Namespace").optional(),
  metadata: KubernetesObjectMetaSchema,
});

/** The ServiceAccount fields the ServiceAccount → Profile conversion reads. */
export const ServiceAccountSchema = z.looseObject({
  apiVersion: z.literal("v1").optional(),
  kind: z.literal("ServiceAccount").optional(),
  metadata: KubernetesObjectMetaSchema.extend({ namespace: z.string().min(1) }),
});

/** The Node fields the Node → Calico Node conversion reads. */
export const KubernetesNodeSchema = z.looseObject({
  apiVersion: z.literal("v1").optional(),
  kind: z.literal("Node").optional(),
  metadata: KubernetesObjectMetaSchema,
  status: z
    .looseObject({
      addresses: z.array(z.looseObject({ type: z.string(), address: z.string() })).nullish(),
    })
    .prefault({}),
});

/** Kubernetes' wire form of a timestamp: RFC 3339 in whole seconds. */
function formatTimestamp(value: string | Date | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  return value.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The identity fields Calico carries over from a Kubernetes object into the converted resource. */
export function carriedMeta(meta: z.infer<typeof KubernetesObjectMetaSchema>): Partial<ObjectMeta> {
  const out: Partial<ObjectMeta> = {};
  if (meta.uid !== undefined) out.uid = meta.uid;
  if (meta.resourceVersion !== undefined) out.resourceVersion = meta.resourceVersion;
  const created = formatTimestamp(meta.creationTimestamp);
  if (created !== undefined) out.creationTimestamp = created;
  return out;
}

/** Whether a pod has finished (phase Failed or Succeeded); finished pods keep no IPs. */
export function isPodFinished(pod: Pod): boolean {
  return pod.status.phase === "Failed" || pod.status.phase === "Succeeded";
}

/**
 * A pod's IPs as Calico finds them: `status.podIPs`, else `status.podIP`, else the annotation
 * `cni.projectcalico.org/podIPs`, else `cni.projectcalico.org/podIP` — the first source with a value
 * wins. Each becomes a canonical CIDR (`/32` or `/128` for a bare address). Throws
 * `KddConversionError` for an IP that does not parse, as Calico rejects such a pod.
 */
export function podIPNetworks(pod: Pod): string[] {
  const annotations = pod.metadata.annotations ?? {};
  let raw: string[] = [];
  const statusIPs = (pod.status.podIPs ?? []).map((entry) => entry.ip);
  if (statusIPs.length > 0) raw = statusIPs;
  else if (pod.status.podIP) raw = [pod.status.podIP];
  else if (annotations[ANNOTATION_POD_IPS]) raw = annotations[ANNOTATION_POD_IPS].split(",");
  else if (annotations[ANNOTATION_POD_IP]) raw = [annotations[ANNOTATION_POD_IP]];
  return raw
    .map((text) => text.trim())
    .filter((text) => text !== "")
    .map((text) => {
      const network = canonicalIPNetwork(text);
      if (network === null) {
        throw new KddConversionError(
          `pod ${pod.metadata.namespace}/${pod.metadata.name} has an IP that does not parse: ${JSON.stringify(text)}`,
        );
      }
      return network;
    });
}

const PORT_PROTOCOLS: Record<string, string> = { "": "TCP", TCP: "TCP", UDP: "UDP", SCTP: "SCTP" };

/** Container ports with a name or a host port, as workload endpoint ports (named-port matching). */
function podPorts(pod: Pod): EndpointPort[] {
  const ports: EndpointPort[] = [];
  for (const container of pod.spec.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.containerPort === 0 || (!port.name && !port.hostPort)) continue;
      const protocol = PORT_PROTOCOLS[port.protocol ?? ""];
      if (protocol === undefined) continue;
      const entry: EndpointPort = { name: port.name ?? "", protocol, port: port.containerPort };
      if (port.hostPort) entry.hostPort = port.hostPort;
      if (port.hostIP) entry.hostIP = port.hostIP;
      ports.push(entry);
    }
  }
  return ports;
}

/**
 * Converts a pod to its WorkloadEndpoint, or null when the pod has none: host-network pods and
 * pods not yet scheduled to a node. Name from (node, `k8s`, pod name, `eth0`); labels are the pod's
 * plus `projectcalico.org/namespace`, `projectcalico.org/orchestrator: k8s` and, with a service
 * account, `projectcalico.org/serviceaccount`; profiles `kns.<ns>` then `ksa.<ns>.<sa>`. A finished
 * pod keeps its endpoint but no IPs. Throws `KddConversionError` for an unparsable pod IP.
 */
export function podToWorkloadEndpoint(pod: Pod): WorkloadEndpoint | null {
  const node = pod.spec.nodeName;
  if (pod.spec.hostNetwork === true || !node) return null;
  const { name, namespace } = pod.metadata;
  const serviceAccount = pod.spec.serviceAccountName || undefined;

  const labels: Labels = assignOwn({}, pod.metadata.labels);
  setOwn(labels, LABEL_NAMESPACE, namespace);
  setOwn(labels, LABEL_ORCHESTRATOR, ORCHESTRATOR_KUBERNETES);
  if (serviceAccount !== undefined) setOwn(labels, LABEL_SERVICE_ACCOUNT, serviceAccount);

  const profiles = [`${NAMESPACE_PROFILE_PREFIX}${namespace}`];
  if (serviceAccount !== undefined) profiles.push(`${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${serviceAccount}`);

  const spec: WorkloadEndpoint["spec"] = {
    orchestrator: ORCHESTRATOR_KUBERNETES,
    node,
    pod: name,
    endpoint: KUBERNETES_POD_ENDPOINT,
    ipNetworks: isPodFinished(pod) ? [] : podIPNetworks(pod),
    profiles,
  };
  if (serviceAccount !== undefined) spec.serviceAccountName = serviceAccount;
  const containerID = pod.metadata.annotations?.[ANNOTATION_CONTAINER_ID];
  if (containerID) spec.containerID = containerID;
  const ports = podPorts(pod);
  if (ports.length > 0) spec.ports = ports;

  return {
    apiVersion: CALICO_API_VERSION,
    kind: "WorkloadEndpoint",
    metadata: {
      name: encodeWorkloadEndpointName({
        node,
        orchestrator: ORCHESTRATOR_KUBERNETES,
        workload: name,
        endpoint: KUBERNETES_POD_ENDPOINT,
      }),
      namespace,
      labels,
      ...carriedMeta(pod.metadata),
    },
    spec,
  };
}

/** Prefixes every label key and adds `<prefix>projectcalico.org/name: <name>` (which wins). */
function prefixedLabels(prefix: string, labels: Labels | undefined, name: string): Labels {
  const out: Labels = {};
  for (const [key, value] of Object.entries(labels ?? {})) setOwn(out, `${prefix}${key}`, value);
  setOwn(out, `${prefix}${LABEL_NAME}`, name);
  return out;
}

/**
 * Converts a namespace to its `kns.<ns>` Profile: labels to apply are each namespace label as
 * `pcns.<key>` plus `pcns.projectcalico.org/name: <ns>`; rules allow everything, as Calico's do.
 */
export function namespaceToProfile(namespace: Namespace): Profile {
  const name = namespace.metadata.name;
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "Profile",
    metadata: { name: `${NAMESPACE_PROFILE_PREFIX}${name}`, ...carriedMeta(namespace.metadata) },
    spec: {
      ingress: [{ action: "Allow" }],
      egress: [{ action: "Allow" }],
      labelsToApply: prefixedLabels(NAMESPACE_LABEL_PREFIX, namespace.metadata.labels, name),
    },
  };
}

/**
 * Converts a service account to its `ksa.<ns>.<sa>` Profile: labels to apply are each service
 * account label as `pcsa.<key>` plus `pcsa.projectcalico.org/name: <sa>`; no rules.
 */
export function serviceAccountToProfile(serviceAccount: ServiceAccount): Profile {
  const { name, namespace } = serviceAccount.metadata;
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "Profile",
    metadata: {
      name: `${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${name}`,
      ...carriedMeta(serviceAccount.metadata),
    },
    spec: { labelsToApply: prefixedLabels(SERVICE_ACCOUNT_LABEL_PREFIX, serviceAccount.metadata.labels, name) },
  };
}

/** Annotations in which Calico's node agent records a node's BGP and tunnel settings (libcalico-go KDD). */
const NODE_ANNOTATIONS = {
  ipv4Address: "projectcalico.org/IPv4Address",
  ipv6Address: "projectcalico.org/IPv6Address",
  asNumber: "projectcalico.org/ASNumber",
  ipv4IPIPTunnelAddr: "projectcalico.org/IPv4IPIPTunnelAddr",
  routeReflectorClusterID: "projectcalico.org/RouteReflectorClusterID",
  ipv4VXLANTunnelAddr: "projectcalico.org/IPv4VXLANTunnelAddr",
  vxlanTunnelMACAddr: "projectcalico.org/VXLANTunnelMACAddr",
  ipv6VXLANTunnelAddr: "projectcalico.org/IPv6VXLANTunnelAddr",
  vxlanTunnelMACAddrV6: "projectcalico.org/VXLANTunnelMACAddrV6",
} as const;

/** The node addresses Calico copies from a Kubernetes node's status. */
const CARRIED_NODE_ADDRESS_TYPES: ReadonlySet<string> = new Set(["InternalIP", "ExternalIP"]);

/**
 * Converts a Kubernetes Node to the Calico Node a Kubernetes datastore derives from it: the node's
 * labels; BGP and tunnel settings from Calico's `projectcalico.org/*` annotations (an AS number only
 * when it is decimal); addresses from the BGP addresses (`CalicoNodeIP`) then the node's InternalIP
 * and ExternalIP; and an orchestrator reference to the Kubernetes node.
 */
export function kubernetesNodeToCalico(node: KubernetesNode): Node {
  const annotations = node.metadata.annotations ?? {};
  const annotation = (key: keyof typeof NODE_ANNOTATIONS): string | undefined =>
    annotations[NODE_ANNOTATIONS[key]] || undefined;

  const bgp: NonNullable<Node["spec"]["bgp"]> = {};
  for (const key of ["ipv4Address", "ipv6Address", "ipv4IPIPTunnelAddr", "routeReflectorClusterID"] as const) {
    const value = annotation(key);
    if (value !== undefined) bgp[key] = value;
  }
  const asNumber = annotation("asNumber");
  if (asNumber !== undefined && /^\d+$/.test(asNumber)) bgp.asNumber = Number(asNumber);

  const spec: Node["spec"] = {};
  if (Object.keys(bgp).length > 0) spec.bgp = bgp;
  for (const key of [
    "ipv4VXLANTunnelAddr",
    "vxlanTunnelMACAddr",
    "ipv6VXLANTunnelAddr",
    "vxlanTunnelMACAddrV6",
  ] as const) {
    const value = annotation(key);
    if (value !== undefined) spec[key] = value;
  }
  const addresses: { address: string; type: string }[] = [];
  for (const address of [bgp.ipv4Address, bgp.ipv6Address]) {
    if (address !== undefined) addresses.push({ address, type: "CalicoNodeIP" });
  }
  for (const { address, type } of node.status.addresses ?? []) {
    if (CARRIED_NODE_ADDRESS_TYPES.has(type)) addresses.push({ address, type });
  }
  if (addresses.length > 0) spec.addresses = addresses;
  spec.orchRefs = [{ nodeName: node.metadata.name, orchestrator: ORCHESTRATOR_KUBERNETES }];

  const metadata: ObjectMeta = { name: node.metadata.name };
  if (node.metadata.labels !== undefined) metadata.labels = assignOwn({}, node.metadata.labels);
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "Node",
    metadata: { ...metadata, ...carriedMeta(node.metadata) },
    spec,
  };
}
