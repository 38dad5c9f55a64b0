/**
 * Evaluation of a selector against a plain label set, with Calico's semantics: a missing label
 * makes `==`, `in`, `has`, `contains`, `starts with` and `ends with` false, and `!=` and `not in`
 * true. The AST is compiled once into closures so that a scan over many label sets does not
 * re-dispatch on node kinds.
 */
import type { Labels, SelectorNode } from "./types.js";

/** Returns a label's value, or undefined when the label is missing. */
export type LabelLookup = (key: string) => string | undefined;

/** A compiled selector: true when the label set behind `lookup` matches. */
export type CompiledPredicate = (lookup: LabelLookup) => boolean;

/** Sets up to this size are searched linearly; larger ones get a `Set`. */
const SMALL_SET = 8;

const TRUE: CompiledPredicate = () => true;
const FALSE: CompiledPredicate = () => false;

/** Compiles an AST into a predicate over label lookups. */
export function compileNode(node: SelectorNode): CompiledPredicate {
  switch (node.kind) {
    case "all":
    case "global":
      return TRUE;
    case "has": {
      const key = node.label;
      return (get) => get(key) !== undefined;
    }
    case "equal": {
      const { label, value } = node;
      return (get) => get(label) === value;
    }
    case "notEqual": {
      const { label, value } = node;
      return (get) => get(label) !== value;
    }
    case "in":
    case "notIn": {
      const label = node.label;
      const member = memberTest(node.values);
      return node.kind === "in"
        ? (get) => {
            const v = get(label);
            return v !== undefined && member(v);
          }
        : (get) => {
            const v = get(label);
            return v === undefined || !member(v);
          };
    }
    case "contains": {
      const { label, value } = node;
      return (get) => get(label)?.includes(value) === true;
    }
    case "startsWith": {
      const { label, value } = node;
      return (get) => get(label)?.startsWith(value) === true;
    }
    case "endsWith": {
      const { label, value } = node;
      return (get) => get(label)?.endsWith(value) === true;
    }
    case "not": {
      const operand = compileNode(node.operand);
      return (get) => !operand(get);
    }
    case "and": {
      const operands = node.operands.map(compileNode);
      return (get) => {
        for (const operand of operands) if (!operand(get)) return false;
        return true;
      };
    }
    case "or": {
      const operands = node.operands.map(compileNode);
      if (operands.length === 0) return FALSE;
      return (get) => {
        for (const operand of operands) if (operand(get)) return true;
        return false;
      };
    }
  }
}

function memberTest(values: readonly string[]): (value: string) => boolean {
  if (values.length === 0) return () => false;
  if (values.length <= SMALL_SET) return (v) => values.includes(v);
  const set = new Set(values);
  return (v) => set.has(v);
}

/**
 * A lookup over a record or a map. Records are read through their own properties only, so a
 * label named `constructor` or `__proto__` is not confused with what `Object.prototype` carries.
 */
export function lookupFor(labels: Labels): LabelLookup {
  if (isLabelMap(labels)) return (key) => labels.get(key);
  const record = labels;
  return (key) => {
    const value = record[key];
    // Most keys tested are missing: check ownership only for the ones found.
    return value !== undefined && Object.hasOwn(record, key) ? value : undefined;
  };
}

/**
 * Tells a map from a record without probing a missing `get` property on every record (a slow,
 * megamorphic miss): plain objects are records; anything else with a `get` method is map-like.
 */
export function isLabelMap(labels: Labels): labels is ReadonlyMap<string, string> {
  if (labels instanceof Map) return true;
  const proto: unknown = Object.getPrototypeOf(labels);
  if (proto === Object.prototype || proto === null) return false;
  return typeof (labels as { get?: unknown }).get === "function";
}
