/**
 * Local policies as calicoq evaluates them (calico.md §7): each policy is compiled once, when it
 * arrives, into its applies-to selector and its rule selectors, each kept both as the text calicoq
 * prints and as a parsed selector to match with.
 *
 * The texts follow Calico's conversion of v3 policies for Felix: pieces that Calico rewrites with its
 * parser (namespaceSelector, serviceAccounts) are printed canonically, and the user's own selectors
 * are embedded as written, e.g. `(projectcalico.org/namespace == 'ns1') && (role == 'db')`.
 */
import {
  DEFAULT_TIER,
  type EntityRule,
  type GlobalNetworkPolicy,
  LABEL_NAMESPACE,
  type NetworkPolicy,
  policyDisplayName,
  policyTier,
  type Rule,
  type ServiceAccountMatch,
} from "@fedview/model";
import {
  namespaceSelectorToEndpointSelector,
  parseSelector,
  type Selector,
  serviceAccountNamesToEndpointSelector,
  serviceAccountSelectorToEndpointSelector,
} from "@fedview/selector";
import type { RuleDirection, RuleSelectorType } from "./types.js";

/**
 * The order of the `default` tier when no Tier resource says otherwise (Calico creates the tier
 * with this order).
 */
export const DEFAULT_TIER_ORDER = 1_000_000;

/** A selector as calicoq prints it, and parsed. */
export interface CompiledSelector {
  text: string;
  selector: Selector;
}

/** One selector of one rule. */
export interface CompiledRuleSelector extends CompiledSelector {
  direction: RuleDirection;
  /** 1-based index of the rule within its direction. */
  index: number;
  type: RuleSelectorType;
}

/** A local policy, ready to match endpoints. */
export interface CompiledPolicy {
  kind: "NetworkPolicy" | "GlobalNetworkPolicy";
  namespace?: string;
  /** `metadata.name` as stored. */
  resourceName: string;
  /** calicoq's name: `<tier>.<name>`, or `<ns>/<tier>.<name>` for a NetworkPolicy. */
  name: string;
  tier: string;
  order?: number;
  /** `doNotTrack`: listed first and marked `[untracked]`. */
  untracked: boolean;
  appliesTo: CompiledSelector;
  /** Inbound rules first, then outbound; per rule source, !source, destination, !destination. */
  rules: CompiledRuleSelector[];
}

function compiled(text: string): CompiledSelector {
  return { text, selector: parseSelector(text) };
}

/** `a` and `b` as Calico's conversion joins two selectors that are already units. */
function and(a: string, b: string): string {
  if (a === "") return b;
  if (b === "") return a;
  return `(${a}) && (${b})`;
}

/** `(<current>) && <canonical addition>`, Calico's way of appending a rewritten selector to a policy's. */
function appendRewritten(current: string, addition: string): string {
  if (current === "") return addition;
  return `(${current}) && ${addition}`;
}

function namespaceTerm(namespace: string): string {
  return `${LABEL_NAMESPACE} == '${namespace}'`;
}

/** The endpoint selector of a rule's `serviceAccounts` (pcsa.-prefixed selector, then names). */
export function serviceAccountText(match: ServiceAccountMatch): string {
  const parts: string[] = [];
  if (match.selector) parts.push(serviceAccountSelectorToEndpointSelector(match.selector).toString());
  if (match.names && match.names.length > 0) parts.push(serviceAccountNamesToEndpointSelector(match.names).toString());
  return parts.join(" && ");
}

/**
 * The positive selector of one side of a rule, with §7's rewriting; "" when the side selects by
 * nothing but nets or ports.
 */
export function entitySelectorText(entity: EntityRule, namespace: string | undefined): string {
  let scope = "";
  if (entity.namespaceSelector) {
    scope = namespaceSelectorToEndpointSelector(entity.namespaceSelector).toString();
  } else if (namespace !== undefined && (entity.selector || entity.notSelector || entity.serviceAccounts)) {
    // A namespaced policy's rules look only inside its namespace unless told otherwise.
    scope = namespaceTerm(namespace);
  }
  let text = and(scope, entity.selector ?? "");
  if (entity.serviceAccounts) text = and(text, serviceAccountText(entity.serviceAccounts));
  return text;
}

/** The applies-to selector of a policy as Calico's conversion writes it. */
export function appliesToText(policy: NetworkPolicy | GlobalNetworkPolicy): string {
  let text = policy.spec.selector ?? "";
  if (policy.kind === "NetworkPolicy") {
    const term = namespaceTerm(policy.metadata.namespace);
    text = text.trim() === "" ? term : `(${text}) && ${term}`;
  } else if (policy.spec.namespaceSelector) {
    text = appendRewritten(text, namespaceSelectorToEndpointSelector(policy.spec.namespaceSelector).toString());
  }
  if (policy.spec.serviceAccountSelector) {
    text = appendRewritten(
      text,
      serviceAccountSelectorToEndpointSelector(policy.spec.serviceAccountSelector).toString(),
    );
  }
  return text;
}

function compileRules(
  rules: readonly Rule[] | undefined,
  direction: RuleDirection,
  namespace: string | undefined,
  into: CompiledRuleSelector[],
): void {
  (rules ?? []).forEach((rule, i) => {
    const index = i + 1;
    for (const side of ["source", "destination"] as const) {
      const entity = rule[side];
      if (!entity) continue;
      const positive = entitySelectorText(entity, namespace);
      if (positive !== "") into.push({ direction, index, type: side, ...compiled(positive) });
      if (entity.notSelector) into.push({ direction, index, type: `!${side}`, ...compiled(entity.notSelector) });
    }
  });
}

/**
 * Compiles a local policy. Throws the selector package's `SelectorParseError` (or
 * `SelectorBuildError`) when one of its selectors is invalid.
 */
export function compilePolicy(policy: NetworkPolicy | GlobalNetworkPolicy): CompiledPolicy {
  const namespace = policy.kind === "NetworkPolicy" ? policy.metadata.namespace : undefined;
  const rules: CompiledRuleSelector[] = [];
  compileRules(policy.spec.ingress, "inbound", namespace, rules);
  compileRules(policy.spec.egress, "outbound", namespace, rules);
  const result: CompiledPolicy = {
    kind: policy.kind,
    resourceName: policy.metadata.name,
    name: policyDisplayName(policy),
    tier: policyTier(policy),
    untracked: policy.kind === "GlobalNetworkPolicy" && policy.spec.doNotTrack === true,
    appliesTo: compiled(appliesToText(policy)),
    rules,
  };
  if (namespace !== undefined) result.namespace = namespace;
  if (policy.spec.order !== undefined) result.order = policy.spec.order;
  return result;
}

/** The order of a tier: its Tier resource's, else `DEFAULT_TIER_ORDER` for `default`, else none. */
export function effectiveTierOrder(
  tier: string,
  tierOrders: ReadonlyMap<string, number | undefined>,
): number | undefined {
  if (tierOrders.has(tier)) return tierOrders.get(tier);
  return tier === DEFAULT_TIER ? DEFAULT_TIER_ORDER : undefined;
}

const orderKey = (order: number | undefined): number => order ?? Number.POSITIVE_INFINITY;

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * calicoq's policy order: untracked policies first, then by tier order (a tier without one last),
 * tier name, policy order (none last), and name.
 */
export function comparePolicies(
  a: CompiledPolicy,
  b: CompiledPolicy,
  tierOrders: ReadonlyMap<string, number | undefined>,
): number {
  if (a.untracked !== b.untracked) return a.untracked ? -1 : 1;
  const ta = orderKey(effectiveTierOrder(a.tier, tierOrders));
  const tb = orderKey(effectiveTierOrder(b.tier, tierOrders));
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.tier !== b.tier) return byCodePoint(a.tier, b.tier);
  const oa = orderKey(a.order);
  const ob = orderKey(b.order);
  if (oa !== ob) return oa < ob ? -1 : 1;
  return byCodePoint(a.name, b.name);
}
