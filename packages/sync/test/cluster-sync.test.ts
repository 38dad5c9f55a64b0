import { uniqueName, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  type ClusterConfig,
  type ClusterConnection,
  ClusterSync,
  type ClusterSyncOptions,
  createConnectorMetrics,
  createManualClock,
  createMemoryPublisher,
  type MemoryPublisher,
  type PublishedEvent,
  ResyncRequiredError,
  Semaphore,
} from "../src/index.js";
import { MemoryDatastore } from "./memory-datastore.js";

const WEP = "WorkloadEndpoint";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
const logger = pino({ level: "silent" });

function connection(cluster: string, generation: number, extra: Partial<ClusterConnection> = {}): ClusterConfig {
  return {
    valid: true,
    connection: { cluster, generation, datastoreType: "memory", spec: {}, secrets: {}, ...extra },
  };
}

interface Harness {
  cluster: string;
  sync: ClusterSync;
  publisher: MemoryPublisher;
  store: MemoryDatastore;
  clock: ReturnType<typeof createManualClock>;
  statuses(): string[];
  live(): Record<string, string>;
  [Symbol.asyncDispose](): Promise<void>;
}

function harness(overrides: Partial<ClusterSyncOptions> & { store?: MemoryDatastore } = {}): Harness {
  const cluster = uniqueName("c");
  const clock = createManualClock();
  const publisher = overrides.publisher ?? createMemoryPublisher();
  const store = overrides.store ?? new MemoryDatastore();
  const sync = new ClusterSync({
    config: connection(cluster, 1),
    createSource: () => store.source(),
    publisher,
    logger,
    clock,
    random: () => 1,
    backoff: { initialMs: 100, maxMs: 1000 },
    livenessIntervalMs: 1000,
    livenessTimeoutMs: 500,
    statusIntervalMs: 0,
    ...overrides,
  });
  const h: Harness = {
    cluster,
    sync,
    publisher: publisher as MemoryPublisher,
    store,
    clock,
    statuses() {
      const out: string[] = [];
      for (const e of (publisher as MemoryPublisher).log) {
        if (e.type !== "status" || e.cluster !== cluster) continue;
        if (out.at(-1) !== e.report.status) out.push(e.report.status);
      }
      return out;
    },
    live() {
      return Object.fromEntries(
        [...(publisher as MemoryPublisher).resources(cluster)].map(([k, v]) => [k, v.revision]),
      );
    },
    async [Symbol.asyncDispose]() {
      await sync[Symbol.asyncDispose]();
    },
  };
  return h;
}

const inSync = (h: Harness) =>
  waitFor(() => h.sync.status().status === "InSync" && h.store.activeWatches > 0, { message: "InSync and watching" });

/** Advances the manual clock to the next pending timer once the loop is waiting on one. */
async function advanceToNextTimer(h: Harness): Promise<void> {
  const at = await waitFor(() => h.clock.nextDeadline(), { message: "a pending timer" });
  h.clock.advance(at - h.clock.now());
}

function resourceEvents(log: readonly PublishedEvent[], cluster: string) {
  return log.filter((e) => (e.type === "upsert" || e.type === "delete") && e.cluster === cluster) as Extract<
    PublishedEvent,
    { type: "upsert" | "delete" }
  >[];
}

describe("ClusterSync: initial sync and watch", () => {
  it("goes Connecting → ResyncInProgress → InSync and publishes every listed resource", async () => {
    const store = new MemoryDatastore();
    store.put(WEP, "ns/a");
    store.put(WEP, "ns/b");
    store.put("Profile", "p1");
    await using h = harness({ store });
    h.sync.start();
    await inSync(h);
    expect(h.statuses()).toEqual(["Connecting", "ResyncInProgress", "InSync"]);
    expect(h.live()).toEqual({ [`${WEP}/ns/a`]: "1", [`${WEP}/ns/b`]: "2", "Profile/p1": "3" });
    const status = h.sync.status();
    expect(status).toMatchObject({ counts: { [WEP]: 2, Profile: 1 }, stale: false, generation: 1 });
    expect(status.lastSync).toBe(h.clock.now());
    expect(h.sync.stats()).toMatchObject({ synced: true, entries: 3, failures: 0, relists: 1 });
  });

  it("publishes live creates, updates and deletes, and drops replayed changes by revision", async () => {
    await using h = harness();
    h.sync.start();
    await inSync(h);
    h.store.put(WEP, "ns/a", { v: 1 });
    h.store.put(WEP, "ns/a", { v: 2 });
    h.store.put(WEP, "ns/b");
    h.store.delete(WEP, "ns/b");
    await waitFor(() => h.live()[`${WEP}/ns/a`] === "2" && h.publisher.resources(h.cluster).size === 1);
    const before = resourceEvents(h.publisher.log, h.cluster).length;
    // A watch that replays history from an older revision (as etcd3's client may after a reconnect)
    // must not publish anything twice.
    h.store.history.push(...h.store.history.map((e) => ({ ...e, revision: h.store.revision + 1 })));
    h.store.put(WEP, "ns/c");
    await waitFor(() => h.live()[`${WEP}/ns/c`] !== undefined);
    expect(resourceEvents(h.publisher.log, h.cluster).length).toBe(before + 1);
    expect(h.sync.status().counts).toEqual({ [WEP]: 2 });
  });
});

describe("ClusterSync: relist after a broken watch publishes only the difference", () => {
  it("deletes made while the watch was down are published after the relist, unchanged keys are not", async () => {
    const store = new MemoryDatastore();
    store.put(WEP, "ns/keep");
    store.put(WEP, "ns/gone");
    await using h = harness({ store });
    h.sync.start();
    await inSync(h);
    const before = resourceEvents(h.publisher.log, h.cluster).length;
    // The watch drops and, meanwhile, a key vanishes and history is compacted.
    h.store.compact();
    const gate = deferred();
    h.store.listGate = gate.promise;
    h.store.breakWatches(new ResyncRequiredError("compacted", "required revision has been compacted"));
    await waitFor(() => h.sync.status().status === "ResyncInProgress");
    h.store.delete(WEP, "ns/gone");
    h.store.compact();
    // While the relist runs, the bus still holds the full old view: never empty, never half.
    expect(Object.keys(h.live()).sort()).toEqual([`${WEP}/ns/gone`, `${WEP}/ns/keep`]);
    h.store.listGate = undefined;
    gate.resolve();
    await inSync(h);
    // That listing was read before the delete; the next change of the watch is not missed either.
    await waitFor(() => Object.keys(h.live()).length === 1);
    const after = resourceEvents(h.publisher.log, h.cluster).slice(before);
    expect(after.map((e) => `${e.type} ${e.id}`)).toEqual(["delete ns/gone"]);
    // The second listing predates the delete and its watch start was compacted: a third listing.
    expect(h.statuses()).toEqual([
      "Connecting",
      "ResyncInProgress",
      "InSync",
      "ResyncInProgress",
      "InSync",
      "ResyncInProgress",
      "InSync",
    ]);
    expect(h.sync.stats().relists).toBe(3);
  });

  it("a watch that starts below the compacted revision relists instead of missing changes", async () => {
    const store = new MemoryDatastore();
    store.put(WEP, "ns/a");
    const gate = deferred();
    store.listGate = gate.promise;
    await using h = harness({ store });
    h.sync.start();
    await waitFor(() => store.lists === 1);
    // Changes and a compaction happen between the listing and the start of its watch.
    store.listGate = undefined;
    store.put(WEP, "ns/b");
    store.delete(WEP, "ns/a");
    store.compact();
    gate.resolve();
    await waitFor(() => JSON.stringify(Object.keys(h.live())) === JSON.stringify([`${WEP}/ns/b`]));
    await inSync(h);
    expect(store.lists).toBe(2);
  });
});

describe("ClusterSync: failures, backoff, staleness, expiry, liveness", () => {
  it("reports ConnectionFailed with the error, keeps the data marked stale, and recovers after backoff", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    h.sync.start();
    await inSync(h);
    h.store.checkError = new Error("etcd 127.0.0.1:1: connection refused");
    h.store.breakWatches(new Error("stream closed: connection refused"));
    await waitFor(() => h.sync.status().status === "ConnectionFailed");
    let status = h.sync.status();
    expect(status.error).toBe("stream closed: connection refused");
    expect(status.stale).toBe(true);
    expect(status.staleSince).toBe(h.clock.now());
    expect(h.live()).toEqual({ [`${WEP}/ns/a`]: "1" });
    // Retries follow the capped backoff: 100 ms, 200, 400, 800, 1000, 1000 (random() = 1).
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = h.clock.now();
      const failures = h.sync.stats().failures;
      await advanceToNextTimer(h);
      delays.push(h.clock.now() - before);
      await waitFor(() => h.sync.stats().failures > failures);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    status = h.sync.status();
    expect(status).toMatchObject({ status: "ConnectionFailed", error: "etcd 127.0.0.1:1: connection refused" });
    expect(h.statuses().filter((s) => s === "Connecting")).toHaveLength(1);
    h.store.checkError = undefined;
    await advanceToNextTimer(h);
    await inSync(h);
    expect(h.sync.status()).toMatchObject({ stale: false, counts: { [WEP]: 1 } });
    expect(h.sync.status().error).toBeUndefined();
    expect(h.sync.stats().lastFailure?.error).toBe("etcd 127.0.0.1:1: connection refused");
    expect(h.store.disposed).toBeGreaterThanOrEqual(7);
  });

  it("retracts stale data once the RCC's expiry passes, and republishes it after reconnecting", async () => {
    const store = new MemoryDatastore();
    store.put(WEP, "ns/a");
    await using h = harness({
      store,
      config: connection("placeholder", 1),
      backoff: { initialMs: 1000, maxMs: 1000 },
    });
    // Rebuild with the harness's cluster name and an expiry of 2.5 s.
    const sync = new ClusterSync({
      config: connection(h.cluster, 1, { dataExpiryMs: 2500 }),
      createSource: () => store.source(),
      publisher: h.publisher,
      logger,
      clock: h.clock,
      random: () => 1,
      backoff: { initialMs: 1000, maxMs: 1000 },
      statusIntervalMs: 0,
    });
    await using _ = sync;
    sync.start();
    await waitFor(() => sync.status().status === "InSync" && store.activeWatches > 0);
    store.checkError = new Error("connection refused");
    store.breakWatches(new Error("connection lost"));
    await waitFor(() => sync.status().status === "ConnectionFailed");
    const failedAt = h.clock.now();
    expect(sync.status().expiresAt).toBe(failedAt + 2500);
    while (h.clock.now() < failedAt + 2500) await advanceToNextTimer(h);
    await waitFor(() => h.publisher.resources(h.cluster).size === 0, { message: "expired data retracted" });
    expect(sync.status()).toMatchObject({ status: "ConnectionFailed", stale: false, counts: {} });
    expect(sync.status().expiresAt).toBeUndefined();
    store.checkError = undefined;
    await advanceToNextTimer(h);
    await waitFor(() => sync.status().status === "InSync");
    expect(Object.keys(h.live())).toEqual([`${WEP}/ns/a`]);
  });

  it("a source that stops answering fails the liveness check and is rebuilt", async () => {
    await using h = harness();
    h.sync.start();
    await inSync(h);
    expect(h.store.created).toBe(1);
    h.store.checkHangs = true;
    await advanceToNextTimer(h); // liveness interval
    await advanceToNextTimer(h); // liveness timeout
    await waitFor(() => h.sync.status().status === "ConnectionFailed");
    expect(h.sync.status().error).toMatch(/liveness check failed: memory mem-1 did not answer within 500 ms/);
    h.store.checkHangs = false;
    await advanceToNextTimer(h);
    await inSync(h);
    expect(h.store.created).toBe(2);
    expect(h.store.disposed).toBe(1);
  });

  it("a bus that fails to store is re-read before publishing again", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    h.sync.start();
    await inSync(h);
    h.publisher.failWith(new Error("nats: timeout"));
    h.store.put(WEP, "ns/b");
    await waitFor(() => h.sync.stats().failures === 1);
    expect(h.sync.stats().lastFailure?.error).toMatch(/publishing to the bus failed: nats: timeout/);
    h.publisher.failWith(undefined);
    await advanceToNextTimer(h);
    await inSync(h);
    expect(Object.keys(h.live()).sort()).toEqual([`${WEP}/ns/a`, `${WEP}/ns/b`]);
  });
});

describe("ClusterSync: configuration changes", () => {
  it("hot-swaps to a new generation: the old watch serves until the new listing is done, no delete-then-add", async () => {
    const oldStore = new MemoryDatastore("old");
    oldStore.put(WEP, "ns/a", "same");
    oldStore.put(WEP, "ns/b");
    await using h = harness({ store: oldStore });
    const newStore = new MemoryDatastore("new");
    let generation = 1;
    const sync = new ClusterSync({
      config: connection(h.cluster, 1),
      createSource: (c) => (c.generation === 1 ? oldStore : newStore).source(),
      publisher: h.publisher,
      logger,
      clock: h.clock,
      random: () => 1,
      statusIntervalMs: 0,
    });
    await using _ = sync;
    sync.start();
    await waitFor(() => sync.status().status === "InSync" && oldStore.activeWatches > 0);
    const gate = deferred();
    newStore.listGate = gate.promise;
    newStore.put(WEP, "ns/a", "same");
    newStore.put(WEP, "ns/c");
    generation = 2;
    sync.update(connection(h.cluster, generation));
    await waitFor(() => newStore.lists === 1);
    // The new listing is in progress: the old watch still publishes.
    oldStore.put(WEP, "ns/d");
    await waitFor(() => h.live()[`${WEP}/ns/d`] !== undefined, { message: "old watch still serving" });
    expect(sync.status()).toMatchObject({ status: "InSync", generation: 1 });
    const mark = h.publisher.log.length;
    gate.resolve();
    await waitFor(() => sync.status().generation === 2 && newStore.activeWatches > 0);
    const swap = resourceEvents(h.publisher.log.slice(mark), h.cluster);
    // ns/a has revision 1 in both, but revisions of two datastores say nothing about content (the
    // view keeps no digest of what it published), so it is sent again with generation 2.
    // ns/c is new, ns/b and ns/d vanished: upserts strictly before deletes, all with generation 2.
    expect(swap.map((e) => `${e.type} ${e.id}`)).toEqual(["upsert ns/a", "upsert ns/c", "delete ns/b", "delete ns/d"]);
    expect(swap.every((e) => e.generation === 2)).toBe(true);
    expect(h.statuses()).toEqual(["Connecting", "ResyncInProgress", "InSync"]);
    expect(oldStore.disposed).toBe(1);
    expect(oldStore.activeWatches).toBe(0);
  });

  it("a new generation on the same datastore (a rotated credential) republishes nothing that did not change", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    h.sync.start();
    await inSync(h);
    h.store.put(WEP, "ns/b");
    await waitFor(() => h.live()[`${WEP}/ns/b`] !== undefined);
    const mark = h.publisher.log.length;
    h.sync.update(connection(h.cluster, 2));
    await waitFor(() => h.sync.status().generation === 2 && h.sync.status().status === "InSync");
    expect(resourceEvents(h.publisher.log.slice(mark), h.cluster)).toEqual([]);
  });

  it("a new generation that cannot connect leaves the old one serving and says why", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    const broken = new MemoryDatastore("broken");
    broken.checkError = new Error("x509: certificate signed by unknown authority");
    const sync = new ClusterSync({
      config: connection(h.cluster, 1),
      createSource: (c) => (c.generation === 1 ? h.store : broken).source(),
      publisher: h.publisher,
      logger,
      clock: h.clock,
      random: () => 1,
      statusIntervalMs: 0,
    });
    await using _ = sync;
    sync.start();
    await waitFor(() => sync.status().status === "InSync" && h.store.activeWatches > 0);
    sync.update(connection(h.cluster, 2));
    await waitFor(() => sync.stats().failures === 1);
    expect(sync.status()).toMatchObject({ status: "InSync", generation: 1, stale: false });
    expect(sync.status().error).toBe(
      "configuration generation 2 not applied: x509: certificate signed by unknown authority",
    );
    h.store.put(WEP, "ns/b");
    await waitFor(() => h.live()[`${WEP}/ns/b`] !== undefined, { message: "old generation still serving" });
  });

  it("when the old generation's watch dies while the new one still fails, the status turns ConnectionFailed and stale", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    const broken = new MemoryDatastore("broken");
    broken.checkError = new Error("x509: certificate has expired");
    const sync = new ClusterSync({
      config: connection(h.cluster, 1),
      createSource: (c) => (c.generation === 1 ? h.store : broken).source(),
      publisher: h.publisher,
      logger,
      clock: h.clock,
      random: () => 1,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      statusIntervalMs: 0,
    });
    await using _ = sync;
    sync.start();
    await waitFor(() => sync.status().status === "InSync" && h.store.activeWatches > 0);
    sync.update(connection(h.cluster, 2));
    await waitFor(() => sync.stats().failures === 1);
    expect(sync.status()).toMatchObject({ status: "InSync", stale: false });
    // The retry is a minute away; the old watch dies now: the status must not wait for the retry.
    h.store.breakWatches(new Error("stream reset"));
    await waitFor(() => sync.status().status === "ConnectionFailed", { message: "ConnectionFailed without a retry" });
    expect(sync.status()).toMatchObject({ stale: true, error: "stream reset" });
    expect(h.store.disposed).toBe(1);
  });

  it("an invalid config retracts every resource, then reports ConfigIncomplete", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    h.store.put("Profile", "p");
    h.sync.start();
    await inSync(h);
    h.sync.update({ valid: false, cluster: h.cluster, generation: 2, error: "etcdCertFile: no such file" });
    await waitFor(() => h.sync.status().status === "ConfigIncomplete");
    expect(h.publisher.resources(h.cluster).size).toBe(0);
    const tail = h.publisher.log.filter((e) => e.cluster === h.cluster).slice(-3);
    expect(tail.map((e) => e.type)).toEqual(["delete", "delete", "status"]);
    expect(h.sync.status()).toMatchObject({ error: "etcdCertFile: no such file", generation: 2, counts: {} });
    expect(h.store.activeWatches).toBe(0);
  });

  it("remove() retracts every resource, then the status, and removes the metrics", async () => {
    const registry = new Registry();
    const metrics = createConnectorMetrics(registry, { connector: "memory" });
    await using h = harness({ metrics });
    h.store.put(WEP, "ns/a");
    h.store.put(WEP, "ns/b");
    h.sync.start();
    await inSync(h);
    expect(await registry.getSingleMetricAsString("remote_cluster_connection_status")).toContain(
      `remote_cluster_name="${h.cluster}"`,
    );
    await h.sync.remove();
    const events = h.publisher.log.filter((e) => e.cluster === h.cluster);
    expect(events.slice(-3).map((e) => e.type)).toEqual(["delete", "delete", "status-removed"]);
    // Strictly newer than the upserts (1 and 2), as consumers drop anything not newer.
    expect(events.filter((e) => e.type === "delete").map((e) => (e.type === "delete" ? e.revision : ""))).toEqual([
      "2",
      "3",
    ]);
    expect(h.publisher.statusOf(h.cluster)).toBeUndefined();
    expect(h.publisher.resources(h.cluster).size).toBe(0);
    expect(await registry.metrics()).not.toContain(h.cluster);
  });

  it("stop() keeps the data and the status on the bus", async () => {
    await using h = harness();
    h.store.put(WEP, "ns/a");
    h.sync.start();
    await inSync(h);
    await h.sync.stop();
    expect(h.publisher.resources(h.cluster).size).toBe(1);
    expect(h.publisher.statusOf(h.cluster)?.status).toBe("InSync");
    expect(h.store.activeWatches).toBe(0);
  });
});

describe("ClusterSync: seeding, malformed data, concurrency", () => {
  it("a takeover seeded from the bus publishes only what changed since the previous owner", async () => {
    const publisher = createMemoryPublisher();
    const store = new MemoryDatastore();
    store.put(WEP, "ns/a");
    store.put(WEP, "ns/b");
    await using first = harness({ publisher, store });
    first.sync.start();
    await inSync(first);
    await first.sync.stop();
    store.put(WEP, "ns/b", "changed");
    store.delete(WEP, "ns/a");
    store.put(WEP, "ns/c");
    const mark = publisher.log.length;
    const second = new ClusterSync({
      config: connection(first.cluster, 1),
      createSource: () => store.source(),
      publisher,
      logger,
      clock: first.clock,
      statusIntervalMs: 0,
    });
    await using _ = second;
    second.start();
    await waitFor(() => second.status().status === "InSync");
    const changes = resourceEvents(publisher.log.slice(mark), first.cluster);
    expect(changes.map((e) => `${e.type} ${e.id}`)).toEqual(["upsert ns/b", "upsert ns/c", "delete ns/a"]);
    const takeover = publisher.log.slice(mark).find((e) => e.type === "status");
    expect(takeover?.type === "status" && takeover.report).toMatchObject({ status: "Connecting", stale: true });
  });

  it("malformed entries are skipped, counted, and a key that turns malformed is retracted", async () => {
    const registry = new Registry();
    const metrics = createConnectorMetrics(registry, { connector: "memory" });
    const store = new MemoryDatastore();
    store.put(WEP, "ns/good");
    store.putMalformed(WEP, "ns/bad");
    await using h = harness({ store, metrics });
    h.sync.start();
    await inSync(h);
    expect(Object.keys(h.live())).toEqual([`${WEP}/ns/good`]);
    expect(h.sync.stats().malformed).toBe(1);
    store.putMalformed(WEP, "ns/good");
    await waitFor(() => h.publisher.resources(h.cluster).size === 0);
    expect(h.sync.stats().malformed).toBe(2);
    expect(await registry.getSingleMetricAsString("fedview_connector_malformed_total")).toContain(
      `fedview_connector_malformed_total{cluster="${h.cluster}",connector="memory"} 2`,
    );
  });

  it("bounds how many clusters list at once", async () => {
    const permits = new Semaphore(1);
    const gate = deferred();
    const stores = [new MemoryDatastore("a"), new MemoryDatastore("b"), new MemoryDatastore("c")];
    for (const s of stores) s.listGate = gate.promise;
    const publisher = createMemoryPublisher();
    const syncs = stores.map(
      (s) =>
        new ClusterSync({
          config: connection(uniqueName("c"), 1),
          createSource: () => s.source(),
          publisher,
          logger,
          clock: createManualClock(),
          relistPermits: permits,
        }),
    );
    try {
      for (const s of syncs) s.start();
      await waitFor(() => permits.waiting === 2);
      expect(stores.map((s) => s.lists).reduce((a, b) => a + b)).toBe(1);
      for (const s of stores) s.listGate = undefined;
      gate.resolve();
      await waitFor(() => syncs.every((s) => s.status().status === "InSync"));
      expect(permits.active).toBe(0);
    } finally {
      await Promise.all(syncs.map((s) => s.stop()));
    }
  });
});
