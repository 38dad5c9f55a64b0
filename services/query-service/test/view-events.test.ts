/**
 * How the view applies events: newest (generation, revision) wins per resource, deletes leave
 * tombstones, remote clusters cannot bring policies, profile changes reach endpoints through
 * inheritance, and watches report start/stop as endpoints and profiles change.
 */
import type { ResourceEvent } from "@fedview/bus";
import { LOCAL_CLUSTER } from "@fedview/model";
import { describe, expect, it } from "vitest";
import type { DropReason, WatchEvent } from "../src/index.js";
import { FederatedView } from "../src/index.js";
import { allEvents, globalPolicy, namespace, pod, raw, remove, statuses, tier, upsert } from "./fixtures.js";

const WEP_ID = "prod/node--a-k8s-api--e1-eth0";

function apiPod(labels: Record<string, string>) {
  return pod({ ns: "prod", name: "api-e1", node: "node-a", labels, sa: "api", ip: "10.1.0.5" });
}

function displayNames(view: FederatedView, selector: string): string[] {
  return view.eval(selector).endpoints.map((e) => e.display_name);
}

describe("event ordering", () => {
  it.each<[string, [number, string][], string]>([
    [
      "a newer revision replaces",
      [
        [1, "10"],
        [1, "11"],
      ],
      "v11",
    ],
    [
      "an older revision is dropped",
      [
        [1, "11"],
        [1, "10"],
      ],
      "v11",
    ],
    [
      "the same revision is dropped",
      [
        [1, "11"],
        [1, "11"],
      ],
      "v11",
    ],
    [
      "a newer generation wins with a lower revision",
      [
        [1, "500"],
        [2, "3"],
      ],
      "v3",
    ],
    [
      "an older generation loses with a higher revision",
      [
        [2, "3"],
        [1, "500"],
      ],
      "v3",
    ],
    [
      "revisions compare as numbers, not text",
      [
        [1, "9"],
        [1, "10"],
      ],
      "v10",
    ],
    // Revisions beyond 2^53 compare exactly.
    [
      "huge revisions compare exactly",
      [
        [1, "9007199254740993"],
        [1, "9007199254740992"],
      ],
      "v9007199254740993",
    ],
  ])("%s", (_, versions, expected) => {
    const view = new FederatedView();
    for (const [generation, revision] of versions) {
      const event = upsert("east", apiPod({ app: `v${revision}` }), generation, 0);
      view.applyResourceEvent({ ...event, revision });
    }
    expect(view.eval("has(app)").endpoints).toHaveLength(1);
    expect(view.eval(`app == "${expected}"`).endpoints).toHaveLength(1);
  });

  it("keeps a tombstone: an upsert older than the delete does not resurrect", () => {
    const view = new FederatedView();
    expect(view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 10))).toBe(true);
    expect(view.applyResourceEvent(remove("east", "WorkloadEndpoint", WEP_ID, 1, 12))).toBe(true);
    expect(view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 11))).toBe(false);
    expect(view.eval("all()").endpoints).toEqual([]);
    expect(view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 13))).toBe(true);
    expect(displayNames(view, "all()")).toEqual(["east/node-a/k8s/prod.api-e1/eth0"]);
  });

  it("forgets tombstones past their retention, oldest first, so create/delete churn stays bounded", () => {
    let now = 0;
    const view = new FederatedView({ tombstoneRetentionMs: 1000, now: () => now });
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 10));
    view.applyResourceEvent(remove("east", "WorkloadEndpoint", WEP_ID, 1, 12));
    now = 500;
    view.applyResourceEvent(remove("east", "WorkloadEndpoint", "prod/other", 1, 13));
    expect(view.tombstoneCount).toBe(2);
    // Within the retention, the late older upsert is still refused.
    expect(view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 11))).toBe(false);
    now = 1200;
    view.applyResourceEvent(remove("east", "WorkloadEndpoint", "prod/third", 1, 14));
    // The first tombstone aged out on the next deletion; the other two are younger than 1000 ms.
    expect(view.tombstoneCount).toBe(2);
    expect(view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 11))).toBe(true);
    now = 5000;
    view.applyResourceEvent(remove("east", "WorkloadEndpoint", "prod/fourth", 1, 15));
    expect(view.tombstoneCount).toBe(1);
  });

  it("applies a delete at the held version (expired data) and a republish at that version again", () => {
    const view = new FederatedView();
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 10));
    expect(view.applyResourceEvent(remove("east", "WorkloadEndpoint", WEP_ID, 1, 10))).toBe(true);
    expect(view.eval("all()").endpoints).toEqual([]);
    // The cluster comes back unchanged: the connector republishes the same version.
    expect(view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 10))).toBe(true);
    expect(displayNames(view, "all()")).toEqual(["east/node-a/k8s/prod.api-e1/eth0"]);
  });

  it("drops a delete older than the upsert it would remove", () => {
    const view = new FederatedView();
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 2, 5));
    expect(view.applyResourceEvent(remove("east", "WorkloadEndpoint", WEP_ID, 1, 99))).toBe(false);
    expect(view.eval("all()").endpoints).toHaveLength(1);
  });

  it("applies a snapshot in any order to the same result", () => {
    const events = allEvents();
    const forward = new FederatedView();
    const backward = new FederatedView();
    for (const e of events) forward.applyResourceEvent(e);
    for (const e of [...events].reverse()) backward.applyResourceEvent(e);
    for (const selector of ["all()", 'pcns.env == "production"', 'pcsa.team == "payments"']) {
      expect(backward.eval(selector)).toEqual(forward.eval(selector));
    }
    expect(backward.endpoint("", {})).toEqual(forward.endpoint("", {}));
  });

  it.each<[string, ResourceEvent, DropReason]>([
    [
      "a policy from a remote cluster",
      raw("east", globalPolicy("default.sneaky", { selector: "all()" })),
      "remote-policy",
    ],
    ["a tier from a remote cluster", raw("east", tier("sneaky", 1)), "remote-policy"],
    [
      "a kind the view does not keep",
      {
        ...raw(LOCAL_CLUSTER, tier("x")),
        kind: "IPPool",
        resource: { apiVersion: "projectcalico.org/v3", kind: "IPPool", metadata: { name: "p" } },
      },
      "unknown-kind",
    ],
    [
      "a resource that fails the schema",
      {
        ...upsert("east", apiPod({})),
        resource: { apiVersion: "projectcalico.org/v3", kind: "WorkloadEndpoint", metadata: { name: "x" } },
      },
      "invalid",
    ],
    [
      "a policy with a selector Calico rejects",
      raw(LOCAL_CLUSTER, globalPolicy("default.broken", { selector: "a == b" })),
      "invalid",
    ],
  ])("drops %s", (_, event, reason) => {
    const drops: DropReason[] = [];
    const view = new FederatedView({ onDrop: (_e, r) => drops.push(r) });
    expect(view.applyResourceEvent(event)).toBe(false);
    expect(drops).toEqual([reason]);
    expect(view.policy("sneaky")).toBeNull();
    expect(view.eval("all()").endpoints).toEqual([]);
  });

  it("treats an update that removes every address as a removal", () => {
    const view = new FederatedView();
    const wep = apiPod({ app: "api" });
    view.applyResourceEvent(upsert("east", wep, 1, 10));
    const noAddresses = { ...wep, spec: { ...wep.spec, ipNetworks: [] } };
    expect(
      view.applyResourceEvent(
        raw("east", { ...noAddresses, spec: { ...noAddresses.spec, node: "east/node-a" } }, 1, 11),
      ),
    ).toBe(true);
    expect(view.eval("all()").endpoints).toEqual([]);
    // Nothing is held for east any more, and no status was received for it.
    expect(view.status()).toEqual([]);
    // The removal holds its version: an older event with addresses does not bring the endpoint back.
    expect(view.applyResourceEvent(upsert("east", wep, 1, 10))).toBe(false);
    expect(view.eval("all()").endpoints).toEqual([]);
  });

  it("moves an endpoint between hosts", () => {
    const view = new FederatedView();
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" }), 1, 10));
    const moved = pod({ ns: "prod", name: "api-e1", node: "node-b", labels: { app: "api" }, ip: "10.1.0.5" });
    // Same pod name on another node is another WEP name, so publish under the old ID as a connector would on a rename.
    view.applyResourceEvent({ ...upsert("east", moved, 1, 11), id: WEP_ID });
    expect(view.host("east/node-a").endpoints).toEqual([]);
    expect(view.host("east/node-b").endpoints.map((e) => e.display_name)).toEqual(["east/node-b/k8s/prod.api-e1/eth0"]);
  });
});

describe("profiles and inheritance", () => {
  it("re-evaluates endpoints when their profile's labels change, within their cluster only", () => {
    const view = new FederatedView();
    for (const e of allEvents()) view.applyResourceEvent(e);
    expect(displayNames(view, 'pcns.env == "staging"')).toEqual(["west/node-x/k8s/prod.api-w1/eth0"]);
    view.applyResourceEvent(upsert("east", namespace("prod", { env: "staging" })));
    expect(displayNames(view, 'pcns.env == "staging"')).toEqual([
      "east/node-a/k8s/prod.api-e1/eth0",
      "east/node-a/k8s/prod.frontend-e1/eth0",
      "west/node-x/k8s/prod.api-w1/eth0",
    ]);
    // The local prod namespace is untouched.
    expect(displayNames(view, 'pcns.env == "production"')).toEqual([
      "node-1/k8s/prod.api-5f9/eth0",
      "node-1/k8s/prod.frontend-7d4/eth0",
      "node-2/k8s/prod.db-0/eth0",
    ]);
  });

  it("own labels win over inherited ones", () => {
    const view = new FederatedView();
    view.applyResourceEvent(upsert("east", { ...namespace("prod"), spec: { labelsToApply: { app: "from-profile" } } }));
    view.applyResourceEvent(upsert("east", apiPod({ app: "own" })));
    expect(view.eval('app == "own"').endpoints).toHaveLength(1);
    expect(view.eval('app == "from-profile"').endpoints).toHaveLength(0);
  });

  it("an endpoint inherits nothing from a deleted profile, and again once it returns", () => {
    const view = new FederatedView();
    view.applyResourceEvent(upsert("east", namespace("prod", { env: "production" }), 1, 10));
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" })));
    view.applyResourceEvent(remove("east", "Profile", "east/kns.prod", 1, 20));
    expect(view.eval("has(pcns.env)").endpoints).toHaveLength(0);
    view.applyResourceEvent(upsert("east", namespace("prod", { env: "production" }), 1, 21));
    expect(view.eval("has(pcns.env)").endpoints).toHaveLength(1);
  });
});

describe("policies and tiers", () => {
  it("reorders policies when a tier's order changes", () => {
    const view = new FederatedView();
    for (const e of allEvents()) view.applyResourceEvent(e);
    const order = () => view.endpoint("api-5f9", { hideRuleMatches: true }).endpoints[0]!.policies!.map((p) => p.name);
    expect(order()).toEqual([
      "security.block-external",
      "prod/default.allow-api",
      "default.allow-dns",
      "platform.audit",
    ]);
    view.applyResourceEvent(upsert(LOCAL_CLUSTER, tier("platform", 50)));
    expect(order()).toEqual([
      "platform.audit",
      "security.block-external",
      "prod/default.allow-api",
      "default.allow-dns",
    ]);
    view.applyResourceEvent(remove(LOCAL_CLUSTER, "GlobalNetworkPolicy", "platform.audit"));
    expect(order()).toEqual(["security.block-external", "prod/default.allow-api", "default.allow-dns"]);
    expect(view.policy("platform.audit")).toBeNull();
  });
});

describe("cluster statuses", () => {
  it("replaces, ignores older generations, and removes", () => {
    const view = new FederatedView();
    const [, east, west] = statuses();
    view.applyClusterStatus(east!);
    view.applyClusterStatus(west!);
    expect(view.problems().map((p) => p.cluster)).toEqual(["west"]);
    expect(view.applyClusterStatus({ ...west!, generation: 2, status: "InSync", stale: false })).toBe(true);
    expect(view.problems()).toEqual([]);
    expect(view.applyClusterStatus({ ...west!, generation: 1 })).toBe(false);
    expect(view.problems()).toEqual([]);
    view.applyClusterStatus({ ...east!, status: "ResyncInProgress", since: "2025-03-02T00:00:00.000Z" });
    expect(view.problems()).toEqual([
      { cluster: "east", status: "ResyncInProgress", since: "2025-03-02T00:00:00.000Z", stale: false },
    ]);
    expect(
      view.applyClusterStatus({
        v: 1,
        op: "delete",
        cluster: "east",
        generation: 1,
        since: "2025-03-03T00:00:00.000Z",
      }),
    ).toBe(true);
    expect(view.problems()).toEqual([]);
    expect(view.status().map((r) => r.cluster)).toEqual(["west"]);
  });

  it("never reports the local cluster as a remote problem", () => {
    const view = new FederatedView();
    const [local] = statuses();
    view.applyClusterStatus({ ...local!, status: "ResyncInProgress" });
    expect(view.problems()).toEqual([]);
    expect(view.status()[0]).toMatchObject({ cluster: "_local", local: true, status: "ResyncInProgress" });
  });
});

describe("watch", () => {
  it("starts with the current matches, then follows endpoint and profile changes", () => {
    const view = new FederatedView();
    for (const e of allEvents()) view.applyResourceEvent(e);
    const events: string[] = [];
    const watch = view.watch('app == "api" && pcns.env == "production"', (e: WatchEvent) =>
      events.push(`${e.type} ${e.endpoint.display_name}`),
    );
    expect(events.splice(0)).toEqual(["start east/node-a/k8s/prod.api-e1/eth0", "start node-1/k8s/prod.api-5f9/eth0"]);

    view.applyResourceEvent(upsert("west", namespace("prod", { env: "production" })));
    expect(events.splice(0)).toEqual(["start west/node-x/k8s/prod.api-w1/eth0"]);

    view.applyResourceEvent(upsert("east", apiPod({ app: "web" })));
    expect(events.splice(0)).toEqual(["stop east/node-a/k8s/prod.api-e1/eth0"]);

    view.applyResourceEvent(remove(LOCAL_CLUSTER, "WorkloadEndpoint", "prod/node--1-k8s-api--5f9-eth0"));
    expect(events.splice(0)).toEqual(["stop node-1/k8s/prod.api-5f9/eth0"]);

    // A change that keeps the match says nothing.
    view.applyResourceEvent(upsert("west", namespace("prod", { env: "production", extra: "x" })));
    expect(events).toEqual([]);

    watch.close();
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" })));
    expect(events).toEqual([]);
  });

  it("reports a stop with the endpoint as it was when it matched", () => {
    const view = new FederatedView();
    view.applyResourceEvent(upsert("east", apiPod({ app: "api" })));
    const events: WatchEvent[] = [];
    using _watch = view.watch("has(app)", (e) => events.push(e));
    view.applyResourceEvent(remove("east", "WorkloadEndpoint", WEP_ID));
    expect(events.map((e) => [e.type, e.endpoint.remote_cluster, e.endpoint.workload])).toEqual([
      ["start", "east", "prod/api-e1"],
      ["stop", "east", "prod/api-e1"],
    ]);
  });
});

describe("inventory", () => {
  it("lists what the view holds with its versions, sorted, without deleted resources", () => {
    const view = new FederatedView();
    const kept = upsert("east", apiPod({ app: "api" }), 2, 40);
    const gone = upsert("east", namespace("prod"), 2, 41);
    view.applyResourceEvent(kept);
    view.applyResourceEvent(gone);
    view.applyResourceEvent(remove("east", gone.kind, gone.id, 2, 42));
    view.applyResourceEvent(upsert(LOCAL_CLUSTER, tier("security", 10), 1, 7));
    const { items, more } = view.inventory();
    expect(more).toBe(false);
    expect(items.map(({ key: _key, ...item }) => item)).toEqual([
      { cluster: LOCAL_CLUSTER, kind: "Tier", id: "security", revision: "7", generation: 1 },
      { cluster: "east", kind: "WorkloadEndpoint", id: kept.id, revision: "40", generation: 2 },
    ]);
  });

  it("pages by key and filters by cluster", () => {
    const view = new FederatedView();
    for (const event of allEvents()) view.applyResourceEvent(event);
    const all = view.inventory().items;
    const pages: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = view.inventory({ limit: 3, ...(after === undefined ? {} : { after }) });
      pages.push(...page.items.map((i) => i.key));
      if (!page.more) break;
      after = page.items[page.items.length - 1]!.key;
    }
    expect(pages).toEqual(all.map((i) => i.key));
    expect(view.inventory({ cluster: "east" }).items.every((i) => i.cluster === "east")).toBe(true);
    expect(view.inventory({ cluster: "east" }).items.length).toBeGreaterThan(0);
  });
});
