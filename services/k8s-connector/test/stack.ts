/** A real NATS with the bus topology, connection configs written as config-service writes them, and bus readers. */
import { Writable } from "node:stream";
import {
  type BusConnection,
  type ClusterStatusMessage,
  type ConnectionConfig,
  ConnectionConfigStore,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  openStateReader,
  type ResourceEvent,
  sealSecrets,
  subscribeClusterStatus,
  subscribeResourceEvents,
} from "@fedview/bus";
import { type NatsServer, startNats } from "@fedview/testkit";
import { type Logger, pino } from "pino";
import {
  createKubernetesConnectorService,
  type KubernetesConnectionMaterial,
  type KubernetesConnectorService,
  type KubernetesConnectorServiceOptions,
  readKubernetesConnectorConfig,
} from "../src/index.js";

/** NATS with the bus topology, a config-service sealing key and the connectors' key. */
export interface Stack extends AsyncDisposable {
  nats: NatsServer;
  nc: BusConnection;
  configs: ConnectionConfigStore;
  connectorSeed: string;
  /** Writes a connection config as config-service does: endpoint in clear, credentials and PEMs sealed. */
  putConfig(
    cluster: string,
    generation: number,
    material: KubernetesConnectionMaterial,
    spec?: Record<string, string>,
  ): Promise<void>;
  startService(
    env?: Record<string, string>,
    options?: KubernetesConnectorServiceOptions,
  ): Promise<KubernetesConnectorService>;
}

export async function startStack(): Promise<Stack> {
  const nats = await startNats();
  const nc = await connectBus({ servers: nats.url });
  await ensureBusTopology(nc, { leaseTtlMs: 2000 });
  const configs = await ConnectionConfigStore.open(nc);
  const configService = createSealingKeyPair();
  const connectors = createSealingKeyPair();
  const connectorSeed = new TextDecoder().decode(connectors.getSeed());
  const services: KubernetesConnectorService[] = [];
  return {
    nats,
    nc,
    configs,
    connectorSeed,
    async putConfig(cluster, generation, material, spec = {}) {
      const secrets: Record<string, string> = {};
      if (material.kubeconfig !== undefined) secrets["kubeconfig"] = material.kubeconfig;
      if (material.token !== undefined) secrets["k8sAPIToken"] = material.token;
      if (material.cert !== undefined) secrets["k8sCert"] = material.cert;
      if (material.key !== undefined) secrets["k8sKey"] = material.key;
      if (material.caCert !== undefined) secrets["k8sCACert"] = material.caCert;
      const config: ConnectionConfig = {
        v: 1,
        cluster,
        datastoreType: "kubernetes",
        generation,
        status: "valid",
        spec: {
          ...(material.server !== undefined ? { k8sAPIEndpoint: material.server } : {}),
          ...spec,
        },
        ...(Object.keys(secrets).length > 0
          ? { sealed: sealSecrets(secrets, configService, connectors.getPublicKey()) }
          : {}),
      };
      await configs.put(config);
    },
    async startService(env = {}, options = {}) {
      const config = readKubernetesConnectorConfig({
        FEDVIEW_NATS_URL: nats.url,
        FEDVIEW_CONNECTOR_XKEY_SEED: connectorSeed,
        FEDVIEW_CONFIG_XKEY_PUBLIC: configService.getPublicKey(),
        FEDVIEW_METRICS_PORT: "0",
        FEDVIEW_METRICS_HOST: "127.0.0.1",
        FEDVIEW_LEASE_TTL_MS: "2000",
        FEDVIEW_BACKOFF_INITIAL_MS: "50",
        FEDVIEW_BACKOFF_MAX_MS: "500",
        FEDVIEW_LIVENESS_INTERVAL_MS: "1000",
        FEDVIEW_LIVENESS_TIMEOUT_MS: "3000",
        FEDVIEW_REBALANCE_INTERVAL_MS: "500",
        FEDVIEW_K8S_REQUEST_TIMEOUT_MS: "5000",
        FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: "30",
        FEDVIEW_K8S_WATCHDOG_MS: "60000",
        FEDVIEW_LOG_LEVEL: "silent",
        ...env,
      });
      const service = createKubernetesConnectorService(config, { logger: pino({ level: "silent" }), ...options });
      services.push(service);
      await service.start();
      return service;
    },
    async [Symbol.asyncDispose]() {
      await Promise.allSettled(services.map((s) => s[Symbol.asyncDispose]()));
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

/** What the durable state holds for a cluster: live resources by `kind id`, and the status message. */
export async function readState(
  nc: BusConnection,
  cluster: string,
): Promise<{ resources: Map<string, ResourceEvent>; status?: ClusterStatusMessage }> {
  const resources = new Map<string, ResourceEvent>();
  const reader = await openStateReader(nc, { filter: { type: "resource", cluster } });
  for await (const item of reader) {
    if (item.type === "snapshot-complete") break;
    if (item.type === "resource") {
      if (item.event.op === "upsert") resources.set(`${item.event.kind} ${item.event.id}`, item.event);
      else resources.delete(`${item.event.kind} ${item.event.id}`);
    }
  }
  await reader.close();
  let status: ClusterStatusMessage | undefined;
  const statuses = await openStateReader(nc, { filter: { type: "status", cluster } });
  for await (const item of statuses) {
    if (item.type === "snapshot-complete") break;
    if (item.type === "status") status = item.status;
  }
  await statuses.close();
  return { resources, ...(status ? { status } : {}) };
}

/** Records, in order, every live resource event and status of one cluster (core NATS). */
export async function recordBus(nc: BusConnection, cluster: string) {
  const events: ResourceEvent[] = [];
  const statuses: ClusterStatusMessage[] = [];
  const res = subscribeResourceEvents(nc, { cluster });
  const st = subscribeClusterStatus(nc, { cluster });
  const pumps = [
    (async () => {
      for await (const e of res) events.push(e);
    })(),
    (async () => {
      for await (const s of st) statuses.push(s);
    })(),
  ];
  await nc.flush();
  return {
    events,
    statuses,
    ops: (from = 0) => events.slice(from).map((e) => `${e.op} ${e.kind} ${e.id}`),
    async [Symbol.asyncDispose]() {
      await res[Symbol.asyncDispose]();
      await st[Symbol.asyncDispose]();
      await Promise.allSettled(pumps);
    },
  };
}

/** The status of `cluster` as the service's runtime reports it. */
export function clusterStatus(service: KubernetesConnectorService, cluster: string) {
  return service.status().runtime?.clusters.find((c) => c.cluster === cluster);
}

/** The service's `/metrics` text. */
export async function metricsText(service: KubernetesConnectorService): Promise<string> {
  const res = await fetch(`${service.status().httpUrl}/metrics`);
  return res.text();
}

/** A logger whose JSON lines are kept for assertions. */
export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(
        ...String(chunk)
          .split("\n")
          .filter((l) => l !== ""),
      );
      done();
    },
  });
  return {
    logger: pino({ level: "info" }, sink),
    lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
