import { startNats, uniqueName } from "@fedview/testkit";
import { jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import {
  BusConfigError,
  connectBus,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_STATE_STREAM,
  ensureBusTopology,
  ensureConnectionsBucket,
  ensureLeasesBucket,
  ensureStateStream,
  TopologyError,
} from "../src/index.js";

const kvStream = (bucket: string): string => `KV_${bucket}`;

describe("ensureBusTopology", () => {
  it("creates the state stream and both buckets with the contract's settings, idempotently", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    const first = await ensureBusTopology(nc);
    const second = await ensureBusTopology(nc);

    const config = second.stateStream.config;
    expect(config.name).toBe(DEFAULT_STATE_STREAM);
    expect([...config.subjects].sort()).toEqual(["fedview.v1.res.>", "fedview.v1.status.>"]);
    expect(config.max_msgs_per_subject).toBe(1);
    expect(config.storage).toBe("file");
    expect(config.discard).toBe("old");
    expect(config.num_replicas).toBe(1);
    expect(second.stateStream.created).toBe(first.stateStream.created);

    const connections = await second.connections.status();
    expect(connections.bucket).toBe("fedview-connections");
    const leases = await second.leases.status();
    expect(leases.bucket).toBe("fedview-leases");
    expect(leases.ttl).toBe(6000);
    expect(leases.history).toBe(1);
  });

  it("takes names and settings from config and reconciles a changed setting in place", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    const stateStream = uniqueName("STATE");
    const leasesBucket = uniqueName("leases");
    await ensureBusTopology(nc, {
      stateStream,
      leasesBucket,
      connectionsBucket: uniqueName("conns"),
      leaseTtlMs: 3000,
    });

    const leases = await ensureLeasesBucket(nc, { leasesBucket, leaseTtlMs: 4000 });
    expect((await leases.status()).ttl).toBe(4000);

    const jsm = await jetstreamManager(nc);
    await jsm.streams.update(stateStream, { ...(await jsm.streams.info(stateStream)).config, max_msgs_per_subject: 5 });
    const repaired = await ensureStateStream(nc, { stateStream, stateMaxBytes: 64 * 1024 * 1024 });
    expect(repaired.config.max_msgs_per_subject).toBe(1);
    expect(repaired.config.max_bytes).toBe(64 * 1024 * 1024);
    expect((await jsm.streams.info(`KV_${leasesBucket}`)).config.max_age).toBe(nanos(4000));
  });

  it("creates replicated streams and buckets on a three-node cluster", async () => {
    await using nats = await startNats({ cluster: 3 });
    await using nc = await connectBus({ servers: nats.urls });
    const topology = await ensureBusTopology(nc, { replicas: 3 });
    expect(topology.stateStream.config.num_replicas).toBe(3);
    expect((await topology.connections.status()).replicas).toBe(3);
    expect((await topology.leases.status()).replicas).toBe(3);
  });

  it("keeps the replica count of an existing stream and buckets when replicas is omitted, and applies a given one", async () => {
    await using nats = await startNats({ cluster: 3 });
    await using nc = await connectBus({ servers: nats.urls });
    const options = {
      stateStream: uniqueName("STATE"),
      connectionsBucket: uniqueName("conns"),
      leasesBucket: uniqueName("leases"),
    };
    const jsm = await jetstreamManager(nc);
    const replicas = async () =>
      Promise.all(
        [options.stateStream, kvStream(options.connectionsBucket), kvStream(options.leasesBucket)].map(
          async (name) => (await jsm.streams.info(name)).config.num_replicas,
        ),
      );

    await ensureBusTopology(nc, { ...options, replicas: 3 });
    expect(await replicas()).toEqual([3, 3, 3]);
    // A service without FEDVIEW_JETSTREAM_REPLICAS must not scale the operator's R3 down.
    const unspecified = await ensureBusTopology(nc, options);
    expect(unspecified.stateStream.config.num_replicas).toBe(3);
    expect(await replicas()).toEqual([3, 3, 3]);
    await ensureBusTopology(nc, { ...options, replicas: 1 });
    expect(await replicas()).toEqual([1, 1, 1]);
    // Omitted on new buckets means one replica.
    const connections = await ensureConnectionsBucket(nc, { connectionsBucket: uniqueName("conns") });
    expect((await connections.status()).replicas).toBe(1);
    const leases = await ensureLeasesBucket(nc, { leasesBucket: uniqueName("leases") });
    expect((await leases.status()).replicas).toBe(1);
  });

  it("keeps an existing lease TTL, history, byte limit and storage when they are omitted", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    const options = {
      stateStream: uniqueName("STATE"),
      connectionsBucket: uniqueName("conns"),
      leasesBucket: uniqueName("leases"),
    };
    await ensureBusTopology(nc, {
      ...options,
      leaseTtlMs: 9000,
      connectionsHistory: 4,
      stateMaxBytes: 1024 * 1024,
      storage: "memory",
    });

    const again = await ensureBusTopology(nc, options);
    expect((await again.leases.status()).ttl).toBe(9000);
    expect((await again.connections.status()).history).toBe(4);
    expect(again.stateStream.config.max_bytes).toBe(1024 * 1024);
    expect(again.stateStream.config.storage).toBe("memory");
    expect((await again.leases.status()).storage).toBe("memory");

    const fresh = await ensureLeasesBucket(nc, { leasesBucket: uniqueName("leases") });
    expect((await fresh.status()).ttl).toBe(DEFAULT_LEASE_TTL_MS);
    const changed = await ensureBusTopology(nc, { ...options, leaseTtlMs: 3000, connectionsHistory: 2 });
    expect((await changed.leases.status()).ttl).toBe(3000);
    expect((await changed.connections.status()).history).toBe(2);
  });

  it("reports a stream that cannot take the state subjects as a TopologyError", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: uniqueName("SQUATTER"), subjects: ["fedview.v1.res.>"] });
    await expect(ensureStateStream(nc)).rejects.toBeInstanceOf(TopologyError);
  });

  it("refuses a changed storage type instead of silently keeping the old one", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    await ensureStateStream(nc, { storage: "memory" });
    await expect(ensureStateStream(nc, { storage: "file" })).rejects.toThrow(/cannot be changed in place/);
  });

  it("validates its options", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    await expect(ensureStateStream(nc, { replicas: 0 })).rejects.toBeInstanceOf(BusConfigError);
    await expect(ensureStateStream(nc, { stateStream: "has.dot" })).rejects.toBeInstanceOf(BusConfigError);
  });
});
