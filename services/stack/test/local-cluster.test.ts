import {
  ConnectionConfigStore,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  LOCAL_CLUSTER,
  openSecrets,
} from "@fedview/bus";
import { startNats, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { publishLocalCluster } from "../src/local-cluster.js";
import type { LocalConnection } from "../src/local-datastore.js";

const logger = pino({ level: "silent" });

async function bus() {
  const nats = await startNats();
  const nc = await connectBus({ servers: [nats.url] });
  await ensureBusTopology(nc);
  const store = await ConnectionConfigStore.open(nc);
  return {
    nc,
    store,
    async [Symbol.asyncDispose]() {
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

const etcdLocal: LocalConnection = {
  datastoreType: "etcdv3",
  spec: { etcdEndpoints: ["https://10.0.0.1:2379"] },
  secrets: { etcdCACert: "CA PEM", etcdUsername: "calico", etcdPassword: "s3cret" },
};

describe("publishLocalCluster", () => {
  it("publishes _local sealed to the connectors, and leaves an identical config alone on the next start", async () => {
    await using b = await bus();
    const configKey = createSealingKeyPair();
    const connectors = createSealingKeyPair();
    const options = { nc: b.nc, sealingKey: configKey, connectorPublicKey: connectors.getPublicKey(), logger };
    let generation: number;
    {
      await using published = await publishLocalCluster({ ...options, connection: etcdLocal, now: () => 1000 });
      generation = published.generation;
      expect(generation).toBe(1000);
    }
    const stored = (await b.store.get("etcdv3", LOCAL_CLUSTER))!;
    expect(stored.config).toMatchObject({ cluster: "_local", status: "valid", generation: 1000, spec: etcdLocal.spec });
    expect(JSON.stringify(stored.config)).not.toContain("s3cret");
    expect(openSecrets(stored.config.sealed!, connectors, { expectedSenders: [configKey.getPublicKey()] })).toEqual(
      etcdLocal.secrets,
    );

    await using again = await publishLocalCluster({ ...options, connection: etcdLocal, now: () => 5000 });
    expect(again.generation).toBe(generation);
    expect((await b.store.get("etcdv3", LOCAL_CLUSTER))!.revision).toBe(stored.revision);
  });

  it("puts _local back with a newer generation when it is deleted, as config-service's first listing does", async () => {
    await using b = await bus();
    let clock = 1000;
    await using published = await publishLocalCluster({
      nc: b.nc,
      connection: etcdLocal,
      sealingKey: createSealingKeyPair(),
      connectorPublicKey: createSealingKeyPair().getPublicKey(),
      logger,
      now: () => clock,
    });
    clock = 2000;
    await b.store.delete("etcdv3", LOCAL_CLUSTER);
    const back = await waitFor(async () => (await b.store.get("etcdv3", LOCAL_CLUSTER)) ?? undefined, {
      message: "_local published again",
    });
    expect(back.config.generation).toBe(2000);
    expect(published.generation).toBe(2000);
  });

  it("moves _local to the other connector when the local datastore changes type", async () => {
    await using b = await bus();
    const options = {
      nc: b.nc,
      sealingKey: createSealingKeyPair(),
      connectorPublicKey: createSealingKeyPair().getPublicKey(),
      logger,
    };
    {
      await using _etcd = await publishLocalCluster({ ...options, connection: etcdLocal, now: () => 1000 });
    }
    const kubernetes: LocalConnection = {
      datastoreType: "kubernetes",
      spec: { k8sAPIEndpoint: "https://10.0.0.9:6443" },
      secrets: { k8sAPIToken: "t0ken" },
    };
    await using kube = await publishLocalCluster({ ...options, connection: kubernetes, now: () => 500 });
    expect(kube.generation).toBe(1001);
    expect(await b.store.get("etcdv3", LOCAL_CLUSTER)).toBeNull();
    expect((await b.store.get("kubernetes", LOCAL_CLUSTER))?.config.generation).toBe(1001);
  });
});
