/**
 * The Kubernetes source's ownership of the list/watch lifecycle, on the test server's faults: 410s,
 * hung and silent watches, server-side ends, failing requests, RBAC on watch, bad data, and the
 * kinds of the local cluster and of overlay routing. Time-driven behaviour runs on a manual clock.
 */
import { createManualClock, ResyncRequiredError, type SourceChange } from "@fedview/sync";
import { type KubeApiServer, startKubeApiServer, uniqueName, waitFor } from "@fedview/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createKubernetesSource,
  KubeRbacError,
  type KubernetesConnectionMaterial,
  type KubernetesSourceOptions,
  KubeSourceError,
} from "../src/index.js";
import {
  collect,
  FEDVIEW_RULES,
  HOST_ENDPOINTS,
  hostEndpoint,
  IP_POOLS,
  logger,
  namespace,
  pod,
  resourceOf,
  running,
} from "./fixtures.js";

const CLUSTER = "east";
const signal = () => AbortSignal.timeout(30_000);

let server: KubeApiServer;
let admin: KubernetesConnectionMaterial;

beforeEach(async () => {
  server = await startKubeApiServer();
  admin = { server: server.url, caCert: server.ca, token: server.adminToken };
});
afterEach(async () => {
  server.resumeWatches();
  await server[Symbol.asyncDispose]();
});

function source(options: Partial<KubernetesSourceOptions> = {}) {
  return createKubernetesSource({ cluster: CLUSTER, material: admin, logger, ...options });
}

function watchRequests(path: string) {
  return server.requests().filter((r) => r.path === path && r.query["watch"] === "true");
}

/** Resolves with what the watch threw (undefined if it ended without throwing). */
async function watchFailure(iterable: AsyncIterable<SourceChange[]>): Promise<unknown> {
  try {
    for await (const _batch of iterable) {
      // Changes are not what these tests look at.
    }
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("listing", () => {
  it("lists every type at the first list's resourceVersion, page by page", async () => {
    for (let i = 0; i < 5; i++) server.create("namespaces", namespace(uniqueName("n")));
    await using src = source({ pageSize: 2 });
    const snapshot = await src.list(signal());
    const lists = server.requests().filter((r) => r.verb === "list");
    const [first, ...rest] = lists;
    expect(first).toMatchObject({ path: "/api/v1/namespaces", query: { limit: "2" } });
    expect(first?.query["resourceVersion"]).toBeUndefined();
    expect(lists.filter((r) => r.path === "/api/v1/namespaces" && r.query["continue"] !== undefined)).toHaveLength(4);
    const later = rest.filter((r) => r.path !== "/api/v1/namespaces");
    expect(later.map((r) => r.path)).toEqual([
      "/api/v1/serviceaccounts",
      "/api/v1/pods",
      "/apis/crd.projectcalico.org/v1/hostendpoints",
    ]);
    for (const r of later) {
      expect(r.query).toMatchObject({ resourceVersion: snapshot.revision, resourceVersionMatch: "Exact" });
    }
    expect(snapshot.resources.filter((r) => r.kind === "Profile")).toHaveLength(9);
  });

  it("starts the listing over when its version expires between two requests, never returning part of it", async () => {
    server.create("namespaces", namespace("before"));
    server.failNext(/^\/api\/v1\/pods\?/, 410);
    await using src = source();
    const snapshot = await src.list(signal());
    const namespaceLists = server.requests().filter((r) => r.verb === "list" && r.path === "/api/v1/namespaces");
    expect(namespaceLists).toHaveLength(2);
    expect(snapshot.resources.some((r) => r.id === `${CLUSTER}/kns.before`)).toBe(true);
  });
});

describe("watching", () => {
  it("a 410 on the watch ends it with ResyncRequiredError so the cluster is relisted", async () => {
    await using src = source();
    const snapshot = await src.list(signal());
    server.create("pods", pod("default", "a", { status: running("10.0.0.1") }));
    server.expireVersions();
    const error = await watchFailure(src.watch(snapshot.revision, signal()));
    expect(error).toBeInstanceOf(ResyncRequiredError);
    expect((error as ResyncRequiredError).reason).toBe("expired");
    expect((error as Error).message).toMatch(/watch's resourceVersion \d+ is too old \(410 Gone\); relisting$/);
  });

  it("the watchdog aborts a watch gone silent mid-stream and asks for a relist", async () => {
    const clock = createManualClock();
    await using src = source({ clock, watchdogMs: 60_000, kinds: ["WorkloadEndpoint"] });
    const snapshot = await src.list(signal());
    const stop = new AbortController();
    const failure = watchFailure(src.watch(snapshot.revision, stop.signal));
    await waitFor(() => server.watches().length === 1, { message: "the pods watch open" });
    server.hangWatches();
    server.create("pods", pod("default", "held", { status: running("10.0.0.2") }));
    clock.advance(59_999);
    expect(server.watches()).toHaveLength(1);
    clock.advance(1);
    const error = await failure;
    expect(error).toBeInstanceOf(ResyncRequiredError);
    expect((error as ResyncRequiredError).reason).toBe("silent");
    expect((error as Error).message).toContain("silent for 60000 ms (no event, no bookmark); relisting");
    await waitFor(() => server.watches().length === 0, { message: "the silent watch aborted on the server" });
  });

  it("the watchdog also aborts a watch whose response headers never come", async () => {
    const clock = createManualClock();
    await using src = source({ clock, watchdogMs: 60_000, kinds: ["WorkloadEndpoint"] });
    const snapshot = await src.list(signal());
    server.hangWatches();
    const failure = watchFailure(src.watch(snapshot.revision, signal()));
    await waitFor(() => server.watches().length === 1, { message: "the pods watch request arrived" });
    clock.advance(60_000);
    const error = await failure;
    expect((error as ResyncRequiredError).reason).toBe("silent");
    await waitFor(() => server.watches().length === 0, { message: "the hung request torn down" });
  });

  it("bookmarks keep a quiet watch alive and move its position", async () => {
    const clock = createManualClock();
    await using src = source({ clock, watchdogMs: 60_000, kinds: ["WorkloadEndpoint"] });
    const snapshot = await src.list(signal());
    const stop = new AbortController();
    const changes = collect(src.watch(snapshot.revision, stop.signal), (all) => all.some((c) => c.type === "progress"));
    await waitFor(() => server.watches().length === 1);
    server.create("namespaces", namespace("elsewhere"));
    clock.advance(40_000);
    server.sendBookmarks();
    const progress = (await changes).find((c) => c.type === "progress");
    expect(progress).toEqual({ type: "progress", revision: server.resourceVersion() });
    clock.advance(40_000);
    expect(server.watches()).toHaveLength(1);
    stop.abort();
  });

  it("a watch the server ends cleanly goes on from its last position: no gap, no relist", async () => {
    await using src = source({ kinds: ["WorkloadEndpoint"] });
    const snapshot = await src.list(signal());
    const stop = new AbortController();
    const iterator = src.watch(snapshot.revision, stop.signal)[Symbol.asyncIterator]();
    const a = server.create("pods", pod("default", "a", { status: running("10.0.0.3") }));
    expect((await iterator.next()).value).toMatchObject([
      { type: "upsert", resource: { id: "default/node--1-k8s-a-eth0" } },
    ]);
    server.closeWatches();
    server.create("pods", pod("default", "b", { status: running("10.0.0.4") }));
    expect((await iterator.next()).value).toMatchObject([
      { type: "upsert", resource: { id: "default/node--1-k8s-b-eth0" } },
    ]);
    stop.abort();
    await iterator.return?.();
    const watches = watchRequests("/api/v1/pods");
    expect(watches.map((w) => w.query["resourceVersion"])).toEqual([snapshot.revision, a.metadata.resourceVersion]);
    expect(watches.every((w) => w.query["allowWatchBookmarks"] === "true")).toBe(true);
    expect(server.requests().filter((r) => r.verb === "list")).toHaveLength(1);
  });

  it("a failed watch request is retried after a backoff from the same position", async () => {
    const delays: number[] = [];
    const clock = createManualClock();
    const sleep = clock.sleep.bind(clock);
    // Backoff sleeps are recorded and skipped; the watchdog's (far longer) sleep stays on the clock.
    clock.sleep = (ms, s) => {
      if (ms >= 1e9) return sleep(ms, s);
      delays.push(ms);
      return Promise.resolve();
    };
    await using src = source({ clock, kinds: ["WorkloadEndpoint"], random: () => 1, watchdogMs: 1e9 });
    const snapshot = await src.list(signal());
    server.failNext(/^\/api\/v1\/pods\?watch=true/, 503, 2);
    server.create("pods", pod("default", "c", { status: running("10.0.0.5") }));
    const changes = await collect(src.watch(snapshot.revision, signal()), (all) =>
      all.some((c) => c.type === "upsert"),
    );
    expect(changes).toMatchObject([{ type: "upsert", resource: { id: "default/node--1-k8s-c-eth0" } }]);
    const watches = watchRequests("/api/v1/pods");
    expect(watches.map((w) => [w.query["resourceVersion"], w.status])).toEqual([
      [snapshot.revision, 503],
      [snapshot.revision, 503],
      [snapshot.revision, 200],
    ]);
    // Capped exponential backoff: 500 ms, then 1 s (jitter pinned to its maximum).
    expect(delays).toEqual([500, 1000]);
  });

  it("gives up after the allowed failures in a row with the last error", async () => {
    await using src = source({ kinds: ["WorkloadEndpoint"], watchRetries: 2, backoff: { initialMs: 1, maxMs: 1 } });
    const snapshot = await src.list(signal());
    server.failNext(/^\/api\/v1\/pods\?watch=true/, 503, 3);
    const error = await watchFailure(src.watch(snapshot.revision, signal()));
    expect(error).toBeInstanceOf(KubeSourceError);
    expect((error as Error).message).toBe(`kubernetes ${server.url}: watch pods: HTTP 503`);
  });

  it("a dropped connection is resumed from the last position", async () => {
    await using src = source({ kinds: ["WorkloadEndpoint"], backoff: { initialMs: 1, maxMs: 1 } });
    const snapshot = await src.list(signal());
    const stop = new AbortController();
    const iterator = src.watch(snapshot.revision, stop.signal)[Symbol.asyncIterator]();
    const next = iterator.next();
    await waitFor(() => server.watches().length === 1, { message: "the pods watch open" });
    server.dropConnections();
    server.create("pods", pod("default", "d", { status: running("10.0.0.6") }));
    expect((await next).value).toMatchObject([{ type: "upsert", resource: { id: "default/node--1-k8s-d-eth0" } }]);
    stop.abort();
    await iterator.return?.();
    expect(watchRequests("/api/v1/pods").map((w) => w.query["resourceVersion"])).toEqual([
      snapshot.revision,
      snapshot.revision,
    ]);
  });

  it("a 403 on the watch names the missing watch permission", async () => {
    const user = server.addServiceAccountUser("kube-system", "fedview");
    server.grant(user.name, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }]);
    await using src = source({
      kinds: ["WorkloadEndpoint"],
      material: { server: server.url, caCert: server.ca, token: user.token },
    });
    const snapshot = await src.list(signal());
    const error = await watchFailure(src.watch(snapshot.revision, signal()));
    expect(error).toBeInstanceOf(KubeRbacError);
    expect((error as KubeRbacError).message).toBe(
      `RBAC: the remote cluster's credentials cannot watch pods (API group "") at the cluster scope — add get/list/watch on "pods" to the ClusterRole bound to fedview's ServiceAccount`,
    );
  });

  it("disposing the source ends its watch, even a hung one", async () => {
    const src = source({ kinds: ["WorkloadEndpoint"] });
    const snapshot = await src.list(signal());
    server.hangWatches();
    const failure = watchFailure(src.watch(snapshot.revision, new AbortController().signal));
    await waitFor(() => server.watches().length === 1);
    await src[Symbol.asyncDispose]();
    expect(((await failure) as Error).message).toBe(`kubernetes ${server.url}: the source was disposed`);
    await waitFor(() => server.watches().length === 0);
  });
});

describe("connection errors", () => {
  it.each([
    [
      "a wrong token",
      (s: KubeApiServer) => ({ server: s.url, caCert: s.ca, token: "wrong" }),
      (s: KubeApiServer) =>
        `kubernetes ${s.url}: authentication failed: the API server rejected the credentials (401 Unauthorized)`,
    ],
    [
      "an unknown certificate authority",
      (s: KubeApiServer) => ({ server: s.url, token: s.adminToken }),
      (s: KubeApiServer) => `kubernetes ${s.url}: list namespaces: certificate signed by unknown authority (`,
    ],
    [
      "a closed port",
      (s: KubeApiServer) => ({ server: "https://127.0.0.1:1", caCert: s.ca, token: s.adminToken }),
      () => "kubernetes https://127.0.0.1:1: list namespaces: connection refused",
    ],
  ])("check() with %s says what failed", async (_name, materialOf, message) => {
    await using src = source({ material: materialOf(server) });
    await expect(src.check(signal())).rejects.toThrow(message(server));
  });
});

describe("data", () => {
  it("skips malformed objects as malformed entries, in listings and in watches", async () => {
    server.create(HOST_ENDPOINTS, hostEndpoint("bad-hep", { node: "node-1", ports: "eighty" }));
    server.create(
      "pods",
      pod("default", "bad-ip", {
        annotations: { "cni.projectcalico.org/podIP": "not-an-ip" },
        status: { phase: "Pending" },
      }),
    );
    await using src = source();
    const snapshot = await src.list(signal());
    expect(snapshot.malformed).toEqual([
      {
        ref: "pods default/bad-ip",
        kind: "WorkloadEndpoint",
        id: "default/node--1-k8s-bad--ip-eth0",
        revision: expect.stringMatching(/^\d+$/),
        reason: 'pod default/bad-ip has an IP that does not parse: "not-an-ip"',
      },
      {
        ref: "hostendpoints.crd.projectcalico.org bad-hep",
        kind: "HostEndpoint",
        id: "bad-hep",
        revision: expect.stringMatching(/^\d+$/),
        reason: expect.stringContaining("spec.ports"),
      },
    ]);
    const stop = new AbortController();
    const changes = collect(src.watch(snapshot.revision, stop.signal), (all) =>
      all.some((c) => c.type === "malformed"),
    );
    server.create(HOST_ENDPOINTS, hostEndpoint("worse-hep", { expectedIPs: "1.2.3.4" }));
    expect((await changes).find((c) => c.type === "malformed")).toMatchObject({
      type: "malformed",
      entry: { ref: "hostendpoints.crd.projectcalico.org worse-hep", kind: "HostEndpoint", id: "worse-hep" },
    });
    stop.abort();
  });

  it("the local cluster also carries its Calico policies, unprefixed, and does without a tier CRD", async () => {
    server.create(
      { group: "crd.projectcalico.org", version: "v1", plural: "globalnetworkpolicies" },
      {
        apiVersion: "crd.projectcalico.org/v1",
        kind: "GlobalNetworkPolicy",
        metadata: { name: "default.deny-all" },
        spec: { selector: "all()", types: ["Ingress"] },
      },
    );
    server.create(
      { group: "crd.projectcalico.org", version: "v1", plural: "networkpolicies" },
      {
        apiVersion: "crd.projectcalico.org/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default.web", namespace: "default" },
        spec: { selector: "app == 'web'" },
      },
    );
    server.create("pods", pod("default", "w", { status: running("10.0.0.9") }));
    await using src = source({ cluster: "_local" });
    const snapshot = await src.list(signal());
    const ids = snapshot.resources.map((r) => `${r.kind} ${r.id}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        "Profile kns.default",
        "WorkloadEndpoint default/node--1-k8s-w-eth0",
        "NetworkPolicy default/default.web",
        "GlobalNetworkPolicy default.deny-all",
      ]),
    );
    const wep = snapshot.resources.find((r) => r.kind === "WorkloadEndpoint")?.resource as {
      spec: { node: string; profiles: string[] };
    };
    expect(wep.spec).toMatchObject({ node: "node-1", profiles: ["kns.default"] });
    const profile = snapshot.resources.find((r) => r.id === "kns.default")?.resource as { spec: unknown };
    expect(profile.spec).toMatchObject({ ingress: [{ action: "Allow" }], egress: [{ action: "Allow" }] });
    expect(server.requests().some((r) => r.path === "/apis/crd.projectcalico.org/v1/tiers" && r.status === 404)).toBe(
      true,
    );
  });

  it("with overlay routing, Nodes and IPPools come too, converted and prefixed", async () => {
    server.create("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: "node-1",
        labels: { "kubernetes.io/os": "linux" },
        annotations: {
          "projectcalico.org/IPv4Address": "192.168.0.10/24",
          "projectcalico.org/ASNumber": "64512",
          "projectcalico.org/IPv4VXLANTunnelAddr": "10.244.0.1",
        },
      },
      status: {
        addresses: [
          { type: "InternalIP", address: "192.168.0.10" },
          { type: "Hostname", address: "node-1" },
        ],
      },
    });
    server.create(IP_POOLS, {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "IPPool",
      metadata: { name: "default-ipv4-ippool" },
      spec: { cidr: "10.244.0.0/16", vxlanMode: "Always", natOutgoing: true },
    });
    await using src = createKubernetesSource({ cluster: CLUSTER, material: admin, overlayRouting: true, logger });
    const snapshot = await src.list(signal());
    const node = snapshot.resources.find((r) => r.kind === "Node");
    expect(node?.id).toBe(`${CLUSTER}/node-1`);
    expect(resourceOf<{ metadata: unknown; spec: unknown }>(node).spec).toEqual({
      bgp: { ipv4Address: "192.168.0.10/24", asNumber: 64512 },
      ipv4VXLANTunnelAddr: "10.244.0.1",
      addresses: [
        { address: "192.168.0.10/24", type: "CalicoNodeIP" },
        { address: "192.168.0.10", type: "InternalIP" },
      ],
      orchRefs: [{ nodeName: "node-1", orchestrator: "k8s" }],
    });
    expect(resourceOf<{ metadata: { labels: unknown } }>(node).metadata.labels).toEqual({
      "kubernetes.io/os": "linux",
    });
    const pool = snapshot.resources.find((r) => r.kind === "IPPool");
    expect(pool?.id).toBe(`${CLUSTER}/default-ipv4-ippool`);
    expect(resourceOf<{ spec: unknown }>(pool).spec).toEqual({
      cidr: "10.244.0.0/16",
      vxlanMode: "Always",
      natOutgoing: true,
    });
  });
});

describe("permissions", () => {
  it("the RBAC calico.md asks of a remote cluster is enough to list and watch everything", async () => {
    const user = server.addServiceAccountUser("kube-system", "fedview");
    server.grant(user.name, FEDVIEW_RULES);
    await using src = source({
      material: { server: server.url, caCert: server.ca, token: user.token },
      overlayRouting: true,
    });
    await src.check(signal());
    const snapshot = await src.list(signal());
    const stop = new AbortController();
    const changes = collect(src.watch(snapshot.revision, stop.signal), (all) => all.some((c) => c.type === "upsert"));
    await waitFor(() => server.watches().length === 6, { message: "six watches open" });
    server.create("namespaces", namespace("later"));
    expect((await changes).filter((c) => c.type === "upsert")).toMatchObject([
      { type: "upsert", resource: { kind: "Profile", id: `${CLUSTER}/kns.later` } },
    ]);
    stop.abort();
  });
});
