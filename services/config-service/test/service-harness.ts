import {
  type BusConnection,
  type BusConnectOptions,
  type ConnectionConfig,
  type ConnectionConfigChange,
  ConnectionConfigStore,
  configSubject,
  connectBus,
  createSealingKeyPair,
  openSecrets,
  requestService,
  type SealingKeyPair,
} from "@fedview/bus";
import type { NatsServer } from "@fedview/testkit";
import type { Delay } from "../src/backoff.js";
import type { ConfigServiceConfig } from "../src/config.js";
import { type ConfigService, type ConfigServiceOptions, createConfigService } from "../src/service.js";
import { capturingLogger } from "./helpers.js";

/** The connectors' side of sealing: the key pair whose public half the service seals to. */
export interface Keys {
  connector: SealingKeyPair;
  /** The service's seed, stable across restarts in a test. */
  serviceSeed: string;
}

export function createKeys(): Keys {
  return {
    connector: createSealingKeyPair(),
    serviceSeed: new TextDecoder().decode(createSealingKeyPair().getSeed()),
  };
}

/** A config for a service on the given NATS, with metrics on a free port and quick file polling. */
export function serviceConfig(
  nats: NatsServer,
  keys: Keys,
  datastore: Pick<ConfigServiceConfig, "datastoreType" | "etcd" | "kubernetes">,
): ConfigServiceConfig {
  return {
    ...datastore,
    bus: { servers: nats.url, name: "config-service-test" },
    connectionsBucket: "fedview-connections",
    stateStream: "FEDVIEW_STATE",
    replicaId: `config-service-test-${Math.random().toString(16).slice(2, 8)}`,
    leasesBucket: "fedview-leases",
    leaseTtlMs: 6_000,
    ensureTopology: true,
    jetstreamReplicas: 1,
    sealing: { connectorPublicKey: keys.connector.getPublicKey(), seed: keys.serviceSeed },
    metrics: { host: "127.0.0.1", port: 0 },
    filePollIntervalMs: 0,
    federateLocal: true,
    allowKubernetesFieldsWithEtcd: false,
    logLevel: "debug",
  };
}

/** A started service with its captured log lines. */
export interface RunningService extends AsyncDisposable {
  service: ConfigService;
  lines: string[];
}

export async function runService(
  config: ConfigServiceConfig,
  delay?: Delay,
  options: Omit<ConfigServiceOptions, "logger" | "delay"> = {},
): Promise<RunningService> {
  const { logger, lines } = capturingLogger();
  const service = createConfigService(config, { logger, ...(delay ? { delay } : {}), ...options });
  try {
    await service.start();
  } catch (error) {
    await service[Symbol.asyncDispose]();
    throw error;
  }
  return { service, lines, [Symbol.asyncDispose]: () => service[Symbol.asyncDispose]() };
}

/** What a connector sees: every change of the connection configs, in order, from a KV watch. */
export interface ConnectorView extends AsyncDisposable {
  changes: ConnectionConfigChange[];
  /** The newest config of a cluster over both datastore types (undefined once every key is deleted). */
  latest(cluster: string): ConnectionConfig | undefined;
  /** Opens a config's sealed secrets with the connectors' key. */
  open(config: ConnectionConfig): Record<string, string>;
  nc: BusConnection;
  store: ConnectionConfigStore;
}

/** `login` adds a user (and password) to connect as, e.g. a connector role's. */
export async function watchConnections(
  nats: NatsServer,
  keys: Keys,
  login: Partial<BusConnectOptions> = {},
): Promise<ConnectorView> {
  const nc = await connectBus({ servers: nats.url, name: "connector-view", ...login });
  const store = await ConnectionConfigStore.open(nc);
  const watch = await store.watch();
  const changes: ConnectionConfigChange[] = [];
  const state = new Map<string, ConnectionConfig>();
  const loop = (async () => {
    for await (const change of watch) {
      changes.push(change);
      if (change.type === "put") state.set(`${change.config.datastoreType}.${change.config.cluster}`, change.config);
      if (change.type === "delete") state.delete(`${change.datastoreType}.${change.cluster}`);
    }
  })();
  return {
    changes,
    nc,
    store,
    latest: (cluster) =>
      [...state.values()].filter((config) => config.cluster === cluster).sort((a, b) => b.generation - a.generation)[0],
    open: (config) => (config.sealed ? openSecrets(config.sealed, keys.connector) : {}),
    async [Symbol.asyncDispose]() {
      await watch.close();
      await loop;
      await nc[Symbol.asyncDispose]();
    },
  };
}

/** Calls a config RPC endpoint the way the CLI does. */
export function callConfig<T>(nc: BusConnection, endpoint: "apply" | "get" | "list" | "delete", body?: unknown) {
  return requestService<T>(nc, configSubject(endpoint), body);
}
