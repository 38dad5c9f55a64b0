import { type KubeApiServer, startKubeApiServer, uniqueName, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeConfig } from "../src/kube-client.js";
import { createKubeRccStore } from "../src/kube-rcc-store.js";
import { ExpiredWatchError, startListWatch } from "../src/list-watch.js";
import type { RccObject, RccStore } from "../src/types.js";
import { describeRccStoreContract, type StoreUnderTest } from "./rcc-store-contract.js";

const CRD = { group: "crd.projectcalico.org", plural: "remoteclusterconfigurations" };

function rcc(name: string, endpoint = "https://10.0.0.1:6443"): RccObject {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name },
    spec: { datastoreType: "kubernetes", k8sAPIEndpoint: endpoint },
  };
}

async function openKubeStore(): Promise<StoreUnderTest & { server: KubeApiServer }> {
  const server = await startKubeApiServer();
  const store = createKubeRccStore({ kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig() }) });
  return {
    server,
    store,
    async storedSpec(name) {
      return (server.get(CRD, name) as { spec?: Record<string, unknown> } | undefined)?.spec;
    },
    async [Symbol.asyncDispose]() {
      await store[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    },
  };
}

describeRccStoreContract("Kubernetes CRD", openKubeStore);

describe("Kubernetes RCC store: Calico's custom resource", () => {
  let server: KubeApiServer;
  let store: RccStore;
  beforeAll(async () => {
    ({ server, store } = await openKubeStore());
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

  it("ends a watch from an expired resourceVersion with ExpiredWatchError", async () => {
    await using under = await openKubeStore();
    await under.store.create(rcc("one"));
    const { resourceVersion } = await under.store.list();
    await under.store.create(rcc("two"));
    under.server.expireVersions();
    const stream = await under.store.watch(resourceVersion, () => {});
    try {
      expect(await stream.done).toBeInstanceOf(ExpiredWatchError);
    } finally {
      await stream.stop();
    }
  });

  it("relists after the server expires its versions and drops the watch, catching up on what changed", async () => {
    await using under = await openKubeStore();
    await under.store.create(rcc("kept"));
    await under.store.create(rcc("gone"));
    const seen: string[] = [];
    await using watch = startListWatch(
      under.store,
      { onUpsert: (i) => seen.push(`upsert ${i.name}`), onDelete: (k) => seen.push(`delete ${k}`) },
      { delay: async () => {} },
    );
    await watch.synced;
    under.server.hangWatches();
    await under.store.delete("gone");
    await under.store.create(rcc("new"));
    under.server.expireVersions();
    under.server.dropConnections();
    under.server.resumeWatches();
    await waitFor(() => [...watch.items().keys()].sort().join(",") === "kept,new", {
      message: "the cache to hold kept and new",
    });
    expect(seen).toContain("delete gone");
    expect(seen).toContain("upsert new");
  });
});
