export {
  buildKubeConfig,
  describeKubeConfig,
  kubernetesMaterialFromConnection,
} from "./client.js";
export { convertObject, federatedId, KubernetesNodeSchema, kubernetesNodeToCalico } from "./convert.js";
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
export { rbacMessage } from "./rbac-errors.js";
export type {
  ConvertedObject,
  KubeResourceType,
  KubernetesConnectionMaterial,
  KubernetesSourceOptions,
  KubeSourceMetrics,
  WatchEndReason,
} from "./types.js";
