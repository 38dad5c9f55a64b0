import type { ListResult, ListWatchSource } from "./list-watch.js";

/** The two kinds of Calico datastore, as `DATASTORE_TYPE` and `spec.datastoreType` name them. */
export const DATASTORE_TYPES = ["etcdv3", "kubernetes"] as const;
/** `etcdv3` or `kubernetes`. */
export type DatastoreType = (typeof DATASTORE_TYPES)[number];

/** The metadata fedview keeps on an RCC. */
export interface RccMetadata {
  name: string;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * A RemoteClusterConfiguration in Calico's `projectcalico.org/v3` shape, as the stores write and return it.
 * The spec is opaque to the stores: the service validates it with `@fedview/model`.
 */
export interface RccObject {
  apiVersion: string;
  kind: string;
  metadata: RccMetadata;
  spec: Record<string, unknown>;
}

/** An RCC read from the local datastore, with its version (etcd mod revision or Kubernetes resourceVersion). */
export interface StoredRcc {
  name: string;
  resourceVersion: string;
  /** The object with `metadata.resourceVersion` filled in. */
  object: RccObject;
  /** Set when the stored value cannot be decoded (not JSON, not an object); `object.spec` is then empty. */
  decodeError?: string;
}

/** Options of a delete. */
export interface DeleteRccOptions {
  /** Delete only if the stored version still is this one; otherwise `RccConflictError`. */
  resourceVersion?: string;
}

/**
 * Where RCCs live: the Calico etcd key layout or the `RemoteClusterConfiguration` CRD. Writes use optimistic
 * concurrency: a stale `metadata.resourceVersion` is refused with `RccConflictError`, never overwritten.
 */
export interface RccStore extends ListWatchSource<StoredRcc>, AsyncDisposable {
  readonly datastoreType: DatastoreType;
  get(name: string): Promise<StoredRcc | undefined>;
  list(): Promise<ListResult<StoredRcc>>;
  /** Creates; `RccConflictError` when the name exists. */
  create(rcc: RccObject): Promise<StoredRcc>;
  /**
   * Replaces the spec (and labels/annotations). With `metadata.resourceVersion` the write happens only if the
   * stored version is that one; without, it applies to whatever is stored. `RccNotFoundError` when absent.
   */
  update(rcc: RccObject): Promise<StoredRcc>;
  /** Deletes and returns what was stored; `RccNotFoundError` when absent. */
  delete(name: string, options?: DeleteRccOptions): Promise<StoredRcc>;
}
