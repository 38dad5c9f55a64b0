import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClusterView, type PublishedResource, type SourceResource, type SourceSnapshot } from "../src/index.js";

const res = (id: string, revision: number, value = id, kind = "WorkloadEndpoint"): SourceResource => ({
  kind,
  id,
  revision: String(revision),
  resource: { kind, metadata: { name: id }, spec: { value } },
});
const pub = (r: SourceResource, generation = 1): PublishedResource => ({ ...r, op: "upsert", generation });
const snap = (revision: number, resources: SourceResource[], origin?: string): SourceSnapshot => ({
  revision: String(revision),
  ...(origin !== undefined ? { origin } : {}),
  resources,
  malformed: [],
});
const ids = (rs: { id: string }[]) => rs.map((r) => r.id).sort();

describe("ClusterView.planSnapshot against a seeded view (revisions of unknown origin)", () => {
  it.each([
    {
      name: "an empty bus gets every listed resource",
      bus: [],
      listing: snap(10, [res("a", 5), res("b", 6)]),
      upserts: ["a", "b"],
      deletes: [],
      unchanged: 0,
    },
    {
      name: "only changed revisions and new keys are upserted",
      bus: [res("a", 5), res("b", 6)],
      listing: snap(10, [res("a", 5), res("b", 7), res("c", 8)]),
      upserts: ["b", "c"],
      deletes: [],
      unchanged: 1,
    },
    {
      name: "keys that vanished are deleted",
      bus: [res("a", 5), res("b", 6)],
      listing: snap(10, [res("a", 5)]),
      upserts: [],
      deletes: ["b"],
      unchanged: 1,
    },
    {
      name: "an equal revision with other content (another datastore) is upserted",
      bus: [res("a", 5, "old")],
      listing: snap(10, [res("a", 5, "new")]),
      upserts: ["a"],
      deletes: [],
      unchanged: 0,
    },
    {
      name: "a lower revision than the bus is still upserted (no ordering across origins)",
      bus: [res("a", 50)],
      listing: snap(10, [res("a", 5)]),
      upserts: ["a"],
      deletes: [],
      unchanged: 0,
    },
    {
      name: "the same id in two kinds are different keys",
      bus: [res("x", 5, "x", "Profile")],
      listing: snap(10, [res("x", 5, "x", "HostEndpoint")]),
      upserts: ["x"],
      deletes: ["x"],
      unchanged: 0,
    },
  ])("$name", ({ bus, listing, upserts, deletes, unchanged }) => {
    const view = new ClusterView();
    view.seed(bus.map((r) => pub(r)));
    const diff = view.planSnapshot(listing, 1);
    expect(ids(diff.upserts)).toEqual(upserts);
    expect(ids(diff.deletes)).toEqual(deletes);
    expect(diff.unchanged).toBe(unchanged);
  });

  it.each([
    { name: "same revision and generation is unchanged", generation: 1, upserts: [] },
    { name: "same revision from another generation is republished", generation: 2, upserts: ["a"] },
  ])("without payloads read back (headers only): $name", ({ generation, upserts }) => {
    const view = new ClusterView();
    view.seed([{ kind: "WorkloadEndpoint", id: "a", revision: "5", generation: 1, op: "upsert" }]);
    expect(ids(view.planSnapshot(snap(10, [res("a", 5)]), generation).upserts)).toEqual(upserts);
  });

  it("ignores tombstones read back from the bus", () => {
    const view = new ClusterView();
    view.seed([pub(res("a", 5)), { kind: "WorkloadEndpoint", id: "gone", revision: "7", generation: 1, op: "delete" }]);
    expect(view.size).toBe(1);
    expect(ids(view.planSnapshot(snap(10, [res("a", 5)]), 1).deletes)).toEqual([]);
  });

  it("deletes carry a revision newer than what the bus holds, so no consumer takes them for replays", () => {
    const view = new ClusterView();
    view.seed([pub(res("a", 50)), pub(res("b", 3))]);
    const diff = view.planSnapshot(snap(10, []), 1);
    expect(Object.fromEntries(diff.deletes.map((d) => [d.id, d.revision]))).toEqual({ a: "51", b: "10" });
  });
});

describe("ClusterView on one origin: revisions are compared", () => {
  // Listing L1 at revision 10, then the watch publishes a@12 (update), b@13 (create), c deleted at 14.
  function afterWatch(): ClusterView {
    const view = new ClusterView();
    const first = snap(10, [res("a", 5), res("c", 3)], "etcd-1");
    view.commitSnapshot(first, view.planSnapshot(first, 1), 1);
    view.commitUpsert(res("a", 12, "a2"), 1);
    view.commitUpsert(res("b", 13), 1);
    view.commitDelete("WorkloadEndpoint", "c", "14");
    return view;
  }

  it("a listing taken before changes already published neither undoes nor deletes them", () => {
    const view = afterWatch();
    const diff = view.planSnapshot(snap(11, [res("a", 5), res("c", 3)], "etcd-1"), 1);
    expect(diff.upserts).toEqual([]);
    expect(diff.deletes).toEqual([]);
    expect(diff.newerOnBus).toBe(3);
  });

  it("a listing from another origin is applied by content, whatever the revisions", () => {
    const view = afterWatch();
    const diff = view.planSnapshot(snap(11, [res("a", 5), res("c", 3)], "etcd-2"), 1);
    expect(ids(diff.upserts)).toEqual(["a", "c"]);
    expect(ids(diff.deletes)).toEqual(["b"]);
  });

  it("a listing without origin is never compared by revision", () => {
    const view = afterWatch();
    const diff = view.planSnapshot(snap(11, [res("a", 5), res("c", 3)]), 1);
    expect(ids(diff.upserts)).toEqual(["a", "c"]);
    expect(ids(diff.deletes)).toEqual(["b"]);
  });

  it("a later listing of the same origin applies what changed after it", () => {
    const view = afterWatch();
    const diff = view.planSnapshot(snap(20, [res("a", 15, "a3"), res("b", 13)], "etcd-1"), 1);
    expect(ids(diff.upserts)).toEqual(["a"]);
    expect(diff.deletes).toEqual([]);
    expect(diff.unchanged).toBe(1);
  });

  it.each([
    {
      name: "a replayed upsert is skipped",
      plan: (v: ClusterView) => v.planUpsert(res("a", 12, "a2")),
      action: "skip",
    },
    { name: "an older upsert is skipped", plan: (v: ClusterView) => v.planUpsert(res("a", 5)), action: "skip" },
    { name: "a newer upsert is published", plan: (v: ClusterView) => v.planUpsert(res("a", 16)), action: "upsert" },
    {
      name: "an upsert older than a delete cannot resurrect the key",
      plan: (v: ClusterView) => v.planUpsert(res("c", 13)),
      action: "skip",
    },
    {
      name: "a replayed delete is skipped",
      plan: (v: ClusterView) => v.planDelete("WorkloadEndpoint", "c", "14"),
      action: "skip",
    },
    {
      name: "a delete of a key not on the bus is skipped",
      plan: (v: ClusterView) => v.planDelete("WorkloadEndpoint", "zzz", "30"),
      action: "skip",
    },
    {
      name: "a newer delete is published",
      plan: (v: ClusterView) => v.planDelete("WorkloadEndpoint", "b", "30"),
      action: "delete",
    },
  ])("$name", ({ plan, action }) => {
    expect(plan(afterWatch()).action).toBe(action);
  });

  it("remembers a delete of an absent key so an older replay cannot create it", () => {
    const view = afterWatch();
    expect(view.planDelete("WorkloadEndpoint", "late", "40").action).toBe("skip");
    expect(view.planUpsert(res("late", 39)).action).toBe("skip");
    expect(view.planUpsert(res("late", 41)).action).toBe("upsert");
  });

  it("counts live resources by kind", () => {
    const view = afterWatch();
    view.commitUpsert(res("p", 20, "p", "Profile"), 1);
    expect(view.counts()).toEqual({ WorkloadEndpoint: 2, Profile: 1 });
  });
});

describe("ClusterView: content of equal revisions, and the memory of deletes", () => {
  const listed = (origin: string) => {
    const view = new ClusterView();
    const first = snap(10, [res("a", 5), res("b", 6)], origin);
    view.commitSnapshot(first, view.planSnapshot(first, 1), 1);
    view.commitUpsert(res("c", 12), 1);
    return view;
  };

  it.each([
    { name: "the same origin at equal revisions is unchanged", origin: "etcd-1", upserts: [], unchanged: 3 },
    {
      name: "another origin at equal revisions is republished",
      origin: "etcd-2",
      upserts: ["a", "b", "c"],
      unchanged: 0,
    },
  ])("$name (listed and watched entries alike)", ({ origin, upserts, unchanged }) => {
    const diff = listed("etcd-1").planSnapshot(snap(20, [res("a", 5), res("b", 6), res("c", 12)], origin), 1);
    expect(ids(diff.upserts)).toEqual(upserts);
    expect(diff.unchanged).toBe(unchanged);
  });

  it("a deleted key's revision is remembered for the retention, then forgotten", () => {
    const view = new ClusterView({ deletedRetentionMs: 60_000 });
    const first = snap(10, [res("a", 5)], "etcd-1");
    view.commitSnapshot(first, view.planSnapshot(first, 1), 1);
    view.commitDelete("WorkloadEndpoint", "a", "11", 1_000);
    expect(view.planDelete("WorkloadEndpoint", "gone", "12", 2_000).action).toBe("skip");
    expect(view.deletedKeys).toBe(2);
    view.pruneDeleted(60_999);
    expect(view.planUpsert(res("a", 9)).action).toBe("skip");
    expect(view.deletedKeys).toBe(2);
    expect(view.pruneDeleted(61_001)).toBe(1);
    expect(view.deletedKeys).toBe(1);
    expect(view.pruneDeleted(62_001)).toBe(1);
    expect(view.deletedKeys).toBe(0);
  });

  it("a key created again is no longer remembered as deleted", () => {
    const view = new ClusterView();
    view.commitDelete("WorkloadEndpoint", "a", "11", 0);
    view.commitUpsert(res("a", 12), 1);
    expect(view.deletedKeys).toBe(0);
    expect(view.planUpsert(res("a", 12)).action).toBe("skip");
  });

  it("under create/delete churn with fresh names, at most maxDeletedKeys are remembered, the oldest forgotten first", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 300 }), (max, n) => {
        const view = new ClusterView({ maxDeletedKeys: max, deletedRetentionMs: Number.POSITIVE_INFINITY });
        for (let i = 0; i < n; i++) {
          view.commitUpsert(res(`e${i}`, 2 * i + 1), 1);
          view.commitDelete("WorkloadEndpoint", `e${i}`, String(2 * i + 2), i);
        }
        expect(view.size).toBe(0);
        expect(view.deletedKeys).toBe(Math.min(max, n));
        // The newest deletes still drop replays; the oldest are forgotten.
        if (n > 0) expect(view.planUpsert(res(`e${n - 1}`, 2 * n - 1)).action).toBe("skip");
        if (n > max) expect(view.planUpsert(res("e0", 1)).action).toBe("upsert");
      }),
    );
  });
});

describe("ClusterView properties", () => {
  const resourceArb = fc.record({
    id: fc.constantFrom("a", "b", "c", "d", "e", "f"),
    kind: fc.constantFrom("WorkloadEndpoint", "Profile"),
    revision: fc.integer({ min: 1, max: 40 }),
    value: fc.constantFrom("x", "y"),
  });
  const uniq = (rs: { id: string; kind: string; revision: number; value: string }[]) => {
    const m = new Map<string, SourceResource>();
    for (const r of rs) m.set(`${r.kind}/${r.id}`, res(r.id, r.revision, r.value, r.kind));
    return [...m.values()];
  };
  const state = (v: ClusterView) =>
    Object.fromEntries([...v.entries()].map((e) => [`${e.kind}/${e.id}`, `${e.revision}:${e.generation}`]));

  it("after any seeded bus and any listing of unknown origin, the view equals the listing", () => {
    fc.assert(
      fc.property(fc.array(resourceArb), fc.array(resourceArb), (bus, listed) => {
        const view = new ClusterView();
        view.seed(uniq(bus).map((r) => pub(r)));
        const listing = snap(50, uniq(listed));
        view.commitSnapshot(listing, view.planSnapshot(listing, 1), 1);
        const expected = new ClusterView();
        expected.commitSnapshot(listing, expected.planSnapshot(listing, 1), 1);
        expect(state(view)).toEqual(state(expected));
      }),
    );
  });

  it("counts by kind always equal the live entries, whatever was seeded, listed, upserted and deleted", () => {
    fc.assert(
      fc.property(fc.array(resourceArb), fc.array(resourceArb), fc.array(resourceArb), (bus, listed, watched) => {
        const view = new ClusterView();
        view.seed(uniq(bus).map((r) => pub(r)));
        const listing = snap(50, uniq(listed), "o");
        view.commitSnapshot(listing, view.planSnapshot(listing, 1), 1);
        for (const [i, r] of watched.entries()) {
          if (i % 3 === 2) view.commitDelete(r.kind, r.id, String(60 + i));
          else view.commitUpsert(res(r.id, 60 + i, r.value, r.kind), 1);
        }
        const expected: Record<string, number> = {};
        for (const e of view.entries()) expected[e.kind] = (expected[e.kind] ?? 0) + 1;
        expect(view.counts()).toEqual(expected);
      }),
    );
  });

  it("applying the same listing twice publishes nothing the second time", () => {
    fc.assert(
      fc.property(fc.array(resourceArb), fc.array(resourceArb), fc.boolean(), (bus, listed, sameOrigin) => {
        const view = new ClusterView();
        view.seed(uniq(bus).map((r) => pub(r)));
        const listing = snap(50, uniq(listed), sameOrigin ? "o" : undefined);
        view.commitSnapshot(listing, view.planSnapshot(listing, 1), 1);
        const again = view.planSnapshot(listing, 1);
        return again.upserts.length === 0 && again.deletes.length === 0;
      }),
    );
  });
});
