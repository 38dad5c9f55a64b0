export type { Versioned } from "./codecs.js";
export {
  calicoResourceSchema,
  clusterStatusMessageSchema,
  compareRevisions,
  compareVersions,
  connectionConfigSchema,
  decodeClusterStatus,
  decodeConnectionConfig,
  decodeJson,
  decodeLeaseRecord,
  decodeResourceEvent,
  encodeClusterStatus,
  encodeConnectionConfig,
  encodeJson,
  encodeLeaseRecord,
  encodeResourceEvent,
  isNewer,
  leaseRecordSchema,
  MAX_MESSAGE_BYTES,
  resourceEventSchema,
  sealedSecretsSchema,
  toIssues,
} from "./codecs.js";
export type { BusConnection, BusConnectOptions, BusTlsOptions, ReconnectPolicy } from "./connect.js";
export { busConnectOptionsSchema, connectBus, toNatsConnectionOptions } from "./connect.js";
export type {
  ConnectionConfigChange,
  ConnectionStoreOptions,
  StoredConnectionConfig,
  WriteOptions,
} from "./connections.js";
export { ConnectionConfigStore, ConnectionConfigWatch } from "./connections.js";
export type { BusConnectEnvOptions } from "./env.js";
export { busConnectOptionsFromEnv, envBoolean, envInteger, envOptional, natsEnvSchema } from "./env.js";
export type { BusErrorOptions, DecodeErrorOptions } from "./errors.js";
export {
  BusConfigError,
  BusConnectionError,
  BusError,
  ConflictError,
  DecodeError,
  EncodeError,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  PublishError,
  RequestTimeoutError,
  SealingError,
  SubjectError,
  TopologyError,
  UnavailableError,
} from "./errors.js";
export type { LeaseLossReason, LeaseManagerOptions, LeaseManagerStatus } from "./leases.js";
export { LeaseManager } from "./leases.js";
export type { DecodeFailureListener } from "./metrics.js";
export { BusMetrics, defaultBusMetrics } from "./metrics.js";
export type {
  RoleUser,
  ServicePermissionsOptions,
  ServiceRole,
  SubjectPermissions,
  SubjectRule,
} from "./permissions.js";
export { inboxPrefixFor, natsAuthorization, SERVICE_ROLES, servicePermissions } from "./permissions.js";
export type {
  PublishAck,
  PublishStateOptions,
  ResourcePublisherOptions,
  ResourcePublisherStats,
} from "./publisher.js";
export { publishClusterStatus, publishResourceEvent, ResourcePublisher } from "./publisher.js";
export type { OpenSecretsOptions, SealingKeyPair } from "./sealing.js";
export {
  createSealingKeyPair,
  isSealingPublicKey,
  openSecrets,
  sealingKeyPairFromSeed,
  sealSecrets,
} from "./sealing.js";
export type {
  BusService,
  OpenServiceStreamOptions,
  RequestServiceOptions,
  ServeServiceOptions,
  ServiceEndpoint,
  ServiceRequestContext,
  StreamEndpoint,
  StreamSink,
  UnaryEndpoint,
} from "./service.js";
export {
  fromWireError,
  openServiceStream,
  requestService,
  ServiceStream,
  serveService,
  streamEndpoint,
  toWireError,
  unaryEndpoint,
} from "./service.js";
export type {
  ClusterInventory,
  InventoryEntry,
  InventoryOptions,
  PurgeTombstonesOptions,
  PurgeTombstonesResult,
  StateFilter,
  StateItem,
  StateReaderOptions,
  StateStreamOptions,
} from "./state-reader.js";
export { openStateReader, purgeTombstones, readClusterInventory, StateReader } from "./state-reader.js";
export type { BusTopology, BusTopologyOptions } from "./streams.js";
export {
  busTopologyOptionsSchema,
  DEFAULT_LEASE_TTL_MS,
  ensureBusTopology,
  ensureConnectionsBucket,
  ensureLeasesBucket,
  ensureStateStream,
} from "./streams.js";
export type { ConfigEndpoint, QueryEndpoint, ResourceAddress, ResourceFilter } from "./subjects.js";
export {
  CONFIG_ENDPOINTS,
  CONFIG_SERVICE_NAME,
  configSubject,
  connectionKey,
  connectionKeyFilter,
  DEFAULT_CONNECTIONS_BUCKET,
  DEFAULT_LEASES_BUCKET,
  DEFAULT_STATE_STREAM,
  decodeSubjectToken,
  encodeSubjectToken,
  isClusterToken,
  isKindToken,
  leaseKey,
  parseConnectionKey,
  parseLeaseKey,
  parseResourceSubject,
  parseStatusSubject,
  QUERY_ENDPOINTS,
  QUERY_SERVICE_NAME,
  querySubject,
  RESOURCE_SUBJECTS,
  resourceFilterSubject,
  resourceSubject,
  STATUS_SUBJECTS,
  SUBJECT_PREFIX,
  statusFilterSubject,
  statusSubject,
} from "./subjects.js";
export type {
  LiveSubscriptionOptions,
  ResourceSubscriptionOptions,
  StatusSubscriptionOptions,
} from "./subscriptions.js";
export { BusSubscription, subscribeClusterStatus, subscribeResourceEvents } from "./subscriptions.js";
export type { Timers } from "./timers.js";
export { systemTimers } from "./timers.js";
export type {
  CalicoResource,
  ClusterStatus,
  ClusterStatusMessage,
  ClusterStatusRemoved,
  ClusterStatusValue,
  ConnectionConfig,
  ConnectionSpec,
  DatastoreType,
  Issue,
  JsonValue,
  LeaseRecord,
  MessageKind,
  ResourceDelete,
  ResourceEvent,
  ResourceEventBase,
  ResourceUpsert,
  SealedSecrets,
  WireError,
} from "./types.js";
export {
  CLUSTER_STATUSES,
  DATASTORE_TYPES,
  ENVELOPE_VERSION,
  LOCAL_CLUSTER,
  MESSAGE_KINDS,
  SECRET_FIELDS,
} from "./types.js";
