import { type BusConnection, connectBus, ensureBusTopology } from "@fedview/bus";
import { type NatsServer, startNats, uniqueName, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterConfig, ClusterSync, createBusPublisher } from "../src/index.js";
import { MemoryDatastore } from "./memory-datastore.js";

const logger = pino({ level: "silent" });
const WEP = "WorkloadEndpoint";

function config(cluster: string): ClusterConfig {
  return { valid: true, connection: { cluster, generation: 1, datastoreType: "memory", spec: {}, secrets: {} } };
}

/** A datastore holding one endpoint, its value a real Calico object the bus accepts. */
function datastore(): MemoryDatastore {
  const store = new MemoryDatastore();
  const r = store.put(WEP, "ns/a");
  r.resource = {
    apiVersion: "projectcalico.org/v3",
    kind: WEP,
    metadata: { name: "a", namespace: "ns" },
    spec: {},
  };
  return store;
}

describe("the cluster status on the bus after a takeover", () => {
  let nats: NatsServer;
  let nc: BusConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connectBus({ servers: nats.url });
    await ensureBusTopology(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  // Issue #10 scale-out: with two connector replicas, clusters stayed ResyncInProgress on the bus
  // for minutes while their owner had them InSync. The status subject keeps its last message,
  // whoever sent it; an old owner's status stored after the new owner's last one (sent before the
  // old owner learnt its lease was lost, or timed out in a congested connection and stored later)
  // stayed there, because an owner in sync had nothing new to say.
  it("the owner's status replaces a previous owner's status stored after it, within a liveness interval", async () => {
    const cluster = uniqueName("c");
    const bus = createBusPublisher(nc);
    const busStatus = async () => (await bus.readState(cluster)).status?.status;

    // The previous owner serves the cluster, on a datastore client of its own.
    const oldStore = datastore();
    const old = new ClusterSync({
      config: config(cluster),
      createSource: () => oldStore.source(),
      publisher: createBusPublisher(nc),
      logger,
      statusIntervalMs: 0,
      livenessIntervalMs: 60_000,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    // Its lease lapses unnoticed (a starved process): the new owner takes the cluster over meanwhile.
    const store = datastore();
    const owner = new ClusterSync({
      config: config(cluster),
      createSource: () => store.source(),
      publisher: createBusPublisher(nc),
      logger,
      statusIntervalMs: 0,
      livenessIntervalMs: 200,
    });
    try {
      old.start();
      await waitFor(() => old.status().status === "InSync", { message: "old owner InSync" });
      owner.start();
      await waitFor(async () => owner.status().status === "InSync" && (await busStatus()) === "InSync", {
        message: "new owner InSync on the bus",
      });

      // The old owner, still running, loses its datastore connection and says so on the bus, after
      // the new owner's InSync; then it notices the lost lease and stops.
      oldStore.checkError = new Error("connection refused");
      oldStore.breakWatches(new Error("connection reset"));
      await waitFor(async () => (await busStatus()) === "ConnectionFailed", {
        message: "the old owner's status stored last",
      });
      await old.stop();
      expect(owner.status().status).toBe("InSync");

      // The owner's status is the one on the bus again within a few of its liveness rounds.
      await waitFor(async () => (await busStatus()) === "InSync", {
        timeout: 3_000,
        message: "the owner's InSync back on the bus",
      });
      expect((await bus.readState(cluster)).status).toMatchObject({ status: "InSync", counts: { [WEP]: 1 } });
    } finally {
      await old.stop();
      await owner.stop();
    }
  });
});
