/**
 * The Calico v3 kinds fedview knows, with what the rest of the system needs per kind: the etcd
 * plural, whether the kind is namespaced, and its schema.
 */
import { z } from "zod";
import {
  GlobalNetworkSetSchema,
  HostEndpointSchema,
  IPPoolSchema,
  NetworkSetSchema,
  NodeSchema,
  ProfileSchema,
  WorkloadEndpointSchema,
} from "./calico-v3.js";
import { describeValue, fromZodIssues } from "./issues.js";
import { isRecord } from "./objects.js";
import { GlobalNetworkPolicySchema, NetworkPolicySchema, TierSchema } from "./policy.js";
import { RemoteClusterConfigurationSchema } from "./rcc.js";
import type { CalicoResource, NamespacedName, ResourceOf, ValidationResult } from "./types.js";

/** Every kind fedview knows, by name. */
export const ResourceKind = {
  WorkloadEndpoint: "WorkloadEndpoint",
  HostEndpoint: "HostEndpoint",
  Profile: "Profile",
  NetworkPolicy: "NetworkPolicy",
  GlobalNetworkPolicy: "GlobalNetworkPolicy",
  Node: "Node",
  IPPool: "IPPool",
  NetworkSet: "NetworkSet",
  GlobalNetworkSet: "GlobalNetworkSet",
  Tier: "Tier",
  RemoteClusterConfiguration: "RemoteClusterConfiguration",
} as const;

/** A kind name, e.g. `"WorkloadEndpoint"`. */
export type ResourceKind = (typeof ResourceKind)[keyof typeof ResourceKind];

/** What the model knows about one kind. */
export interface ResourceKindInfo<K extends ResourceKind = ResourceKind> {
  kind: K;
  /** The plural in etcd keys, e.g. `workloadendpoints`. */
  plural: string;
  /** Whether resources of the kind live in a namespace. */
  namespaced: boolean;
  /** Shape and types of the kind (unknown fields kept). */
  schema: z.ZodType<ResourceOf<K>>;
}

/** Per-kind metadata, keyed by kind. */
export const resourceKindInfo: { readonly [K in ResourceKind]: ResourceKindInfo<K> } = {
  WorkloadEndpoint: {
    kind: "WorkloadEndpoint",
    plural: "workloadendpoints",
    namespaced: true,
    schema: WorkloadEndpointSchema,
  },
  HostEndpoint: { kind: "HostEndpoint", plural: "hostendpoints", namespaced: false, schema: HostEndpointSchema },
  Profile: { kind: "Profile", plural: "profiles", namespaced: false, schema: ProfileSchema },
  NetworkPolicy: { kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true, schema: NetworkPolicySchema },
  GlobalNetworkPolicy: {
    kind: "GlobalNetworkPolicy",
    plural: "globalnetworkpolicies",
    namespaced: false,
    schema: GlobalNetworkPolicySchema,
  },
  Node: { kind: "Node", plural: "nodes", namespaced: false, schema: NodeSchema },
  IPPool: { kind: "IPPool", plural: "ippools", namespaced: false, schema: IPPoolSchema },
  NetworkSet: { kind: "NetworkSet", plural: "networksets", namespaced: true, schema: NetworkSetSchema },
  GlobalNetworkSet: {
    kind: "GlobalNetworkSet",
    plural: "globalnetworksets",
    namespaced: false,
    schema: GlobalNetworkSetSchema,
  },
  Tier: { kind: "Tier", plural: "tiers", namespaced: false, schema: TierSchema },
  RemoteClusterConfiguration: {
    kind: "RemoteClusterConfiguration",
    plural: "remoteclusterconfigurations",
    namespaced: false,
    schema: RemoteClusterConfigurationSchema,
  },
};

/** Every kind, in a fixed order. */
export const RESOURCE_KINDS: readonly ResourceKind[] = Object.values(ResourceKind);

const KIND_BY_PLURAL = new Map<string, ResourceKind>(
  RESOURCE_KINDS.map((kind) => [resourceKindInfo[kind].plural, kind]),
);

/** Whether `value` names a kind the model knows. */
export function isResourceKind(value: string): value is ResourceKind {
  return Object.hasOwn(resourceKindInfo, value);
}

/** The kind whose etcd plural is `plural`, or undefined. */
export function kindFromPlural(plural: string): ResourceKind | undefined {
  return KIND_BY_PLURAL.get(plural);
}

/** Any Calico v3 resource the model knows, told apart by `kind`. */
export const CalicoResourceSchema = z.discriminatedUnion("kind", [
  WorkloadEndpointSchema,
  HostEndpointSchema,
  ProfileSchema,
  NetworkPolicySchema,
  GlobalNetworkPolicySchema,
  NodeSchema,
  IPPoolSchema,
  NetworkSetSchema,
  GlobalNetworkSetSchema,
  TierSchema,
  RemoteClusterConfigurationSchema,
]);

/**
 * Validates any known Calico v3 resource (shape and types; for an RCC's rules use
 * `validateRemoteClusterConfiguration`). Issues carry dotted paths.
 */
export function parseCalicoResource(input: unknown): ValidationResult<CalicoResource> {
  if (!isRecord(input)) {
    return {
      success: false,
      issues: [{ path: "", message: `expected a Calico resource, not ${describeValue(input)}` }],
    };
  }
  const parsed = CalicoResourceSchema.safeParse(input);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, issues: fromZodIssues(parsed.error.issues, input) };
}

/**
 * A resource's ID within its cluster and kind: `<namespace>/<name>` for namespaced kinds, `<name>`
 * otherwise. This is the `<id>` of the bus's resource subjects (before the bus encodes it).
 */
export function resourceId(ref: NamespacedName): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

/**
 * Splits a `resourceId` back according to the kind; null when the shape does not fit the kind.
 * A global kind's ID is its whole name, which may carry a `<cluster>/` prefix in the merged view.
 */
export function parseResourceId(kind: ResourceKind, id: string): NamespacedName | null {
  if (id === "") return null;
  if (!resourceKindInfo[kind].namespaced) return { name: id };
  const parts = id.split("/");
  const [namespace, name] = parts;
  if (parts.length !== 2 || !namespace || !name) return null;
  return { namespace, name };
}

/** The `NamespacedName` of a resource. */
export function resourceRef(resource: CalicoResource): NamespacedName {
  const { name, namespace } = resource.metadata;
  return resourceKindInfo[resource.kind].namespaced && namespace ? { namespace, name } : { name };
}
