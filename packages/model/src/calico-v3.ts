/**
 * zod schemas for the Calico v3 (`projectcalico.org/v3`) endpoint-side kinds fedview reads:
 * WorkloadEndpoint, HostEndpoint, Profile, Node, IPPool, NetworkSet and GlobalNetworkSet.
 * Policies and tiers live in `policy.ts`, RemoteClusterConfiguration in `rcc.ts`.
 *
 * Every object schema is loose: fields fedview does not know are kept, so a resource survives a
 * round trip through fedview unchanged even when Calico adds fields. Known fields are type-checked.
 */
import { z } from "zod";
import { ProtocolSchema, RuleSchema } from "./rules.js";

/** The apiVersion of every Calico v3 resource. */
export const CALICO_API_VERSION = "projectcalico.org/v3";

/** Label or annotation map. */
export const StringMapSchema = z.record(z.string(), z.string());

/**
 * Kubernetes-style object metadata as Calico stores it. `creationTimestamp` may be `null` because
 * Go serialises an unset time that way.
 */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  labels: StringMapSchema.optional(),
  annotations: StringMapSchema.optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().nullable().optional(),
});

/** Metadata of a namespaced kind: the namespace is part of the resource's identity. */
export const NamespacedObjectMetaSchema = ObjectMetaSchema.extend({
  namespace: z.string().min(1),
});

/** A named port on an endpoint, used by rules that match ports by name. */
export const EndpointPortSchema = z.looseObject({
  name: z.string(),
  protocol: ProtocolSchema,
  port: z.number().int().min(0).max(65535),
  hostPort: z.number().int().min(0).max(65535).optional(),
  hostIP: z.string().optional(),
});

/** A 1:1 NAT mapping of a workload endpoint. */
export const IPNATSchema = z.looseObject({
  internalIP: z.string(),
  externalIP: z.string(),
});

/** `WorkloadEndpoint.spec`. */
export const WorkloadEndpointSpecSchema = z.looseObject({
  orchestrator: z.string().optional(),
  workload: z.string().optional(),
  node: z.string().optional(),
  containerID: z.string().optional(),
  pod: z.string().optional(),
  endpoint: z.string().optional(),
  serviceAccountName: z.string().optional(),
  ipNetworks: z.array(z.string()).optional(),
  ipNATs: z.array(IPNATSchema).optional(),
  ipv4Gateway: z.string().optional(),
  ipv6Gateway: z.string().optional(),
  profiles: z.array(z.string()).optional(),
  interfaceName: z.string().optional(),
  mac: z.string().optional(),
  ports: z.array(EndpointPortSchema).optional(),
  allowSpoofedSourcePrefixes: z.array(z.string()).optional(),
});

/** A Calico v3 WorkloadEndpoint (namespaced). */
export const WorkloadEndpointSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("WorkloadEndpoint"),
  metadata: NamespacedObjectMetaSchema,
  spec: WorkloadEndpointSpecSchema.prefault({}),
});

/** `HostEndpoint.spec`. */
export const HostEndpointSpecSchema = z.looseObject({
  node: z.string().optional(),
  interfaceName: z.string().optional(),
  expectedIPs: z.array(z.string()).optional(),
  profiles: z.array(z.string()).optional(),
  ports: z.array(EndpointPortSchema.omit({ hostPort: true, hostIP: true })).optional(),
});

/** A Calico v3 HostEndpoint (cluster-scoped). */
export const HostEndpointSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("HostEndpoint"),
  metadata: ObjectMetaSchema,
  spec: HostEndpointSpecSchema.prefault({}),
});

/** Field names of `Node.spec.bgp`. */
export const NodeBGPSpecSchema = z.looseObject({
  asNumber: z.union([z.number().int(), z.string()]).optional(),
  ipv4Address: z.string().optional(),
  ipv6Address: z.string().optional(),
  ipv4IPIPTunnelAddr: z.string().optional(),
  routeReflectorClusterID: z.string().optional(),
});

/** `Node.spec`. */
export const NodeSpecSchema = z.looseObject({
  bgp: NodeBGPSpecSchema.optional(),
  ipv4VXLANTunnelAddr: z.string().optional(),
  ipv6VXLANTunnelAddr: z.string().optional(),
  vxlanTunnelMACAddr: z.string().optional(),
  vxlanTunnelMACAddrV6: z.string().optional(),
  addresses: z.array(z.looseObject({ address: z.string(), type: z.string().optional() })).optional(),
  orchRefs: z.array(z.looseObject({ nodeName: z.string().optional(), orchestrator: z.string() })).optional(),
});

/** A Calico v3 Node (cluster-scoped); pulled from remotes only with overlay routing. */
export const NodeSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("Node"),
  metadata: ObjectMetaSchema,
  spec: NodeSpecSchema.prefault({}),
  status: z.looseObject({}).optional(),
});

/** `IPPool.spec`; `cidr` is the one required field. */
export const IPPoolSpecSchema = z.looseObject({
  cidr: z.string().min(1),
  vxlanMode: z.string().optional(),
  ipipMode: z.string().optional(),
  natOutgoing: z.boolean().optional(),
  disabled: z.boolean().optional(),
  disableBGPExport: z.boolean().optional(),
  blockSize: z.number().int().optional(),
  nodeSelector: z.string().optional(),
  allowedUses: z.array(z.string()).optional(),
});

/** A Calico v3 IPPool (cluster-scoped); pulled from remotes only with overlay routing. */
export const IPPoolSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("IPPool"),
  metadata: ObjectMetaSchema,
  spec: IPPoolSpecSchema,
});

/**
 * `Profile.spec`. Endpoints inherit `labelsToApply`; only those labels cross a cluster boundary,
 * the rules are dropped when a remote profile is federated.
 */
export const ProfileSpecSchema = z.looseObject({
  ingress: z.array(RuleSchema).optional(),
  egress: z.array(RuleSchema).optional(),
  labelsToApply: StringMapSchema.optional(),
});

/** A Calico v3 Profile (cluster-scoped). */
export const ProfileSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("Profile"),
  metadata: ObjectMetaSchema,
  spec: ProfileSpecSchema.prefault({}),
});

/** `NetworkSet.spec` and `GlobalNetworkSet.spec`: a list of CIDRs. */
export const NetworkSetSpecSchema = z.looseObject({
  nets: z.array(z.string()).optional(),
});

/** A Calico v3 NetworkSet (namespaced). */
export const NetworkSetSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("NetworkSet"),
  metadata: NamespacedObjectMetaSchema,
  spec: NetworkSetSpecSchema.prefault({}),
});

/** A Calico v3 GlobalNetworkSet (cluster-scoped). */
export const GlobalNetworkSetSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("GlobalNetworkSet"),
  metadata: ObjectMetaSchema,
  spec: NetworkSetSpecSchema.prefault({}),
});
