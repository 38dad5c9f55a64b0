/**
 * The Kubernetes connector service: serves every cluster whose connection config says `kubernetes`
 * (remote clusters and, with a Kubernetes local datastore, `_local`) through the shared
 * `ConnectorRuntime` of `@fedview/sync` — leases shared with the other replicas, status, staleness,
 * retraction, hot swap and metrics — with the Kubernetes `ClusterSource` of this package.
 */
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
import type { KubernetesConnectorConfig } from "./config.js";
import { createKubernetesSourceFactory } from "./kube-source.js";
import {
  createKubernetesConnectorMetrics,
  type KubernetesConnectorMetrics,
  type MetricsServer,
  startMetricsServer,
} from "./metrics.js";

/** Field names whose values are secrets wherever they appear in a log line. */
const REDACT = ["kubeconfig", "k8sAPIToken", "k8sKey", "token", "key", "secrets", "sealed", "xkeySeed"].flatMap((f) => [
  f,
  `*.${f}`,
  `*.*.${f}`,
]);

/** A pino JSON logger with secrets redacted (the connector logs names and fields, this is the net). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "k8s-connector" }, redact: { paths: REDACT, censor: "[REDACTED]" } });
}

/** Options that are not configuration: injected dependencies. */
export interface KubernetesConnectorServiceOptions {
  logger?: Logger;
  /** Time of the runtime: backoff, liveness, status coalescing, data expiry. */
  clock?: Clock;
  /** Time of the Kubernetes sources: watchdogs and watch-restart backoff. Default `clock`. */
  sourceClock?: Clock;
  random?: () => number;
}

/** What `status()` reports. */
export interface KubernetesConnectorServiceStatus {
  /** Started, connected to the bus, and the connection configs present at start applied. */
  ready: boolean;
  replicaId: string;
  /** `http://host:port` of `/metrics`, `/healthz`, `/readyz`, once started. */
  httpUrl?: string;
  runtime?: ConnectorRuntimeStatus;
}

/** The Kubernetes connector service. */
export interface KubernetesConnectorService extends AsyncDisposable {
  /** Connects, applies the configs present and serves; idempotent. */
  start(): Promise<void>;
  status(): KubernetesConnectorServiceStatus;
  readonly metrics: KubernetesConnectorMetrics;
}

/**
 * Creates the Kubernetes connector; nothing happens until `start()`. Disposal stops every sync
 * (data kept on the bus for the next owner), releases the leases and closes the bus.
 */
export function createKubernetesConnectorService(
  config: KubernetesConnectorConfig,
  options: KubernetesConnectorServiceOptions = {},
): KubernetesConnectorService {
  const logger = (options.logger ?? createLogger(config.logLevel)).child({ replica: config.replicaId });
  const metrics = createKubernetesConnectorMetrics();
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
    const sourceClock = options.sourceClock ?? options.clock;
    runtime = createConnectorRuntime({
      nc,
      datastoreType: "kubernetes",
      createSource: createKubernetesSourceFactory({
        ...config.kubernetes,
        backoff: config.backoff,
        logger,
        metrics: metrics.source,
        ...(sourceClock ? { clock: sourceClock } : {}),
        ...(options.random ? { random: options.random } : {}),
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
    logger.info({ http: http?.url }, "k8s connector started");
  }

  async function dispose(): Promise<void> {
    await started?.catch(() => {});
    await runtime?.[Symbol.asyncDispose]();
    await http?.[Symbol.asyncDispose]();
    await nc?.close().catch((err: unknown) => logger.warn({ err: errorText(err) }, "closing NATS failed"));
    logger.info("k8s connector stopped");
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
