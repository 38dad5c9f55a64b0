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
  type Timers,
  type UnaryEndpoint,
} from "@fedview/bus";
// Not yet a declared dependency of this package (see README): the bus's status publisher takes a JetStream client.
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Delay } from "./backoff.js";
import type { ConfigServiceConfig } from "./config.js";
import { createConnectionPublisher } from "./connection-publisher.js";
import { NotLeaderError } from "./errors.js";
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
import { type Leadership, type LeadershipStatus, openLeadership } from "./leadership.js";
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
  /** Timers of the leader lease's rounds; a test stops them to simulate a replica that hangs. */
  timers?: Timers;
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
  /** Who publishes: this replica while it holds the leader lease, else another; once started. */
  leadership?: LeadershipStatus;
  /** The publishing side: this replica's current term as leader, or on a standby its last one. */
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
 * connection config per remote cluster (and `_local`), follows certificate, key and Secret rotation without
 * restart, and serves `fedview.v1.config.{apply,get,list,delete}`. Replicas may run side by side: every one
 * serves the RPC (the datastore's optimistic concurrency orders their writes), and only the holder of the
 * leader lease reconciles and publishes; a standby takes over within a lease TTL when the leader dies.
 * Dispose to stop; disposal is idempotent.
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
  let leadership: Leadership | undefined;
  /** The reconciler of this replica's current term as leader. */
  let term: Reconciler | undefined;
  /** The reconciler of its latest term, still reported on a standby. */
  let lastTerm: Reconciler | undefined;
  /** Term starts and stops, in order: a term starts only once the one before it has stopped writing. */
  let terms: Promise<void> = Promise.resolve();
  let stopping = false;

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    const leading = leadership?.isLeader() === true;
    if (!natsConnected) reasons.push("not connected to NATS");
    // A standby is ready: it serves the RPC, and the leader publishes.
    if ((leadership === undefined || leading) && !term?.status().synced) {
      reasons.push("RemoteClusterConfigurations not listed and published yet");
    }
    const ready = reasons.length === 0;
    metrics.ready.set(ready ? 1 : 0);
    metrics.leader.set(leading ? 1 : 0);
    const lead = leadership?.status();
    return {
      ready,
      reasons,
      ...(lead
        ? {
            leadership: {
              leading: lead.leading,
              replicaId: lead.replicaId,
              ...(lead.leader !== undefined ? { leader: lead.leader } : {}),
            },
          }
        : {}),
    };
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
      const validation = { allowKubernetesFieldsWithEtcd: config.allowKubernetesFieldsWithEtcd };
      // Every write of a term first checks that this replica still leads.
      const fence = (): void => {
        if (leadership?.isLeader() !== true) throw new NotLeaderError();
      };

      /** One term as leader: a fresh publisher (it reads what the previous leader left) and reconciler. */
      const newTerm = (): Reconciler => {
        const publisher = createConnectionPublisher({
          store: connections,
          publishStatus: async (message) => {
            await publishClusterStatus(js, message);
          },
          sealingKey,
          connectorPublicKey: config.sealing.connectorPublicKey,
          fence,
          ...(options.now ? { now: options.now } : {}),
        });
        return createReconciler({
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
          ...(lastTerm ? { previous: lastTerm.status() } : {}),
        });
      };

      const beginTerm = (): void => {
        terms = terms
          .then(async () => {
            if (stopping || term !== undefined || leadership?.isLeader() !== true) return;
            const running = newTerm();
            term = running;
            lastTerm = running;
            await running.start();
          })
          .catch((error: unknown) => logger.error({ err: error }, "cannot start publishing as leader"));
      };
      const endTerm = (): void => {
        const running = term;
        term = undefined;
        if (running === undefined) return;
        // Abort at once (a start still waiting for NATS included); the next term waits until it has stopped.
        const stopped = running[Symbol.asyncDispose]();
        terms = terms
          .then(() => stopped)
          .catch((error: unknown) => logger.warn({ err: error }, "error while stopping publishing"));
      };

      const lead = await openLeadership({
        nc,
        bucket: config.leasesBucket,
        replicaId: config.replicaId,
        ...(options.timers ? { timers: options.timers } : {}),
        ...(options.now ? { now: () => options.now!().getTime() } : {}),
        logger,
        metrics,
        onElected: beginTerm,
        onDeposed: endTerm,
      });
      leadership = lead;
      // Disposed in reverse: the RPC stops, then publishing, and only then is the lease released.
      cleanups.push(() => lead[Symbol.asyncDispose]());
      cleanups.push(async () => {
        stopping = true;
        endTerm();
        await terms;
      });
      await lead.start();
      await terms;

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
          replicaId: config.replicaId,
          leading: lead.isLeader(),
          readsSecrets: secrets !== undefined,
          sealingPublicKey: sealingKey.getPublicKey(),
          connectorPublicKey: config.sealing.connectorPublicKey,
          http: http?.url,
        },
        "config service started: serving fedview.v1.config.*, and publishing connection configs while it holds the leader lease",
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
        ...(leadership ? { leadership: leadership.status() } : {}),
        ...(lastTerm ? { reconciler: lastTerm.status() } : {}),
      };
    },

    [Symbol.asyncDispose]() {
      disposed ??= (async () => {
        stopping = true;
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
