import {
  type BusConnection,
  type ConnectionConfig,
  ConnectionConfigStore,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  readClusterInventory,
  sealSecrets,
} from "@fedview/bus";
import { type NatsServer, startNats, uniqueName, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterConnection, createConnectorRuntime } from "../src/index.js";
import { MemoryDatastore } from "./memory-datastore.js";

const logger = pino({ level: "silent" });
const connectors = createSealingKeyPair();
const configService = createSealingKeyPair();
const seed = new TextDecoder().decode(connectors.getSeed());

/** A datastore per cluster, and every connection the runtime asked a source for. */
function sources() {
  const stores = new Map<string, MemoryDatastore>();
  const connections: ClusterConnection[] = [];
  const storeOf = (cluster: string) => {
    let s = stores.get(cluster);
    if (!s) {
      s = new MemoryDatastore(cluster);
      const r = s.put("Profile", `${cluster}/p`);
      r.resource = {
        apiVersion: "projectcalico.org/v3",
        kind: "Profile",
        metadata: { name: `${cluster}/p` },
        spec: {},
      };
      stores.set(cluster, s);
    }
    return s;
  };
  return {
    storeOf,
    connections,
    factory: (c: ClusterConnection) => {
      connections.push(c);
      return storeOf(c.cluster).source();
    },
  };
}

function config(cluster: string, generation: number, extra: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return {
    v: 1,
    cluster,
    datastoreType: "etcdv3",
    generation,
    status: "valid",
    spec: { etcdEndpoints: ["https://10.0.0.1:2379"], staleDataExpiry: "10m" },
    sealed: sealSecrets({ etcdPassword: `pw-${generation}` }, configService, connectors.getPublicKey()),
    ...extra,
  };
}

describe("ConnectorRuntime on a real bus", () => {
  let nats: NatsServer;
  let nc: BusConnection;
  let store: ConnectionConfigStore;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connectBus({ servers: nats.url });
    await ensureBusTopology(nc, { leaseTtlMs: 2000 });
    store = await ConnectionConfigStore.open(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  const profiles = async (cluster: string) =>
    [...((await readClusterInventory(nc, cluster)).get("Profile") ?? new Map()).values()].filter(
      (e) => e.op === "upsert",
    ).length;

  it("serves a config with opened secrets, applies a new generation, retracts on invalid and on delete", async () => {
    const cluster = uniqueName("c");
    const src = sources();
    await store.put(config(cluster, 1));
    await using runtime = createConnectorRuntime({
      nc,
      datastoreType: "etcdv3",
      createSource: src.factory,
      sealingSeed: seed,
      expectedSenders: [configService.getPublicKey()],
      replicaId: uniqueName("r"),
      logger,
      statusIntervalMs: 0,
    });
    await runtime.start();
    const owned = () => runtime.status().clusters.find((c) => c.cluster === cluster);
    await waitFor(() => owned()?.status?.status === "InSync", { message: "cluster in sync" });
    expect(src.connections[0]).toMatchObject({
      cluster,
      generation: 1,
      secrets: { etcdPassword: "pw-1" },
      spec: { etcdEndpoints: ["https://10.0.0.1:2379"] },
      dataExpiryMs: 600_000,
    });
    expect(await profiles(cluster)).toBe(1);

    await store.put(config(cluster, 2));
    await waitFor(() => owned()?.status?.generation === 2, { message: "generation 2 applied" });
    expect(src.connections.at(-1)?.secrets).toEqual({ etcdPassword: "pw-2" });

    await store.put({
      v: 1,
      cluster,
      datastoreType: "etcdv3",
      generation: 3,
      status: "invalid",
      error: "spec.etcdCertFile: ENOENT",
      spec: {},
    });
    await waitFor(() => owned()?.status?.status === "ConfigIncomplete");
    expect(owned()?.status?.error).toBe("spec.etcdCertFile: ENOENT");
    expect(await profiles(cluster)).toBe(0);

    await store.put(config(cluster, 4));
    await waitFor(() => owned()?.status?.status === "InSync");
    await store.delete("etcdv3", cluster);
    await waitFor(() => owned() === undefined, { message: "cluster gone from the runtime" });
    await waitFor(async () => (await profiles(cluster)) === 0);
    expect(runtime.status().leases?.held).not.toContain(cluster);
  });

  it("purges the tombstones of the clusters it owns once older than the retention, keeping live resources", async () => {
    const cluster = uniqueName("c");
    const src = sources();
    await store.put(config(cluster, 1));
    await using runtime = createConnectorRuntime({
      nc,
      datastoreType: "etcdv3",
      createSource: src.factory,
      sealingSeed: seed,
      replicaId: uniqueName("r"),
      logger,
      statusIntervalMs: 0,
      tombstoneRetentionMs: 500,
      tombstonePurgeIntervalMs: 200,
    });
    await runtime.start();
    const owned = () => runtime.status().clusters.find((c) => c.cluster === cluster);
    await waitFor(() => owned()?.status?.status === "InSync", { message: "cluster in sync" });
    const q = src.storeOf(cluster).put("Profile", `${cluster}/q`);
    q.resource = { apiVersion: "projectcalico.org/v3", kind: "Profile", metadata: { name: `${cluster}/q` }, spec: {} };
    await waitFor(async () => (await profiles(cluster)) === 2, { message: "q published" });
    src.storeOf(cluster).delete("Profile", `${cluster}/q`);
    const ops = async () =>
      Object.fromEntries(
        [...((await readClusterInventory(nc, cluster)).get("Profile") ?? new Map()).values()].map((e) => [e.id, e.op]),
      );
    await waitFor(async () => (await ops())[`${cluster}/q`] === "delete", { message: "q's tombstone stored" });
    await waitFor(async () => (await ops())[`${cluster}/q`] === undefined, {
      message: "q's tombstone purged",
      timeout: 10_000,
    });
    expect(await ops()).toEqual({ [`${cluster}/p`]: "upsert" });
    expect(runtime.status().tombstonePurge).toMatchObject({ purged: 1, failures: 0 });
    await store.delete("etcdv3", cluster);
    await waitFor(() => owned() === undefined, { message: "cluster gone from the runtime" });
  });

  it("reports ConfigIncomplete when the sealed secrets are not for this connector", async () => {
    const cluster = uniqueName("c");
    const src = sources();
    const stranger = createSealingKeyPair();
    await store.put(
      config(cluster, 1, { sealed: sealSecrets({ etcdPassword: "x" }, configService, stranger.getPublicKey()) }),
    );
    await using runtime = createConnectorRuntime({
      nc,
      datastoreType: "etcdv3",
      createSource: src.factory,
      sealingSeed: seed,
      replicaId: uniqueName("r"),
      logger,
    });
    await runtime.start();
    await waitFor(
      () => runtime.status().clusters.find((c) => c.cluster === cluster)?.status?.status === "ConfigIncomplete",
    );
    const status = runtime.status().clusters.find((c) => c.cluster === cluster)?.status;
    expect(status?.error).toMatch(/^the connection secrets cannot be opened by this connector: /);
    expect(src.connections).toHaveLength(0);
  });

  it("two replicas serve each cluster exactly once; a dead replica's clusters move to the other", async () => {
    const clusters = [uniqueName("c"), uniqueName("c"), uniqueName("c"), uniqueName("c")];
    for (const c of clusters) await store.put(config(c, 1));
    const src = sources();
    const ncA = await connectBus({ servers: nats.url, reconnect: { enabled: false } });
    const runtimeOptions = {
      datastoreType: "etcdv3" as const,
      createSource: src.factory,
      sealingSeed: seed,
      logger,
      rebalanceIntervalMs: 300,
      backoff: { initialMs: 50, maxMs: 200 },
    };
    const a = createConnectorRuntime({ ...runtimeOptions, nc: ncA, replicaId: uniqueName("a") });
    await using b = createConnectorRuntime({ ...runtimeOptions, nc, replicaId: uniqueName("b") });
    try {
      await Promise.all([a.start(), b.start()]);
      const ownersOf = (c: string) => [a, b].filter((r) => r.status().clusters.some((x) => x.cluster === c && x.owned));
      const inSync = (r: typeof a, c: string) =>
        r.status().clusters.find((x) => x.cluster === c)?.status?.status === "InSync";
      // Whoever starts first takes what is free; the rebalancing then hands clusters over until both serve some.
      await waitFor(
        () =>
          clusters.every((c) => ownersOf(c).length === 1 && inSync(ownersOf(c)[0]!, c)) &&
          clusters.some((c) => ownersOf(c)[0] === a) &&
          clusters.some((c) => ownersOf(c)[0] === b),
        { message: "every cluster served by exactly one replica, both replicas serving", timeout: 15_000 },
      );
      const ofA = clusters.filter((c) => ownersOf(c)[0] === a);

      // A dies: its connection to the bus drops without releasing anything.
      await ncA.close();
      const movedBy = Date.now() + 10_000;
      await waitFor(
        () => clusters.every((c) => b.status().clusters.find((x) => x.cluster === c)?.status?.status === "InSync"),
        { message: "B serving every cluster", timeout: 10_000 },
      );
      expect(Date.now()).toBeLessThan(movedBy);
      expect(clusters.filter((c) => a.status().clusters.some((x) => x.cluster === c && x.owned))).toEqual([]);
      // B took over from what A left on the bus: nothing to republish.
      for (const c of ofA) {
        expect(b.status().clusters.find((x) => x.cluster === c)?.stats?.events).toBe(0);
      }
    } finally {
      await a[Symbol.asyncDispose]();
    }
  });
});
