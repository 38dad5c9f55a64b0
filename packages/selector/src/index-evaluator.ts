/**
 * Evaluates a selector against one item of a `LabelIndex`, reading its interned record directly:
 * no label map is built per item, and inherited labels are looked up through the item's parents
 * at match time (own labels first, then each parent in order; the first that has the key wins).
 */
import { UNKNOWN_ID } from "./intern-table.js";
import { CHUNK_BITS, OFFSET_MASK, type RecordArena } from "./record-arena.js";
import type { SelectorNode } from "./types.js";

/** What `lookup` returns for a label the item does not have. */
export const MISSING = -1;

/**
 * Item record layout (int32 words): `[labelCount, parentCount, slot, keyMask, (key, value,
 * postingPosition) × labelCount sorted by key id, (parentSlot, childPosition) × parentCount in
 * inheritance order]`. The slot lets a scan walk the arena in memory order: a record is live when
 * its slot's address points back at it. `keyMask` has bit `key % 32` set for each own key, so
 * looking up a key the item lacks (`!has(x)`, inherited keys) usually skips the own labels.
 */
export const RECORD_HEADER = 4;

/** The `keyMask` of a set of own key ids. */
export function keyMask(keys: Iterable<number>): number {
  let mask = 0;
  for (const key of keys) mask |= 1 << (key & 31);
  return mask;
}
export const LABEL_WORDS = 3;
export const PARENT_WORDS = 2;

/** Words of the record at `offset`. */
export function recordWords(chunk: Int32Array, offset: number): number {
  return RECORD_HEADER + LABEL_WORDS * chunk[offset]! + PARENT_WORDS * chunk[offset + 1]!;
}

/** The parts of the index an evaluator reads. */
export interface IndexStorage {
  readonly arena: RecordArena;
  /** Record address per item slot (the array is replaced as the index grows, hence a function). */
  recordAddresses(): Int32Array;
  /**
   * Labels per parent slot as `[key, value, …]` sorted by key id (a parent has few labels: a
   * short scan beats a map lookup); undefined while a parent is not defined.
   */
  readonly parentPairs: readonly (Int32Array | undefined)[];
  /** Per key id, how many parents define it: lookups skip the parents for keys none has. */
  readonly parentKeyCounts: readonly number[];
  /** Value strings by value id (a stable array, mutated in place). */
  readonly valueNames: readonly string[];
}

/**
 * Maps label keys and values to ids. A query resolves without interning (`UNKNOWN_ID` for strings
 * no item has, which folds into constants); a watch interns and keeps references, since items
 * with those strings may arrive later.
 */
export interface IdResolver {
  key(name: string): number;
  value(name: string): number;
}

type Predicate = () => boolean;
const TRUE: Predicate = () => true;
const FALSE: Predicate = () => false;
const SMALL_SET = 8;
/** String tests run directly this many times before a query starts caching them per value id. */
const MEMOIZE_AFTER = 1024;
const NO_WORDS = new Int32Array(0);

export class SlotEvaluator {
  private readonly storage: IndexStorage;
  // Stable arrays of the storage, held directly to save a property hop per lookup.
  private readonly parentPairs: readonly (Int32Array | undefined)[];
  private readonly parentKeyCounts: readonly number[];
  private readonly predicate: Predicate;
  private readonly memoize: boolean;
  // The record being evaluated, set by `test`.
  private chunk: Int32Array = NO_WORDS;
  private ownKeys = 0;
  private labelsStart = 0;
  private labelsEnd = 0;
  private parentsEnd = 0;

  /**
   * `memoize` caches string tests (`contains`, …) per value id. Only for evaluators used while the
   * index does not change (queries): a released value id may come back as another string.
   */
  constructor(storage: IndexStorage, node: SelectorNode, resolve: IdResolver, memoize = false) {
    this.memoize = memoize;
    this.storage = storage;
    this.parentPairs = storage.parentPairs;
    this.parentKeyCounts = storage.parentKeyCounts;
    this.predicate = this.compile(node, resolve);
  }

  /** True if the item in `slot` (which must hold a live record) matches. */
  test(slot: number): boolean {
    const address = this.storage.recordAddresses()[slot]!;
    return this.testRecord(this.storage.arena.chunks[address >>> CHUNK_BITS]!, address & OFFSET_MASK);
  }

  /** True if the record at `offset` of `chunk` matches. */
  testRecord(chunk: Int32Array, offset: number): boolean {
    this.chunk = chunk;
    this.ownKeys = chunk[offset + 3]!;
    this.labelsStart = offset + RECORD_HEADER;
    this.labelsEnd = this.labelsStart + LABEL_WORDS * chunk[offset]!;
    this.parentsEnd = this.labelsEnd + PARENT_WORDS * chunk[offset + 1]!;
    return this.predicate();
  }

  /** The value id of `key` on the current item, own labels first, then parents in order. */
  private lookup(key: number): number {
    const chunk = this.chunk;
    if ((this.ownKeys & (1 << (key & 31))) !== 0) {
      for (let i = this.labelsStart, end = this.labelsEnd; i < end; i += LABEL_WORDS) {
        const k = chunk[i]!;
        if (k === key) return chunk[i + 1]!;
        if (k > key) break;
      }
    }
    if (!(this.parentKeyCounts[key]! > 0)) return MISSING;
    const parents = this.parentPairs;
    for (let i = this.labelsEnd, end = this.parentsEnd; i < end; i += PARENT_WORDS) {
      const pairs = parents[chunk[i]!];
      if (pairs === undefined) continue;
      for (let j = 0; j < pairs.length; j += 2) {
        const k = pairs[j]!;
        if (k === key) return pairs[j + 1]!;
        if (k > key) break;
      }
    }
    return MISSING;
  }

  private compile(node: SelectorNode, resolve: IdResolver): Predicate {
    switch (node.kind) {
      case "all":
      case "global":
        return TRUE;
      case "has": {
        const key = resolve.key(node.label);
        if (key === UNKNOWN_ID) return FALSE;
        return () => this.lookup(key) !== MISSING;
      }
      case "equal":
      case "notEqual": {
        const key = resolve.key(node.label);
        const value = key === UNKNOWN_ID ? UNKNOWN_ID : resolve.value(node.value);
        // No item has the key or the value: `==` never holds and `!=` always does.
        if (value === UNKNOWN_ID) return node.kind === "equal" ? FALSE : TRUE;
        return node.kind === "equal" ? () => this.lookup(key) === value : () => this.lookup(key) !== value;
      }
      case "in":
      case "notIn": {
        const key = resolve.key(node.label);
        const ids =
          key === UNKNOWN_ID ? [] : node.values.map((v) => resolve.value(v)).filter((id) => id !== UNKNOWN_ID);
        if (ids.length === 0) return node.kind === "in" ? FALSE : TRUE;
        const member = memberTest(ids);
        return node.kind === "in"
          ? () => member(this.lookup(key))
          : () => {
              const value = this.lookup(key);
              return value === MISSING || !member(value);
            };
      }
      case "contains":
      case "startsWith":
      case "endsWith": {
        const key = resolve.key(node.label);
        if (key === UNKNOWN_ID) return FALSE;
        const text = node.value;
        const names = this.storage.valueNames;
        const test =
          node.kind === "contains"
            ? (v: string) => v.includes(text)
            : node.kind === "startsWith"
              ? (v: string) => v.startsWith(text)
              : (v: string) => v.endsWith(text);
        if (!this.memoize) {
          return () => {
            const value = this.lookup(key);
            return value !== MISSING && test(names[value]!);
          };
        }
        // 0 = not computed yet, 1 = true, 2 = false; sized to the value ids that exist now, and
        // only allocated once a query proves large enough to pay for it.
        let known: Uint8Array | undefined;
        let calls = 0;
        return () => {
          const value = this.lookup(key);
          if (value === MISSING) return false;
          if (known === undefined) {
            if (++calls < MEMOIZE_AFTER) return test(names[value]!);
            known = new Uint8Array(names.length);
          }
          const cached = known[value];
          if (cached !== 0) return cached === 1;
          const result = test(names[value]!);
          known[value] = result ? 1 : 2;
          return result;
        };
      }
      case "not": {
        const operand = this.compile(node.operand, resolve);
        return () => !operand();
      }
      case "and": {
        const operands = node.operands.map((child) => this.compile(child, resolve));
        return () => {
          for (const operand of operands) if (!operand()) return false;
          return true;
        };
      }
      case "or": {
        const operands = node.operands.map((child) => this.compile(child, resolve));
        return () => {
          for (const operand of operands) if (operand()) return true;
          return false;
        };
      }
    }
  }
}

/** `MISSING` is never a member. */
function memberTest(ids: number[]): (id: number) => boolean {
  if (ids.length <= SMALL_SET) return (id) => ids.includes(id);
  const set = new Set(ids);
  return (id) => set.has(id);
}
