export { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
export type { BusPublisherOptions } from "./bus-publisher.js";
export { createBusPublisher } from "./bus-publisher.js";
export type { ManualClock } from "./clock.js";
export { createManualClock, systemClock } from "./clock.js";
export type { ClusterConfig, ClusterSyncOptions } from "./cluster-sync.js";
export { ClusterSync } from "./cluster-sync.js";
export type { ChangePlan, ClusterViewOptions, PlannedDelete, SnapshotDiff, ViewEntry } from "./cluster-view.js";
export { ClusterView, digestResource, resourceKey } from "./cluster-view.js";
export type { ConnectorConfig, ReadConnectorConfigOptions } from "./connector-config.js";
export { readConnectorConfig } from "./connector-config.js";
export type {
  ConnectorRuntimeOptions,
  ConnectorRuntimeStatus,
  RuntimeClusterStatus,
  TombstonePurgeStatus,
} from "./connector-runtime.js";
export { ConnectorRuntime, createConnectorRuntime } from "./connector-runtime.js";
export type { ConnectorService, ConnectorServiceOptions, ConnectorServiceStatus } from "./connector-service.js";
export { createConnectorService } from "./connector-service.js";
export type { SyncErrorOptions } from "./errors.js";
export {
  ConnectionConfigError,
  errorText,
  LivenessError,
  PublishError,
  ResourceRejectedError,
  ResyncRequiredError,
  SourceTimeoutError,
} from "./errors.js";
export type { MemoryPublisher, MemoryPublisherOptions, PublishedEvent } from "./memory-publisher.js";
export { createMemoryPublisher } from "./memory-publisher.js";
export type { ConnectorMetrics, ConnectorMetricsOptions } from "./metrics.js";
export { createConnectorMetrics } from "./metrics.js";
export type { MetricsServer, MetricsServerOptions } from "./metrics-server.js";
export { startMetricsServer } from "./metrics-server.js";
export { Semaphore } from "./semaphore.js";
export type { SourceMaterial } from "./source-factory.js";
export { createClusterSourceFactory } from "./source-factory.js";
export type {
  BackoffOptions,
  Clock,
  ClusterConnection,
  ClusterPublisher,
  ClusterSource,
  ClusterSourceFactory,
  ClusterStatusReport,
  ClusterStatusValue,
  ClusterSyncStats,
  MalformedEntry,
  PublishedClusterState,
  PublishedResource,
  SourceChange,
  SourceResource,
  SourceSnapshot,
} from "./types.js";
