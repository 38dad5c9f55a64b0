/**
 * The service shell every connector shares: connect to the bus, create the topology if asked, run a
 * `ConnectorRuntime` with the connector's `ClusterSourceFactory`, and serve `/metrics`, `/healthz`,
 * `/readyz`. A connector adds only its datastore's source and metrics.
 */
import { type BusConnection, connectBus, type DatastoreType, ensureBusTopology } from "@fedview/bus";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createBusPublisher } from "./bus-publisher.js";
import type { ConnectorConfig } from "./connector-config.js";
import { type ConnectorRuntime, type ConnectorRuntimeStatus, createConnectorRuntime } from "./connector-runtime.js";
import { errorText } from "./errors.js";
import type { ConnectorMetrics } from "./metrics.js";
import { type MetricsServer, startMetricsServer } from "./metrics-server.js";
import type { Clock, ClusterSourceFactory } from "./types.js";

/** What one connector puts into the shell. */
export interface ConnectorServiceOptions {
  config: ConnectorConfig;
  /** The connection configs served: `etcdv3` or `kubernetes`. */
  datastoreType: DatastoreType;
  /** In the start and stop log lines, e.g. `etcd connector`. */
  displayName: string;
  createSource: ClusterSourceFactory;
  /** Served on `/metrics`. */
  registry: Registry;
  metrics: ConnectorMetrics;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
}

/** What `status()` reports. */
export interface ConnectorServiceStatus {
  /** Started, connected to the bus, and the connection configs present at start applied. */
  ready: boolean;
  replicaId: string;
  /** `http://host:port` of `/metrics`, `/healthz`, `/readyz`, once started. */
  httpUrl?: string;
  runtime?: ConnectorRuntimeStatus;
}

/** A connector service; `start()` and disposal are idempotent. */
export interface ConnectorService extends AsyncDisposable {
  start(): Promise<void>;
  status(): ConnectorServiceStatus;
}

/**
 * Creates the shell; nothing happens until `start()`, which connects and applies the configs
 * present. Disposal stops every sync (data kept on the bus for the next owner), releases the leases
 * and closes the bus.
 */
export function createConnectorService(options: ConnectorServiceOptions): ConnectorService {
  const { config, logger } = options;
  let nc: BusConnection | undefined;
  /** Resource and status publishes: a connection of their own, see `start`. */
  let data: BusConnection | undefined;
  let runtime: ConnectorRuntime | undefined;
  let http: MetricsServer | undefined;
  let started: Promise<void> | undefined;
  let disposed: Promise<void> | undefined;

  const ready = () => {
    const reasons: string[] = [];
    if (!nc || nc.isClosed() || !data || data.isClosed()) reasons.push("not connected to NATS");
    if (!runtime?.status().configsSynced) reasons.push("connection configs not read yet");
    return { ready: reasons.length === 0, reasons };
  };

  async function start(): Promise<void> {
    nc = await connectBus(config.bus);
    if (config.ensureTopology) {
      await ensureBusTopology(nc, {
        leaseTtlMs: config.leaseTtlMs,
        ...(config.stateStream !== undefined ? { stateStream: config.stateStream } : {}),
        ...(config.connectionsBucket !== undefined ? { connectionsBucket: config.connectionsBucket } : {}),
        ...(config.leasesBucket !== undefined ? { leasesBucket: config.leasesBucket } : {}),
      });
    }
    // Leases and configs on one connection, the clusters' publishes on another: a renewal queued
    // behind a listing's thousands of unacknowledged publishes (4 listings × the window) waited
    // seconds for its ack, so leases expired while their clusters listed and were listed again.
    data = await connectBus({ ...config.bus, name: `${config.bus.name ?? "fedview-connector"}-data` });
    runtime = createConnectorRuntime({
      nc,
      datastoreType: options.datastoreType,
      createSource: options.createSource,
      sealingSeed: config.xkeySeed,
      ...(config.expectedSenders ? { expectedSenders: config.expectedSenders } : {}),
      replicaId: config.replicaId,
      logger,
      metrics: options.metrics,
      publisher: createBusPublisher(data, config.stateStream !== undefined ? { stream: config.stateStream } : {}),
      relistConcurrency: config.relistConcurrency,
      backoff: config.backoff,
      livenessIntervalMs: config.livenessIntervalMs,
      livenessTimeoutMs: config.livenessTimeoutMs,
      rebalanceIntervalMs: config.rebalanceIntervalMs,
      tombstoneRetentionMs: config.tombstoneRetentionMs,
      tombstonePurgeIntervalMs: config.tombstonePurgeIntervalMs,
      ...(config.connectionsBucket !== undefined ? { connectionsBucket: config.connectionsBucket } : {}),
      ...(config.leasesBucket !== undefined ? { leasesBucket: config.leasesBucket } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    await runtime.start();
    if (config.metrics !== null) {
      http = await startMetricsServer({ ...config.metrics, registry: options.registry, ready });
    }
    logger.info({ http: http?.url }, `${options.displayName} started`);
  }

  async function dispose(): Promise<void> {
    await started?.catch(() => {});
    await runtime?.[Symbol.asyncDispose]();
    await http?.[Symbol.asyncDispose]();
    await data?.close().catch((err: unknown) => logger.warn({ err: errorText(err) }, "closing NATS failed"));
    await nc?.close().catch((err: unknown) => logger.warn({ err: errorText(err) }, "closing NATS failed"));
    logger.info(`${options.displayName} stopped`);
  }

  return {
    start() {
      started ??= start();
      return started;
    },
    status() {
      return {
        ready: ready().ready,
        replicaId: config.replicaId,
        ...(http ? { httpUrl: http.url } : {}),
        ...(runtime ? { runtime: runtime.status() } : {}),
      };
    },
    [Symbol.asyncDispose]() {
      disposed ??= dispose();
      return disposed;
    },
  };
}
