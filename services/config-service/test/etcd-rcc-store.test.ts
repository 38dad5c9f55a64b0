import { type EtcdServer, startEtcd, uniqueName } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdRccStore } from "../src/etcd-rcc-store.js";
import { ExpiredWatchError } from "../src/list-watch.js";
import type { RccObject, RccStore } from "../src/types.js";
import { describeRccStoreContract, type StoreUnderTest } from "./rcc-store-contract.js";

const KEY_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";

function rcc(name: string, endpoints = "https://10.0.0.1:2379"): RccObject {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name },
    spec: { datastoreType: "etcdv3", etcdEndpoints: endpoints },
  };
}

async function openEtcdStore(): Promise<StoreUnderTest & { etcd: EtcdServer }> {
  const etcd = await startEtcd();
  const store = createEtcdRccStore({ etcd: await etcd.clientOptions() });
  return {
    etcd,
    store,
    async storedSpec(name) {
      const value = await etcd.etcdctl("get", `${KEY_PREFIX}${name}`, "--print-value-only");
      return value === "" ? undefined : (JSON.parse(value) as RccObject).spec;
    },
    async [Symbol.asyncDispose]() {
      await store[Symbol.asyncDispose]();
      await etcd[Symbol.asyncDispose]();
    },
  };
}

describeRccStoreContract("etcd v3", openEtcdStore);

describe("etcd RCC store: Calico's layout", () => {
  let etcd: EtcdServer;
  let store: RccStore;
  beforeAll(async () => {
    ({ etcd, store } = await openEtcdStore());
  });
  afterAll(async () => {
    await store?.[Symbol.asyncDispose]();
    await etcd?.[Symbol.asyncDispose]();
  });

  it("stores v3 JSON at Calico's key without resourceVersion, which is the key's mod revision", async () => {
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
  });

  it("reports an undecodable stored value instead of failing the listing", async () => {
    const name = uniqueName("bad");
    await etcd.etcdctl("put", `${KEY_PREFIX}${name}`, "{not json");
    const listing = await store.list();
    const bad = listing.items.find((i) => i.name === name);
    expect(bad?.decodeError).toMatch(/not JSON/);
    expect(Number(listing.resourceVersion)).toBeGreaterThanOrEqual(Number(bad?.resourceVersion));
  });

  it("ends a watch whose start revision was compacted with ExpiredWatchError, so the loop relists", async () => {
    await using under = await openEtcdStore();
    await under.store.create(rcc("kept"));
    const { resourceVersion } = await under.store.list();
    await under.store.create(rcc("later"));
    const latest = await under.store.update(rcc("later", "https://z:2379"));
    await under.etcd.etcdctl("compact", latest.resourceVersion);
    const events: string[] = [];
    const stream = await under.store.watch(resourceVersion, (event) => events.push(event.type));
    try {
      expect(await stream.done).toBeInstanceOf(ExpiredWatchError);
      expect(events).toEqual([]);
    } finally {
      await stream.stop();
    }
  });
});
