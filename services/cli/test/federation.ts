/**
 * The fixture federation on real servers: a local etcd (local resources and RCCs) and a remote etcd
 * (`east`), optionally a dead remote (`west`), and — for NATS mode — a nats-server with the query
 * service, fed through `ClusterSync` and the etcd connector's sources exactly as the connectors feed it.
 */

import { type BusConnection, connectBus } from "@fedview/bus";
import { createEtcdSourceFactory } from "@fedview/etcd-connector";
import { type CalicoResource, encodeEtcdResource, LOCAL_CLUSTER } from "@fedview/model";
import { createQueryService, type QueryService, readQueryServiceConfig } from "@fedview/query-service";
import { createBusPublisher as busPublisher, type ClusterConnection, ClusterSync } from "@fedview/sync";
import { type EtcdServer, freePort, type NatsServer, startEtcd, startNats, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { eastResources, localResources } from "./fixtures.js";

export async function putResources(etcd: EtcdServer, resources: readonly CalicoResource[]): Promise<void> {
  for (const resource of resources) {
    const { key, value } = encodeEtcdResource(resource);
    await etcd.etcdctl("put", key, value);
  }
}

export function rcc(name: string, endpoints: string): CalicoResource {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name },
    spec: { datastoreType: "etcdv3", etcdEndpoints: endpoints },
  } as CalicoResource;
}

/** Local and east etcd with the fixture data, an RCC for east, and a dead endpoint for west. */
export interface Datastores extends AsyncDisposable {
  local: EtcdServer;
  east: EtcdServer;
  /** A URL nothing listens on. */
  deadUrl: string;
  /** calicoctl's environment for the local datastore. */
  env: Record<string, string>;
}

export async function startDatastores(): Promise<Datastores> {
  const local = await startEtcd();
  const east = await startEtcd();
  await putResources(local, [...localResources(), rcc("east", east.url)]);
  await putResources(east, eastResources());
  const deadUrl = `http://127.0.0.1:${await freePort()}`;
  return {
    local,
    east,
    deadUrl,
    env: { DATASTORE_TYPE: "etcdv3", ETCD_ENDPOINTS: local.url },
    async [Symbol.asyncDispose]() {
      await east[Symbol.asyncDispose]();
      await local[Symbol.asyncDispose]();
    },
  };
}

/** A nats-server, the query service on it, and one `ClusterSync` per cluster publishing to the bus. */
export interface QueryStack extends AsyncDisposable {
  nats: NatsServer;
  service: QueryService;
  /** Starts syncing one more cluster (e.g. the dead `west`). */
  addCluster(cluster: string, endpoints: string): void;
}

export async function startQueryStack(datastores: Datastores): Promise<QueryStack> {
  const nats = await startNats({ jetstream: true });
  const logger = pino({ level: "silent" });
  // From the service's own environment reader, so new settings get their defaults here too.
  const service = createQueryService(
    readQueryServiceConfig({
      FEDVIEW_NATS_URL: nats.url,
      FEDVIEW_METRICS_PORT: "off",
      FEDVIEW_WATCH_HEARTBEAT_MS: "1000",
      FEDVIEW_READY_TIMEOUT_MS: "30000",
      FEDVIEW_LOG_LEVEL: "silent",
    }),
    { logger },
  );
  await service.start();
  const nc: BusConnection = await connectBus({ servers: nats.url });
  const publisher = busPublisher(nc);
  const createSource = createEtcdSourceFactory({ logger });
  const syncs: ClusterSync[] = [];
  const addCluster = (cluster: string, endpoints: string) => {
    const connection: ClusterConnection = {
      cluster,
      generation: 1,
      datastoreType: "etcdv3",
      spec: { etcdEndpoints: [endpoints] },
      secrets: {},
    };
    const sync = new ClusterSync({ config: { valid: true, connection }, createSource, publisher, logger });
    syncs.push(sync);
    sync.start();
  };
  addCluster(LOCAL_CLUSTER, datastores.local.url);
  addCluster("east", datastores.east.url);
  await waitFor(() => {
    const rows = service.view.status();
    return ["_local", "east"].every((c) => rows.find((r) => r.cluster === c)?.status === "InSync");
  });
  return {
    nats,
    service,
    addCluster,
    async [Symbol.asyncDispose]() {
      await Promise.allSettled(syncs.map((s) => s.stop()));
      await nc[Symbol.asyncDispose]();
      await service[Symbol.asyncDispose]();
      await nats[Symbol.asyncDispose]();
    },
  };
}
