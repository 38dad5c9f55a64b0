import {
  type BusConnection,
  type ClusterStatusMessage,
  ConnectionConfigStore,
  connectBus,
  createSealingKeyPair,
  ensureConnectionsBucket,
  ensureStateStream,
  openSecrets,
  publishClusterStatus,
  type SealingKeyPair,
  subscribeClusterStatus,
} from "@fedview/bus";
import { type NatsServer, startNats, waitFor } from "@fedview/testkit";
import { jetstream } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ConnectionPublisher, createConnectionPublisher } from "../src/connection-publisher.js";
import type { ResolvedConnection } from "../src/resolver.js";
import { collect, tapBus } from "./helpers.js";

const PASSWORD = "pw-9f8e7d6c5b4a";
const KEY =
  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYBYTES\n-----END PRIVATE KEY-----\n";

function etcdConnection(password = PASSWORD): ResolvedConnection {
  return {
    datastoreType: "etcdv3",
    spec: { etcdEndpoints: ["https://10.0.0.1:2379"], overlayRoutingMode: "Disabled" },
    secrets: { etcdUsername: "fed", etcdPassword: password, etcdKey: KEY, etcdCert: "CERT", etcdCACert: "CA" },
  };
}

describe("connection publisher", () => {
  let nats: NatsServer;
  let nc: BusConnection;
  let store: ConnectionConfigStore;
  let serviceKey: SealingKeyPair;
  let connectorKey: SealingKeyPair;
  let clock: number;

  const publisherWith = (key: SealingKeyPair): ConnectionPublisher =>
    createConnectionPublisher({
      store,
      publishStatus: async (message: ClusterStatusMessage) => {
        await publishClusterStatus(jetstream(nc), message);
      },
      sealingKey: key,
      connectorPublicKey: connectorKey.getPublicKey(),
      now: () => new Date(clock),
    });

  beforeEach(async () => {
    nats = await startNats();
    nc = await connectBus({ servers: nats.url });
    await ensureConnectionsBucket(nc);
    await ensureStateStream(nc);
    store = await ConnectionConfigStore.open(nc);
    serviceKey = createSealingKeyPair();
    connectorKey = createSealingKeyPair();
    clock = Date.parse("2025-01-01T00:00:00Z");
  });
  afterEach(async () => {
    await nc?.[Symbol.asyncDispose]();
    await nats?.[Symbol.asyncDispose]();
  });

  it("seals every secret: a subscriber to everything sees none of their bytes, the connector's key opens them", async () => {
    await using tap = tapBus(nc);
    const publisher = publisherWith(serviceKey);
    const outcome = await publisher.publish("alpha", { status: "valid", connection: etcdConnection() });
    expect(outcome).toEqual({ changed: true, generation: clock });
    await nc.flush();
    await waitFor(() => tap.texts.some((t) => t.includes("etcdv3.alpha")), { message: "the KV write on the bus" });
    for (const text of tap.texts) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain("SECRETKEYBYTES");
      expect(text).not.toContain('"fed"');
    }
    const stored = await store.get("etcdv3", "alpha");
    expect(stored?.config.spec).toEqual({ etcdEndpoints: ["https://10.0.0.1:2379"], overlayRoutingMode: "Disabled" });
    expect(stored?.config.sealed?.sender).toBe(serviceKey.getPublicKey());
    expect(() => openSecrets(stored!.config.sealed!, createSealingKeyPair())).toThrow();
    expect(openSecrets(stored!.config.sealed!, connectorKey)).toEqual(etcdConnection().secrets);
  });

  it("writes nothing for unchanged content and a higher generation for changed content", async () => {
    const publisher = publisherWith(serviceKey);
    const first = await publisher.publish("alpha", { status: "valid", connection: etcdConnection() });
    const revision = (await store.get("etcdv3", "alpha"))?.revision;
    clock += 1000;
    expect(await publisher.publish("alpha", { status: "valid", connection: etcdConnection() })).toEqual({
      changed: false,
      generation: first.generation,
    });
    expect((await store.get("etcdv3", "alpha"))?.revision).toBe(revision);
    const rotated = await publisher.publish("alpha", { status: "valid", connection: etcdConnection("new-password") });
    expect(rotated.changed).toBe(true);
    expect(rotated.generation).toBeGreaterThan(first.generation);
    expect((await store.get("etcdv3", "alpha"))?.config.generation).toBe(rotated.generation);
  });

  it("after a restart with the same key, does not republish unchanged content as a change", async () => {
    const before = publisherWith(serviceKey);
    const first = await before.publish("alpha", { status: "valid", connection: etcdConnection() });
    await before.publish("beta", { status: "invalid", datastoreType: "kubernetes", error: "spec.kubeconfig: missing" });
    const revision = (await store.get("etcdv3", "alpha"))?.revision;

    const after = publisherWith(serviceKey);
    await after.load();
    expect(after.clusters().sort()).toEqual(["alpha", "beta"]);
    clock += 60_000;
    expect(await after.publish("alpha", { status: "valid", connection: etcdConnection() })).toEqual({
      changed: false,
      generation: first.generation,
    });
    expect(
      (
        await after.publish("beta", {
          status: "invalid",
          datastoreType: "kubernetes",
          error: "spec.kubeconfig: missing",
        })
      ).changed,
    ).toBe(false);
    expect((await store.get("etcdv3", "alpha"))?.revision).toBe(revision);
  });

  it("after a restart with another key, republishes with a higher generation (it cannot prove equality)", async () => {
    const first = await publisherWith(serviceKey).publish("alpha", { status: "valid", connection: etcdConnection() });
    const other = publisherWith(createSealingKeyPair());
    await other.load();
    const again = await other.publish("alpha", { status: "valid", connection: etcdConnection() });
    expect(again.changed).toBe(true);
    expect(again.generation).toBeGreaterThan(first.generation);
  });

  it("publishes an invalid config and ConfigIncomplete with the error, then removes both on delete", async () => {
    const statuses = collect(subscribeClusterStatus(nc, { cluster: "gamma" }));
    await nc.flush();
    const publisher = publisherWith(serviceKey);
    const error = "spec.etcdCertFile: cannot read /nope: ENOENT (no such file)";
    const outcome = await publisher.publish("gamma", { status: "invalid", datastoreType: "etcdv3", error });
    const stored = await store.get("etcdv3", "gamma");
    expect(stored?.config).toMatchObject({ status: "invalid", error, generation: outcome.generation, spec: {} });
    expect(stored?.config.sealed).toBeUndefined();
    await waitFor(() => statuses.length === 1, { message: "the ConfigIncomplete status" });
    expect(statuses[0]).toMatchObject({
      op: "upsert",
      status: "ConfigIncomplete",
      error,
      generation: outcome.generation,
    });

    await publisher.remove("gamma");
    expect(await store.get("etcdv3", "gamma")).toBeNull();
    await waitFor(() => statuses.length === 2, { message: "the status removal" });
    expect(statuses[1]).toMatchObject({ op: "delete", cluster: "gamma" });
    expect(publisher.clusters()).toEqual([]);
  });

  it("moves a cluster whose datastore type changed: the old type's key is deleted", async () => {
    const publisher = publisherWith(serviceKey);
    await publisher.publish("delta", { status: "valid", connection: etcdConnection() });
    await publisher.publish("delta", {
      status: "valid",
      connection: {
        datastoreType: "kubernetes",
        spec: { overlayRoutingMode: "Disabled" },
        secrets: { kubeconfig: "clusters: []" },
      },
    });
    expect(await store.get("etcdv3", "delta")).toBeNull();
    expect((await store.get("kubernetes", "delta"))?.config.status).toBe("valid");
  });

  it("keeps an invalid RCC that names no type under the type it had, so that type's connectors retract", async () => {
    const publisher = publisherWith(serviceKey);
    await publisher.publish("omega", { status: "valid", connection: etcdConnection() });
    await publisher.publish("omega", {
      status: "invalid",
      datastoreType: undefined,
      error: "spec.datastoreType: required",
    });
    expect((await store.get("etcdv3", "omega"))?.config).toMatchObject({
      status: "invalid",
      error: "spec.datastoreType: required",
    });
  });

  it("tells connectors of every type about an invalid RCC that never named one, then keeps only the right key", async () => {
    const publisher = publisherWith(serviceKey);
    const error = "spec.clusterAccessSecret: Secret ns/s not found; create it or fix the reference";
    await publisher.publish("sigma", { status: "invalid", datastoreType: undefined, error });
    expect((await store.get("etcdv3", "sigma"))?.config.error).toBe(error);
    expect((await store.get("kubernetes", "sigma"))?.config.error).toBe(error);

    const restarted = publisherWith(serviceKey);
    await restarted.load();
    expect((await restarted.publish("sigma", { status: "invalid", datastoreType: undefined, error })).changed).toBe(
      false,
    );

    await restarted.publish("sigma", {
      status: "valid",
      connection: {
        datastoreType: "kubernetes",
        spec: { overlayRoutingMode: "Disabled" },
        secrets: { kubeconfig: "k" },
      },
    });
    expect(await store.get("etcdv3", "sigma")).toBeNull();
    expect((await store.get("kubernetes", "sigma"))?.config.status).toBe("valid");
    await restarted.remove("sigma");
    expect(await store.get("kubernetes", "sigma")).toBeNull();
  });
});
