import { connectBus } from "@fedview/bus";
import { startEtcd, startNats } from "@fedview/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { createKeys, runService, serviceConfig } from "./service-harness.js";

describe("the bus topology config-service creates", () => {
  it("gives the state stream and both buckets FEDVIEW_JETSTREAM_REPLICAS replicas on a 3-node NATS cluster", async () => {
    await using nats = await startNats({ cluster: 3 });
    await using etcd = await startEtcd();
    const config = {
      ...serviceConfig(nats, createKeys(), { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } }),
      jetstreamReplicas: 3,
    };
    await using _running = await runService(config);
    await using nc = await connectBus({ servers: nats.urls });

    const state = await (await jetstreamManager(nc)).streams.info(config.stateStream);
    expect(state.config.num_replicas).toBe(3);
    expect(state.cluster?.replicas).toHaveLength(2);
    const kvm = new Kvm(jetstream(nc));
    for (const bucket of [config.connectionsBucket, config.leasesBucket]) {
      expect((await (await kvm.open(bucket)).status()).replicas, bucket).toBe(3);
    }
  });
});
