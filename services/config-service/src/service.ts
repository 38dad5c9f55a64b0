import {
  CONFIG_SERVICE_NAME,
  ConnectionConfigStore,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  publishClusterStatus,
  type SealingKeyPair,
  type ServiceEndpoint,
  sealingKeyPairFromSeed,
  serveService,
  type UnaryEndpoint,
} from "@fedview/bus";
// Not yet a declared dependency of this package (see README): the bus's status publisher takes a JetStream client.
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Delay } from "./backoff.js";
import type { ConfigServiceConfig } from "./config.js";
import { createConnectionPublisher } from "./connection-publisher.js";
import { createEtcdRccStore, etcdClientOptions } from "./etcd-rcc-store.js";
import { createFileWatcher } from "./file-watcher.js";
import { applyEndpoint } from "./handlers/apply.js";
import type { HandlerContext } from "./handlers/context.js";
import { deleteEndpoint } from "./handlers/delete.js";
import { getEndpoint } from "./handlers/get.js";
import { listEndpoint } from "./handlers/list.js";
import { type HttpServer, type Readiness, startHttpServer } from "./http-server.js";
import { createKubeConfig } from "./kube-client.js";
import { createKubeRccStore } from "./kube-rcc-store.js";
import { createKubeSecretSource, type SecretSource } from "./kube-secret-source.js";
import { resolveLocalConnection } from "./local-cluster.js";
import { createLogger } from "./logger.js";
import { type ConfigServiceMetrics, createConfigServiceMetrics } from "./metrics.js";
import { createReconciler, type Reconciler, type ReconcilerStatus } from "./reconciler.js";
import type { RccStore } from "./types.js";

/** The version the config micro service announces. */
export const CONFIG_SERVICE_VERSION = "0.1.0";

/**
 * The bus types `ServiceEndpoint` as `UnaryEndpoint<never, …>`, which no endpoint with a request schema
 * satisfies; the bus validates each request with the endpoint's own schema, so widening here is sound.
 */
function asServiceEndpoint<Req, Res>(endpoint: UnaryEndpoint<Req, Res>): ServiceEndpoint {
  return endpoint as unknown as ServiceEndpoint;
}

/** Things a caller (a test, the CLI's in-process mode) may supply instead of the defaults. */
export interface ConfigServiceOptions {
  logger?: Logger;
  delay?: Delay;
  now?: () => Date;
}

/** What `status()` reports. */
export interface ConfigServiceStatus extends Readiness {
  started: boolean;
  datastoreType: ConfigServiceConfig["datastoreType"];
  /** This service's curve public key: connectors may pin it as the only accepted sender. */
  sealingPublicKey: string;
  natsConnected: boolean;
  /** `http://host:port` of `/metrics`, `/healthz`, `/readyz`, once started. */
  httpUrl?: string;
  reconciler?: ReconcilerStatus;
}

/** A running config service. */
export interface ConfigService extends AsyncDisposable {
  /** Connects, lists the RCCs, publishes their connection configs and starts serving the config RPC. */
  start(): Promise<void>;
  status(): ConfigServiceStatus;
  readonly metrics: ConfigServiceMetrics;
}

/**
 * The config service: owns every RemoteClusterConfiguration of the local datastore, publishes one sealed
 * connection config per remote cluster, follows certificate, key and Secret rotation without restart,
 * and serves `fedview.v1.config.{apply,get,list,delete}`. Dispose to stop; disposal is idempotent.
 */
export function createConfigService(config: ConfigServiceConfig, options: ConfigServiceOptions = {}): ConfigService {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createConfigServiceMetrics();
  const sealingKey: SealingKeyPair =
    config.sealing.seed !== undefined ? sealingKeyPairFromSeed(config.sealing.seed) : createSealingKeyPair();
  const cleanups: (() => PromiseLike<void> | void)[] = [];
  let started = false;
  let disposed: Promise<void> | undefined;
  let natsConnected = false;
  let http: HttpServer | undefined;
  let reconciler: Reconciler | undefined;

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (!natsConnected) reasons.push("not connected to NATS");
    if (!reconciler?.status().synced) reasons.push("RemoteClusterConfigurations not listed and published yet");
    const ready = reasons.length === 0;
    metrics.ready.set(ready ? 1 : 0);
    return { ready, reasons };
  };

  const openStore = async (): Promise<RccStore> => {
    if (config.datastoreType === "kubernetes") {
      return createKubeRccStore({ kubeConfig: createKubeConfig(config.kubernetes ?? {}) });
    }
    if (config.etcd === undefined) throw new Error("etcd settings missing for the etcdv3 datastore");
    return createEtcdRccStore({
      etcd: await etcdClientOptions(config.etcd),
      ...(options.now ? { now: options.now } : {}),
    });
  };

  return {
    metrics,

    async start() {
      if (started) return;
      started = true;
      if (config.sealing.seed === undefined) {
        logger.warn(
          { sealingPublicKey: sealingKey.getPublicKey() },
          "no FEDVIEW_CONFIG_XKEY_SEED: using a key generated for this run, so a restart republishes every connection config; set a stable seed in production",
        );
      }
      if (config.metrics !== null) {
        http = await startHttpServer({ ...config.metrics, registry: metrics.registry, readiness });
        cleanups.push(() => http?.[Symbol.asyncDispose]());
      }

      const store = await openStore();
      cleanups.push(() => store[Symbol.asyncDispose]());
      let secrets: SecretSource | undefined;
      if (config.kubernetes !== undefined) {
        const source = createKubeSecretSource({
          kubeConfig: createKubeConfig(config.kubernetes),
          ...(options.delay ? { delay: options.delay } : {}),
          onError: (error, source) => {
            metrics.watchFailures.inc({ source });
            logger.warn({ err: error, source }, "watching a clusterAccessSecret failed; retrying after a pause");
          },
        });
        secrets = source;
        cleanups.push(() => source[Symbol.asyncDispose]());
      }
      const files = createFileWatcher({ pollIntervalMs: config.filePollIntervalMs });
      cleanups.push(() => files[Symbol.asyncDispose]());

      const nc = await connectBus(config.bus);
      natsConnected = true;
      cleanups.push(() => nc[Symbol.asyncDispose]());
      void (async () => {
        for await (const event of nc.status()) {
          if (event.type === "disconnect") {
            natsConnected = false;
            logger.warn({ server: event.server }, "disconnected from NATS; reconnecting");
          } else if (event.type === "reconnect") {
            natsConnected = true;
            logger.info({ server: event.server }, "reconnected to NATS");
          }
        }
        natsConnected = false;
      })();

      if (config.ensureTopology) {
        await ensureBusTopology(nc, {
          stateStream: config.stateStream,
          connectionsBucket: config.connectionsBucket,
          leasesBucket: config.leasesBucket,
          leaseTtlMs: config.leaseTtlMs,
          replicas: config.jetstreamReplicas,
        });
      }
      const connections = await ConnectionConfigStore.open(nc, { bucket: config.connectionsBucket });
      const js = jetstream(nc);
      const publisher = createConnectionPublisher({
        store: connections,
        publishStatus: async (message) => {
          await publishClusterStatus(js, message);
        },
        sealingKey,
        connectorPublicKey: config.sealing.connectorPublicKey,
        ...(options.now ? { now: options.now } : {}),
      });

      const validation = { allowKubernetesFieldsWithEtcd: config.allowKubernetesFieldsWithEtcd };
      const running = createReconciler({
        store,
        publisher,
        files,
        ...(secrets ? { secrets } : {}),
        validation,
        ...(config.federateLocal
          ? {
              localCluster: () =>
                resolveLocalConnection({
                  datastoreType: config.datastoreType,
                  ...(config.etcd ? { etcd: config.etcd } : {}),
                  ...(config.kubernetes ? { kubernetes: config.kubernetes } : {}),
                }),
            }
          : {}),
        logger,
        metrics,
        ...(options.delay ? { delay: options.delay } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      reconciler = running;
      cleanups.push(() => running[Symbol.asyncDispose]());
      await running.start();

      const context: HandlerContext = { store, logger, metrics, validation, sealingKey };
      const rpc = await serveService(nc, {
        name: CONFIG_SERVICE_NAME,
        version: CONFIG_SERVICE_VERSION,
        description: "fedview RemoteClusterConfiguration CRUD (fedview apply, get, delete)",
        // Callers seal apply requests that carry passwords or tokens to this key.
        metadata: { sealingPublicKey: sealingKey.getPublicKey() },
        endpoints: {
          apply: asServiceEndpoint(applyEndpoint(context)),
          get: asServiceEndpoint(getEndpoint(context)),
          list: asServiceEndpoint(listEndpoint(context)),
          delete: asServiceEndpoint(deleteEndpoint(context)),
        },
        onError: (error, endpoint) => logger.error({ err: error, endpoint }, "config RPC failed unexpectedly"),
      });
      cleanups.push(() => rpc.stop());
      logger.info(
        {
          datastoreType: config.datastoreType,
          readsSecrets: secrets !== undefined,
          sealingPublicKey: sealingKey.getPublicKey(),
          connectorPublicKey: config.sealing.connectorPublicKey,
          http: http?.url,
        },
        "config service started: watching RemoteClusterConfigurations and serving fedview.v1.config.*",
      );
    },

    status() {
      const { ready, reasons } = readiness();
      return {
        started,
        ready,
        reasons,
        datastoreType: config.datastoreType,
        sealingPublicKey: sealingKey.getPublicKey(),
        natsConnected,
        ...(http ? { httpUrl: http.url } : {}),
        ...(reconciler ? { reconciler: reconciler.status() } : {}),
      };
    },

    [Symbol.asyncDispose]() {
      disposed ??= (async () => {
        // Stop taking requests first, then stop the loops, then close what they used.
        for (const cleanup of cleanups.reverse()) {
          try {
            await cleanup();
          } catch (error) {
            logger.warn({ err: error }, "error while stopping the config service");
          }
        }
        natsConnected = false;
        logger.info("config service stopped");
      })();
      return disposed;
    },
  };
}
