export type { CertificateAuthority, CertificatePair, IssueOptions, TlsMaterial } from "./certs.js";
export { createCertificateAuthority, createTlsMaterial } from "./certs.js";
export { dockerAvailable } from "./docker.js";
export { TestServerError, WaitTimeoutError } from "./errors.js";
export type { EtcdServer, EtcdUser, StartEtcdOptions } from "./etcd.js";
export { startEtcd } from "./etcd.js";
export type { RegisterResourceOptions, ResourceDefinition } from "./kube/registry.js";
export type {
  KubeApiServer,
  KubeClientCertificate,
  KubeconfigOptions,
  KubeListOptions,
  KubeRequestRecord,
  KubeTokenUser,
  StartKubeApiServerOptions,
} from "./kube/server.js";
export { startKubeApiServer } from "./kube/server.js";
export type { KubeStatus, KubeStatusCause, KubeStatusDetails } from "./kube/status.js";
export { KubeStatusError } from "./kube/status.js";
export type {
  KubeObject,
  KubeObjectMeta,
  KubeUserInfo,
  PolicyRule,
  ResourceRef,
  WatchEventType,
} from "./kube/types.js";
export type { WatchInfo } from "./kube/watch.js";
export { uniqueName } from "./names.js";
export type { NatsNode, NatsPermissions, NatsServer, NatsUser, StartNatsOptions } from "./nats.js";
export { startNats } from "./nats.js";
export { freePort, freePorts } from "./ports.js";
export type { ProcessSpec } from "./process.js";
export { ManagedProcess } from "./process.js";
export type { WaitForOptions } from "./wait.js";
export { TIMEOUTS, waitFor } from "./wait.js";
