/**
 * Building, checking and transforming selector ASTs.
 *
 * The builders validate what they are given (a label key Calico would parse, a value that can be
 * quoted) and return nodes in canonical shape, so that every selector printed from them parses
 * back to the same AST: sets sorted and de-duplicated, and one-operand groups collapsed to the
 * operand (the parser never makes a one-operand group, and `(x)` reads back as `x`).
 */
import { SelectorBuildError } from "./errors.js";
import { internString } from "./intern-string.js";
import { isValidLabelKey } from "./tokenizer.js";
import type {
  AllNode,
  AndNode,
  ContainsNode,
  EndsWithNode,
  EqualNode,
  GlobalNode,
  HasNode,
  InNode,
  NotEqualNode,
  NotInNode,
  NotNode,
  OrNode,
  SelectorNode,
  SelectorNodeKindName,
  StartsWithNode,
} from "./types.js";

/** The `kind` tags of the selector AST. */
export const SelectorNodeKind = {
  All: "all",
  Global: "global",
  Has: "has",
  Equal: "equal",
  NotEqual: "notEqual",
  In: "in",
  NotIn: "notIn",
  Contains: "contains",
  StartsWith: "startsWith",
  EndsWith: "endsWith",
  Not: "not",
  And: "and",
  Or: "or",
} as const satisfies Record<string, SelectorNodeKindName>;

/**
 * Deepest AST a builder accepts. Evaluation, printing and restrictions recurse over the AST, so
 * this bounds their stack use; parsed selectors stay far below it (see `SELECTOR_LIMITS.maxDepth`).
 */
export const MAX_AST_DEPTH = 1024;

/**
 * Orders strings by Unicode code point, which is the UTF-8 byte order Calico (Go) sorts set
 * members by. Plain `<` compares UTF-16 code units and puts astral characters before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xSurrogate = x >= 0xd800 && x <= 0xdfff;
      const ySurrogate = y >= 0xd800 && y <= 0xdfff;
      if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Sorted by code point, duplicates removed. */
export function canonicalSet(values: Iterable<string>): string[] {
  const sorted = [...values].sort(compareCodePoints);
  const out: string[] = [];
  for (const v of sorted) {
    if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  }
  return out;
}

const ALL: AllNode = Object.freeze({ kind: "all" });
const GLOBAL: GlobalNode = Object.freeze({ kind: "global" });

/** `all()`. */
export function allNode(): AllNode {
  return ALL;
}

/** `global()`. */
export function globalNode(): GlobalNode {
  return GLOBAL;
}

/** `has(label)`. */
export function hasNode(label: string): HasNode {
  return { kind: "has", label: checkLabel(label) };
}

/** `label == "value"`. */
export function equalNode(label: string, value: string): EqualNode {
  return { kind: "equal", label: checkLabel(label), value: checkValue(value) };
}

/** `label != "value"`. */
export function notEqualNode(label: string, value: string): NotEqualNode {
  return { kind: "notEqual", label: checkLabel(label), value: checkValue(value) };
}

/** `label in {…}`; the values are sorted and de-duplicated. */
export function inNode(label: string, values: Iterable<string>): InNode {
  return { kind: "in", label: checkLabel(label), values: checkValues(values) };
}

/** `label not in {…}`; the values are sorted and de-duplicated. */
export function notInNode(label: string, values: Iterable<string>): NotInNode {
  return { kind: "notIn", label: checkLabel(label), values: checkValues(values) };
}

/** `label contains "value"`. */
export function containsNode(label: string, value: string): ContainsNode {
  return { kind: "contains", label: checkLabel(label), value: checkValue(value) };
}

/** `label starts with "value"`. */
export function startsWithNode(label: string, value: string): StartsWithNode {
  return { kind: "startsWith", label: checkLabel(label), value: checkValue(value) };
}

/** `label ends with "value"`. */
export function endsWithNode(label: string, value: string): EndsWithNode {
  return { kind: "endsWith", label: checkLabel(label), value: checkValue(value) };
}

/** `!operand`. */
export function notNode(operand: SelectorNode): NotNode {
  return { kind: "not", operand };
}

/** `(a && b …)`. No operand gives `all()`; one operand is returned as is. */
export function andNode(...operands: SelectorNode[]): SelectorNode | AndNode {
  if (operands.length === 0) return ALL;
  if (operands.length === 1) return operands[0]!;
  return { kind: "and", operands };
}

/** `(a || b …)`. One operand is returned as is; at least one is required. */
export function orNode(...operands: SelectorNode[]): SelectorNode | OrNode {
  if (operands.length === 0) throw new SelectorBuildError("an || group needs at least one operand");
  if (operands.length === 1) return operands[0]!;
  return { kind: "or", operands };
}

/**
 * Rewrites an AST bottom-up: children first, then `rewrite` is called on every node (with its
 * already rewritten children) and its result replaces the node. Return the node itself to keep it.
 */
export function mapSelectorNode(node: SelectorNode, rewrite: (node: SelectorNode) => SelectorNode): SelectorNode {
  return mapNode(node, rewrite, 0);
}

function mapNode(node: SelectorNode, rewrite: (node: SelectorNode) => SelectorNode, depth: number): SelectorNode {
  if (depth > MAX_AST_DEPTH) throw new SelectorBuildError(`selector AST deeper than ${MAX_AST_DEPTH}`);
  switch (node.kind) {
    case "not": {
      const operand = mapNode(node.operand, rewrite, depth + 1);
      return rewrite(operand === node.operand ? node : notNode(operand));
    }
    case "and":
    case "or": {
      let changed = false;
      const operands = node.operands.map((child) => {
        const mapped = mapNode(child, rewrite, depth + 1);
        if (mapped !== child) changed = true;
        return mapped;
      });
      if (!changed) return rewrite(node);
      return rewrite(node.kind === "and" ? andNode(...operands) : orNode(...operands));
    }
    default:
      return rewrite(node);
  }
}

/**
 * Checks an AST from outside the package (e.g. hand-written object literals) and returns it in
 * canonical shape. Throws `SelectorBuildError` on an unknown kind, a bad label key, an unquotable
 * value, an empty `||` group or an AST deeper than `MAX_AST_DEPTH`.
 */
export function canonicalNode(node: SelectorNode): SelectorNode {
  return canonical(node, 0);
}

function canonical(node: SelectorNode, depth: number): SelectorNode {
  if (depth > MAX_AST_DEPTH) throw new SelectorBuildError(`selector AST deeper than ${MAX_AST_DEPTH}`);
  if (typeof node !== "object" || node === null) throw new SelectorBuildError("a selector node must be an object");
  switch (node.kind) {
    case "all":
      return ALL;
    case "global":
      return GLOBAL;
    case "has":
      return hasNode(node.label);
    case "equal":
      return equalNode(node.label, node.value);
    case "notEqual":
      return notEqualNode(node.label, node.value);
    case "in":
      return inNode(node.label, arrayOf(node.values));
    case "notIn":
      return notInNode(node.label, arrayOf(node.values));
    case "contains":
      return containsNode(node.label, node.value);
    case "startsWith":
      return startsWithNode(node.label, node.value);
    case "endsWith":
      return endsWithNode(node.label, node.value);
    case "not":
      return notNode(canonical(node.operand, depth + 1));
    case "and":
      return andNode(...arrayOf(node.operands).map((child) => canonical(child, depth + 1)));
    case "or":
      return orNode(...arrayOf(node.operands).map((child) => canonical(child, depth + 1)));
    default:
      throw new SelectorBuildError(`unknown selector node kind ${JSON.stringify((node as { kind?: unknown }).kind)}`);
  }
}

function arrayOf<T>(value: readonly T[]): readonly T[] {
  if (!Array.isArray(value)) throw new SelectorBuildError("expected an array in a selector node");
  return value;
}

function checkLabel(label: string): string {
  if (typeof label !== "string" || !isValidLabelKey(label)) {
    throw new SelectorBuildError(
      `invalid label key ${JSON.stringify(label)}: expected 1–512 characters of [A-Za-z0-9_./-]`,
    );
  }
  return internString(label);
}

/** A value must survive printing: a quote style without escapes must exist and it may not break a line. */
function checkValue(value: string): string {
  if (typeof value !== "string") throw new SelectorBuildError("a selector value must be a string");
  if (value.includes('"') && value.includes("'")) {
    throw new SelectorBuildError(`value ${JSON.stringify(value)} holds both quote characters and cannot be printed`);
  }
  if (value.includes("\n") || value.includes("\r")) {
    throw new SelectorBuildError(`value ${JSON.stringify(value)} holds a line break`);
  }
  return value;
}

function checkValues(values: Iterable<string>): string[] {
  if (typeof values === "string" || values === null || typeof values !== "object") {
    throw new SelectorBuildError("set values must be an iterable of strings");
  }
  const out: string[] = [];
  for (const v of values) out.push(checkValue(v));
  return canonicalSet(out);
}
