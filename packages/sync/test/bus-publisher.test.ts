import {
  type BusConnection,
  connectBus,
  ensureBusTopology,
  openStateReader,
  readClusterInventory,
  type StateItem,
} from "@fedview/bus";
import { type NatsServer, startNats, uniqueName, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterConfig, ClusterSync, createBusPublisher, createManualClock } from "../src/index.js";
import { MemoryDatastore } from "./memory-datastore.js";

const logger = pino({ level: "silent" });
const WEP = "WorkloadEndpoint";

function config(cluster: string, generation = 1): ClusterConfig {
  return { valid: true, connection: { cluster, generation, datastoreType: "memory", spec: {}, secrets: {} } };
}

function calico(kind: string, name: string, extra: Record<string, unknown> = {}) {
  const [namespace, short] = name.includes("/") ? name.split("/") : [undefined, name];
  return {
    apiVersion: "projectcalico.org/v3",
    kind,
    metadata: { name: short, ...(namespace ? { namespace } : {}) },
    spec: { ...extra },
  };
}

async function readAll(nc: BusConnection, cluster: string): Promise<StateItem[]> {
  const items: StateItem[] = [];
  const reader = await openStateReader(nc);
  for await (const item of reader) {
    if (item.type === "snapshot-complete") break;
    if (item.type === "resource" && item.event.cluster === cluster) items.push(item);
    if (item.type === "status" && item.status.cluster === cluster) items.push(item);
  }
  await reader.close();
  return items;
}

describe("ClusterSync over the real bus", () => {
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

  it("publishes the listing and its status to the state stream, and a takeover re-reads it to publish only changes", async () => {
    const cluster = uniqueName("c");
    const store = new MemoryDatastore();
    store.put(WEP, "ns/a", calico(WEP, "ns/a"));
    store.put(WEP, "ns/b", calico(WEP, "ns/b"));
    store.put("Profile", `${cluster}/p`, calico("Profile", `${cluster}/p`));
    // The memory datastore wraps values; give the bus real Calico objects.
    for (const r of store.data.values()) r.resource = (r.resource as { value: unknown }).value;
    const publisher = createBusPublisher(nc);
    const first = new ClusterSync({
      config: config(cluster),
      createSource: () => store.source(),
      publisher,
      logger,
      clock: createManualClock(),
      statusIntervalMs: 0,
    });
    first.start();
    await waitFor(() => first.status().status === "InSync");
    await first.stop();

    const inventory = await readClusterInventory(nc, cluster);
    expect([...(inventory.get(WEP)?.keys() ?? [])].sort()).toEqual(["ns/a", "ns/b"]);
    expect([...(inventory.get("Profile")?.keys() ?? [])]).toEqual([`${cluster}/p`]);
    const items = await readAll(nc, cluster);
    const status = items.find((i) => i.type === "status");
    expect(status?.type === "status" && status.status).toMatchObject({
      op: "upsert",
      status: "InSync",
      counts: { [WEP]: 2, Profile: 1 },
      stale: false,
      generation: 1,
    });

    // Meanwhile in the datastore: one change, one delete.
    const changed = store.put(WEP, "ns/b", calico(WEP, "ns/b", { ipNetworks: ["10.0.0.2/32"] }));
    changed.resource = (changed.resource as { value: unknown }).value;
    store.delete(WEP, "ns/a");
    const before = (await readAll(nc, cluster)).length;
    const mark = Math.max(...(await readAll(nc, cluster)).map((i) => ("seq" in i ? i.seq : 0)));
    const second = new ClusterSync({
      config: config(cluster),
      createSource: () => store.source(),
      publisher: createBusPublisher(nc),
      logger,
      clock: createManualClock(),
      statusIntervalMs: 0,
    });
    second.start();
    await waitFor(() => second.status().status === "InSync");
    await second.stop();
    const after = await readAll(nc, cluster);
    // One message kept per subject: the same subjects, and only ns/a and ns/b were rewritten.
    expect(after.length).toBe(before);
    const rewritten = after
      .filter((i): i is Extract<StateItem, { type: "resource" }> => i.type === "resource" && i.seq > mark)
      .map((i) => `${i.event.op} ${i.event.id}`)
      .sort();
    expect(rewritten).toEqual(["delete ns/a", "upsert ns/b"]);
  });

  it("skips a resource the bus refuses (over 1 MB) as malformed and keeps syncing the rest", async () => {
    const cluster = uniqueName("c");
    const store = new MemoryDatastore();
    const ok = store.put("Profile", `${cluster}/ok`);
    ok.resource = calico("Profile", `${cluster}/ok`);
    const huge = store.put("Profile", `${cluster}/huge`);
    huge.resource = calico("Profile", `${cluster}/huge`, { labelsToApply: { big: "x".repeat(1_100_000) } });
    const sync = new ClusterSync({
      config: config(cluster),
      createSource: () => store.source(),
      publisher: createBusPublisher(nc),
      logger,
      clock: createManualClock(),
      statusIntervalMs: 0,
    });
    await using _ = sync;
    sync.start();
    await waitFor(() => sync.status().status === "InSync");
    expect(sync.stats()).toMatchObject({ malformed: 1, failures: 0, entries: 1 });
    const inventory = await readClusterInventory(nc, cluster);
    expect([...(inventory.get("Profile")?.keys() ?? [])]).toEqual([`${cluster}/ok`]);
  });

  it("remove() leaves only tombstones: every resource deleted, then the status removed", async () => {
    const cluster = uniqueName("c");
    const store = new MemoryDatastore();
    for (const id of ["ns/a", "ns/b"]) {
      const r = store.put(WEP, id);
      r.resource = calico(WEP, id);
    }
    const sync = new ClusterSync({
      config: config(cluster),
      createSource: () => store.source(),
      publisher: createBusPublisher(nc),
      logger,
      clock: createManualClock(),
      statusIntervalMs: 0,
    });
    sync.start();
    await waitFor(() => sync.status().status === "InSync");
    await sync.remove();
    const items = await readAll(nc, cluster);
    const ops = items.map((i) =>
      i.type === "resource" ? `${i.event.op}` : i.type === "status" ? `status-${i.status.op}` : "",
    );
    expect(ops.sort()).toEqual(["delete", "delete", "status-delete"]);
    const statusSeq = items.find((i) => i.type === "status");
    const maxResourceSeq = Math.max(...items.filter((i) => i.type === "resource").map((i) => ("seq" in i ? i.seq : 0)));
    expect(statusSeq && "seq" in statusSeq && statusSeq.seq).toBeGreaterThan(maxResourceSeq);
  });
});
