/**
 * Types of `@fedview/sync`: the `ClusterSource` contract every connector implements, the
 * publisher port `ClusterSync` writes through, and the status and option shapes.
 */
import type { RemoteClusterStatus } from "@fedview/model";

/**
 * One resource as a source reports it, already converted to the federated model.
 *
 * - `kind`: the Calico kind (`WorkloadEndpoint`, `HostEndpoint`, `Profile`, `Node`, `IPPool`,
 *   `NetworkPolicy`, `GlobalNetworkPolicy`, …), exactly as `@fedview/model` names it.
 * - `id`: the resource's identity in the merged view within its kind — the namespaced name
 *   `<namespace>/<name>` for namespaced kinds, the name otherwise, with the `<cluster>/` prefix
 *   wherever `@fedview/model`'s remote conversion applies one. Unique per `kind` in one cluster.
 * - `revision`: the datastore's modification revision of this object as a decimal string
 *   (etcd `mod_revision`, Kubernetes `resourceVersion`). Larger means newer for the same key.
 * - `resource`: the converted object as it goes on the bus (JSON-serialisable).
 */
export interface SourceResource {
  kind: string;
  id: string;
  revision: string;
  resource: unknown;
}

/**
 * Remote data that could not be read or converted (bad JSON, wrong shape). Never fatal: the
 * entry is skipped, counted for its cluster and logged once per `ref`. When `kind` and `id` are
 * known and the key was in the view, `ClusterSync` retracts it (its current value is unusable,
 * exactly as if a relist had skipped it).
 */
export interface MalformedEntry {
  /** The raw location for logs, e.g. the etcd key or `namespace/name` of a Kubernetes object. */
  ref: string;
  kind?: string;
  id?: string;
  revision?: string;
  /** Why it was rejected, e.g. the zod issue or the JSON parse error. Never the raw value. */
  reason: string;
}

/**
 * A complete listing of everything the cluster holds for the kinds this source serves.
 *
 * - `revision`: the single datastore revision the listing is consistent at; `watch(revision)`
 *   must then deliver every change made after it.
 * - `origin`: an identifier of the revision space (etcd cluster ID, Kubernetes API server UID).
 *   Revisions of two snapshots are compared only when both carry the same non-empty `origin`;
 *   leave it undefined when unknown.
 * - `resources`: every visible resource, each at most once per (`kind`, `id`). Resources the
 *   model filters out (a WorkloadEndpoint without `ipNetworks`) are simply absent.
 * - `malformed`: entries skipped because they could not be read or converted.
 */
export interface SourceSnapshot {
  revision: string;
  origin?: string;
  resources: SourceResource[];
  malformed: MalformedEntry[];
}

/**
 * One change seen by a watch.
 *
 * - `upsert`: the resource was created or updated (already converted).
 * - `delete`: the resource was deleted, or it changed so that it is no longer visible (a
 *   WorkloadEndpoint that lost its `ipNetworks`); `revision` is the revision of that change.
 * - `malformed`: an entry changed to a value that cannot be read or converted.
 * - `progress`: nothing changed up to `revision` (etcd progress notify, Kubernetes bookmark);
 *   it proves the watch is alive.
 */
export type SourceChange =
  | { type: "upsert"; resource: SourceResource }
  | { type: "delete"; kind: string; id: string; revision: string }
  | { type: "malformed"; entry: MalformedEntry }
  | { type: "progress"; revision: string };

/**
 * A connection to one cluster's datastore: what `ClusterSync` drives for each cluster. Connectors
 * implement it once per datastore type (etcd v3, Kubernetes); everything else — status, diffing
 * against the bus, backoff, hot swap, retraction, ownership, metrics — is shared.
 *
 * The contract:
 *
 * 1. **Construction is cheap and does no I/O that can fail slowly.** A factory
 *    (`ClusterSourceFactory`) builds a source from a `ClusterConnection`. It may throw at once for
 *    connection material that cannot work (unparsable certificate, no endpoints); the error text
 *    becomes the cluster's `ConnectionFailed` error.
 * 2. **`check(signal)`** makes one cheap round trip that proves the datastore answers with these
 *    credentials and may be read (e.g. a one-key range over a served prefix). It is called before
 *    every listing (so `Connecting` turns into `ConnectionFailed` with a clear error, not a hung
 *    listing) and periodically while watching as the liveness check; a rejection or a hang past
 *    the liveness timeout makes `ClusterSync` dispose the source and build a new one.
 *    Reject with an `Error` whose message says what failed for a person (`authentication failed`,
 *    `certificate signed by unknown authority`, `connection refused`).
 * 3. **`list(signal)`** returns a complete `SourceSnapshot` at one consistent revision, across all
 *    the kinds the source serves, or rejects. Never a partial listing: if the revision was compacted
 *    mid-way, retry internally or reject. Malformed entries go into `malformed`, never into a
 *    rejection. `ClusterSync` bounds how many listings run at once across clusters.
 * 4. **`watch(after, signal)`** returns an async iterable of batches of changes made strictly after
 *    revision `after` (the snapshot's `revision`). A batch is whatever arrived together (one etcd
 *    watch response, one Kubernetes event); `ClusterSync` sends a batch's publishes and pulls the next
 *    one while the bus acknowledges them (the publisher's window bounds what is unacknowledged). The iterable must end by **throwing** whenever it
 *    can no longer guarantee that every change after `after` was delivered: compaction (`410 Gone`),
 *    watch cancellation, stream error, disconnection, leader loss. Throw a `ResyncRequiredError`
 *    when a relist on the same source should fix it (compaction, a dropped stream) and any other
 *    error when the connection itself is in doubt. Never resume silently after a gap: `ClusterSync`
 *    relists and publishes only the difference, so a relist is cheap on the bus. Replaying changes
 *    is harmless: `ClusterSync` drops any change whose revision is not newer than the last one it
 *    saw for that key. Returning normally is allowed only after `signal` aborted, and once it has
 *    aborted the iterable must end promptly (a pending `next()` resolves `done`) and release its
 *    watch. Batches buffered before a failure should be yielded before throwing.
 * 5. **`[Symbol.asyncDispose]()`** closes every connection and watch; idempotent; never throws.
 *
 * `signal` aborts the operation in progress (shutdown, config change, liveness failure); an aborted
 * operation may reject with any error.
 */
export interface ClusterSource extends AsyncDisposable {
  /** For logs: where this source connects, without secrets (e.g. `etcd https://10.0.0.1:2379`). */
  readonly description: string;
  check(signal: AbortSignal): Promise<void>;
  list(signal: AbortSignal): Promise<SourceSnapshot>;
  watch(after: string, signal: AbortSignal): AsyncIterable<SourceChange[]>;
}

/**
 * What a connector is handed for one cluster: its name, its configuration generation, the
 * connection spec and its opened secrets. Secrets are clear text here: never log them.
 */
export interface ClusterConnection {
  /** `_local` or the RemoteClusterConfiguration name. */
  cluster: string;
  /** Bumped by config-service on every change of the connection config (e.g. a rotated cert). */
  generation: number;
  /** `etcdv3` or `kubernetes`. */
  datastoreType: string;
  /** The resolved connection spec (RCC spec fields; file paths already turned into contents). */
  spec: Readonly<Record<string, unknown>>;
  /** Opened sealed secrets by field name (`etcdPassword`, `etcdKey`, `kubeconfig`, …). */
  secrets: Readonly<Record<string, string>>;
  /** Retract the cluster's data once it has been stale this long; undefined keeps it forever. */
  dataExpiryMs?: number;
}

/** Builds a `ClusterSource` for one cluster; may throw for connection material that cannot work. */
export type ClusterSourceFactory = (connection: ClusterConnection) => ClusterSource | Promise<ClusterSource>;

/** Calico's remote cluster status values (`@fedview/model`'s `RemoteClusterStatus`). */
export type ClusterStatusValue = RemoteClusterStatus;

/** A cluster's status as `ClusterSync` publishes it on the bus and returns it from `status()`. */
export interface ClusterStatusReport {
  cluster: string;
  status: ClusterStatusValue;
  /** What failed, for `ConnectionFailed` and `ConfigIncomplete`; also a hot swap that failed. */
  error?: string;
  /** Epoch ms when `status` took its current value. */
  since: number;
  /** Config generation of the data being served. */
  generation: number;
  /** Live resources on the bus by kind. */
  counts: Record<string, number>;
  /** The data on the bus may be outdated: the cluster is not being watched right now. */
  stale: boolean;
  /** Epoch ms since when the data is stale. */
  staleSince?: number;
  /** Epoch ms of the last completed listing. */
  lastSync?: number;
  /** Epoch ms when stale data will be retracted (RCC data expiry). */
  expiresAt?: number;
}

/** Counters a connector exposes per cluster (Cilium's remote-cluster status shape). */
export interface ClusterSyncStats {
  /** The cluster reached `InSync` at least once since this sync started. */
  synced: boolean;
  /** Live resources on the bus. */
  entries: number;
  failures: number;
  lastFailure?: { at: number; error: string };
  relists: number;
  malformed: number;
  /** Changes published (upserts and deletes), listings included. */
  events: number;
}

/** A resource message as read back from the bus (last message of its subject). */
export interface PublishedResource {
  kind: string;
  id: string;
  revision: string;
  generation: number;
  op: "upsert" | "delete";
  /** The published object, when the reader fetched payloads (the bus inventory reads headers only). */
  resource?: unknown;
}

/** What the bus holds for one cluster. */
export interface PublishedClusterState {
  resources: PublishedResource[];
  status?: ClusterStatusReport;
}

/**
 * The port `ClusterSync` publishes through. `createBusPublisher` implements it over
 * `@fedview/bus`; `createMemoryPublisher` in memory (the CLI's in-process mode, tests).
 *
 * Resource publishes are pipelined: `publishUpsert`/`publishDelete` resolve once the message is
 * sent (waiting for room in the window), in call order, and may throw for an earlier message of
 * the same cluster that was not stored. `flush(cluster)` resolves once everything sent for the
 * cluster is stored, and throws if anything was not. After any throw, `ClusterSync` re-reads the
 * cluster's state (`readState`) before publishing again.
 */
export interface ClusterPublisher {
  /** Reads the last message of every resource subject of `cluster` (tombstones included) and its status. */
  readState(cluster: string, signal?: AbortSignal): Promise<PublishedClusterState>;
  publishUpsert(cluster: string, generation: number, resource: SourceResource): Promise<void>;
  publishDelete(cluster: string, generation: number, kind: string, id: string, revision: string): Promise<void>;
  flush(cluster: string): Promise<void>;
  /** Publishes the status and waits until it is stored. */
  publishStatus(status: ClusterStatusReport): Promise<void>;
  /** Removes the cluster's status (a tombstone), after its resources were retracted. */
  removeStatus(cluster: string, generation: number): Promise<void>;
  /** Releases per-cluster resources of the publisher (pending acks are awaited, failures dropped). */
  release?(cluster: string): Promise<void>;
  /**
   * Removes the cluster's delete tombstones stored more than `olderThanMs` ago. Only the cluster's
   * writer (the replica holding its lease) calls it.
   */
  purgeTombstones?(cluster: string, olderThanMs: number): Promise<{ scanned: number; purged: number }>;
}

/**
 * Time, injectable so tests never sleep on a timer. `sleep` resolves after `ms` or as soon as
 * `signal` aborts (it never rejects).
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Capped exponential backoff with jitter. */
export interface BackoffOptions {
  /** First delay, ms. Default 500. */
  initialMs?: number;
  /** Cap, ms. Default 30 000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
}
