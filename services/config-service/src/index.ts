/**
 * `@fedview/config-service`: owns every RemoteClusterConfiguration. Reads and writes them in the local
 * datastore (Calico etcd keys or the CRD), resolves each into sealed connection material for the
 * connectors (and one for the local cluster, `_local`), follows file and Secret rotation, and serves the
 * `fedview apply|get|delete` RPC; among replicas, the holder of a lease publishes. The store and resolvers
 * are exported for the CLI's in-process mode and the local stack.
 */
export type { Backoff, BackoffOptions, Delay } from "./backoff.js";
export { createBackoff, realDelay } from "./backoff.js";
export type { ConfigServiceConfig, EtcdSettings } from "./config.js";
export { readConfigServiceConfig } from "./config.js";
export type {
  ConnectionPublisher,
  ConnectionPublisherOptions,
  DesiredConnection,
  PublishOutcome,
  StatusSink,
} from "./connection-publisher.js";
export { createConnectionPublisher } from "./connection-publisher.js";
export type { ConfigServiceErrorOptions } from "./errors.js";
export { ConfigurationError, DatastoreError, NotLeaderError, RccConflictError, RccNotFoundError } from "./errors.js";
export type { EtcdRccStoreOptions } from "./etcd-rcc-store.js";
export { createEtcdRccStore, etcdClientOptions } from "./etcd-rcc-store.js";
export type { FileFingerprint, FileWatcher, FileWatcherOptions } from "./file-watcher.js";
export { createFileWatcher, fingerprintContent, fingerprintFile } from "./file-watcher.js";
export type { ApplyContext, ApplyItemResult, ApplyRequest, ApplyResponse } from "./handlers/apply.js";
export { ApplyRequestSchema, applyRccs } from "./handlers/apply.js";
export { REDACTED_SPEC_FIELDS, redactRcc } from "./handlers/context.js";
export type { DeleteRequest, DeleteResponse } from "./handlers/delete.js";
export { DeleteRequestSchema } from "./handlers/delete.js";
export type { GetRequest, GetResponse } from "./handlers/get.js";
export { GetRequestSchema } from "./handlers/get.js";
export type { ListRequest, ListResponse } from "./handlers/list.js";
export { ListRequestSchema } from "./handlers/list.js";
export type { HttpServer, Readiness } from "./http-server.js";
export type { KubeConnectionSettings } from "./kube-client.js";
export { createKubeConfig } from "./kube-client.js";
export type { KubeRccStoreOptions } from "./kube-rcc-store.js";
export { createKubeRccStore, RCC_CRD } from "./kube-rcc-store.js";
export type { KubeSecretSourceOptions, SecretRef, SecretSource } from "./kube-secret-source.js";
export { createKubeSecretSource } from "./kube-secret-source.js";
export type { Leadership, LeadershipOptions, LeadershipStatus } from "./leadership.js";
export { CONFIG_SERVICE_LEASE, openLeadership } from "./leadership.js";
export type {
  ListResult,
  ListWatch,
  ListWatchHandlers,
  ListWatchOptions,
  ListWatchSource,
  ListWatchStatus,
  WatchEvent,
  WatchStream,
} from "./list-watch.js";
export { ExpiredWatchError, startListWatch } from "./list-watch.js";
export type { LocalDatastoreSettings, LocalResolverOptions } from "./local-cluster.js";
export { resolveLocalConnection, SERVICE_ACCOUNT_DIR } from "./local-cluster.js";
export type { LoggerOptions } from "./logger.js";
export { createLogger, REDACTED } from "./logger.js";
export type { ConfigServiceMetrics } from "./metrics.js";
export { createConfigServiceMetrics } from "./metrics.js";
export type { LocatedObject } from "./rcc-documents.js";
export { MAX_DOCUMENT_BYTES, parseRccDocuments } from "./rcc-documents.js";
export type { ClusterReport, Reconciler, ReconcilerOptions, ReconcilerStatus } from "./reconciler.js";
export { createReconciler } from "./reconciler.js";
export type {
  ConnectionSecrets,
  ConnectionSpecFields,
  Resolution,
  ResolutionDependencies,
  ResolvedConnection,
  ResolverOptions,
} from "./resolver.js";
export { resolveConnection } from "./resolver.js";
export type { ConfigService, ConfigServiceOptions, ConfigServiceStatus } from "./service.js";
export { CONFIG_SERVICE_VERSION, createConfigService } from "./service.js";
export type { DatastoreType, DeleteRccOptions, RccMetadata, RccObject, RccStore, StoredRcc } from "./types.js";
export { DATASTORE_TYPES } from "./types.js";
