/**
 * In-process mode: the pipeline calicoq runs, in this process. Read the local datastore's RCCs
 * (config-service's store), resolve each into connection material (config-service's resolver), sync
 * the local cluster (`_local`, with its policies) and every remote one through `ClusterSync` with the
 * datastore's `ClusterSource`, publishing straight into a `FederatedView`; answer once every
 * cluster has settled or `--sync-timeout` passed. Clusters still connecting, failed or mid-sync are the
 * problems calicoq reports.
 */
import type { ClusterStatus } from "@fedview/bus";
import { resolveConnection } from "@fedview/config-service";
import { createEtcdSourceFactory } from "@fedview/etcd-connector";
import { createKubernetesSourceFactory } from "@fedview/k8s-connector";
import { LOCAL_CLUSTER } from "@fedview/model";
import { FederatedView } from "@fedview/query-service";
import { type ClusterConfig, type ClusterSourceFactory, ClusterSync } from "@fedview/sync";
import { type Logger, pino } from "pino";
import { type DatastoreConfig, describeDatastore } from "./calico-config.js";
import { BackendError } from "./errors.js";
import { type LocalStores, localConnection, openLocalStores } from "./local-datastore.js";
import type { CliIo } from "./types.js";
import { createViewPublisher } from "./view-publisher.js";

/** A pino logger on the CLI's stderr: debug with `-d`, silent otherwise. */
export function cliLogger(io: CliIo, debug: boolean): Logger {
  return pino({ level: debug ? "debug" : "silent", base: null }, { write: (line: string) => io.stderr.write(line) });
}

/** Source factories per datastore type (the seam a further datastore plugs into). */
export type SourceFactories = Partial<Record<string, ClusterSourceFactory>>;

/** The connectors' sources: etcd v3 and Kubernetes. */
export function defaultSourceFactories(logger: Logger): SourceFactories {
  return { etcdv3: createEtcdSourceFactory({ logger }), kubernetes: createKubernetesSourceFactory({ logger }) };
}

/** Options of `startPipeline`. */
export interface PipelineOptions {
  datastore: DatastoreConfig;
  logger: Logger;
  /** How long to wait for every cluster to settle, ms. */
  syncTimeoutMs: number;
  sourceFactories?: SourceFactories;
  /** Called whenever a cluster's status changes (progress displays). */
  onStatus?: (status: ClusterStatus) => void;
}

/** A running pipeline: the view it fills, and when it has settled. */
export interface Pipeline extends AsyncDisposable {
  readonly view: FederatedView;
  /** Resolves once every cluster is InSync, ConnectionFailed or ConfigIncomplete, or the timeout passed. */
  readonly settled: Promise<void>;
  /** Cluster names being synced (`_local` first). */
  readonly clusters: readonly string[];
  /** Registers a listener told of every status a cluster publishes; returns its remover. */
  onStatus(listener: (status: ClusterStatus) => void): () => void;
}

/** Statuses after which a one-shot query stops waiting for a cluster. */
const SETTLED = new Set(["InSync", "ConnectionFailed", "ConfigIncomplete"]);

/** Reads and resolves every RCC of the local datastore into the desired config of its cluster. */
async function remoteConfigs(stores: LocalStores, logger: Logger): Promise<ClusterConfig[]> {
  let listed: Awaited<ReturnType<LocalStores["rccs"]["list"]>>;
  try {
    listed = await stores.rccs.list();
  } catch (err) {
    throw new BackendError(
      `cannot read RemoteClusterConfigurations from the local datastore (${stores.description}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const configs: ClusterConfig[] = [];
  for (const stored of listed.items) {
    const resolution = await resolveConnection(stored.decodeError === undefined ? stored.object : undefined, {
      ...(stores.secrets === undefined ? {} : { secrets: stores.secrets }),
    });
    if (resolution.ok) {
      const { datastoreType, spec, secrets } = resolution.connection;
      configs.push({
        valid: true,
        connection: {
          cluster: stored.name,
          generation: 1,
          datastoreType,
          spec: { ...spec },
          secrets: Object.fromEntries(Object.entries(secrets).filter(([, v]) => typeof v === "string")) as Record<
            string,
            string
          >,
        },
      });
    } else {
      const error = stored.decodeError ?? resolution.error;
      logger.debug({ cluster: stored.name, error }, "remote cluster configuration is incomplete");
      configs.push({ valid: false, cluster: stored.name, generation: 1, error });
    }
  }
  return configs.sort((a, b) => clusterOf(a).localeCompare(clusterOf(b)));
}

function clusterOf(config: ClusterConfig): string {
  return config.valid ? config.connection.cluster : config.cluster;
}

/** A factory that fails every connection with a clear reason (a datastore type not supported yet). */
function unsupported(datastoreType: string): ClusterSourceFactory {
  return () => {
    throw new Error(
      `fedview cannot read ${datastoreType} datastores in-process yet (the ${datastoreType} connector is not available); use --nats with a running fedview stack`,
    );
  };
}

/** Starts the pipeline; throws `BackendError` when the local datastore cannot be used at all. */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { datastore, logger } = options;
  const factories = options.sourceFactories ?? defaultSourceFactories(logger);
  const local = await localConnection(datastore);
  const stores = await openLocalStores(datastore, local);
  const syncs: ClusterSync[] = [];
  const dispose = async () => {
    await Promise.allSettled(syncs.map((s) => s[Symbol.asyncDispose]()));
    await stores[Symbol.asyncDispose]();
  };
  try {
    const remotes = await remoteConfigs(stores, logger);
    const view = new FederatedView();
    const statuses = new Map<string, string>();
    const statusListeners = new Set<(status: ClusterStatus) => void>();
    let wake: () => void = () => {};
    const publisher = createViewPublisher(view, (status) => {
      statuses.set(status.cluster, status.status);
      options.onStatus?.(status);
      for (const listener of statusListeners) listener(status);
      wake();
    });
    const factoryFor: ClusterSourceFactory = (connection) => {
      const factory = factories[connection.datastoreType] ?? unsupported(connection.datastoreType);
      return factory(connection);
    };
    const configs: ClusterConfig[] = [{ valid: true, connection: local }, ...remotes];
    for (const config of configs) {
      // ClusterSync's own liveness timeout (10 s) applies: a remote that has not answered when
      // --sync-timeout ends is still Connecting, which calicoq reports as such.
      const sync = new ClusterSync({ config, createSource: factoryFor, publisher, logger });
      syncs.push(sync);
      sync.start();
    }
    const clusters = configs.map(clusterOf);
    const settled = new Promise<void>((resolve) => {
      const timer = setTimeout(finish, options.syncTimeoutMs);
      function finish() {
        clearTimeout(timer);
        wake = () => {};
        resolve();
      }
      wake = () => {
        if (clusters.every((c) => SETTLED.has(statuses.get(c) ?? "Connecting"))) finish();
      };
      wake();
    });
    return {
      view,
      settled,
      clusters,
      onStatus(listener) {
        statusListeners.add(listener);
        return () => statusListeners.delete(listener);
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Waits for the pipeline to settle and checks the local cluster made it: calicoq fails without it. */
export async function settleLocal(pipeline: Pipeline, datastore: DatastoreConfig): Promise<void> {
  await pipeline.settled;
  const local = pipeline.view.status().find((row) => row.cluster === LOCAL_CLUSTER);
  if (local?.status === "InSync") return;
  const reason =
    local?.status === undefined || local.status === "Connecting"
      ? "it did not answer in time"
      : `${local.status}${local.error === undefined ? "" : `: ${local.error}`}`;
  throw new BackendError(`cannot read the local datastore (${describeDatastore(datastore)}): ${reason}`);
}
