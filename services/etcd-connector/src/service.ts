import { type Clock, type ConnectorService, type ConnectorServiceStatus, createConnectorService } from "@fedview/sync";
import { type Logger, pino } from "pino";
import type { EtcdConnectorConfig } from "./config.js";
import { createEtcdSourceFactory } from "./etcd-source.js";
import { createEtcdConnectorMetrics, type EtcdConnectorMetrics } from "./metrics.js";

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
export type EtcdConnectorServiceStatus = ConnectorServiceStatus;

/** The etcd connector service. */
export interface EtcdConnectorService extends ConnectorService {
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
  const service = createConnectorService({
    config,
    datastoreType: "etcdv3",
    displayName: "etcd connector",
    createSource: createEtcdSourceFactory({
      pageSize: config.etcdPageSize,
      pageBytes: config.etcdPageBytes,
      maxReceiveBytes: config.etcdMaxReceiveBytes,
      requestTimeoutMs: config.etcdRequestTimeoutMs,
      logger,
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
