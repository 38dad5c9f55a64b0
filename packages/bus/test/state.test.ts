import { type NatsServer, startNats, waitFor } from "@fedview/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import {
  BusMetrics,
  type BusSubscription,
  type ClusterStatusMessage,
  ConflictError,
  connectBus,
  DEFAULT_STATE_STREAM,
  EncodeError,
  ensureStateStream,
  openStateReader,
  PublishError,
  publishClusterStatus,
  publishResourceEvent,
  purgeTombstones,
  type ResourceEvent,
  ResourcePublisher,
  readClusterInventory,
  resourceSubject,
  type StateItem,
  type StateReader,
  statusSubject,
  subscribeClusterStatus,
  subscribeResourceEvents,
} from "../src/index.js";
import { inSync, wepDelete, wepUpsert } from "./fixtures.js";

async function stateBus(): Promise<{ nats: NatsServer; nc: NatsConnection } & AsyncDisposable> {
  const nats = await startNats();
  const nc = await connectBus({ servers: nats.url });
  await ensureStateStream(nc);
  return {
    nats,
    nc,
    async [Symbol.asyncDispose]() {
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

/** Reads items until `stop` says so; a reader's iterator is consumed once, so keep one per reader. */
function collector(reader: StateReader) {
  const items: StateItem[] = [];
  const it = reader[Symbol.asyncIterator]();
  return {
    items,
    async until(stop: (items: StateItem[]) => boolean): Promise<StateItem[]> {
      while (!stop(items)) {
        const next = await it.next();
        if (next.done) throw new Error("reader ended early");
        items.push(next.value);
      }
      return items;
    },
  };
}

function collectSubscription<T>(sub: BusSubscription<T>): T[] {
  const got: T[] = [];
  void (async () => {
    for await (const value of sub) got.push(value);
  })();
  return got;
}

const snapshotDone = (items: StateItem[]) => items.some((i) => i.type === "snapshot-complete");

describe("state stream round trips", () => {
  it("delivers every message kind unchanged to core subscribers and to a replaying reader", async () => {
    await using bus = await stateBus();
    const { nc } = bus;
    const js = jetstream(nc);
    const resources = subscribeResourceEvents(nc);
    const statuses = subscribeClusterStatus(nc);
    const gotResources = collectSubscription(resources);
    const gotStatuses = collectSubscription(statuses);
    await nc.flush();

    const events: ResourceEvent[] = [
      wepUpsert("c1", "ns/web-1", "10"),
      { ...wepUpsert("_local", "kube-system/dns.x", "11"), cluster: "_local" },
      wepDelete("c1", "ns/web-2", "12"),
    ];
    const status: ClusterStatusMessage[] = [
      inSync("c1"),
      { v: 1, op: "delete", cluster: "c9", generation: 2, since: "2024-05-02T00:00:00.000Z" },
    ];
    for (const e of events) await publishResourceEvent(js, e);
    for (const s of status) await publishClusterStatus(js, s);

    await waitFor(() => gotResources.length === 3 && gotStatuses.length === 2, { message: "live deliveries" });
    expect(gotResources).toEqual(events);
    expect(gotStatuses).toEqual(status);

    await using reader = await openStateReader(nc);
    const items = await collector(reader).until(snapshotDone);
    expect(items.flatMap((i) => (i.type === "resource" ? [i.event] : []))).toEqual(events);
    expect(items.flatMap((i) => (i.type === "status" ? [i.status] : []))).toEqual(status);
    resources.unsubscribe();
    statuses.unsubscribe();
  });

  it("gives a late reader the last message of every subject, one snapshot-complete, then live changes", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    await publishResourceEvent(js, wepUpsert("c1", "ns/a", "1"));
    await publishResourceEvent(js, wepUpsert("c1", "ns/b", "2"));
    await publishResourceEvent(js, wepUpsert("c1", "ns/a", "3"));
    await publishResourceEvent(js, wepDelete("c1", "ns/b", "4"));
    await publishClusterStatus(js, inSync("c1"));

    await using reader = await openStateReader(bus.nc);
    const read = collector(reader);
    const snapshot = await read.until(snapshotDone);
    expect(snapshot.map((i) => (i.type === "resource" ? `${i.event.id}@${i.event.revision}` : i.type))).toEqual([
      "ns/a@3",
      "ns/b@4",
      "status",
      "snapshot-complete",
    ]);
    expect(reader.snapshotComplete).toBe(true);

    await publishResourceEvent(js, wepUpsert("c1", "ns/c", "5"));
    const all = await read.until((items) => items.length === 5);
    expect(all[4]).toMatchObject({ type: "resource", event: { id: "ns/c", revision: "5" } });
    expect(all.filter((i) => i.type === "snapshot-complete")).toHaveLength(1);
  });

  it("completes the snapshot while live publishing continues, with every earlier event before the signal", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    const publisher = new ResourcePublisher(js, { maxInFlight: 64 });
    for (let i = 0; i < 300; i++) await publisher.publish(wepUpsert("c1", `ns/old-${i}`, "1"));
    await publisher.flush();

    let live = true;
    const background = (async () => {
      for (let i = 0; live; i++) await publisher.publish(wepUpsert("c1", `ns/new-${i}`, "1"));
      await publisher.flush();
    })();
    try {
      await using reader = await openStateReader(bus.nc, { filter: { type: "resource", cluster: "c1" } });
      const items = await collector(reader).until(snapshotDone);
      const ids = items.flatMap((i) => (i.type === "resource" ? [i.event.id] : []));
      expect(ids.filter((id) => id.startsWith("ns/old-"))).toHaveLength(300);
    } finally {
      live = false;
      await background;
    }
  });

  it("hands the replay over in batches: the snapshot in order, snapshot-complete alone, then live messages", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    const publisher = new ResourcePublisher(js, { maxInFlight: 256 });
    for (let i = 0; i < 2000; i++) await publisher.publish(wepUpsert("c1", `ns/old-${i}`, String(i + 1)));
    await publisher.flush();

    await using reader = await openStateReader(bus.nc, { batch: 500 });
    const batches: StateItem[][] = [];
    const it = reader.batches();
    for (;;) {
      const next = await it.next();
      if (next.done) throw new Error("reader ended early");
      batches.push(next.value);
      if (next.value.some((i) => i.type === "snapshot-complete")) break;
    }
    const signal = batches.at(-1)!;
    expect(signal).toEqual([{ type: "snapshot-complete" }]);
    const snapshot = batches.slice(0, -1).flat();
    expect(snapshot.map((i) => (i.type === "resource" ? i.event.id : i.type))).toEqual(
      Array.from({ length: 2000 }, (_, i) => `ns/old-${i}`),
    );
    // Messages arrive by the socket read, not one by one.
    expect(batches.length - 1).toBeLessThan(2000);
    expect(reader.snapshotComplete).toBe(true);

    for (let i = 0; i < 3; i++) await publisher.publish(wepUpsert("c1", `ns/new-${i}`, String(3000 + i)));
    await publisher.flush();
    const live: StateItem[] = [];
    while (live.length < 3) {
      const next = await it.next();
      if (next.done) throw new Error("reader ended early");
      live.push(...next.value);
    }
    expect(live.map((i) => (i.type === "resource" ? i.event.id : i.type))).toEqual([
      "ns/new-0",
      "ns/new-1",
      "ns/new-2",
    ]);
    await publisher.close();
  });

  it("signals snapshot-complete first on an empty stream, then delivers live events", async () => {
    await using bus = await stateBus();
    await using reader = await openStateReader(bus.nc, { filter: { type: "resource", cluster: "c1" } });
    const read = collector(reader);
    expect(await read.until((items) => items.length === 1)).toEqual([{ type: "snapshot-complete" }]);
    await publishResourceEvent(jetstream(bus.nc), wepUpsert("c1", "ns/a", "1"));
    const items = await read.until((got) => got.length === 2);
    expect(items[1]).toMatchObject({ type: "resource", event: { cluster: "c1", id: "ns/a" } });
  });

  it("reads only the filtered part of the state", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    await publishResourceEvent(js, wepUpsert("c1", "ns/a", "1"));
    await publishResourceEvent(js, wepUpsert("c2", "ns/a", "2"));
    await publishClusterStatus(js, inSync("c1"));
    await publishClusterStatus(js, inSync("c2"));

    await using c2 = await openStateReader(bus.nc, { filter: { type: "resource", cluster: "c2" } });
    const c2Items = await collector(c2).until(snapshotDone);
    expect(c2Items.map((i) => (i.type === "resource" ? i.event.cluster : i.type))).toEqual(["c2", "snapshot-complete"]);

    await using status = await openStateReader(bus.nc, { filter: { type: "status" } });
    const statusItems = await collector(status).until(snapshotDone);
    expect(statusItems.map((i) => (i.type === "status" ? i.status.cluster : i.type))).toEqual([
      "c1",
      "c2",
      "snapshot-complete",
    ]);
  });

  it("counts and skips a bad message without ending the reader or the subscription", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    const metrics = new BusMetrics();
    const reported: string[] = [];
    const live = subscribeResourceEvents(bus.nc, { cluster: "c1", metrics });
    const gotLive = collectSubscription(live);
    await bus.nc.flush();

    await js.publish(resourceSubject("c1", "WorkloadEndpoint", "ns/bad"), "{not json");
    await js.publish(resourceSubject("c1", "WorkloadEndpoint", "ns/liar"), JSON.stringify(wepUpsert("c1", "ns/other")));
    await publishResourceEvent(js, wepUpsert("c1", "ns/good", "7"));
    await js.publish(statusSubject("c1"), JSON.stringify({ ...inSync("c1"), status: "Happy" }));

    await using reader = await openStateReader(bus.nc, {
      metrics,
      onDecodeError: (e) => reported.push(e.subject ?? ""),
    });
    const items = await collector(reader).until(snapshotDone);
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ type: "resource", event: { id: "ns/good" } });
    expect(reported).toEqual([
      resourceSubject("c1", "WorkloadEndpoint", "ns/bad"),
      resourceSubject("c1", "WorkloadEndpoint", "ns/liar"),
      statusSubject("c1"),
    ]);

    await waitFor(() => gotLive.length === 1, { message: "the valid live event" });
    expect(gotLive[0]).toMatchObject({ id: "ns/good" });
    // Two bad resource messages seen twice (reader and live subscription), one bad status once.
    expect(metrics.decodeFailures()).toMatchObject({ resource: 4, status: 1 });
    live.unsubscribe();
  });
});

describe("publishing", () => {
  it("refuses an invalid event before anything is sent", async () => {
    await using bus = await stateBus();
    const bad = { ...wepUpsert("c1", "ns/a"), revision: "" };
    await expect(publishResourceEvent(jetstream(bus.nc), bad)).rejects.toBeInstanceOf(EncodeError);
    const info = await (await jetstreamManager(bus.nc)).streams.info(DEFAULT_STATE_STREAM);
    expect(info.state.messages).toBe(0);
  });

  it("raises ConflictError when the subject's last sequence is not the expected one", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    const first = await publishResourceEvent(js, wepUpsert("c1", "ns/a", "1"), { expectLastSubjectSequence: 0 });
    await publishResourceEvent(js, wepUpsert("c1", "ns/a", "2"), { expectLastSubjectSequence: first.seq });
    await expect(
      publishResourceEvent(js, wepUpsert("c1", "ns/a", "3"), { expectLastSubjectSequence: first.seq }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it("pipelines many events within the in-flight window and keeps the last event of each subject", async () => {
    await using bus = await stateBus();
    await using publisher = new ResourcePublisher(jetstream(bus.nc), { maxInFlight: 32 });
    const subjects = 50;
    const rounds = 20;
    let maxSeen = 0;
    for (let round = 1; round <= rounds; round++) {
      for (let i = 0; i < subjects; i++) {
        await publisher.publish(wepUpsert("c1", `ns/pod-${i}`, String(round)));
        maxSeen = Math.max(maxSeen, publisher.stats().inFlight);
      }
    }
    await publisher.flush();
    expect(maxSeen).toBeLessThanOrEqual(32);
    expect(publisher.stats()).toEqual({ published: 1000, acked: 1000, failed: 0, inFlight: 0 });

    const inventory = await readClusterInventory(bus.nc, "c1");
    const revisions = [...(inventory.get("WorkloadEndpoint")?.values() ?? [])].map((e) => e.revision);
    expect(revisions).toHaveLength(subjects);
    expect(new Set(revisions)).toEqual(new Set([String(rounds)]));
  });

  it("keeps order when callers do not await each publish", async () => {
    await using bus = await stateBus();
    const publisher = new ResourcePublisher(jetstream(bus.nc), { maxInFlight: 4 });
    await Promise.all(Array.from({ length: 200 }, (_, r) => publisher.publish(wepUpsert("c1", "ns/hot", String(r)))));
    await publisher.flush();
    const inventory = await readClusterInventory(bus.nc, "c1");
    expect(inventory.get("WorkloadEndpoint")?.get("ns/hot")?.revision).toBe("199");
  });

  it("reports failed acks once, from flush, when nothing stores the events", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    // No state stream: JetStream has no responder for these subjects, so every publish fails.
    const publisher = new ResourcePublisher(jetstream(nc), { maxInFlight: 8, timeoutMs: 2000 });
    for (let i = 0; i < 5; i++) await publisher.publish(wepUpsert("c1", `ns/p${i}`, "1")).catch(() => {});
    let caught: unknown;
    try {
      await publisher.flush();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PublishError);
    const reported = (caught as PublishError).failed;
    expect(reported).toBeGreaterThan(0);
    expect(publisher.stats().failed).toBe(5);
    // Whatever publish() did not report already, flush reported; nothing is reported twice.
    await expect(publisher.flush()).resolves.toBeUndefined();
  });
});

describe("ResourcePublisher acks", () => {
  it("counts an event whose ack never comes as failed once its timeout passes", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    // Someone listens (so no "no responders"), but nothing stores or acknowledges.
    const silent = nc.subscribe("fedview.v1.res.>");
    const publisher = new ResourcePublisher(jetstream(nc), { maxInFlight: 8, timeoutMs: 300 });
    await publisher.publish(wepUpsert("c1", "ns/p1", "1"));
    await publisher.publish(wepUpsert("c1", "ns/p2", "1"));
    const failure = await publisher.flush().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PublishError);
    expect((failure as PublishError).failed).toBe(2);
    expect(publisher.stats()).toEqual({ published: 2, acked: 0, failed: 2, inFlight: 0 });
    await publisher.close();
    silent.unsubscribe();
  });

  it("matches each ack to its event when many publishers share a connection", async () => {
    await using bus = await stateBus();
    const publishers = Array.from({ length: 3 }, () => new ResourcePublisher(jetstream(bus.nc), { maxInFlight: 16 }));
    await Promise.all(
      publishers.map(async (p, k) => {
        for (let i = 0; i < 100; i++) await p.publish(wepUpsert(`c${k}`, `ns/p${i}`, "1"));
        await p.flush();
      }),
    );
    for (const p of publishers) {
      expect(p.stats()).toEqual({ published: 100, acked: 100, failed: 0, inFlight: 0 });
      await p.close();
    }
  });
});

describe("readClusterInventory", () => {
  it.each([true, false])(
    "returns the last message of every resource of one cluster (headersOnly %s)",
    async (headersOnly) => {
      await using bus = await stateBus();
      const js = jetstream(bus.nc);
      await publishResourceEvent(js, wepUpsert("c1", "ns/a", "1", 1));
      await publishResourceEvent(js, wepUpsert("c1", "ns/a", "5", 2));
      await publishResourceEvent(js, wepDelete("c1", "ns/b", "6", 2));
      await publishResourceEvent(js, {
        ...wepUpsert("c1", "ns/a"),
        kind: "Profile",
        id: "kns.ns",
        resource: { apiVersion: "projectcalico.org/v3", kind: "Profile", metadata: { name: "kns.ns" } },
      });
      await publishResourceEvent(js, wepUpsert("c2", "ns/a", "9"));
      await publishClusterStatus(js, inSync("c1"));

      const inventory = await readClusterInventory(bus.nc, "c1", { headersOnly });
      expect([...inventory.keys()].sort()).toEqual(["Profile", "WorkloadEndpoint"]);
      const weps = inventory.get("WorkloadEndpoint")!;
      expect(weps.get("ns/a")).toMatchObject({ op: "upsert", revision: "5", generation: 2 });
      expect(weps.get("ns/b")).toMatchObject({ op: "delete", revision: "6", generation: 2 });
      expect(inventory.get("Profile")?.get("kns.ns")).toMatchObject({ op: "upsert" });
    },
  );

  it("returns an empty inventory for a cluster with nothing on the bus", async () => {
    await using bus = await stateBus();
    await publishResourceEvent(jetstream(bus.nc), wepUpsert("c2", "ns/a", "1"));
    expect((await readClusterInventory(bus.nc, "c1")).size).toBe(0);
  });
});

describe("purgeTombstones", () => {
  // The stream's very last message is a purged tombstone here, which a later reader must cope with.
  it("removes old resource and status tombstones and keeps everything else", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    await publishResourceEvent(js, wepUpsert("c1", "ns/a", "1"));
    await publishResourceEvent(js, wepDelete("c1", "ns/b", "2"));
    await publishResourceEvent(js, wepDelete("c2", "ns/c", "3"));
    await publishClusterStatus(js, inSync("c1"));
    await publishClusterStatus(js, {
      v: 1,
      op: "delete",
      cluster: "c3",
      generation: 1,
      since: new Date().toISOString(),
    });

    const young = await purgeTombstones(bus.nc, { olderThanMs: 60 * 60_000 });
    expect(young).toEqual({ scanned: 5, purged: 0 });

    // An hour from now, every tombstone is older than 30 minutes.
    const later = () => Date.now() + 60 * 60_000;
    const old = await purgeTombstones(bus.nc, { olderThanMs: 30 * 60_000, now: later });
    expect(old).toEqual({ scanned: 5, purged: 3 });

    await using reader = await openStateReader(bus.nc);
    const items = await collector(reader).until(snapshotDone);
    expect(
      items.map((i) => (i.type === "resource" ? i.event.id : i.type === "status" ? i.status.cluster : i.type)),
    ).toEqual(["ns/a", "c1", "snapshot-complete"]);
  });

  it("limited to one cluster, scans and removes only that cluster's resource tombstones", async () => {
    await using bus = await stateBus();
    const js = jetstream(bus.nc);
    await publishResourceEvent(js, wepUpsert("c1", "ns/a", "1"));
    await publishResourceEvent(js, wepDelete("c1", "ns/b", "2"));
    await publishResourceEvent(js, wepDelete("c2", "ns/c", "3"));
    const later = () => Date.now() + 60 * 60_000;
    expect(await purgeTombstones(bus.nc, { olderThanMs: 30 * 60_000, now: later, cluster: "c1" })).toEqual({
      scanned: 2,
      purged: 1,
    });
    expect((await readClusterInventory(bus.nc, "c2")).get("WorkloadEndpoint")?.get("ns/c")?.op).toBe("delete");
    expect((await readClusterInventory(bus.nc, "c1")).get("WorkloadEndpoint")?.has("ns/b")).toBe(false);
  });
});
