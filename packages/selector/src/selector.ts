/**
 * The `Selector` object and the entry points that make one: `parseSelector` from text and
 * `selectorFromNode` from an AST.
 */
import { createHash } from "node:crypto";
import { canonicalNode } from "./ast.js";
import { type CompiledPredicate, compileNode, lookupFor } from "./evaluate.js";
import { parseSelectorNode } from "./parser.js";
import { printSelectorNode } from "./print.js";
import { computeRestrictions } from "./restrictions.js";
import type {
  Labels,
  ParseSelectorOptions,
  Selector,
  SelectorInput,
  SelectorNode,
  SelectorRestrictions,
} from "./types.js";

/**
 * Parses selector text with Calico's grammar and rules. An empty or blank selector is `all()`.
 * Throws `SelectorParseError` (Calico's message, plus `position`) on text Calico rejects, or text
 * beyond the limits in `options` (defaults: `SELECTOR_LIMITS`).
 */
export function parseSelector(text: string, options?: ParseSelectorOptions): Selector {
  return new ParsedSelector(parseSelectorNode(text, options));
}

/** Checks selector text exactly as `parseSelector` does, throwing the same errors, without keeping a selector. */
export function validateSelector(text: string, options?: ParseSelectorOptions): void {
  parseSelectorNode(text, options);
}

/**
 * Makes a selector from an AST (hand-built or rewritten). The AST is checked and put in canonical
 * shape; throws `SelectorBuildError` if it cannot be printed as a valid selector.
 */
export function selectorFromNode(node: SelectorNode): Selector {
  return new ParsedSelector(canonicalNode(node));
}

/** True if `value` is a `Selector` made by this package. */
export function isSelector(value: unknown): value is Selector {
  return value instanceof ParsedSelector;
}

/** Resolves any accepted selector form: a selector as is, text by parsing, an AST by `selectorFromNode`. */
export function toSelector(input: SelectorInput): Selector {
  if (typeof input === "string") return parseSelector(input);
  if (input instanceof ParsedSelector) return input;
  if (typeof input === "object" && input !== null && "root" in input && typeof input.matches === "function") {
    return input;
  }
  return selectorFromNode(input as SelectorNode);
}

class ParsedSelector implements Selector {
  readonly root: SelectorNode;
  private text: string | undefined;
  private hash: string | undefined;
  private predicate: CompiledPredicate | undefined;
  private cachedRestrictions: SelectorRestrictions | undefined;

  constructor(root: SelectorNode) {
    this.root = root;
  }

  get id(): string {
    this.hash ??= `s:${createHash("sha224").update(this.toString(), "utf8").digest("base64url")}`;
    return this.hash;
  }

  matches(labels: Labels): boolean {
    this.predicate ??= compileNode(this.root);
    return this.predicate(lookupFor(labels));
  }

  toString(): string {
    this.text ??= printSelectorNode(this.root);
    return this.text;
  }

  restrictions(): SelectorRestrictions {
    this.cachedRestrictions ??= computeRestrictions(this.root);
    return this.cachedRestrictions;
  }

  toJSON(): string {
    return this.toString();
  }
}
