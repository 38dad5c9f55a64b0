/**
 * Kubernetes objects to the merged view: validate at the edge (model's KDD schemas), convert with
 * model's KDD conversion, then federate (`<cluster>/` prefixes, profile labels only, workload
 * endpoints without IPs hidden). Never throws: anything unusable is `malformed` with a reason that
 * never quotes the object.
 */
import {
  applyClusterPrefix,
  type CalicoResource,
  encodeWorkloadEndpointName,
  fromCrdResource,
  hostEndpointFromCrd,
  isLocalCluster,
  KUBERNETES_POD_ENDPOINT,
  KubernetesNetworkPolicySchema,
  KubernetesNodeSchema,
  kubernetesNetworkPolicyName,
  kubernetesNetworkPolicyToCalico,
  kubernetesNodeToCalico,
  NAMESPACE_PROFILE_PREFIX,
  NamespaceSchema,
  namespaceToProfile,
  ORCHESTRATOR_KUBERNETES,
  PodSchema,
  podToWorkloadEndpoint,
  type ResourceKind,
  resourceId,
  resourceRef,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
  ServiceAccountSchema,
  serviceAccountToProfile,
  toFederated,
} from "@fedview/model";
import type { z } from "zod";
import { qualifiedResource } from "./kinds.js";
import type { ConvertedObject, KubeResourceType } from "./types.js";

/** The qualified resource of Kubernetes NetworkPolicies, which share their plural with Calico's CRD. */
const KUBERNETES_NETWORK_POLICIES = "networkpolicies.networking.k8s.io";

// Kinds whose own name gets the `<cluster>/` prefix in the merged view (model's federation rules).
const PREFIXED_NAME_KINDS: ReadonlySet<ResourceKind> = new Set<ResourceKind>(["Profile", "Node", "IPPool"]);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** `namespace/name` (or `name`) of a raw object, for logs; `?` where unreadable. */
export function objectRef(object: unknown): string {
  const meta = record(record(object)?.["metadata"]);
  const name = text(meta?.["name"]) ?? "?";
  const namespace = text(meta?.["namespace"]);
  return namespace ? `${namespace}/${name}` : name;
}

/** The object's `metadata.resourceVersion`, if it has a decimal one. */
export function objectRevision(object: unknown): string | undefined {
  const rv = record(record(object)?.["metadata"])?.["resourceVersion"];
  return typeof rv === "string" && /^\d+$/.test(rv) ? rv : undefined;
}

/**
 * The merged-view ID of the resource a raw Kubernetes object of `type` converts to, from its identity
 * fields alone (for deletes and objects that do not validate); undefined when it has none (a pod not
 * on a node). Must equal `resourceId(resourceRef(…))` of the converted resource (a test holds it to that).
 */
export function federatedId(cluster: string, type: KubeResourceType, object: unknown): string | undefined {
  const meta = record(record(object)?.["metadata"]);
  const name = text(meta?.["name"]);
  const namespace = text(meta?.["namespace"]);
  if (name === undefined) return undefined;
  let calicoName: string;
  let calicoNamespace: string | undefined;
  switch (qualifiedResource(type)) {
    case "namespaces":
      calicoName = `${NAMESPACE_PROFILE_PREFIX}${name}`;
      break;
    case "serviceaccounts":
      if (namespace === undefined) return undefined;
      calicoName = `${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${name}`;
      break;
    case "pods": {
      const node = text(record(record(object)?.["spec"])?.["nodeName"]);
      if (namespace === undefined || node === undefined) return undefined;
      calicoName = encodeWorkloadEndpointName({
        node,
        orchestrator: ORCHESTRATOR_KUBERNETES,
        workload: name,
        endpoint: KUBERNETES_POD_ENDPOINT,
      });
      calicoNamespace = namespace;
      break;
    }
    case KUBERNETES_NETWORK_POLICIES:
      if (namespace === undefined) return undefined;
      calicoName = kubernetesNetworkPolicyName(name);
      calicoNamespace = namespace;
      break;
    default:
      calicoName = name;
      calicoNamespace = type.namespaced ? namespace : undefined;
      if (type.namespaced && namespace === undefined) return undefined;
  }
  if (PREFIXED_NAME_KINDS.has(type.kind) && !isLocalCluster(cluster)) {
    calicoName = applyClusterPrefix(cluster, calicoName);
  }
  return resourceId(
    calicoNamespace !== undefined ? { namespace: calicoNamespace, name: calicoName } : { name: calicoName },
  );
}

function describeZodIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

function describeIssues(issues: { path: string; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join("; ");
}

type Decoded = { ok: true; resource: CalicoResource | null } | { ok: false; reason: string };

function decode(type: KubeResourceType, object: unknown): Decoded {
  switch (qualifiedResource(type)) {
    case "pods": {
      const pod = PodSchema.safeParse(object);
      if (!pod.success) return { ok: false, reason: describeZodIssues(pod.error) };
      return { ok: true, resource: podToWorkloadEndpoint(pod.data) };
    }
    case "namespaces": {
      const ns = NamespaceSchema.safeParse(object);
      if (!ns.success) return { ok: false, reason: describeZodIssues(ns.error) };
      return { ok: true, resource: namespaceToProfile(ns.data) };
    }
    case "serviceaccounts": {
      const sa = ServiceAccountSchema.safeParse(object);
      if (!sa.success) return { ok: false, reason: describeZodIssues(sa.error) };
      return { ok: true, resource: serviceAccountToProfile(sa.data) };
    }
    case "nodes": {
      const node = KubernetesNodeSchema.safeParse(object);
      if (!node.success) return { ok: false, reason: describeZodIssues(node.error) };
      return { ok: true, resource: kubernetesNodeToCalico(node.data) };
    }
    case KUBERNETES_NETWORK_POLICIES: {
      const knp = KubernetesNetworkPolicySchema.safeParse(object);
      if (!knp.success) return { ok: false, reason: describeZodIssues(knp.error) };
      return { ok: true, resource: kubernetesNetworkPolicyToCalico(knp.data) };
    }
    case "hostendpoints.crd.projectcalico.org": {
      const hep = hostEndpointFromCrd(object);
      return hep.success ? { ok: true, resource: hep.data } : { ok: false, reason: describeIssues(hep.issues) };
    }
    default: {
      const crd = fromCrdResource(object);
      if (!crd.success) return { ok: false, reason: describeIssues(crd.issues) };
      if (crd.data.kind !== type.kind) {
        return { ok: false, reason: `kind must be "${type.kind}", not "${crd.data.kind}"` };
      }
      return { ok: true, resource: crd.data };
    }
  }
}

/**
 * Converts one object of `type` read from `cluster` (a list item or a watch event's object) for the
 * merged view. Accepts client-node's typed objects (with `Date` timestamps) and raw JSON alike.
 */
export function convertObject(cluster: string, type: KubeResourceType, object: unknown): ConvertedObject {
  const id = federatedId(cluster, type, object);
  const malformed = (reason: string): ConvertedObject => ({
    type: "malformed",
    kind: type.kind,
    ...(id !== undefined ? { id } : {}),
    reason,
  });
  let decoded: Decoded;
  let federated: CalicoResource | null;
  try {
    decoded = decode(type, object);
    if (!decoded.ok) return malformed(decoded.reason);
    if (decoded.resource === null) return id !== undefined ? { type: "hidden", kind: type.kind, id } : { type: "none" };
    federated = toFederated(cluster, decoded.resource);
  } catch (err) {
    // KddConversionError (a pod IP that does not parse) and schema errors of derived objects.
    return malformed(err instanceof Error ? err.message : String(err));
  }
  if (federated === null) return id !== undefined ? { type: "hidden", kind: type.kind, id } : { type: "none" };
  return { type: "resource", kind: type.kind, id: resourceId(resourceRef(federated)), resource: federated };
}
