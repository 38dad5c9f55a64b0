export type { EtcdConnectorConfig } from "./config.js";
export { readEtcdConnectorConfig } from "./config.js";
export { convertKeyValue, federatedId, kindsFor, LOCAL_POLICY_KINDS, OVERLAY_KINDS, REMOTE_KINDS } from "./convert.js";
export type { EtcdConnectorErrorOptions } from "./errors.js";
export { ConfigError, EtcdConfigError, EtcdSourceError } from "./errors.js";
export { createEtcdClient, describeEtcdError, etcdClientOptions } from "./etcd-client.js";
export type { EtcdSourceFactoryOptions } from "./etcd-source.js";
export { createEtcdSource, createEtcdSourceFactory, etcdMaterialFromConnection } from "./etcd-source.js";
export type { EtcdConnectorMetrics, MetricsServer } from "./metrics.js";
export { createEtcdConnectorMetrics, startMetricsServer } from "./metrics.js";
export type {
  EtcdConnectorService,
  EtcdConnectorServiceOptions,
  EtcdConnectorServiceStatus,
} from "./service.js";
export { createEtcdConnectorService, createLogger } from "./service.js";
export type { ConvertedValue, EtcdConnectionMaterial, EtcdSourceOptions } from "./types.js";
