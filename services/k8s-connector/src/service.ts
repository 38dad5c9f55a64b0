/**
 * The Kubernetes connector service: serves every cluster whose connection config says `kubernetes`
 * (remote clusters and, with a Kubernetes local datastore, `_local`) through the shared
 * `ConnectorRuntime` of `@fedview/sync` — leases shared with the other replicas, status, staleness,
 * retraction, hot swap and metrics — with the Kubernetes `ClusterSource` of this package.
 */
import { type Clock, type ConnectorService, type ConnectorServiceStatus, createConnectorService } from "@fedview/sync";
import { type Logger, pino } from "pino";
import type { KubernetesConnectorConfig } from "./config.js";
import { createKubernetesSourceFactory } from "./kube-source.js";
import { createKubernetesConnectorMetrics, type KubernetesConnectorMetrics } from "./metrics.js";

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
export type KubernetesConnectorServiceStatus = ConnectorServiceStatus;

/** The Kubernetes connector service. */
export interface KubernetesConnectorService extends ConnectorService {
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
  const sourceClock = options.sourceClock ?? options.clock;
  const service = createConnectorService({
    config,
    datastoreType: "kubernetes",
    displayName: "k8s connector",
    createSource: createKubernetesSourceFactory({
      ...config.kubernetes,
      backoff: config.backoff,
      logger,
      metrics: metrics.source,
      ...(sourceClock ? { clock: sourceClock } : {}),
      ...(options.random ? { random: options.random } : {}),
    }),
    registry: metrics.registry,
    metrics: metrics.connector,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  return {
    metrics,
    start: () => service.start(),
    status: () => service.status(),
    [Symbol.asyncDispose]: () => service[Symbol.asyncDispose](),
  };
}
