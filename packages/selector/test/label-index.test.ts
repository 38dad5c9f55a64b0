/**
 * The label index: inheritance through parents, queries, watches, and — as properties under
 * random churn of items and parents — agreement of `query` and `watch` with brute-force `matches`
 * over the effective labels.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LabelIndex,
  type LabelIndexWatchEvent,
  parseSelector,
  type Selector,
  selectorFromNode,
  WatchEventKind,
} from "../src/index.js";
import { effectiveLabels, labelSet, selectorNode } from "./arbitraries.js";

/** An index with two profiles and four endpoints, for the example-based tests. */
function sampleIndex(): LabelIndex {
  const index = new LabelIndex();
  index.upsertParent("kns.prod", { "pcns.env": "prod", tier: "from-ns" });
  index.upsertParent("ksa.prod.web", { "pcsa.role": "web", tier: "from-sa" });
  index.upsertItem("c1/h1/k8s/prod.web-1/eth0", { app: "web" }, ["kns.prod", "ksa.prod.web"]);
  index.upsertItem("c1/h1/k8s/prod.web-2/eth0", { app: "web", tier: "own" }, ["ksa.prod.web", "kns.prod"]);
  index.upsertItem("c2/h9/k8s/dev.db-1/eth0", { app: "db", "pcns.env": "dev" });
  index.upsertItem("c2/h9/k8s/dev.db-2/eth0", {});
  return index;
}

function recorder(): { events: string[]; callback: (e: LabelIndexWatchEvent) => void } {
  const events: string[] = [];
  return { events, callback: (e) => events.push(`${e.kind === WatchEventKind.MatchStarted ? "+" : "-"}${e.id}`) };
}

describe("LabelIndex queries", () => {
  it.each([
    [
      "all()",
      ["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0", "c2/h9/k8s/dev.db-1/eth0", "c2/h9/k8s/dev.db-2/eth0"],
    ],
    ['app == "web"', ["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0"]],
    ['pcns.env == "prod"', ["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0"]],
    [
      'pcns.env in {"dev", "prod"}',
      ["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0", "c2/h9/k8s/dev.db-1/eth0"],
    ],
    ["has(pcsa.role)", ["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0"]],
    // own labels win; then parents in the order the item lists them
    ['tier == "own"', ["c1/h1/k8s/prod.web-2/eth0"]],
    ['tier == "from-ns"', ["c1/h1/k8s/prod.web-1/eth0"]],
    ['tier == "from-sa"', []],
    ['tier != "from-ns"', ["c1/h1/k8s/prod.web-2/eth0", "c2/h9/k8s/dev.db-1/eth0", "c2/h9/k8s/dev.db-2/eth0"]],
    ['!has(app) || app starts with "d"', ["c2/h9/k8s/dev.db-1/eth0", "c2/h9/k8s/dev.db-2/eth0"]],
    ['unknown == "x"', []],
    ['app == "unknown"', []],
    [
      'app != "unknown"',
      ["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0", "c2/h9/k8s/dev.db-1/eth0", "c2/h9/k8s/dev.db-2/eth0"],
    ],
    ["app in {}", []],
    ["!all()", []],
  ])("%j matches %j", (selector, expected) => {
    const index = sampleIndex();
    expect(index.query(selector)).toEqual(expected);
    expect(index.query(parseSelector(selector), { sorted: false }).sort()).toEqual(expected);
    expect(index.count(selector)).toBe(expected.length);
  });

  it("reads labels named like Object.prototype members as plain labels", () => {
    const index = new LabelIndex();
    index.upsertItem("a", { constructor: "x", __proto__: "y" } as Record<string, string>);
    index.upsertItem("b", new Map([["toString", "z"]]));
    expect(index.query('constructor == "x"')).toEqual(["a"]);
    expect(index.query("has(toString)")).toEqual(["b"]);
    expect(index.query("has(hasOwnProperty)")).toEqual([]);
  });

  it("lets an item reference a parent before the parent is defined", () => {
    const index = new LabelIndex();
    index.upsertItem("e", { app: "web" }, ["kns.late"]);
    expect(index.query('pcns.team == "x"')).toEqual([]);
    expect(index.hasParent("kns.late")).toBe(false);
    index.upsertParent("kns.late", { "pcns.team": "x" });
    expect(index.query('pcns.team == "x"')).toEqual(["e"]);
    expect(index.removeParent("kns.late")).toBe(true);
    expect(index.removeParent("kns.late")).toBe(false);
    expect(index.query('pcns.team == "x"')).toEqual([]);
    expect(index.getItem("e")?.parentIds).toEqual(["kns.late"]);
  });

  it("ignores repeated parent ids after the first", () => {
    const index = new LabelIndex();
    index.upsertParent("p", { a: "1" });
    index.upsertParent("q", { a: "2" });
    index.upsertItem("e", {}, ["p", "q", "p"]);
    expect(index.getItem("e")?.parentIds).toEqual(["p", "q"]);
    expect(index.effectiveLabels("e")).toEqual(new Map([["a", "1"]]));
  });

  it("reports items, parents and effective labels", () => {
    const index = sampleIndex();
    expect(index.size).toBe(4);
    expect(index.hasItem("c2/h9/k8s/dev.db-2/eth0")).toBe(true);
    expect(index.getParent("kns.prod")).toEqual(
      new Map([
        ["pcns.env", "prod"],
        ["tier", "from-ns"],
      ]),
    );
    expect(index.getParent("nope")).toBeUndefined();
    expect(index.effectiveLabels("c1/h1/k8s/prod.web-2/eth0")).toEqual(
      new Map([
        ["app", "web"],
        ["tier", "own"],
        ["pcsa.role", "web"],
        ["pcns.env", "prod"],
      ]),
    );
    expect(index.effectiveLabels("nope")).toBeUndefined();
    expect(index.removeItem("c2/h9/k8s/dev.db-2/eth0")).toBe(true);
    expect(index.removeItem("c2/h9/k8s/dev.db-2/eth0")).toBe(false);
    expect(index.stats()).toMatchObject({ items: 3, parents: 2, watches: 0 });
  });

  it("forgets interned strings and parent placeholders once nothing refers to them", () => {
    const index = new LabelIndex();
    index.upsertItem("e", { a: "1", b: "2" }, ["p"]);
    index.upsertItem("e", { a: "3" }, []);
    expect(index.stats()).toMatchObject({ labelKeys: 1, labelValues: 1, parents: 0 });
    index.removeItem("e");
    expect(index.stats()).toMatchObject({ items: 0, labelKeys: 0, labelValues: 0, parents: 0 });
  });

  it("compacts its record storage under churn and keeps answering correctly", () => {
    const index = new LabelIndex();
    const values = ["x", "y", "z"];
    const rounds = 20;
    const items = 5000;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < items; i++) {
        index.upsertItem(`e${i}`, { a: values[(i + round) % 3]!, b: `${i % 7}`, c: "c", d: "d" }, ["p"]);
      }
    }
    // Each record is 4 + 4×3 + 2 = 18 words: without compaction the arena would hold every
    // version written (100k records, 7.2 MB).
    const written = rounds * items * 18 * 4;
    const stats = index.stats();
    expect(stats.recordBytes).toBeLessThan(written / 3);
    const expected = Array.from({ length: items }, (_, i) => i)
      .filter((i) => (i + rounds - 1) % 3 === 0 && i % 7 === 2)
      .map((i) => `e${i}`)
      .sort();
    expect(index.query('a == "x" && b == "2"')).toEqual(expected);
    expect(index.query('c == "c"')).toHaveLength(items);
  });
});

describe("LabelIndex watches", () => {
  it("reports the current matches first, then changes, then nothing once closed", () => {
    const index = sampleIndex();
    const { events, callback } = recorder();
    const watch = index.watch('pcns.env == "prod"', callback);
    expect(events.sort()).toEqual(["+c1/h1/k8s/prod.web-1/eth0", "+c1/h1/k8s/prod.web-2/eth0"]);
    expect(watch.matchingIds()).toEqual(["c1/h1/k8s/prod.web-1/eth0", "c1/h1/k8s/prod.web-2/eth0"]);
    events.length = 0;

    index.upsertItem("c3/h1/k8s/prod.new/eth0", {}, ["kns.prod"]); // inherits a match
    index.upsertItem("c1/h1/k8s/prod.web-1/eth0", { app: "web", "pcns.env": "staging" }, ["kns.prod"]); // own label wins
    index.upsertParent("kns.prod", { "pcns.env": "production" }); // parent change
    index.upsertParent("kns.prod", { "pcns.env": "prod" });
    index.removeItem("c3/h1/k8s/prod.new/eth0");
    expect(events).toEqual([
      "+c3/h1/k8s/prod.new/eth0",
      "-c1/h1/k8s/prod.web-1/eth0",
      // order among children of one parent is the index's; compare as sets below
      ...events.slice(2, 4),
      ...events.slice(4, 6),
      "-c3/h1/k8s/prod.new/eth0",
    ]);
    expect(events.slice(2, 4).sort()).toEqual(["-c1/h1/k8s/prod.web-2/eth0", "-c3/h1/k8s/prod.new/eth0"]);
    expect(events.slice(4, 6).sort()).toEqual(["+c1/h1/k8s/prod.web-2/eth0", "+c3/h1/k8s/prod.new/eth0"]);

    events.length = 0;
    watch.close();
    expect(watch.closed).toBe(true);
    expect(watch.matchingIds()).toEqual([]);
    index.upsertItem("c4/h1/k8s/prod.other/eth0", {}, ["kns.prod"]);
    expect(events).toEqual([]);
    expect(index.stats().watches).toBe(0);
  });

  it("stays silent when an item or parent is upserted unchanged", () => {
    const index = sampleIndex();
    const { events, callback } = recorder();
    index.watch("has(app)", callback);
    events.length = 0;
    index.upsertItem("c1/h1/k8s/prod.web-1/eth0", { app: "web" }, ["kns.prod", "ksa.prod.web"]);
    index.upsertParent("kns.prod", { tier: "from-ns", "pcns.env": "prod" });
    expect(events).toEqual([]);
  });

  it("is disposable with `using`", () => {
    const index = sampleIndex();
    const { events, callback } = recorder();
    {
      using _watch = index.watch("has(app)", callback);
    }
    events.length = 0;
    index.upsertItem("x", { app: "y" });
    expect(events).toEqual([]);
  });

  it("delivers events in index order when a callback changes the index", () => {
    const index = new LabelIndex();
    const log: string[] = [];
    index.watch("has(a)", (e) => {
      log.push(`A${e.kind === "match-started" ? "+" : "-"}${e.id}`);
      if (e.kind === "match-started") index.removeItem(e.id); // reentrant change
    });
    index.watch("has(a)", (e) => log.push(`B${e.kind === "match-started" ? "+" : "-"}${e.id}`));
    index.upsertItem("e1", { a: "1" });
    expect(log).toEqual(["A+e1", "B+e1", "A-e1", "B-e1"]);
    expect(index.size).toBe(0);
  });

  it("delivers the other events and rethrows the first callback error", () => {
    const index = new LabelIndex();
    const seen: string[] = [];
    index.watch("has(a)", () => {
      throw new Error("boom");
    });
    index.watch("has(a)", (e) => seen.push(e.id));
    expect(() => index.upsertItem("e1", { a: "1" })).toThrow("boom");
    expect(seen).toEqual(["e1"]);
    expect(index.query("has(a)")).toEqual(["e1"]);
  });

  it("drops events queued for a watch that a callback closed", () => {
    const index = new LabelIndex();
    const seen: string[] = [];
    const second = { close: (): void => {} };
    index.watch("has(a)", () => second.close());
    const watch = index.watch("has(a)", (e) => seen.push(e.id));
    second.close = () => watch.close();
    index.upsertItem("e1", { a: "1" });
    expect(seen).toEqual([]);
  });
});

// ---- properties under churn ------------------------------------------------------------------

const ITEM_IDS = ["c1/h/k8s/ns.a/eth0", "c1/h/k8s/ns.b/eth0", "c2/h/k8s/ns.a/eth0", "e4", "e5", "e6"];
const PARENT_IDS = ["kns.ns", "ksa.ns.sa", "p3"];

type Op =
  | {
      readonly op: "upsertItem";
      readonly id: string;
      readonly labels: Record<string, string>;
      readonly parents: string[];
    }
  | { readonly op: "removeItem"; readonly id: string }
  | { readonly op: "upsertParent"; readonly id: string; readonly labels: Record<string, string> }
  | { readonly op: "removeParent"; readonly id: string }
  | { readonly op: "watch"; readonly selector: number }
  | { readonly op: "close"; readonly watch: number };

function opArbitrary(selectorCount: number): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant("upsertItem" as const),
        id: fc.constantFrom(...ITEM_IDS),
        labels: labelSet,
        parents: fc.array(fc.constantFrom(...PARENT_IDS), { maxLength: 3 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("removeItem" as const), id: fc.constantFrom(...ITEM_IDS) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("upsertParent" as const),
        id: fc.constantFrom(...PARENT_IDS),
        labels: labelSet,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("removeParent" as const), id: fc.constantFrom(...PARENT_IDS) }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("watch" as const), selector: fc.nat(selectorCount - 1) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("close" as const), watch: fc.nat(20) }) },
  );
}

/** The index's ground truth, kept the simple way. */
class Model {
  readonly items = new Map<string, { labels: Record<string, string>; parents: string[] }>();
  readonly parents = new Map<string, Record<string, string>>();

  matching(selector: Selector): string[] {
    const out: string[] = [];
    for (const [id, item] of this.items) {
      if (selector.matches(effectiveLabels(item.labels, item.parents, this.parents))) out.push(id);
    }
    return out.sort();
  }
}

interface WatchProbe {
  readonly selector: Selector;
  readonly members: Set<string>;
  readonly close: () => void;
  closed: boolean;
}

function openProbe(index: LabelIndex, selector: Selector): WatchProbe {
  const members = new Set<string>();
  const watch = index.watch(selector, (e) => {
    // Events must alternate per id: no double start, no stop without a start.
    if (e.kind === "match-started") {
      expect(members.has(e.id), `double start of ${e.id}`).toBe(false);
      members.add(e.id);
    } else {
      expect(members.delete(e.id), `stop without start of ${e.id}`).toBe(true);
    }
  });
  return { selector, members, close: () => watch.close(), closed: false };
}

function apply(index: LabelIndex, model: Model, op: Op): void {
  switch (op.op) {
    case "upsertItem":
      index.upsertItem(op.id, op.labels, op.parents);
      model.items.set(op.id, { labels: op.labels, parents: [...new Set(op.parents)] });
      return;
    case "removeItem":
      expect(index.removeItem(op.id)).toBe(model.items.delete(op.id));
      return;
    case "upsertParent":
      index.upsertParent(op.id, op.labels);
      model.parents.set(op.id, op.labels);
      return;
    case "removeParent":
      expect(index.removeParent(op.id)).toBe(model.parents.delete(op.id));
      return;
    default:
      return;
  }
}

describe("LabelIndex agrees with brute force under churn", () => {
  it("query returns exactly the items whose effective labels match", () => {
    fc.assert(
      fc.property(
        fc.array(selectorNode, { minLength: 1, maxLength: 6 }),
        fc.array(opArbitrary(1), { maxLength: 40 }),
        (nodes, ops) => {
          const selectors = nodes.map(selectorFromNode);
          const index = new LabelIndex();
          const model = new Model();
          for (const op of ops) {
            apply(index, model, op);
            for (const selector of selectors) expect(index.query(selector)).toEqual(model.matching(selector));
          }
          for (const [id, item] of model.items) {
            expect(index.effectiveLabels(id)).toEqual(effectiveLabels(item.labels, item.parents, model.parents));
          }
        },
      ),
      { numRuns: 250 },
    );
  });

  it("watches report match-started / match-stopped that track brute force, opened and closed at any time", () => {
    fc.assert(
      fc.property(
        fc.array(selectorNode, { minLength: 1, maxLength: 5 }),
        fc.array(opArbitrary(5), { maxLength: 40 }),
        (nodes, ops) => {
          const selectors = nodes.map(selectorFromNode);
          const index = new LabelIndex();
          const model = new Model();
          const probes = selectors.map((s) => openProbe(index, s));
          for (const op of ops) {
            if (op.op === "watch") {
              probes.push(openProbe(index, selectors[op.selector % selectors.length]!));
            } else if (op.op === "close") {
              const probe = probes[op.watch % probes.length]!;
              probe.close();
              probe.closed = true;
            } else {
              apply(index, model, op);
            }
            for (const probe of probes) {
              if (!probe.closed) expect([...probe.members].sort()).toEqual(model.matching(probe.selector));
            }
          }
          for (const probe of probes) probe.close();
          // Once every watch is closed, nothing they pinned stays interned.
          index.upsertItem("sweep", {});
          for (const id of [...model.items.keys()]) index.removeItem(id);
          for (const id of [...model.parents.keys()]) index.removeParent(id);
          index.removeItem("sweep");
          expect(index.stats()).toMatchObject({ items: 0, parents: 0, labelKeys: 0, labelValues: 0, watches: 0 });
        },
      ),
      { numRuns: 250 },
    );
  });

  it("stays correct with many items sharing postings and parents", () => {
    fc.assert(
      fc.property(
        fc.array(selectorNode, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(199), labelSet, fc.array(fc.constantFrom(...PARENT_IDS), { maxLength: 2 })), {
          minLength: 50,
          maxLength: 400,
        }),
        fc.array(fc.tuple(fc.constantFrom(...PARENT_IDS), fc.option(labelSet)), { maxLength: 6 }),
        (nodes, upserts, parentChanges) => {
          const selectors = nodes.map(selectorFromNode);
          const index = new LabelIndex();
          const model = new Model();
          const probes = selectors.map((s) => openProbe(index, s));
          for (const [n, labels, parents] of upserts) {
            const id = `item-${n}`;
            if (n % 11 === 0 && model.items.has(id)) apply(index, model, { op: "removeItem", id });
            else apply(index, model, { op: "upsertItem", id, labels, parents });
          }
          for (const [id, labels] of parentChanges) {
            apply(index, model, labels === null ? { op: "removeParent", id } : { op: "upsertParent", id, labels });
          }
          for (const probe of probes) {
            const expected = model.matching(probe.selector);
            expect(index.query(probe.selector)).toEqual(expected);
            expect([...probe.members].sort()).toEqual(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
