/**
 * Calico v3 policy kinds (NetworkPolicy, GlobalNetworkPolicy, Tier) and the tier naming rules for
 * policy names. Only local policies are ever read; remote policies never enter fedview.
 */
import { z } from "zod";
import { CALICO_API_VERSION, NamespacedObjectMetaSchema, ObjectMetaSchema } from "./calico-v3.js";
import { RuleSchema } from "./rules.js";
import type { GlobalNetworkPolicy, NetworkPolicy } from "./types.js";

/** The tier a policy belongs to when it names none. */
export const DEFAULT_TIER = "default";

/** Name prefix of Kubernetes NetworkPolicies as Calico shows them; they live in the default tier. */
export const KUBERNETES_NETWORK_POLICY_PREFIX = "knp.default.";

/** A policy type: which directions the policy governs. */
export const PolicyTypeSchema = z.enum(["Ingress", "Egress"]);

/** `NetworkPolicy.spec`. */
export const NetworkPolicySpecSchema = z.looseObject({
  tier: z.string().optional(),
  order: z.number().optional(),
  selector: z.string().optional(),
  types: z.array(PolicyTypeSchema).optional(),
  ingress: z.array(RuleSchema).optional(),
  egress: z.array(RuleSchema).optional(),
  serviceAccountSelector: z.string().optional(),
  performanceHints: z.array(z.string()).optional(),
});

/** `GlobalNetworkPolicy.spec`: a NetworkPolicy spec plus the host-endpoint-only switches. */
export const GlobalNetworkPolicySpecSchema = NetworkPolicySpecSchema.extend({
  namespaceSelector: z.string().optional(),
  doNotTrack: z.boolean().optional(),
  preDNAT: z.boolean().optional(),
  applyOnForward: z.boolean().optional(),
});

/** A Calico v3 NetworkPolicy (namespaced). */
export const NetworkPolicySchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("NetworkPolicy"),
  metadata: NamespacedObjectMetaSchema,
  spec: NetworkPolicySpecSchema.prefault({}),
});

/** A Calico v3 GlobalNetworkPolicy (cluster-scoped). */
export const GlobalNetworkPolicySchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("GlobalNetworkPolicy"),
  metadata: ObjectMetaSchema,
  spec: GlobalNetworkPolicySpecSchema.prefault({}),
});

/** `Tier.spec`. A tier without an order sorts after every ordered tier. */
export const TierSpecSchema = z.looseObject({
  order: z.number().optional(),
  defaultAction: z.enum(["Deny", "Pass"]).optional(),
});

/** A Calico v3 Tier (cluster-scoped). */
export const TierSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal("Tier"),
  metadata: ObjectMetaSchema,
  spec: TierSpecSchema.prefault({}),
});

/**
 * The tier a policy name implies: the part before the first `.`, or `default` for a name without
 * a dot and for Kubernetes NetworkPolicies (`knp.default.<name>`).
 */
export function tierOfPolicyName(name: string): string {
  if (name.startsWith(KUBERNETES_NETWORK_POLICY_PREFIX)) return DEFAULT_TIER;
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : DEFAULT_TIER;
}

/**
 * A policy name with its tier prefix, `<tier>.<name>`; a name that already carries the prefix is
 * returned unchanged, as is `knp.default.<name>` in the default tier.
 */
export function tieredPolicyName(name: string, tier: string = DEFAULT_TIER): string {
  if (tier === DEFAULT_TIER && name.startsWith(KUBERNETES_NETWORK_POLICY_PREFIX)) return name;
  return name.startsWith(`${tier}.`) ? name : `${tier}.${name}`;
}

/** The tier of a policy: `spec.tier` when set (Calico defaults it), else `default`. */
export function policyTier(policy: NetworkPolicy | GlobalNetworkPolicy): string {
  return policy.spec.tier || DEFAULT_TIER;
}

/**
 * The name calicoq shows for a policy: the tiered name, preceded by `<namespace>/` for a namespaced
 * NetworkPolicy.
 */
export function policyDisplayName(policy: NetworkPolicy | GlobalNetworkPolicy): string {
  const tiered = tieredPolicyName(policy.metadata.name, policyTier(policy));
  return policy.kind === "NetworkPolicy" ? `${policy.metadata.namespace}/${tiered}` : tiered;
}

/**
 * Completes a policy name typed by a user the way calicoq does: `<ns>/<name>` names a
 * NetworkPolicy, a bare name a GlobalNetworkPolicy, and a name without a tier (no `.`) gets
 * `default.`. Returns the namespace (if any) and the tiered name.
 */
export function qualifyPolicyName(input: string): { namespace?: string; name: string } {
  const slash = input.indexOf("/");
  const namespace = slash >= 0 ? input.slice(0, slash) : undefined;
  const bare = slash >= 0 ? input.slice(slash + 1) : input;
  const name = bare.includes(".") ? bare : `${DEFAULT_TIER}.${bare}`;
  return namespace === undefined ? { name } : { namespace, name };
}
