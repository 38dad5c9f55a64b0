/**
 * An in-memory index of labelled items (endpoints) and the parents (profiles) they inherit
 * labels from, answering "which items match this selector?" and reporting, for watched
 * selectors, which items start or stop matching as items and parents change.
 *
 * Inheritance: an item's effective labels are its own labels, then each parent's in the order the
 * item lists them; the first that defines a key wins. Inherited labels are never copied into
 * items: they are looked up through the parents at match time, so a parent change costs work
 * proportional to its children only when a watch cares about the labels that changed.
 *
 * Storage, sized for a million items:
 * - label keys and values are interned (reference-counted ids);
 * - each item is one int32 record in a shared arena (see `index-evaluator.ts` for its layout);
 * - postings map key → value → item slots (int32 lists; one item alone is stored as a bare
 *   number), and each record remembers its position in every posting and child list, so removal
 *   is O(1);
 * - parents keep their labels in a small map and the list of their child slots.
 *
 * `query` uses the selector's label restrictions to pick the cheapest candidate set (own
 * postings plus the children of parents that carry the label/value) and checks each candidate
 * with the full selector; it scans every item only when no restriction narrows the search.
 */

import { isLabelMap } from "./evaluate.js";
import {
  type IdResolver,
  type IndexStorage,
  keyMask,
  LABEL_WORDS,
  PARENT_WORDS,
  RECORD_HEADER,
  recordWords,
  SlotEvaluator,
} from "./index-evaluator.js";
import { growInt32, IntList } from "./int-list.js";
import { InternTable, UNKNOWN_ID } from "./intern-table.js";
import { CHUNK_BITS, OFFSET_MASK, RecordArena } from "./record-arena.js";
import { toSelector } from "./selector.js";
import type {
  LabelIndexQueryOptions,
  LabelIndexStats,
  LabelIndexWatch,
  LabelIndexWatchCallback,
  LabelIndexWatchEvent,
  Labels,
  Selector,
  SelectorInput,
} from "./types.js";

/** The `kind` values of `LabelIndexWatchEvent`. */
export const WatchEventKind = {
  MatchStarted: "match-started",
  MatchStopped: "match-stopped",
} as const satisfies Record<string, LabelIndexWatchEvent["kind"]>;

/** Item slots of one posting: a bare slot when alone, else a list. */
type Posting = number | IntList;

/** How a watch is found when an item appears or disappears. */
type WatchHook =
  | { readonly kind: "never" }
  | { readonly kind: "any" }
  | { readonly kind: "present"; readonly key: number }
  | { readonly kind: "values"; readonly key: number; readonly values: readonly number[] };

interface WatchState {
  readonly selector: Selector;
  readonly callback: LabelIndexWatchCallback;
  readonly evaluator: SlotEvaluator;
  readonly members: Set<number>;
  /** Key ids the selector reads; a change to one of them on an item may change the match. */
  readonly keys: readonly number[];
  readonly hook: WatchHook;
  /** Interned ids this watch holds references to. */
  readonly pinnedKeys: number[];
  readonly pinnedValues: number[];
  closed: boolean;
  /** De-duplication mark while collecting candidate watches. */
  mark: number;
}

interface PendingEvent {
  readonly watch: WatchState;
  readonly event: LabelIndexWatchEvent;
}

/** A snapshot of one item record, read before the record is replaced. */
interface RecordCopy {
  readonly keys: number[];
  readonly values: number[];
  readonly positions: number[];
  readonly parents: number[];
  readonly parentPositions: number[];
}

/** Candidates at most this share of all items go through the postings; more, and a scan is cheaper. */
const SCAN_SHARE = 0.5;

/**
 * The label index. Item ids are arbitrary strings (e.g. `cluster/host/orch/ns.pod/ep`); parent ids
 * are profile names. Not thread-safe; watch callbacks run synchronously before the mutating call
 * returns, and may themselves call the index.
 */
export class LabelIndex {
  private readonly keys = new InternTable();
  private readonly values = new InternTable();
  private readonly arena = new RecordArena();

  private readonly slotById = new Map<string, number>();
  private readonly itemIds: (string | undefined)[] = [];
  private addresses = new Int32Array(64).fill(-1);
  private stamps = new Int32Array(64);
  private stampEpoch = 0;
  private readonly freeSlots: number[] = [];
  private slotLimit = 0;

  /** Own-label postings, by key id then value id. */
  private readonly postings: (Map<number, Posting> | undefined)[] = [];
  /** Items carrying each key id as an own label. */
  private readonly keyItemCounts: number[] = [];

  private readonly parentSlotById = new Map<string, number>();
  private readonly parentIds: (string | undefined)[] = [];
  private readonly parentLabels: (Map<number, number> | undefined)[] = [];
  /** The same labels as sorted `[key, value, …]`, which evaluators read. */
  private readonly parentPairs: (Int32Array | undefined)[] = [];
  /** Per key id, the number of defined parents that have the key. */
  private readonly parentKeyCounts: number[] = [];
  private readonly children: IntList[] = [];
  private readonly freeParentSlots: number[] = [];
  /** Parent slots by key id then value id. */
  private readonly parentPostings = new Map<number, Map<number, Set<number>>>();

  private readonly watches = new Set<WatchState>();
  private readonly watchesByKey = new Map<number, Set<WatchState>>();
  private readonly anyWatches = new Set<WatchState>();
  private readonly presenceWatches = new Map<number, Set<WatchState>>();
  private readonly valueWatches = new Map<number, Map<number, Set<WatchState>>>();
  private watchEpoch = 0;
  private readonly pending: PendingEvent[] = [];
  private delivering = false;

  /** What the evaluators read; the arrays behind it are replaced as the index grows. */
  private readonly storage: IndexStorage;

  constructor() {
    this.storage = {
      arena: this.arena,
      recordAddresses: () => this.addresses,
      parentPairs: this.parentPairs,
      parentKeyCounts: this.parentKeyCounts,
      valueNames: this.values.names,
    };
  }

  /** Number of items. */
  get size(): number {
    return this.slotById.size;
  }

  /** True if an item with this id is held. */
  hasItem(id: string): boolean {
    return this.slotById.has(id);
  }

  /** True if a parent with this id is defined (not merely referenced by an item). */
  hasParent(id: string): boolean {
    const slot = this.parentSlotById.get(id);
    return slot !== undefined && this.parentLabels[slot] !== undefined;
  }

  /**
   * Adds or replaces an item: its own labels and the ids of the parents it inherits from, in
   * inheritance order (duplicates after the first are ignored). A parent may be referenced before
   * it is defined; it contributes no labels until then.
   */
  upsertItem(id: string, labels: Labels, parentIds: readonly string[] = []): void {
    const pairs = this.acquireLabels(labels);
    const parents = this.resolveParents(parentIds);
    const slot = this.slotById.get(id);
    if (slot === undefined) this.insertItem(id, pairs, parents);
    else this.updateItem(slot, pairs, parents);
    this.maintain();
    this.flush();
  }

  /** Removes an item. Returns false if there was none. */
  removeItem(id: string): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    this.forEachHookedWatch(slot, (watch) => {
      if (watch.members.delete(slot)) this.queue(watch, WatchEventKind.MatchStopped, id);
    });
    const old = this.readRecord(slot);
    for (let i = 0; i < old.keys.length; i++) {
      this.removePosting(old.keys[i]!, old.values[i]!, old.positions[i]!);
      this.releaseLabel(old.keys[i]!, old.values[i]!);
    }
    for (let j = 0; j < old.parents.length; j++) this.removeChild(old.parents[j]!, old.parentPositions[j]!);
    this.arena.free(this.recordSize(slot));
    this.addresses[slot] = -1;
    this.itemIds[slot] = undefined;
    this.slotById.delete(id);
    this.freeSlots.push(slot);
    for (const parent of old.parents) this.maybeFreeParent(parent);
    this.maintain();
    this.flush();
    return true;
  }

  /** Defines or replaces a parent's labels. Items that list it inherit them at once. */
  upsertParent(id: string, labels: Labels): void {
    const pairs = this.acquireLabels(labels);
    const slot = this.parentSlotFor(id);
    const next = new Map<number, number>();
    for (let i = 0; i < pairs.length; i += 2) next.set(pairs[i]!, pairs[i + 1]!);
    const prior = this.parentLabels[slot];
    if (prior !== undefined && sameLabelMap(prior, next)) {
      for (let i = 0; i < pairs.length; i += 2) this.releaseLabel(pairs[i]!, pairs[i + 1]!);
      return;
    }
    this.replaceParentLabels(slot, prior, next);
    this.flush();
  }

  /** Removes a parent's labels. Items keep listing it and inherit nothing from it until it returns. */
  removeParent(id: string): boolean {
    const slot = this.parentSlotById.get(id);
    if (slot === undefined) return false;
    const prior = this.parentLabels[slot];
    if (prior === undefined) return false;
    this.replaceParentLabels(slot, prior, undefined);
    this.maybeFreeParent(slot);
    this.flush();
    return true;
  }

  /** An item's own labels and parent ids, or undefined if there is no such item. */
  getItem(id: string): { labels: Map<string, string>; parentIds: string[] } | undefined {
    const slot = this.slotById.get(id);
    if (slot === undefined) return undefined;
    const record = this.readRecord(slot);
    const labels = new Map<string, string>();
    for (let i = 0; i < record.keys.length; i++) {
      labels.set(this.keys.nameOf(record.keys[i]!), this.values.nameOf(record.values[i]!));
    }
    return { labels, parentIds: record.parents.map((p) => this.parentIds[p]!) };
  }

  /** A defined parent's labels, or undefined. */
  getParent(id: string): Map<string, string> | undefined {
    const slot = this.parentSlotById.get(id);
    const labels = slot === undefined ? undefined : this.parentLabels[slot];
    if (labels === undefined) return undefined;
    const out = new Map<string, string>();
    for (const [k, v] of labels) out.set(this.keys.nameOf(k), this.values.nameOf(v));
    return out;
  }

  /** An item's effective labels (own, then inherited in parent order), or undefined. */
  effectiveLabels(id: string): Map<string, string> | undefined {
    const slot = this.slotById.get(id);
    if (slot === undefined) return undefined;
    const record = this.readRecord(slot);
    const out = new Map<string, string>();
    for (let i = 0; i < record.keys.length; i++) {
      out.set(this.keys.nameOf(record.keys[i]!), this.values.nameOf(record.values[i]!));
    }
    for (const parent of record.parents) {
      for (const [k, v] of this.parentLabels[parent] ?? []) {
        const key = this.keys.nameOf(k);
        if (!out.has(key)) out.set(key, this.values.nameOf(v));
      }
    }
    return out;
  }

  /**
   * The ids of the items that match, sorted in UTF-16 code unit order (`Array.prototype.sort`)
   * unless `options.sorted` is false. Selector text is parsed (and may throw `SelectorParseError`).
   */
  query(selector: SelectorInput, options?: LabelIndexQueryOptions): string[] {
    const sel = toSelector(selector);
    const evaluator = new SlotEvaluator(this.storage, sel.root, this.lookupResolver, true);
    const out: string[] = [];
    this.forEachMatch(sel, evaluator, (slot) => {
      out.push(this.itemIds[slot]!);
    });
    if (options?.sorted !== false) out.sort();
    return out;
  }

  /** The number of matching items. */
  count(selector: SelectorInput): number {
    const sel = toSelector(selector);
    const evaluator = new SlotEvaluator(this.storage, sel.root, this.lookupResolver, true);
    let n = 0;
    this.forEachMatch(sel, evaluator, () => {
      n++;
    });
    return n;
  }

  /**
   * Watches a selector: `callback` first gets `match-started` for every item that matches now
   * (before `watch` returns), then `match-started` / `match-stopped` whenever an item or parent
   * change makes an item start or stop matching. Events are delivered in the order the index
   * changed, even when a callback modifies the index. If a callback throws, the other events are
   * still delivered and the first error is rethrown from the call that caused them.
   */
  watch(selector: SelectorInput, callback: LabelIndexWatchCallback): LabelIndexWatch {
    const sel = toSelector(selector);
    const pinnedKeys: number[] = [];
    const pinnedValues: number[] = [];
    const resolver: IdResolver = {
      key: (name) => {
        const id = this.keys.acquire(name);
        pinnedKeys.push(id);
        return id;
      },
      value: (name) => {
        const id = this.values.acquire(name);
        pinnedValues.push(id);
        return id;
      },
    };
    const evaluator = new SlotEvaluator(this.storage, sel.root, resolver);
    const keys = [...new Set(pinnedKeys)];
    const state: WatchState = {
      selector: sel,
      callback,
      evaluator,
      members: new Set(),
      keys,
      hook: this.chooseHook(sel, resolver),
      pinnedKeys,
      pinnedValues,
      closed: false,
      mark: 0,
    };
    this.registerWatch(state);
    this.forEachMatch(sel, evaluator, (slot) => {
      state.members.add(slot);
      this.queue(state, WatchEventKind.MatchStarted, this.itemIds[slot]!);
    });
    this.flush();
    return new IndexWatch(
      state,
      () => this.closeWatch(state),
      () => [...state.members].map((slot) => this.itemIds[slot]!).sort(),
    );
  }

  /** Sizes, for metrics and the benchmark. */
  stats(): LabelIndexStats {
    let parents = 0;
    for (const id of this.parentIds) if (id !== undefined) parents++;
    return {
      items: this.slotById.size,
      parents,
      labelKeys: this.keys.size,
      labelValues: this.values.size,
      watches: this.watches.size,
      recordBytes: this.arena.bytes,
      garbageBytes: this.arena.garbageWords * 4,
    };
  }

  /** Closes a watch: unhooks it and drops its references. */
  private closeWatch(state: WatchState): void {
    if (state.closed) return;
    state.closed = true;
    this.watches.delete(state);
    for (const key of state.keys) removeFromSetMap(this.watchesByKey, key, state);
    const hook = state.hook;
    if (hook.kind === "any") this.anyWatches.delete(state);
    else if (hook.kind === "present") removeFromSetMap(this.presenceWatches, hook.key, state);
    else if (hook.kind === "values") {
      const byValue = this.valueWatches.get(hook.key);
      for (const value of hook.values) if (byValue !== undefined) removeFromSetMap(byValue, value, state);
      if (byValue?.size === 0) this.valueWatches.delete(hook.key);
    }
    state.members.clear();
    for (const id of state.pinnedKeys) this.releaseKey(id);
    for (const id of state.pinnedValues) this.values.release(id);
    state.pinnedKeys.length = 0;
    state.pinnedValues.length = 0;
  }

  // ---- items ---------------------------------------------------------------------------------

  private insertItem(id: string, pairs: number[], parents: number[]): void {
    const slot = this.allocSlot();
    this.itemIds[slot] = id;
    this.slotById.set(id, slot);
    const labelCount = pairs.length / 2;
    const address = this.arena.alloc(RECORD_HEADER + LABEL_WORDS * labelCount + PARENT_WORDS * parents.length);
    const chunk = this.arena.chunks[address >>> CHUNK_BITS]!;
    const offset = address & OFFSET_MASK;
    chunk[offset] = labelCount;
    chunk[offset + 1] = parents.length;
    chunk[offset + 2] = slot;
    let mask = 0;
    let w = offset + RECORD_HEADER;
    for (let i = 0; i < pairs.length; i += 2, w += LABEL_WORDS) {
      const key = pairs[i]!;
      mask |= 1 << (key & 31);
      const value = pairs[i + 1]!;
      chunk[w] = key;
      chunk[w + 1] = value;
      chunk[w + 2] = this.addPosting(key, value, slot);
    }
    chunk[offset + 3] = mask;
    for (const parent of parents) {
      chunk[w] = parent;
      chunk[w + 1] = this.children[parent]!.push(slot);
      w += PARENT_WORDS;
    }
    this.addresses[slot] = address;
    this.forEachHookedWatch(slot, (watch) => this.reevaluate(watch, slot));
  }

  private updateItem(slot: number, pairs: number[], parents: number[]): void {
    const old = this.readRecord(slot);
    const parentsChanged = !sameNumbers(old.parents, parents);
    const changedKeys: number[] = [];
    // Merge-walk the old and new labels (both sorted by key id): keep the positions of labels that
    // did not change, move the others.
    const labelCount = pairs.length / 2;
    const newPositions = new Array<number>(labelCount);
    let i = 0;
    let j = 0;
    while (i < old.keys.length || j < labelCount) {
      const oldKey = i < old.keys.length ? old.keys[i]! : Number.MAX_SAFE_INTEGER;
      const newKey = j < labelCount ? pairs[2 * j]! : Number.MAX_SAFE_INTEGER;
      if (oldKey === newKey && old.values[i] === pairs[2 * j + 1]) {
        newPositions[j] = old.positions[i]!;
        i++;
        j++;
        continue;
      }
      if (oldKey <= newKey) {
        this.removePosting(oldKey, old.values[i]!, old.positions[i]!);
        changedKeys.push(oldKey);
        i++;
      }
      if (newKey <= oldKey) {
        newPositions[j] = this.addPosting(newKey, pairs[2 * j + 1]!, slot);
        if (newKey !== oldKey) changedKeys.push(newKey);
        j++;
      }
    }
    if (changedKeys.length === 0 && !parentsChanged) {
      // Nothing changed: give back the references taken for the new labels.
      for (let k = 0; k < pairs.length; k += 2) this.releaseLabel(pairs[k]!, pairs[k + 1]!);
      return;
    }
    const newParentPositions = parents.map((parent) => {
      const at = old.parents.indexOf(parent);
      return at >= 0 ? old.parentPositions[at]! : -1;
    });
    for (let k = 0; k < old.parents.length; k++) {
      if (!parents.includes(old.parents[k]!)) this.removeChild(old.parents[k]!, old.parentPositions[k]!);
    }
    for (let k = 0; k < parents.length; k++) {
      if (newParentPositions[k] === -1) newParentPositions[k] = this.children[parents[k]!]!.push(slot);
    }

    this.arena.free(this.recordSize(slot));
    const address = this.arena.alloc(RECORD_HEADER + LABEL_WORDS * labelCount + PARENT_WORDS * parents.length);
    const chunk = this.arena.chunks[address >>> CHUNK_BITS]!;
    const offset = address & OFFSET_MASK;
    chunk[offset] = labelCount;
    chunk[offset + 1] = parents.length;
    chunk[offset + 2] = slot;
    chunk[offset + 3] = keyMask(pairs.filter((_, i) => i % 2 === 0));
    let w = offset + RECORD_HEADER;
    for (let k = 0; k < labelCount; k++, w += LABEL_WORDS) {
      chunk[w] = pairs[2 * k]!;
      chunk[w + 1] = pairs[2 * k + 1]!;
      chunk[w + 2] = newPositions[k]!;
    }
    for (let k = 0; k < parents.length; k++, w += PARENT_WORDS) {
      chunk[w] = parents[k]!;
      chunk[w + 1] = newParentPositions[k]!;
    }
    this.addresses[slot] = address;

    // Watches reading a changed key may change their verdict; with new parents, any inherited key may.
    const affected = this.nextWatchEpoch();
    const candidates: WatchState[] = [];
    const collect = (key: number): void => {
      for (const watch of this.watchesByKey.get(key) ?? []) {
        if (watch.mark !== affected) {
          watch.mark = affected;
          candidates.push(watch);
        }
      }
    };
    for (const key of changedKeys) collect(key);
    if (parentsChanged) {
      for (const parent of [...old.parents, ...parents])
        for (const key of this.parentLabels[parent]?.keys() ?? []) collect(key);
    }
    for (const watch of candidates) this.reevaluate(watch, slot);

    for (let k = 0; k < old.keys.length; k++) this.releaseLabel(old.keys[k]!, old.values[k]!);
    for (const parent of old.parents) if (!parents.includes(parent)) this.maybeFreeParent(parent);
  }

  private readRecord(slot: number): RecordCopy {
    const address = this.addresses[slot]!;
    const chunk = this.arena.chunks[address >>> CHUNK_BITS]!;
    const offset = address & OFFSET_MASK;
    const labelCount = chunk[offset]!;
    const parentCount = chunk[offset + 1]!;
    const copy: RecordCopy = { keys: [], values: [], positions: [], parents: [], parentPositions: [] };
    let w = offset + RECORD_HEADER;
    for (let i = 0; i < labelCount; i++, w += LABEL_WORDS) {
      copy.keys.push(chunk[w]!);
      copy.values.push(chunk[w + 1]!);
      copy.positions.push(chunk[w + 2]!);
    }
    for (let j = 0; j < parentCount; j++, w += PARENT_WORDS) {
      copy.parents.push(chunk[w]!);
      copy.parentPositions.push(chunk[w + 1]!);
    }
    return copy;
  }

  private recordSize(slot: number): number {
    const address = this.addresses[slot]!;
    return recordWords(this.arena.chunks[address >>> CHUNK_BITS]!, address & OFFSET_MASK);
  }

  private allocSlot(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.slotLimit++;
    this.addresses = growInt32(this.addresses, this.slotLimit, -1);
    this.stamps = growInt32(this.stamps, this.slotLimit);
    return slot;
  }

  /** Interns a label set as `[key, value, …]` sorted by key id, holding one reference to each id. */
  private acquireLabels(labels: Labels): number[] {
    const pairs: number[] = [];
    if (isLabelMap(labels)) {
      for (const [key, value] of labels) pairs.push(this.keys.acquire(key), this.values.acquire(value));
    } else {
      for (const key of Object.keys(labels)) pairs.push(this.keys.acquire(key), this.values.acquire(labels[key]!));
    }
    // Insertion sort on pairs: label sets are small and often nearly sorted already.
    for (let i = 2; i < pairs.length; i += 2) {
      const key = pairs[i]!;
      const value = pairs[i + 1]!;
      let j = i - 2;
      while (j >= 0 && pairs[j]! > key) {
        pairs[j + 2] = pairs[j]!;
        pairs[j + 3] = pairs[j + 1]!;
        j -= 2;
      }
      pairs[j + 2] = key;
      pairs[j + 3] = value;
    }
    return pairs;
  }

  private releaseLabel(key: number, value: number): void {
    this.releaseKey(key);
    this.values.release(value);
  }

  private releaseKey(key: number): void {
    if (this.keys.release(key)) {
      // The id may be reused for another key: nothing may be left under it.
      this.postings[key] = undefined;
      this.keyItemCounts[key] = 0;
    }
  }

  // ---- postings ------------------------------------------------------------------------------

  /** Adds `slot` to the posting of (key, value) and returns its position there. */
  private addPosting(key: number, value: number, slot: number): number {
    this.keyItemCounts[key] = (this.keyItemCounts[key] ?? 0) + 1;
    let byValue = this.postings[key];
    if (byValue === undefined) {
      byValue = new Map();
      this.postings[key] = byValue;
    }
    const posting = byValue.get(value);
    if (posting === undefined) {
      byValue.set(value, slot);
      return 0;
    }
    if (typeof posting === "number") {
      const list = new IntList(4);
      list.push(posting); // the lone slot keeps position 0
      byValue.set(value, list);
      return list.push(slot);
    }
    return posting.push(slot);
  }

  /** Removes the slot at `position` of the posting of (key, value). */
  private removePosting(key: number, value: number, position: number): void {
    this.keyItemCounts[key]!--;
    const byValue = this.postings[key]!;
    const posting = byValue.get(value)!;
    if (typeof posting === "number") {
      byValue.delete(value);
      return;
    }
    const moved = posting.removeAt(position);
    if (moved >= 0) this.setLabelPosition(moved, key, position);
    if (posting.size === 1) byValue.set(value, posting.data[0]!);
  }

  private setLabelPosition(slot: number, key: number, position: number): void {
    const address = this.addresses[slot]!;
    const chunk = this.arena.chunks[address >>> CHUNK_BITS]!;
    const offset = address & OFFSET_MASK;
    for (let w = offset + RECORD_HEADER, end = w + LABEL_WORDS * chunk[offset]!; w < end; w += LABEL_WORDS) {
      if (chunk[w] === key) {
        chunk[w + 2] = position;
        return;
      }
    }
  }

  // ---- parents -------------------------------------------------------------------------------

  private resolveParents(parentIds: readonly string[]): number[] {
    const slots: number[] = [];
    for (const id of parentIds) {
      const slot = this.parentSlotFor(id);
      if (!slots.includes(slot)) slots.push(slot);
    }
    return slots;
  }

  /** The slot of a parent, made (undefined, childless) if it has none yet. */
  private parentSlotFor(id: string): number {
    let slot = this.parentSlotById.get(id);
    if (slot === undefined) {
      slot = this.freeParentSlots.pop() ?? this.parentIds.length;
      this.parentSlotById.set(id, slot);
      this.parentIds[slot] = id;
      this.parentLabels[slot] = undefined;
      this.parentPairs[slot] = undefined;
      this.children[slot] = new IntList(4);
    }
    return slot;
  }

  /** Frees a parent slot that is neither defined nor listed by any item. */
  private maybeFreeParent(slot: number): void {
    const id = this.parentIds[slot];
    if (id === undefined || this.parentLabels[slot] !== undefined || this.children[slot]!.size > 0) return;
    this.parentSlotById.delete(id);
    this.parentIds[slot] = undefined;
    this.freeParentSlots.push(slot);
  }

  private removeChild(parent: number, position: number): void {
    const moved = this.children[parent]!.removeAt(position);
    if (moved < 0) return;
    const address = this.addresses[moved]!;
    const chunk = this.arena.chunks[address >>> CHUNK_BITS]!;
    const offset = address & OFFSET_MASK;
    const start = offset + RECORD_HEADER + LABEL_WORDS * chunk[offset]!;
    for (let w = start, end = start + PARENT_WORDS * chunk[offset + 1]!; w < end; w += PARENT_WORDS) {
      if (chunk[w] === parent) {
        chunk[w + 1] = position;
        return;
      }
    }
  }

  private replaceParentLabels(
    slot: number,
    prior: Map<number, number> | undefined,
    next: Map<number, number> | undefined,
  ): void {
    const changed = new Set<number>();
    for (const [key, value] of prior ?? []) {
      this.parentKeyCounts[key]!--;
      if (next?.get(key) !== value) changed.add(key);
      removeFromSetMap(this.parentPostings.get(key), value, slot);
      if (this.parentPostings.get(key)?.size === 0) this.parentPostings.delete(key);
    }
    for (const [key, value] of next ?? []) {
      while (this.parentKeyCounts.length <= key) this.parentKeyCounts.push(0);
      this.parentKeyCounts[key]!++;
      if (prior?.get(key) !== value) changed.add(key);
      let byValue = this.parentPostings.get(key);
      if (byValue === undefined) {
        byValue = new Map();
        this.parentPostings.set(key, byValue);
      }
      addToSetMap(byValue, value, slot);
    }
    this.parentLabels[slot] = next;
    this.parentPairs[slot] = next === undefined ? undefined : sortedPairs(next);

    const affected = this.nextWatchEpoch();
    const candidates: WatchState[] = [];
    for (const key of changed) {
      for (const watch of this.watchesByKey.get(key) ?? []) {
        if (watch.mark !== affected) {
          watch.mark = affected;
          candidates.push(watch);
        }
      }
    }
    if (candidates.length > 0) {
      const kids = this.children[slot]!;
      // Safe to walk in place: re-evaluation only queues events, callbacks run after.
      for (let c = 0; c < kids.size; c++) {
        const child = kids.data[c]!;
        for (const watch of candidates) this.reevaluate(watch, child);
      }
    }
    for (const [key, value] of prior ?? []) this.releaseLabel(key, value);
  }

  // ---- queries -------------------------------------------------------------------------------

  private readonly lookupResolver: IdResolver = {
    key: (name) => this.keys.lookup(name),
    value: (name) => this.values.lookup(name),
  };

  /** Calls `visit` for every item slot that matches, using the cheapest candidate set. */
  private forEachMatch(selector: Selector, evaluator: SlotEvaluator, visit: (slot: number) => void): void {
    const restrictions = selector.restrictions();
    if (restrictions.impossible) return;
    let bestKey = -1;
    let bestValues: number[] | undefined;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const [label, restriction] of restrictions.labels) {
      const key = this.keys.lookup(label);
      // A label that must be present but that no item or parent has: nothing matches.
      if (key === UNKNOWN_ID) return;
      let values: number[] | undefined;
      let cost: number;
      if (restriction.mustHaveOneOfValues !== undefined) {
        values = [];
        for (const name of restriction.mustHaveOneOfValues) {
          const value = this.values.lookup(name);
          if (value !== UNKNOWN_ID) values.push(value);
        }
        if (values.length === 0) return;
        cost = 0;
        for (const value of values) cost += this.valueCost(key, value);
      } else {
        cost = this.presenceCost(key);
      }
      if (cost < bestCost) {
        bestCost = cost;
        bestKey = key;
        bestValues = values;
      }
    }
    if (bestKey < 0 || bestCost >= this.slotById.size * SCAN_SHARE) {
      this.scan(evaluator, visit);
      return;
    }
    const epoch = this.nextStampEpoch();
    const stamps = this.stamps;
    const consider = (slot: number): void => {
      if (stamps[slot] === epoch) return;
      stamps[slot] = epoch;
      if (evaluator.test(slot)) visit(slot);
    };
    const byValue = this.postings[bestKey];
    const parentsByValue = this.parentPostings.get(bestKey);
    const visitPosting = (posting: Posting | undefined): void => {
      if (posting === undefined) return;
      if (typeof posting === "number") consider(posting);
      else for (let i = 0; i < posting.size; i++) consider(posting.data[i]!);
    };
    const visitParents = (parents: Set<number> | undefined): void => {
      for (const parent of parents ?? []) {
        const kids = this.children[parent]!;
        for (let i = 0; i < kids.size; i++) consider(kids.data[i]!);
      }
    };
    if (bestValues === undefined) {
      for (const posting of byValue?.values() ?? []) visitPosting(posting);
      for (const parents of parentsByValue?.values() ?? []) visitParents(parents);
    } else {
      for (const value of bestValues) {
        visitPosting(byValue?.get(value));
        visitParents(parentsByValue?.get(value));
      }
    }
  }

  /** Tests every live record, walking the arena in memory order (cache-friendly at a million items). */
  private scan(evaluator: SlotEvaluator, visit: (slot: number) => void): void {
    const addresses = this.addresses;
    const chunks = this.arena.chunks;
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c]!;
      const base = c << CHUNK_BITS;
      for (let offset = 0, end = this.arena.chunkEnd(c); offset < end; ) {
        const slot = chunk[offset + 2]!;
        if (addresses[slot] === (base | offset) && evaluator.testRecord(chunk, offset)) visit(slot);
        offset += RECORD_HEADER + LABEL_WORDS * chunk[offset]! + PARENT_WORDS * chunk[offset + 1]!;
      }
    }
  }

  /** Items with the own label (key, value), plus the children of parents that have it. */
  private valueCost(key: number, value: number): number {
    const posting = this.postings[key]?.get(value);
    let cost = posting === undefined ? 0 : typeof posting === "number" ? 1 : posting.size;
    for (const parent of this.parentPostings.get(key)?.get(value) ?? []) cost += this.children[parent]!.size;
    return cost;
  }

  /** Items with the own label key, plus the children of parents that have it. */
  private presenceCost(key: number): number {
    let cost = this.keyItemCounts[key] ?? 0;
    for (const parents of this.parentPostings.get(key)?.values() ?? []) {
      for (const parent of parents) cost += this.children[parent]!.size;
    }
    return cost;
  }

  private nextStampEpoch(): number {
    if (this.stampEpoch >= 0x7ffffffe) {
      this.stamps.fill(0);
      this.stampEpoch = 0;
    }
    return ++this.stampEpoch;
  }

  // ---- watches -------------------------------------------------------------------------------

  /** Picks the restriction that finds this watch's candidates when an item appears or disappears. */
  private chooseHook(selector: Selector, resolver: IdResolver): WatchHook {
    const restrictions = selector.restrictions();
    if (restrictions.impossible) return { kind: "never" };
    let best: WatchHook = { kind: "any" };
    let bestSize = Number.POSITIVE_INFINITY;
    for (const [label, restriction] of restrictions.labels) {
      const values = restriction.mustHaveOneOfValues;
      // Fewer values means fewer items to hook on; presence alone is the weakest hook.
      const size = values === undefined ? Number.MAX_SAFE_INTEGER : values.length;
      if (size < bestSize) {
        bestSize = size;
        const key = resolver.key(label);
        best =
          values === undefined
            ? { kind: "present", key }
            : { kind: "values", key, values: values.map((v) => resolver.value(v)) };
      }
    }
    return best;
  }

  private registerWatch(state: WatchState): void {
    this.watches.add(state);
    for (const key of state.keys) addToSetMap(this.watchesByKey, key, state);
    const hook = state.hook;
    if (hook.kind === "any") this.anyWatches.add(state);
    else if (hook.kind === "present") addToSetMap(this.presenceWatches, hook.key, state);
    else if (hook.kind === "values") {
      let byValue = this.valueWatches.get(hook.key);
      if (byValue === undefined) {
        byValue = new Map();
        this.valueWatches.set(hook.key, byValue);
      }
      for (const value of hook.values) addToSetMap(byValue, value, state);
    }
  }

  /**
   * Calls `fn` once for every watch that could match the item in `slot` as it is now (a superset:
   * hooks are checked against own and all parent labels, shadowed or not).
   */
  private forEachHookedWatch(slot: number, fn: (watch: WatchState) => void): void {
    if (this.watches.size === 0) return;
    const epoch = this.nextWatchEpoch();
    const visit = (watch: WatchState): void => {
      if (watch.mark === epoch) return;
      watch.mark = epoch;
      fn(watch);
    };
    for (const watch of this.anyWatches) visit(watch);
    const hookLabel = (key: number, value: number): void => {
      for (const watch of this.presenceWatches.get(key) ?? []) visit(watch);
      for (const watch of this.valueWatches.get(key)?.get(value) ?? []) visit(watch);
    };
    const record = this.readRecord(slot);
    for (let i = 0; i < record.keys.length; i++) hookLabel(record.keys[i]!, record.values[i]!);
    for (const parent of record.parents) for (const [k, v] of this.parentLabels[parent] ?? []) hookLabel(k, v);
  }

  private reevaluate(watch: WatchState, slot: number): void {
    const now = watch.evaluator.test(slot);
    if (now === watch.members.has(slot)) return;
    if (now) watch.members.add(slot);
    else watch.members.delete(slot);
    this.queue(watch, now ? WatchEventKind.MatchStarted : WatchEventKind.MatchStopped, this.itemIds[slot]!);
  }

  private nextWatchEpoch(): number {
    this.watchEpoch = (this.watchEpoch + 1) | 0;
    return this.watchEpoch;
  }

  private queue(watch: WatchState, kind: LabelIndexWatchEvent["kind"], id: string): void {
    this.pending.push({ watch, event: { kind, id } });
  }

  /** Delivers queued events in order; nested calls from callbacks append to the same queue. */
  private flush(): void {
    if (this.delivering) return;
    this.delivering = true;
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; i < this.pending.length; i++) {
        const { watch, event } = this.pending[i]!;
        if (watch.closed) continue;
        try {
          watch.callback(event);
        } catch (error) {
          failure ??= { error };
        }
      }
    } finally {
      this.pending.length = 0;
      this.delivering = false;
    }
    if (failure !== undefined) throw failure.error;
  }

  /** Compacts the record arena once garbage outweighs half of the live records. */
  private maintain(): void {
    if (this.arena.shouldCompact()) this.arena.compact(this.addresses, this.slotLimit, recordWords);
  }
}

class IndexWatch implements LabelIndexWatch {
  readonly selector: Selector;
  private readonly state: WatchState;
  private readonly closer: () => void;
  private readonly members: () => string[];

  constructor(state: WatchState, closer: () => void, members: () => string[]) {
    this.state = state;
    this.selector = state.selector;
    this.closer = closer;
    this.members = members;
  }

  get closed(): boolean {
    return this.state.closed;
  }

  matchingIds(): string[] {
    return this.members();
  }

  close(): void {
    this.closer();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function sortedPairs(labels: ReadonlyMap<number, number>): Int32Array {
  const keys = [...labels.keys()].sort((a, b) => a - b);
  const pairs = new Int32Array(keys.length * 2);
  keys.forEach((key, i) => {
    pairs[2 * i] = key;
    pairs[2 * i + 1] = labels.get(key)!;
  });
  return pairs;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameLabelMap(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function addToSetMap<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFromSetMap<K, V>(map: Map<K, Set<V>> | undefined, key: K, value: V): void {
  const set = map?.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map!.delete(key);
}
