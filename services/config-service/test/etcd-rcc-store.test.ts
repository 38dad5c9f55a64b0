import { type EtcdServer, startEtcd, uniqueName, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RccConflictError, RccNotFoundError } from "../src/errors.js";
import { createEtcdRccStore } from "../src/etcd-rcc-store.js";
import { ExpiredWatchError, startListWatch } from "../src/list-watch.js";
import type { RccObject, RccStore, StoredRcc } from "../src/types.js";

const KEY_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";

function rcc(name: string, endpoints = "https://10.0.0.1:2379", resourceVersion?: string): RccObject {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { datastoreType: "etcdv3", etcdEndpoints: endpoints },
  };
}

describe("etcd RCC store", () => {
  let etcd: EtcdServer;
  let store: RccStore;

  beforeAll(async () => {
    etcd = await startEtcd();
    store = createEtcdRccStore({ etcd: await etcd.clientOptions() });
  });
  afterAll(async () => {
    await store?.[Symbol.asyncDispose]();
    await etcd?.[Symbol.asyncDispose]();
  });

  it("creates at Calico's key as v3 JSON without resourceVersion, which is the key's mod revision", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name));
    const raw = JSON.parse(await etcd.etcdctl("get", `${KEY_PREFIX}${name}`, "--print-value-only")) as RccObject;
    expect(raw.kind).toBe("RemoteClusterConfiguration");
    expect(raw.apiVersion).toBe("projectcalico.org/v3");
    expect(raw.spec).toEqual({ datastoreType: "etcdv3", etcdEndpoints: "https://10.0.0.1:2379" });
    expect(raw.metadata.resourceVersion).toBeUndefined();
    expect(raw.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const meta = JSON.parse(await etcd.etcdctl("get", `${KEY_PREFIX}${name}`, "-w", "json")) as {
      kvs: { mod_revision: number }[];
    };
    expect(created.resourceVersion).toBe(String(meta.kvs[0]?.mod_revision));
    const got = await store.get(name);
    expect(got?.object.metadata.resourceVersion).toBe(created.resourceVersion);
    expect(got?.object.spec).toEqual(raw.spec);
  });

  it("refuses to create a name that exists, leaving the stored object as it was", async () => {
    const name = uniqueName("c");
    await store.create(rcc(name, "https://a:2379"));
    await expect(store.create(rcc(name, "https://b:2379"))).rejects.toBeInstanceOf(RccConflictError);
    expect((await store.get(name))?.object.spec["etcdEndpoints"]).toBe("https://a:2379");
  });

  it("updates with the current resourceVersion and refuses a stale one without overwriting", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name, "https://a:2379"));
    const updated = await store.update(rcc(name, "https://b:2379", created.resourceVersion));
    expect(Number(updated.resourceVersion)).toBeGreaterThan(Number(created.resourceVersion));
    expect(updated.object.metadata.uid).toBe(created.object.metadata.uid);
    expect(updated.object.metadata.creationTimestamp).toBe(created.object.metadata.creationTimestamp);

    const stale = store.update(rcc(name, "https://c:2379", created.resourceVersion));
    await expect(stale).rejects.toBeInstanceOf(RccConflictError);
    await expect(stale).rejects.toThrow(/stale/);
    const now = await store.get(name);
    expect(now?.object.spec["etcdEndpoints"]).toBe("https://b:2379");
    expect(now?.resourceVersion).toBe(updated.resourceVersion);
  });

  it("refuses the second of two writers racing from the same version", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name));
    const results = await Promise.allSettled([
      store.update(rcc(name, "https://one:2379", created.resourceVersion)),
      store.update(rcc(name, "https://two:2379", created.resourceVersion)),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(RccConflictError);
    const winner = (won[0] as PromiseFulfilledResult<StoredRcc>).value;
    expect((await store.get(name))?.object.spec).toEqual(winner.object.spec);
  });

  it("updates without a resourceVersion whatever is stored, but not what does not exist", async () => {
    const name = uniqueName("c");
    await store.create(rcc(name, "https://a:2379"));
    await store.update(rcc(name, "https://b:2379"));
    expect((await store.get(name))?.object.spec["etcdEndpoints"]).toBe("https://b:2379");
    await expect(store.update(rcc(uniqueName("missing")))).rejects.toBeInstanceOf(RccNotFoundError);
  });

  it("deletes with a current resourceVersion, refuses a stale one, and reports a missing name", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name));
    const updated = await store.update(rcc(name, "https://b:2379"));
    await expect(store.delete(name, { resourceVersion: created.resourceVersion })).rejects.toBeInstanceOf(
      RccConflictError,
    );
    expect(await store.get(name)).toBeDefined();
    const deleted = await store.delete(name, { resourceVersion: updated.resourceVersion });
    expect(deleted.object.spec["etcdEndpoints"]).toBe("https://b:2379");
    expect(await store.get(name)).toBeUndefined();
    expect(await etcd.etcdctl("get", `${KEY_PREFIX}${name}`)).toBe("");
    await expect(store.delete(name)).rejects.toBeInstanceOf(RccNotFoundError);
  });

  it("reports an undecodable stored value instead of failing the listing", async () => {
    const name = uniqueName("bad");
    await etcd.etcdctl("put", `${KEY_PREFIX}${name}`, "{not json");
    const listing = await store.list();
    const bad = listing.items.find((i) => i.name === name);
    expect(bad?.decodeError).toMatch(/not JSON/);
    expect(Number(listing.resourceVersion)).toBeGreaterThanOrEqual(Number(bad?.resourceVersion));
  });
});

describe("etcd RCC store list-then-watch", () => {
  it("lists, then delivers creates, updates and deletes as they happen", async () => {
    await using etcd = await startEtcd();
    await using store = createEtcdRccStore({ etcd: await etcd.clientOptions() });
    await store.create(rcc("before"));
    const seen: string[] = [];
    await using watch = startListWatch(store, {
      onUpsert: (item) => seen.push(`upsert ${item.name} ${item.object.spec["etcdEndpoints"]}`),
      onDelete: (key) => seen.push(`delete ${key}`),
    });
    await watch.synced;
    expect(seen).toEqual(["upsert before https://10.0.0.1:2379"]);
    await store.create(rcc("after", "https://x:2379"));
    await store.update(rcc("before", "https://y:2379"));
    await store.delete("after");
    await waitFor(() => seen.length === 4, { message: "three watch events" });
    expect(seen.slice(1)).toEqual(["upsert after https://x:2379", "upsert before https://y:2379", "delete after"]);
    expect([...watch.items().keys()]).toEqual(["before"]);
  });

  it("ends a watch whose start revision was compacted with ExpiredWatchError, so the loop relists", async () => {
    await using etcd = await startEtcd();
    await using store = createEtcdRccStore({ etcd: await etcd.clientOptions() });
    await store.create(rcc("kept"));
    const { resourceVersion } = await store.list();
    await store.create(rcc("later"));
    const latest = await store.update(rcc("later", "https://z:2379"));
    await etcd.etcdctl("compact", latest.resourceVersion);
    const events: string[] = [];
    const stream = await store.watch(resourceVersion, (event) => events.push(event.type));
    try {
      const end = await stream.done;
      expect(end).toBeInstanceOf(ExpiredWatchError);
      expect(events).toEqual([]);
    } finally {
      await stream.stop();
    }
  });
});
