/**
 * Label restrictions: necessary conditions on the labels of anything a selector matches, in the
 * spirit of Calico's `LabelRestrictions` (which Felix's label index uses to pick candidates).
 *
 * Computed with polarity so that negations are used rather than ignored: `!(a != "x")` restricts
 * `a` to `{"x"}` and `!(a not in {…})` restricts `a` to the set, with De Morgan through groups.
 * Every rule only ever weakens what is known, so the result is sound: if a selector matches a
 * label set, that label set satisfies the restrictions.
 */
import { canonicalSet } from "./ast.js";
import type { LabelRestriction, SelectorNode, SelectorRestrictions } from "./types.js";

/** Per label: must be present, and when `values` is set, must hold one of them. */
interface Restricted {
  values: Set<string> | undefined;
}

/** Either nothing can match (`never`), or these labels are restricted. */
interface Draft {
  never: boolean;
  labels: Map<string, Restricted>;
}

const NONE = (): Draft => ({ never: false, labels: new Map() });
const NEVER = (): Draft => ({ never: true, labels: new Map() });

/** Computes the label restrictions of an AST. */
export function computeRestrictions(node: SelectorNode): SelectorRestrictions {
  const draft = restrict(node, true);
  const labels = new Map<string, LabelRestriction>();
  let impossible = draft.never;
  for (const [label, r] of [...draft.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const values = r.values === undefined ? undefined : Object.freeze(canonicalSet(r.values));
    const labelImpossible = values !== undefined && values.length === 0;
    if (labelImpossible) impossible = true;
    labels.set(label, Object.freeze({ mustBePresent: true, mustHaveOneOfValues: values, impossible: labelImpossible }));
  }
  return Object.freeze({ impossible, labels });
}

/** Restrictions of `node` when it must evaluate to `positive` (false: when its negation must hold). */
function restrict(node: SelectorNode, positive: boolean): Draft {
  switch (node.kind) {
    case "all":
    case "global":
      return positive ? NONE() : NEVER();
    case "has":
    case "contains":
    case "startsWith":
    case "endsWith":
      // Negated, they hold when the label is missing, so nothing is required.
      return positive ? only(node.label, undefined) : NONE();
    case "equal":
      return positive ? only(node.label, new Set([node.value])) : NONE();
    case "notEqual":
      return positive ? NONE() : only(node.label, new Set([node.value]));
    case "in":
      return positive ? only(node.label, new Set(node.values)) : NONE();
    case "notIn":
      return positive ? NONE() : only(node.label, new Set(node.values));
    case "not":
      return restrict(node.operand, !positive);
    case "and":
    case "or": {
      const parts = node.operands.map((operand) => restrict(operand, positive));
      // An AND that must hold, or an OR that must fail, needs every operand's conditions.
      return (node.kind === "and") === positive ? intersect(parts) : union(parts);
    }
  }
}

function only(label: string, values: Set<string> | undefined): Draft {
  return { never: false, labels: new Map([[label, { values }]]) };
}

function isNever(draft: Draft): boolean {
  if (draft.never) return true;
  for (const r of draft.labels.values()) if (r.values !== undefined && r.values.size === 0) return true;
  return false;
}

/** All conditions hold at once: labels combine, value sets intersect. */
function intersect(parts: Draft[]): Draft {
  const out = NONE();
  for (const part of parts) {
    if (part.never) out.never = true;
    for (const [label, r] of part.labels) {
      const prior = out.labels.get(label);
      if (prior === undefined) {
        out.labels.set(label, { values: r.values === undefined ? undefined : new Set(r.values) });
      } else if (r.values !== undefined) {
        prior.values =
          prior.values === undefined ? new Set(r.values) : new Set([...prior.values].filter((v) => r.values?.has(v)));
      }
    }
  }
  return out;
}

/**
 * One of the alternatives holds: only labels restricted by every alternative stay, with the union
 * of their values. Alternatives that can never hold are left out.
 */
function union(parts: Draft[]): Draft {
  const live = parts.filter((part) => !isNever(part));
  const [first, ...rest] = live;
  if (first === undefined) return NEVER();
  const out = NONE();
  for (const [label, r] of first.labels) {
    let values = r.values === undefined ? undefined : new Set(r.values);
    let everywhere = true;
    for (const part of rest) {
      const other = part.labels.get(label);
      if (other === undefined) {
        everywhere = false;
        break;
      }
      if (values !== undefined) {
        if (other.values === undefined) values = undefined;
        else for (const v of other.values) values.add(v);
      }
    }
    if (everywhere) out.labels.set(label, { values });
  }
  return out;
}
