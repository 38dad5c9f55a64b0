export {
  buildKubeConfig,
  describeKubeConfig,
  kubernetesMaterialFromConnection,
} from "./client.js";
export type { KubernetesConnectorConfig } from "./config.js";
export { readKubernetesConnectorConfig } from "./config.js";
export { convertObject, federatedId } from "./convert.js";
export type { KubeConnectorErrorOptions } from "./errors.js";
export { ConfigError, KubeConfigError, KubeRbacError, KubeSourceError } from "./errors.js";
export {
  collectionPath,
  KUBE_RESOURCE_TYPES,
  kindsFor,
  LOCAL_POLICY_KINDS,
  OVERLAY_KINDS,
  qualifiedResource,
  REMOTE_KINDS,
  resourceTypesFor,
} from "./kinds.js";
export { describeKubeError } from "./kube-errors.js";
export type { KubernetesSourceFactoryOptions } from "./kube-source.js";
export { createKubernetesSource, createKubernetesSourceFactory } from "./kube-source.js";
export type { KubernetesConnectorMetrics, MetricsServer } from "./metrics.js";
export { createKubernetesConnectorMetrics, startMetricsServer } from "./metrics.js";
export { rbacMessage } from "./rbac-errors.js";
export type {
  KubernetesConnectorService,
  KubernetesConnectorServiceOptions,
  KubernetesConnectorServiceStatus,
} from "./service.js";
export { createKubernetesConnectorService, createLogger } from "./service.js";
export type {
  ConvertedObject,
  KubeResourceType,
  KubernetesConnectionMaterial,
  KubernetesSourceOptions,
  KubeSourceMetrics,
  WatchEndReason,
} from "./types.js";
