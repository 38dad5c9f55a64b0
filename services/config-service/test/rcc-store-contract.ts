import { uniqueName, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RccConflictError, RccNotFoundError } from "../src/errors.js";
import { startListWatch } from "../src/list-watch.js";
import type { RccObject, RccStore, StoredRcc } from "../src/types.js";

/** A store on a fresh real datastore, and a way to read what the datastore itself holds. */
export interface StoreUnderTest extends AsyncDisposable {
  store: RccStore;
  /** The spec as stored in the datastore, read around the store (etcdctl, the API server's own view). */
  storedSpec(name: string): Promise<Record<string, unknown> | undefined>;
}

/** The RCCs of a contract test: the same endpoint field varies from write to write. */
function rcc(name: string, endpoint: string, resourceVersion?: string): RccObject {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { datastoreType: "etcdv3", etcdEndpoints: endpoint },
  };
}

const endpointOf = (spec: Record<string, unknown> | undefined): unknown => spec?.["etcdEndpoints"];

/**
 * The behaviour every RCC store shares, whichever datastore holds the RCCs: create, get, update and delete
 * with optimistic concurrency — a stale version is refused, never overwritten — and list-then-watch.
 */
export function describeRccStoreContract(label: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${label}: the RCC store contract`, () => {
    let under: StoreUnderTest;
    beforeAll(async () => {
      under = await open();
    });
    afterAll(async () => {
      await under?.[Symbol.asyncDispose]();
    });

    it("creates, and gets it back with the version it was stored at", async () => {
      const name = uniqueName("c");
      const created = await under.store.create(rcc(name, "https://a:1"));
      const got = await under.store.get(name);
      expect(got?.resourceVersion).toBe(created.resourceVersion);
      expect(got?.object.metadata.resourceVersion).toBe(created.resourceVersion);
      expect(endpointOf(got?.object.spec)).toBe("https://a:1");
      expect(await under.store.get(uniqueName("missing"))).toBeUndefined();
    });

    it("refuses to create a name that exists, leaving the stored object as it was", async () => {
      const name = uniqueName("c");
      await under.store.create(rcc(name, "https://a:1"));
      await expect(under.store.create(rcc(name, "https://b:1"))).rejects.toBeInstanceOf(RccConflictError);
      expect(endpointOf(await under.storedSpec(name))).toBe("https://a:1");
    });

    it("updates with the current resourceVersion and refuses a stale one without overwriting", async () => {
      const name = uniqueName("c");
      const created = await under.store.create(rcc(name, "https://a:1"));
      const updated = await under.store.update(rcc(name, "https://b:1", created.resourceVersion));
      expect(updated.resourceVersion).not.toBe(created.resourceVersion);
      expect(updated.object.metadata.uid).toBe(created.object.metadata.uid);
      const stale = under.store.update(rcc(name, "https://c:1", created.resourceVersion));
      await expect(stale).rejects.toBeInstanceOf(RccConflictError);
      await expect(stale).rejects.toThrow(/stale/);
      const now = await under.store.get(name);
      expect(endpointOf(now?.object.spec)).toBe("https://b:1");
      expect(now?.resourceVersion).toBe(updated.resourceVersion);
    });

    it("refuses the second of two writers racing from the same version", async () => {
      const name = uniqueName("c");
      const created = await under.store.create(rcc(name, "https://a:1"));
      const results = await Promise.allSettled([
        under.store.update(rcc(name, "https://one:1", created.resourceVersion)),
        under.store.update(rcc(name, "https://two:1", created.resourceVersion)),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(RccConflictError);
      const winner = (won[0] as PromiseFulfilledResult<StoredRcc>).value;
      expect((await under.store.get(name))?.object.spec).toEqual(winner.object.spec);
    });

    it("updates without a resourceVersion whatever is stored, but not what does not exist", async () => {
      const name = uniqueName("c");
      await under.store.create(rcc(name, "https://a:1"));
      await under.store.update(rcc(name, "https://b:1"));
      expect(endpointOf((await under.store.get(name))?.object.spec)).toBe("https://b:1");
      await expect(under.store.update(rcc(uniqueName("missing"), "https://a:1"))).rejects.toBeInstanceOf(
        RccNotFoundError,
      );
    });

    it("deletes with a current resourceVersion, refuses a stale one, and reports a missing name", async () => {
      const name = uniqueName("c");
      const created = await under.store.create(rcc(name, "https://a:1"));
      const updated = await under.store.update(rcc(name, "https://b:1"));
      await expect(under.store.delete(name, { resourceVersion: created.resourceVersion })).rejects.toBeInstanceOf(
        RccConflictError,
      );
      expect(await under.storedSpec(name)).toBeDefined();
      const deleted = await under.store.delete(name, { resourceVersion: updated.resourceVersion });
      expect(endpointOf(deleted.object.spec)).toBe("https://b:1");
      expect(await under.storedSpec(name)).toBeUndefined();
      await expect(under.store.delete(name)).rejects.toBeInstanceOf(RccNotFoundError);
    });
  });

  describe(`${label}: list-then-watch`, () => {
    it("lists, then delivers creates, updates and deletes as they happen", async () => {
      await using under = await open();
      const { store } = under;
      await store.create(rcc("before", "https://a:1"));
      const seen: string[] = [];
      await using watch = startListWatch(store, {
        onUpsert: (item) => seen.push(`upsert ${item.name} ${endpointOf(item.object.spec)}`),
        onDelete: (key) => seen.push(`delete ${key}`),
      });
      await watch.synced;
      expect(seen).toEqual(["upsert before https://a:1"]);
      await store.create(rcc("after", "https://x:1"));
      await store.update(rcc("before", "https://y:1"));
      await store.delete("after");
      await waitFor(() => seen.length === 4, { message: "three watch events" });
      expect(seen.slice(1)).toEqual(["upsert after https://x:1", "upsert before https://y:1", "delete after"]);
      expect([...watch.items().keys()]).toEqual(["before"]);
    });
  });
}
