import { type BusConnection, connectBus, ensureBusTopology } from "@fedview/bus";
import {
  type Clock,
  type ConnectorRuntime,
  type ConnectorRuntimeStatus,
  createBusPublisher,
  createConnectorRuntime,
  errorText,
} from "@fedview/sync";
import { type Logger, pino } from "pino";
import type { EtcdConnectorConfig } from "./config.js";
import { createEtcdSourceFactory } from "./etcd-source.js";
import {
  createEtcdConnectorMetrics,
  type EtcdConnectorMetrics,
  type MetricsServer,
  startMetricsServer,
} from "./metrics.js";

/** Field names whose values are secrets wherever they appear in a log line. */
const REDACT = ["etcdPassword", "etcdKey", "password", "secrets", "sealed", "xkeySeed", "key"].flatMap((f) => [
  f,
  `*.${f}`,
  `*.*.${f}`,
]);

/** A pino JSON logger with secrets redacted (the connector logs names and fields, this is the net). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "etcd-connector" }, redact: { paths: REDACT, censor: "[REDACTED]" } });
}

/** Options that are not configuration: injected dependencies. */
export interface EtcdConnectorServiceOptions {
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

/** What `status()` reports. */
export interface EtcdConnectorServiceStatus {
  /** Started, connected to the bus, and the connection configs present at start applied. */
  ready: boolean;
  replicaId: string;
  /** `http://host:port` of `/metrics`, `/healthz`, `/readyz`, once started. */
  httpUrl?: string;
  runtime?: ConnectorRuntimeStatus;
}

/** The etcd connector service. */
export interface EtcdConnectorService extends AsyncDisposable {
  start(): Promise<void>;
  status(): EtcdConnectorServiceStatus;
  readonly metrics: EtcdConnectorMetrics;
}

/**
 * Creates the etcd connector: serves every cluster whose connection config says `etcdv3` (the
 * remote clusters and, with an etcd local datastore, `_local`), sharing them with the other
 * replicas through leases on the bus. `start()` connects and applies the configs present;
 * disposal stops every sync (data kept on the bus), releases the leases and closes the bus.
 */
export function createEtcdConnectorService(
  config: EtcdConnectorConfig,
  options: EtcdConnectorServiceOptions = {},
): EtcdConnectorService {
  const logger = (options.logger ?? createLogger(config.logLevel)).child({ replica: config.replicaId });
  const metrics = createEtcdConnectorMetrics();
  let nc: BusConnection | undefined;
  let runtime: ConnectorRuntime | undefined;
  let http: MetricsServer | undefined;
  let started: Promise<void> | undefined;
  let disposed: Promise<void> | undefined;

  const ready = () => {
    const reasons: string[] = [];
    if (!nc || nc.isClosed()) reasons.push("not connected to NATS");
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
    runtime = createConnectorRuntime({
      nc,
      datastoreType: "etcdv3",
      createSource: createEtcdSourceFactory({
        pageSize: config.etcdPageSize,
        requestTimeoutMs: config.etcdRequestTimeoutMs,
        logger,
      }),
      sealingSeed: config.xkeySeed,
      ...(config.expectedSenders ? { expectedSenders: config.expectedSenders } : {}),
      replicaId: config.replicaId,
      logger,
      metrics: metrics.connector,
      publisher: createBusPublisher(nc, config.stateStream !== undefined ? { stream: config.stateStream } : {}),
      relistConcurrency: config.relistConcurrency,
      backoff: config.backoff,
      livenessIntervalMs: config.livenessIntervalMs,
      livenessTimeoutMs: config.livenessTimeoutMs,
      rebalanceIntervalMs: config.rebalanceIntervalMs,
      ...(config.connectionsBucket !== undefined ? { connectionsBucket: config.connectionsBucket } : {}),
      ...(config.leasesBucket !== undefined ? { leasesBucket: config.leasesBucket } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    await runtime.start();
    if (config.metrics !== null) {
      http = await startMetricsServer({ ...config.metrics, registry: metrics.registry, ready });
    }
    logger.info({ http: http?.url }, "etcd connector started");
  }

  async function dispose(): Promise<void> {
    await started?.catch(() => {});
    await runtime?.[Symbol.asyncDispose]();
    await http?.[Symbol.asyncDispose]();
    await nc?.close().catch((err: unknown) => logger.warn({ err: errorText(err) }, "closing NATS failed"));
    logger.info("etcd connector stopped");
  }

  return {
    metrics,
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
