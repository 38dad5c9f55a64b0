/**
 * The whole pipeline for the churn scenarios: one remote etcd holding the fleet, the etcd connector and
 * the query service as child processes, the cluster applied and fully loaded.
 */
import { type EtcdServer, startEtcd } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import {
  type Bus,
  type ChildService,
  spawnConnector,
  spawnQueryService,
  startBus,
  waitForEndpoints,
} from "./harness.js";
import { fleetEntries, seedEtcd } from "./load.js";

export interface Pipeline extends AsyncDisposable {
  bus: Bus;
  etcd: EtcdServer;
  client: Etcd3;
  query: ChildService;
  connector: ChildService;
  cluster: string;
}

export async function startPipeline(
  endpoints: number,
  log: (text: string) => void,
  /** Runs once both services are ready, before the cluster is applied (e.g. to take baselines). */
  beforeApply?: (parts: { bus: Bus; client: Etcd3; query: ChildService; connector: ChildService }) => Promise<void>,
): Promise<Pipeline> {
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const bus = await startBus();
    cleanup.push(async () => {
      await bus[Symbol.asyncDispose]();
    });
    const etcd = await startEtcd();
    cleanup.push(async () => {
      await etcd[Symbol.asyncDispose]();
    });
    const client = new Etcd3(await etcd.clientOptions());
    cleanup.push(async () => client.close());
    await seedEtcd(client, fleetEntries(endpoints));
    const query = await spawnQueryService(bus.nats.url);
    cleanup.push(async () => {
      await query[Symbol.asyncDispose]();
    });
    const connector = await spawnConnector(bus.nats.url, bus.connectorSeed);
    cleanup.push(async () => {
      await connector[Symbol.asyncDispose]();
    });
    await Promise.all([query.ready(), connector.ready()]);
    await beforeApply?.({ bus, client, query, connector });
    const cluster = "c001";
    await bus.applyCluster(cluster, etcd.endpoints);
    await waitForEndpoints(bus.nc, endpoints, connector);
    log(`pipeline up: ${endpoints} endpoints loaded`);
    return {
      bus,
      etcd,
      client,
      query,
      connector,
      cluster,
      async [Symbol.asyncDispose]() {
        for (const step of cleanup.reverse()) await step().catch(() => {});
      },
    };
  } catch (err) {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    throw err;
  }
}
