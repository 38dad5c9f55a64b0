import { type KubeApiServer, startKubeApiServer, uniqueName, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RccConflictError, RccNotFoundError } from "../src/errors.js";
import { createKubeConfig } from "../src/kube-client.js";
import { createKubeRccStore } from "../src/kube-rcc-store.js";
import { ExpiredWatchError, startListWatch } from "../src/list-watch.js";
import type { RccObject, RccStore, StoredRcc } from "../src/types.js";

const CRD = { group: "crd.projectcalico.org", plural: "remoteclusterconfigurations" };

function rcc(name: string, endpoint = "https://10.0.0.1:6443", resourceVersion?: string): RccObject {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { datastoreType: "kubernetes", k8sAPIEndpoint: endpoint },
  };
}

async function storeFor(server: KubeApiServer): Promise<RccStore> {
  return createKubeRccStore({ kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig() }) });
}

describe("Kubernetes RCC store", () => {
  let server: KubeApiServer;
  let store: RccStore;

  beforeAll(async () => {
    server = await startKubeApiServer();
    store = await storeFor(server);
  });
  afterAll(async () => {
    await store?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  it("creates the crd.projectcalico.org/v1 object with the v3 spec, and reads it back as v3", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name));
    const raw = server.get(CRD, name);
    expect(raw?.apiVersion).toBe("crd.projectcalico.org/v1");
    expect(raw?.kind).toBe("RemoteClusterConfiguration");
    expect((raw as { spec?: unknown }).spec).toEqual({
      datastoreType: "kubernetes",
      k8sAPIEndpoint: "https://10.0.0.1:6443",
    });
    expect(created.resourceVersion).toBe(raw?.metadata.resourceVersion);
    const got = await store.get(name);
    expect(got?.object.apiVersion).toBe("projectcalico.org/v3");
    expect(got?.object.spec["k8sAPIEndpoint"]).toBe("https://10.0.0.1:6443");
    expect(got?.resourceVersion).toBe(created.resourceVersion);
  });

  it("refuses to create a name that exists", async () => {
    const name = uniqueName("c");
    await store.create(rcc(name, "https://a:6443"));
    await expect(store.create(rcc(name, "https://b:6443"))).rejects.toBeInstanceOf(RccConflictError);
    expect((await store.get(name))?.object.spec["k8sAPIEndpoint"]).toBe("https://a:6443");
  });

  it("updates with the current resourceVersion and refuses a stale one without overwriting", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name, "https://a:6443"));
    const updated = await store.update(rcc(name, "https://b:6443", created.resourceVersion));
    expect(updated.resourceVersion).not.toBe(created.resourceVersion);
    await expect(store.update(rcc(name, "https://c:6443", created.resourceVersion))).rejects.toBeInstanceOf(
      RccConflictError,
    );
    const now = await store.get(name);
    expect(now?.object.spec["k8sAPIEndpoint"]).toBe("https://b:6443");
    expect(now?.resourceVersion).toBe(updated.resourceVersion);
  });

  it("refuses the second of two writers racing from the same version", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name));
    const results = await Promise.allSettled([
      store.update(rcc(name, "https://one:6443", created.resourceVersion)),
      store.update(rcc(name, "https://two:6443", created.resourceVersion)),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(RccConflictError);
    expect((await store.get(name))?.object.spec).toEqual(
      (won[0] as PromiseFulfilledResult<StoredRcc>).value.object.spec,
    );
  });

  it("updates without a resourceVersion whatever is stored, but not what does not exist", async () => {
    const name = uniqueName("c");
    await store.create(rcc(name, "https://a:6443"));
    await store.update(rcc(name, "https://b:6443"));
    expect((await store.get(name))?.object.spec["k8sAPIEndpoint"]).toBe("https://b:6443");
    await expect(store.update(rcc(uniqueName("missing")))).rejects.toBeInstanceOf(RccNotFoundError);
  });

  it("deletes with a current resourceVersion, refuses a stale one, and reports a missing name", async () => {
    const name = uniqueName("c");
    const created = await store.create(rcc(name));
    const updated = await store.update(rcc(name, "https://b:6443"));
    await expect(store.delete(name, { resourceVersion: created.resourceVersion })).rejects.toBeInstanceOf(
      RccConflictError,
    );
    expect(server.get(CRD, name)).toBeDefined();
    const deleted = await store.delete(name, { resourceVersion: updated.resourceVersion });
    expect(deleted.object.spec["k8sAPIEndpoint"]).toBe("https://b:6443");
    expect(server.get(CRD, name)).toBeUndefined();
    await expect(store.delete(name)).rejects.toBeInstanceOf(RccNotFoundError);
  });

  it("keeps a malformed custom resource's spec for validation to report on", async () => {
    const name = uniqueName("bad");
    server.create(CRD, {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "RemoteClusterConfiguration",
      metadata: { name },
      spec: { datastoreType: "floppy", etcdEndpoints: 42 },
    });
    const got = await store.get(name);
    expect(got?.object.spec).toEqual({ datastoreType: "floppy", etcdEndpoints: 42 });
  });
});

describe("Kubernetes RCC store list-then-watch", () => {
  it("lists, then delivers creates, updates and deletes as they happen", async () => {
    await using server = await startKubeApiServer();
    await using store = await storeFor(server);
    await store.create(rcc("before"));
    const seen: string[] = [];
    await using watch = startListWatch(store, {
      onUpsert: (item) => seen.push(`upsert ${item.name} ${item.object.spec["k8sAPIEndpoint"]}`),
      onDelete: (key) => seen.push(`delete ${key}`),
    });
    await watch.synced;
    expect(seen).toEqual(["upsert before https://10.0.0.1:6443"]);
    await store.create(rcc("after", "https://x:6443"));
    await store.update(rcc("before", "https://y:6443"));
    await store.delete("after");
    await waitFor(() => seen.length === 4, { message: "three watch events" });
    expect(seen.slice(1)).toEqual(["upsert after https://x:6443", "upsert before https://y:6443", "delete after"]);
  });

  it("ends a watch from an expired resourceVersion with ExpiredWatchError", async () => {
    await using server = await startKubeApiServer();
    await using store = await storeFor(server);
    await store.create(rcc("one"));
    const { resourceVersion } = await store.list();
    await store.create(rcc("two"));
    server.expireVersions();
    const stream = await store.watch(resourceVersion, () => {});
    try {
      expect(await stream.done).toBeInstanceOf(ExpiredWatchError);
    } finally {
      await stream.stop();
    }
  });

  it("relists after the server expires its versions and dropped the watch, catching up on what changed", async () => {
    await using server = await startKubeApiServer();
    await using store = await storeFor(server);
    await store.create(rcc("kept"));
    await store.create(rcc("gone"));
    const seen: string[] = [];
    await using watch = startListWatch(
      store,
      { onUpsert: (i) => seen.push(`upsert ${i.name}`), onDelete: (k) => seen.push(`delete ${k}`) },
      { delay: async () => {} },
    );
    await watch.synced;
    server.hangWatches();
    await store.delete("gone");
    await store.create(rcc("new"));
    server.expireVersions();
    server.dropConnections();
    server.resumeWatches();
    await waitFor(() => [...watch.items().keys()].sort().join(",") === "kept,new", {
      message: "the cache to hold kept and new",
    });
    expect(seen).toContain("delete gone");
    expect(seen).toContain("upsert new");
  });
});
