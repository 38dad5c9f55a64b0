/**
 * Types of everything that travels on the bus. The zod schemas that validate them live in `codecs.ts`
 * and are checked against these types at compile time.
 */
import type { RemoteClusterStatus } from "@fedview/model";

/** The envelope version written by this package. A reader refuses versions it does not know. */
export const ENVELOPE_VERSION = 1;

/** The reserved cluster token of the local cluster; RCC names cannot contain `_`, so it never collides. */
export const LOCAL_CLUSTER = "_local";

/** Calico's remote cluster statuses, in Calico's order. */
export const CLUSTER_STATUSES = [
  "Connecting",
  "ConnectionFailed",
  "ResyncInProgress",
  "InSync",
  "ConfigChangeRestartRequired",
  "ConfigIncomplete",
] as const;

/** One of Calico's six remote cluster status values. */
export type ClusterStatusValue = (typeof CLUSTER_STATUSES)[number];

// Type-only tie to @fedview/model (no runtime dependency): fails to compile if the two lists drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesMatchModel: Same<ClusterStatusValue, RemoteClusterStatus> = true;
void statusesMatchModel;

/** Datastore types an RCC can name. */
export const DATASTORE_TYPES = ["etcdv3", "kubernetes"] as const;

/** `etcdv3` or `kubernetes`. */
export type DatastoreType = (typeof DATASTORE_TYPES)[number];

/** Kinds of message this package decodes; the label of the decode-failure counter. */
export const MESSAGE_KINDS = ["resource", "status", "connection", "lease", "request", "response", "stream"] as const;

/** A kind of bus message. */
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Any value JSON can carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where a validation failed: a dot-joined path (empty for the root) and what is wrong there. */
export interface Issue {
  path: string;
  message: string;
}

/**
 * The part of a converted Calico v3 object the bus checks. Kind-specific validation belongs to
 * `@fedview/model`; the bus only needs to know it carries a resource.
 */
export interface CalicoResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Fields every resource event carries, whatever its op. */
export interface ResourceEventBase {
  v: 1;
  /** An RCC name (lower-case alphanumerics and `-`) or {@link LOCAL_CLUSTER}. */
  cluster: string;
  /** A Calico kind name, e.g. `WorkloadEndpoint`. */
  kind: string;
  /** `<namespace>/<name>` for namespaced kinds, `<name>` for global ones. */
  id: string;
  /** The source revision as a decimal string (etcd mod revision or Kubernetes resourceVersion). */
  revision: string;
  /** The connection-config generation the source was read with. */
  generation: number;
}

/** A resource was created or changed. */
export interface ResourceUpsert<R extends CalicoResource = CalicoResource> extends ResourceEventBase {
  op: "upsert";
  resource: R;
}

/** A resource is gone; published as a tombstone so a consumer mid-replay never misses it. */
export interface ResourceDelete extends ResourceEventBase {
  op: "delete";
  resource?: undefined;
}

/** A resource event on `fedview.v1.res.<cluster>.<kind>.<id>`. */
export type ResourceEvent<R extends CalicoResource = CalicoResource> = ResourceUpsert<R> | ResourceDelete;

/** The status of one cluster's connection, on `fedview.v1.status.<cluster>`. */
export interface ClusterStatus {
  v: 1;
  op: "upsert";
  cluster: string;
  status: ClusterStatusValue;
  /** Set with `ConnectionFailed` and `ConfigIncomplete`. */
  error?: string;
  /** ISO time the cluster entered `status`. */
  since: string;
  generation: number;
  /** Resources currently held per kind. */
  counts: Record<string, number>;
  /** True while the data is kept from a lost connection. */
  stale: boolean;
  /** ISO time the data became stale. */
  staleSince?: string;
  /** ISO time of the last completed sync. */
  lastSync?: string;
  /** ISO time stale data will be retracted, when the RCC asks for expiry. */
  expiresAt?: string;
}

/** The RCC was deleted: the status entry is removed (a tombstone, like resource deletes). */
export interface ClusterStatusRemoved {
  v: 1;
  op: "delete";
  cluster: string;
  generation: number;
  /** ISO time of the removal. */
  since: string;
}

/** Either a status or its removal. */
export type ClusterStatusMessage = ClusterStatus | ClusterStatusRemoved;

/** Secrets sealed with NATS curve keys (xkeys): only the holder of the recipient's private key opens them. */
export interface SealedSecrets {
  /** The sender's curve public key (`X…`); the box authenticates it. */
  sender: string;
  /** Base64 of the sealed JSON of the secrets. */
  data: string;
}

/**
 * Non-secret connection fields of a remote cluster. Contents (PEM), never file paths: the connector may
 * run elsewhere. Secrets (passwords, private keys, tokens, kubeconfigs) go in `sealed` instead; see
 * {@link SECRET_FIELDS}. Unknown extra fields are kept for forward compatibility.
 */
export interface ConnectionSpec {
  etcdEndpoints?: string[];
  etcdCACert?: string;
  etcdCert?: string;
  k8sAPIEndpoint?: string;
  k8sCACert?: string;
  k8sCert?: string;
  k8sInsecureSkipTLSVerify?: boolean;
  overlayRoutingMode?: "Enabled" | "Disabled";
  [key: string]: JsonValue | undefined;
}

/** Field names that are secrets: they may appear only inside `sealed`, never in a connection spec. */
export const SECRET_FIELDS = [
  "etcdUsername",
  "etcdPassword",
  "etcdKey",
  "k8sKey",
  "k8sAPIToken",
  "kubeconfig",
] as const;

/** One remote cluster's resolved connection config, as config-service publishes it for connectors. */
export interface ConnectionConfig {
  v: 1;
  cluster: string;
  datastoreType: DatastoreType;
  /** Bumped by config-service on every change of this cluster's connection. */
  generation: number;
  /** `invalid` carries `error`; connectors then report `ConfigIncomplete` and retract the cluster. */
  status: "valid" | "invalid";
  error?: string;
  spec: ConnectionSpec;
  sealed?: SealedSecrets;
}

/** The value of an ownership lease in the leases bucket. */
export interface LeaseRecord {
  v: 1;
  /** The replica holding the lease. */
  holder: string;
  acquiredAt: string;
  renewedAt: string;
}

/** The JSON body of a micro service error reply. */
export interface WireError {
  error: {
    name: string;
    code: number;
    message: string;
    issues?: Issue[];
    details?: Record<string, unknown>;
  };
}
