import { type NatsServer, startNats } from "@fedview/testkit";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import {
  BusMetrics,
  ConflictError,
  type ConnectionConfig,
  type ConnectionConfigChange,
  ConnectionConfigStore,
  type ConnectionConfigWatch,
  connectBus,
  createSealingKeyPair,
  DEFAULT_CONNECTIONS_BUCKET,
  EncodeError,
  ensureConnectionsBucket,
  openSecrets,
  SealingError,
  sealingKeyPairFromSeed,
  sealSecrets,
  TopologyError,
} from "../src/index.js";
import { etcdConfig } from "./fixtures.js";

async function configBus(): Promise<
  { nats: NatsServer; nc: NatsConnection; store: ConnectionConfigStore } & AsyncDisposable
> {
  const nats = await startNats();
  const nc = await connectBus({ servers: nats.url });
  await ensureConnectionsBucket(nc);
  const store = await ConnectionConfigStore.open(nc);
  return {
    nats,
    nc,
    store,
    async [Symbol.asyncDispose]() {
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

function k8sConfig(cluster: string): ConnectionConfig {
  return {
    v: 1,
    cluster,
    datastoreType: "kubernetes",
    generation: 1,
    status: "valid",
    spec: { k8sAPIEndpoint: "https://10.0.0.9:6443" },
  };
}

function reader(watch: ConnectionConfigWatch) {
  const it = watch[Symbol.asyncIterator]();
  return async (n: number): Promise<ConnectionConfigChange[]> => {
    const got: ConnectionConfigChange[] = [];
    while (got.length < n) {
      const next = await it.next();
      if (next.done) throw new Error("watch ended early");
      got.push(next.value);
    }
    return got;
  };
}

describe("ConnectionConfigStore", () => {
  it("writes, reads and deletes a config under its datastore type and cluster", async () => {
    await using bus = await configBus();
    const revision = await bus.store.put(etcdConfig("c1"));
    expect(await bus.store.get("etcdv3", "c1")).toEqual({ config: etcdConfig("c1"), revision });
    expect(await bus.store.get("kubernetes", "c1")).toBeNull();
    await bus.store.delete("etcdv3", "c1");
    expect(await bus.store.get("etcdv3", "c1")).toBeNull();
  });

  it("refuses to write a config carrying a secret in the clear", async () => {
    await using bus = await configBus();
    const leaky = { ...etcdConfig("c1"), spec: { ...etcdConfig("c1").spec, etcdPassword: "hunter2" } };
    await expect(bus.store.put(leaky)).rejects.toBeInstanceOf(EncodeError);
    expect(await bus.store.get("etcdv3", "c1")).toBeNull();
  });

  it("writes with compare-and-set and raises ConflictError on a stale revision", async () => {
    await using bus = await configBus();
    const first = await bus.store.put(etcdConfig("c1"), { previousRevision: 0 });
    await expect(bus.store.put(etcdConfig("c1", 2), { previousRevision: 0 })).rejects.toBeInstanceOf(ConflictError);
    const second = await bus.store.put(etcdConfig("c1", 2), { previousRevision: first });
    await expect(bus.store.put(etcdConfig("c1", 3), { previousRevision: first })).rejects.toBeInstanceOf(ConflictError);
    await expect(bus.store.delete("etcdv3", "c1", { previousRevision: first })).rejects.toBeInstanceOf(ConflictError);
    await bus.store.delete("etcdv3", "c1", { previousRevision: second });
  });

  it("watches one datastore type: current configs, snapshot-complete, then live puts and deletes", async () => {
    await using bus = await configBus();
    await bus.store.put(etcdConfig("c1"));
    await bus.store.put(etcdConfig("c2"));
    await bus.store.put(k8sConfig("k1"));
    await bus.store.put(etcdConfig("c3"));
    await bus.store.delete("etcdv3", "c3");

    await using watch = await bus.store.watch({ datastoreType: "etcdv3" });
    const next = reader(watch);
    const snapshot = await next(4);
    expect(
      snapshot.map((c) =>
        c.type === "put" ? `put ${c.config.cluster}` : c.type === "delete" ? `delete ${c.cluster}` : c.type,
      ),
    ).toEqual(["put c1", "put c2", "delete c3", "snapshot-complete"]);

    await bus.store.put(k8sConfig("k2"));
    await bus.store.put(etcdConfig("c1", 2));
    await bus.store.delete("etcdv3", "c2");
    const live = await next(2);
    expect(live[0]).toMatchObject({ type: "put", config: { cluster: "c1", generation: 2 } });
    expect(live[1]).toMatchObject({ type: "delete", datastoreType: "etcdv3", cluster: "c2" });
  });

  it("starts a watch of an empty bucket with snapshot-complete", async () => {
    await using bus = await configBus();
    await using watch = await bus.store.watch();
    const next = reader(watch);
    expect(await next(1)).toEqual([{ type: "snapshot-complete" }]);
    await bus.store.put(k8sConfig("k1"));
    expect((await next(1))[0]).toMatchObject({ type: "put", config: { datastoreType: "kubernetes", cluster: "k1" } });
  });

  it("lists the current configs", async () => {
    await using bus = await configBus();
    await bus.store.put(etcdConfig("c1"));
    await bus.store.put(k8sConfig("k1"));
    await bus.store.put(etcdConfig("c1", 2));
    const all = await bus.store.list();
    expect(all.map((s) => `${s.config.datastoreType}.${s.config.cluster}@${s.config.generation}`).sort()).toEqual([
      "etcdv3.c1@2",
      "kubernetes.k1@1",
    ]);
    expect((await bus.store.list("kubernetes")).map((s) => s.config.cluster)).toEqual(["k1"]);
  });

  it("counts and skips an entry that is not a valid config without ending the watch", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    await ensureConnectionsBucket(nc);
    const metrics = new BusMetrics();
    const store = await ConnectionConfigStore.open(nc, { metrics });
    const kv = await new Kvm(nc).open(DEFAULT_CONNECTIONS_BUCKET);
    await kv.put("etcdv3.bad", "{not json");
    await kv.put("etcdv3.liar", JSON.stringify(etcdConfig("other")));
    await store.put(etcdConfig("good"));

    await using watch = await store.watch({ datastoreType: "etcdv3" });
    const changes = await reader(watch)(2);
    expect(changes[0]).toMatchObject({ type: "put", config: { cluster: "good" } });
    expect(changes[1]).toEqual({ type: "snapshot-complete" });
    expect(metrics.decodeFailures().connection).toBe(2);
  });

  it("refuses to open a bucket that does not exist", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    await expect(ConnectionConfigStore.open(nc)).rejects.toBeInstanceOf(TopologyError);
  });
});

describe("sealed secrets", () => {
  it("never puts clear-text secrets in the KV, and only the connectors' key opens them", async () => {
    await using bus = await configBus();
    const configService = createSealingKeyPair();
    const connectors = createSealingKeyPair();
    const secrets = { etcdPassword: "pa55-w0rd-f1a9", etcdKey: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIK9\n" };

    const sealed = sealSecrets(secrets, configService, connectors.getPublicKey());
    await bus.store.put({ ...etcdConfig("c1"), sealed });

    const jsm = await jetstreamManager(bus.nc);
    const raw = await jsm.streams.getMessage(`KV_${DEFAULT_CONNECTIONS_BUCKET}`, {
      last_by_subj: `$KV.${DEFAULT_CONNECTIONS_BUCKET}.etcdv3.c1`,
    });
    const bytes = Buffer.from(raw!.data).toString("latin1");
    for (const value of [...Object.values(secrets), "pa55", "MHcCAQEEIK9", "PRIVATE KEY"]) {
      expect(bytes).not.toContain(value);
    }
    expect(bytes).not.toContain(Buffer.from(secrets.etcdPassword).toString("base64"));

    // The connector reads the config back from the bus and opens it with its own seed.
    const stored = await bus.store.get("etcdv3", "c1");
    const connectorKey = sealingKeyPairFromSeed(new TextDecoder().decode(connectors.getSeed()));
    expect(
      openSecrets(stored!.config.sealed!, connectorKey, { expectedSenders: [configService.getPublicKey()] }),
    ).toEqual(secrets);

    // Anyone else cannot: neither another key, nor a config-service impostor, nor tampered data.
    expect(() => openSecrets(stored!.config.sealed!, createSealingKeyPair())).toThrow(SealingError);
    const impostor = sealSecrets(secrets, createSealingKeyPair(), connectors.getPublicKey());
    expect(() => openSecrets(impostor, connectors, { expectedSenders: [configService.getPublicKey()] })).toThrow(
      /not an expected sender/,
    );
    const tampered = Buffer.from(sealed.data, "base64");
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => openSecrets({ ...sealed, data: tampered.toString("base64") }, connectors)).toThrow(SealingError);
  });

  it("seals with a fresh nonce each time and refuses a non-curve recipient", () => {
    const sender = createSealingKeyPair();
    const recipient = createSealingKeyPair();
    const a = sealSecrets({ token: "t" }, sender, recipient.getPublicKey());
    const b = sealSecrets({ token: "t" }, sender, recipient.getPublicKey());
    expect(a.data).not.toBe(b.data);
    expect(() => sealSecrets({ token: "t" }, sender, "UABC")).toThrow(SealingError);
    expect(() => sealingKeyPairFromSeed("SUnotacurveseed")).toThrow(SealingError);
  });
});
