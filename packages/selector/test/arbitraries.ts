/**
 * fast-check arbitraries shared by the property tests: selector ASTs over a small label/value
 * vocabulary (so that random selectors actually match random label sets), label sets, and an
 * oracle for effective labels with profile inheritance.
 */
import fc from "fast-check";
import {
  allNode,
  andNode,
  containsNode,
  endsWithNode,
  equalNode,
  globalNode,
  hasNode,
  inNode,
  notEqualNode,
  notInNode,
  notNode,
  orNode,
  type SelectorNode,
  startsWithNode,
} from "../src/index.js";

/** A few label keys, including ones that look like keywords. */
export const LABEL_KEYS = ["a", "b", "app", "in", "has", "pcns.team", "x/y-z_1", "0.9"] as const;
/** A few values, including empty, quote-bearing and non-ASCII ones. */
export const LABEL_VALUES = ["", "v1", "v2", "web", "we", 'q"uote', "it's", "ü", "😀", "\uffff"] as const;

export const labelKey = fc.constantFrom(...LABEL_KEYS);
export const labelValue = fc.constantFrom(...LABEL_VALUES);

/** A label set over the vocabulary. */
export const labelSet: fc.Arbitrary<Record<string, string>> = fc.dictionary(labelKey, labelValue, { maxKeys: 5 });

const leaf: fc.Arbitrary<SelectorNode> = fc.oneof(
  fc.constant(allNode()),
  fc.constant(globalNode()),
  labelKey.map((k) => hasNode(k)),
  fc.tuple(labelKey, labelValue).map(([k, v]) => equalNode(k, v)),
  fc.tuple(labelKey, labelValue).map(([k, v]) => notEqualNode(k, v)),
  fc.tuple(labelKey, fc.array(labelValue, { maxLength: 4 })).map(([k, vs]) => inNode(k, vs)),
  fc.tuple(labelKey, fc.array(labelValue, { maxLength: 4 })).map(([k, vs]) => notInNode(k, vs)),
  fc.tuple(labelKey, labelValue).map(([k, v]) => containsNode(k, v)),
  fc.tuple(labelKey, labelValue).map(([k, v]) => startsWithNode(k, v)),
  fc.tuple(labelKey, labelValue).map(([k, v]) => endsWithNode(k, v)),
);

/** Selector ASTs in canonical shape, up to a few levels deep. */
export const selectorNode: fc.Arbitrary<SelectorNode> = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: "selector" },
    leaf,
    tie("node").map((n) => notNode(n)),
    fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((ns) => andNode(...ns)),
    fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((ns) => orNode(...ns)),
  ),
})).node;

/** Effective labels: own labels, then each parent in order; the first to define a key wins. */
export function effectiveLabels(
  own: Readonly<Record<string, string>>,
  parentIds: readonly string[],
  parents: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Map<string, string> {
  const out = new Map(Object.entries(own));
  for (const id of parentIds) {
    for (const [k, v] of Object.entries(parents.get(id) ?? {})) if (!out.has(k)) out.set(k, v);
  }
  return out;
}
