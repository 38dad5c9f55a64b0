/**
 * Public types of `@fedview/selector`: the selector AST, the parsed selector, its label
 * restrictions and the label index's watch events.
 *
 * AST nodes are plain, immutable objects tagged by `kind` (see `SelectorNodeKind` for the
 * values). A node built by `parseSelector` or by the builders in `ast.ts` is already in canonical
 * shape: set members sorted (by code point, as Calico sorts UTF-8 bytes) and distinct, and `and` /
 * `or` nodes hold at least two operands.
 */

/** `all()`: true for every label set. */
export interface AllNode {
  readonly kind: "all";
}

/** `global()`: true for every label set; a scope marker that only a namespaceSelector gives meaning to. */
export interface GlobalNode {
  readonly kind: "global";
}

/** `has(label)`: the label is present. */
export interface HasNode {
  readonly kind: "has";
  readonly label: string;
}

/** `label == "value"`: present and equal (false when missing). */
export interface EqualNode {
  readonly kind: "equal";
  readonly label: string;
  readonly value: string;
}

/** `label != "value"`: missing, or present and different (true when missing). */
export interface NotEqualNode {
  readonly kind: "notEqual";
  readonly label: string;
  readonly value: string;
}

/** `label in {…}`: present and a member; `{}` never matches. */
export interface InNode {
  readonly kind: "in";
  readonly label: string;
  /** Sorted by code point and distinct. */
  readonly values: readonly string[];
}

/** `label not in {…}`: missing, or present and not a member; `{}` always matches. */
export interface NotInNode {
  readonly kind: "notIn";
  readonly label: string;
  /** Sorted by code point and distinct. */
  readonly values: readonly string[];
}

/** `label contains "s"`: present and containing `s` (`""` matches any present value). */
export interface ContainsNode {
  readonly kind: "contains";
  readonly label: string;
  readonly value: string;
}

/** `label starts with "s"`: present with prefix `s`. */
export interface StartsWithNode {
  readonly kind: "startsWith";
  readonly label: string;
  readonly value: string;
}

/** `label ends with "s"`: present with suffix `s`. */
export interface EndsWithNode {
  readonly kind: "endsWith";
  readonly label: string;
  readonly value: string;
}

/** `!operand`. */
export interface NotNode {
  readonly kind: "not";
  readonly operand: SelectorNode;
}

/** `(a && b && …)`: a group of two or more operands, kept unflattened as written. */
export interface AndNode {
  readonly kind: "and";
  readonly operands: readonly SelectorNode[];
}

/** `(a || b || …)`: a group of two or more operands, kept unflattened as written. */
export interface OrNode {
  readonly kind: "or";
  readonly operands: readonly SelectorNode[];
}

/** A node that tests one label. */
export type LabelNode =
  | HasNode
  | EqualNode
  | NotEqualNode
  | InNode
  | NotInNode
  | ContainsNode
  | StartsWithNode
  | EndsWithNode;

/** Any node of the selector AST. */
export type SelectorNode = AllNode | GlobalNode | LabelNode | NotNode | AndNode | OrNode;

/** The `kind` tag of a selector node. */
export type SelectorNodeKindName = SelectorNode["kind"];

/** A label set as callers hold it: a plain record (own properties only) or a map. */
export type Labels = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** What a label must look like on any label set the selector matches. */
export interface LabelRestriction {
  /** The label must be present. Always true for an entry of `SelectorRestrictions.labels`. */
  readonly mustBePresent: boolean;
  /**
   * When set, the label's value must be one of these (sorted by code point, distinct). An empty
   * list means no value satisfies the selector.
   */
  readonly mustHaveOneOfValues: readonly string[] | undefined;
  /** No value of this label satisfies the selector, so the selector matches nothing. */
  readonly impossible: boolean;
}

/**
 * Necessary conditions that a selector puts on labels: every label set it matches satisfies them
 * (the converse does not hold). An index uses them to narrow its candidates.
 */
export interface SelectorRestrictions {
  /** The selector matches no label set at all (e.g. `!all()`, `a in {}`, `a == "x" && a == "y"`). */
  readonly impossible: boolean;
  /** Per label key, what every matching label set must have. Labels that are not restricted are absent. */
  readonly labels: ReadonlyMap<string, LabelRestriction>;
}

/** A parsed (or built) selector. Immutable. */
export interface Selector {
  /** The root of the AST, in canonical shape. */
  readonly root: SelectorNode;
  /**
   * A stable hash of the canonical form: `s:` + unpadded base64url SHA-224 of `toString()`, the
   * scheme of Calico's selector unique IDs.
   */
  readonly id: string;
  /** Evaluates the selector with Calico's semantics against one label set. */
  matches(labels: Labels): boolean;
  /** Calico's canonical form, e.g. `!(has(b) || !has(a))`; an empty selector prints `all()`. */
  toString(): string;
  /** Per label: must be present / one of values / impossible. Computed once, then cached. */
  restrictions(): SelectorRestrictions;
}

/** Anything the selector helpers accept: a parsed selector, a bare AST node or selector text. */
export type SelectorInput = Selector | SelectorNode | string;

/** Caps that keep hostile input from costing unbounded time, memory or stack. */
export interface SelectorLimits {
  /** Longest accepted selector text, in UTF-16 code units. */
  readonly maxLength: number;
  /** Most tokens a selector may have (the end-of-input marker not counted). */
  readonly maxTokens: number;
  /** Deepest nesting of parentheses and negations (`((!a == "x"))` nests 3 deep). */
  readonly maxDepth: number;
}

/** Options of `parseSelector` and `validateSelector`. */
export interface ParseSelectorOptions {
  /** Overrides of the default limits (`SELECTOR_LIMITS`). */
  readonly limits?: Partial<SelectorLimits>;
}

/** What a `LabelIndex` watch reports when an item starts or stops matching its selector. */
export interface LabelIndexWatchEvent {
  readonly kind: "match-started" | "match-stopped";
  /** The item's id. */
  readonly id: string;
}

/** Receives the events of one watch, synchronously, in the order the index changed. */
export type LabelIndexWatchCallback = (event: LabelIndexWatchEvent) => void;

/** A live selector watch on a `LabelIndex`. `close()` (or `using`) stops it; no event follows. */
export interface LabelIndexWatch extends Disposable {
  /** The watched selector. */
  readonly selector: Selector;
  /** True once closed. */
  readonly closed: boolean;
  /** The ids that currently match, sorted (UTF-16 code unit order). Empty once closed. */
  matchingIds(): string[];
  /** Stops the watch and frees what it holds. Idempotent. */
  close(): void;
}

/** Options of `LabelIndex.query`. */
export interface LabelIndexQueryOptions {
  /**
   * Sort the ids (UTF-16 code unit order, as `Array.prototype.sort`). Defaults to true; pass false
   * for large results whose order does not matter.
   */
  readonly sorted?: boolean;
}

/** Sizes of a `LabelIndex`, for metrics and the benchmark. */
export interface LabelIndexStats {
  /** Items (endpoints) held. */
  readonly items: number;
  /** Parents (profiles) that are defined or referenced by an item. */
  readonly parents: number;
  /** Distinct label keys interned. */
  readonly labelKeys: number;
  /** Distinct label values interned. */
  readonly labelValues: number;
  /** Open watches. */
  readonly watches: number;
  /** Bytes reserved for per-item records (live records, free space and garbage awaiting compaction). */
  readonly recordBytes: number;
  /** Bytes of per-item records that are garbage awaiting compaction. */
  readonly garbageBytes: number;
}
