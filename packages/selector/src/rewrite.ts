/**
 * Selector rewrites the query service applies to policy selectors (calico.md §7), done on the
 * AST rather than on text so that the result is a checked selector printed in canonical form.
 */
import {
  andNode,
  containsNode,
  endsWithNode,
  equalNode,
  hasNode,
  inNode,
  mapSelectorNode,
  notEqualNode,
  notInNode,
  notNode,
  orNode,
  startsWithNode,
} from "./ast.js";
import { selectorFromNode, toSelector } from "./selector.js";
import type { LabelNode, Selector, SelectorInput, SelectorNode } from "./types.js";

/** Label holding an endpoint's namespace; only namespaced endpoints carry it. */
export const NAMESPACE_LABEL = "projectcalico.org/namespace";
/** Label holding a workload endpoint's service account name. */
export const SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount";
/** Prefix of the namespace labels an endpoint inherits from its `kns.` profile. */
export const NAMESPACE_LABEL_PREFIX = "pcns.";
/** Prefix of the service account labels an endpoint inherits from its `ksa.` profile. */
export const SERVICE_ACCOUNT_LABEL_PREFIX = "pcsa.";

/**
 * Rewrites a selector bottom-up with `rewrite` (see `mapSelectorNode`) and returns the checked,
 * canonical result. Throws `SelectorBuildError` if the result is not a valid selector.
 */
export function mapSelector(input: SelectorInput, rewrite: (node: SelectorNode) => SelectorNode): Selector {
  return selectorFromNode(mapSelectorNode(toSelector(input).root, rewrite));
}

/**
 * Prefixes every label key the selector tests, e.g. `a == "x" && has(b)` with `pcns.` gives
 * `(pcns.a == "x" && has(pcns.b))`. `all()` and `global()` are left alone. Throws
 * `SelectorBuildError` if a prefixed key is no longer a valid label key (e.g. over 512 characters).
 */
export function prefixSelectorLabels(input: SelectorInput, prefix: string): Selector {
  return mapSelector(input, (node) => ("label" in node ? relabel(node, prefix + node.label) : node));
}

/**
 * Turns a policy rule's `namespaceSelector` into a selector over endpoints: every label gets the
 * `pcns.` prefix (namespace labels reach endpoints through their `kns.` profile), `all()` becomes
 * `has(projectcalico.org/namespace)` (any namespaced endpoint) and `global()` becomes
 * `!has(projectcalico.org/namespace)` (non-namespaced endpoints).
 */
export function namespaceSelectorToEndpointSelector(input: SelectorInput): Selector {
  return mapSelector(input, (node) => {
    if (node.kind === "all") return hasNode(NAMESPACE_LABEL);
    if (node.kind === "global") return notNode(hasNode(NAMESPACE_LABEL));
    return "label" in node ? relabel(node, NAMESPACE_LABEL_PREFIX + node.label) : node;
  });
}

/**
 * Turns a rule's `serviceAccounts.selector` into a selector over endpoints: every label gets the
 * `pcsa.` prefix (service account labels reach endpoints through their `ksa.` profile).
 */
export function serviceAccountSelectorToEndpointSelector(input: SelectorInput): Selector {
  return prefixSelectorLabels(input, SERVICE_ACCOUNT_LABEL_PREFIX);
}

/** Turns a rule's `serviceAccounts.names` into `projectcalico.org/serviceaccount in {…}`. */
export function serviceAccountNamesToEndpointSelector(names: Iterable<string>): Selector {
  return selectorFromNode(inNode(SERVICE_ACCOUNT_LABEL, names));
}

/**
 * Combines selectors with `&&`, keeping each one a unit as Calico's `(<a>) && (<b>)` text does:
 * `andSelectors("a == 'x'", "b == 'y' && c == 'z'")` prints
 * `(a == "x" && (b == "y" && c == "z"))`. No selector gives `all()`; one is returned unchanged.
 */
export function andSelectors(...inputs: SelectorInput[]): Selector {
  const selectors = inputs.map(toSelector);
  if (selectors.length === 1) return selectors[0]!;
  return selectorFromNode(andNode(...selectors.map((s) => s.root)));
}

/** Combines selectors with `||`, each one kept a unit. One selector is returned unchanged; at least one is required. */
export function orSelectors(...inputs: SelectorInput[]): Selector {
  const selectors = inputs.map(toSelector);
  if (selectors.length === 1) return selectors[0]!;
  return selectorFromNode(orNode(...selectors.map((s) => s.root)));
}

/** The same test on another label. */
function relabel(node: LabelNode, label: string): LabelNode {
  switch (node.kind) {
    case "has":
      return hasNode(label);
    case "equal":
      return equalNode(label, node.value);
    case "notEqual":
      return notEqualNode(label, node.value);
    case "in":
      return inNode(label, node.values);
    case "notIn":
      return notInNode(label, node.values);
    case "contains":
      return containsNode(label, node.value);
    case "startsWith":
      return startsWithNode(label, node.value);
    case "endsWith":
      return endsWithNode(label, node.value);
  }
}
