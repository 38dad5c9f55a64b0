import { createHash } from "node:crypto";
import {
  type BusConnection,
  type ConnectionConfig,
  ConnectionConfigStore,
  type ConnectionConfigWatch,
  DATASTORE_TYPES,
  type DatastoreType,
  DEFAULT_LEASES_BUCKET,
  LeaseManager,
  type LeaseManagerStatus,
  openSecrets,
  parseLeaseKey,
  type SealingKeyPair,
  sealingKeyPairFromSeed,
} from "@fedview/bus";
import { parseDuration } from "@fedview/model";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "pino";
import { backoffDelay } from "./backoff.js";
import { createBusPublisher } from "./bus-publisher.js";
import { systemClock } from "./clock.js";
import { type ClusterConfig, ClusterSync, type ClusterSyncOptions } from "./cluster-sync.js";
import { ConnectionConfigError, errorText } from "./errors.js";
import type { ConnectorMetrics } from "./metrics.js";
import { Semaphore } from "./semaphore.js";
import type {
  BackoffOptions,
  Clock,
  ClusterPublisher,
  ClusterSourceFactory,
  ClusterStatusReport,
  ClusterSyncStats,
} from "./types.js";

/** Options of `createConnectorRuntime`. */
export interface ConnectorRuntimeOptions {
  /** The bus; the runtime does not close it. */
  nc: BusConnection;
  /** The connection configs this connector serves. */
  datastoreType: DatastoreType;
  createSource: ClusterSourceFactory;
  /** The connectors' curve (xkey) seed, `SX…`, that opens sealed connection secrets. */
  sealingSeed: string;
  /** Accept secrets sealed only by these public keys (config-service's). */
  expectedSenders?: string[];
  /** Unique per process: the lease holder's identity. */
  replicaId: string;
  logger: Logger;
  metrics?: ConnectorMetrics;
  /** Default: `createBusPublisher(nc)`. */
  publisher?: ClusterPublisher;
  /** Clusters listing at once across this replica. Default 4. */
  relistConcurrency?: number;
  clock?: Clock;
  random?: () => number;
  /** Backoff of each cluster's reconnects and of the config watch. */
  backoff?: BackoffOptions;
  livenessIntervalMs?: number;
  livenessTimeoutMs?: number;
  statusIntervalMs?: number;
  connectionsBucket?: string;
  leasesBucket?: string;
  /** Lease renewal interval; default a third of the lease bucket's TTL. */
  leaseRenewIntervalMs?: number;
  /**
   * How often a replica compares the clusters it serves with its fair share (clusters / live
   * replicas, rounded up) and hands one above it over to another replica. Default 5 s.
   */
  rebalanceIntervalMs?: number;
  /**
   * Delete tombstones of the clusters this replica owns are removed from the state stream once
   * stored this long (far above any consumer's lag). Undefined or 0: never purged.
   */
  tombstoneRetentionMs?: number;
  /** How often the owned clusters' tombstones are purged; default an hour. */
  tombstonePurgeIntervalMs?: number;
}

/** What the tombstone purge did so far. */
export interface TombstonePurgeStatus {
  runs: number;
  purged: number;
  failures: number;
  lastError?: string;
}

/** One cluster as the runtime sees it. */
export interface RuntimeClusterStatus {
  cluster: string;
  /** This replica holds the cluster's lease and runs its sync. */
  owned: boolean;
  /** The desired config's generation and validity; absent once the config was deleted. */
  config?: { generation: number; valid: boolean };
  status?: ClusterStatusReport;
  stats?: ClusterSyncStats;
}

/** What `ConnectorRuntime.status()` reports. */
export interface ConnectorRuntimeStatus {
  replicaId: string;
  datastoreType: DatastoreType;
  /** The initial snapshot of connection configs has been applied. */
  configsSynced: boolean;
  configWatch: { failures: number; lastError?: string };
  leases?: LeaseManagerStatus;
  /** Present when tombstones are purged. */
  tombstonePurge?: TombstonePurgeStatus;
  clusters: RuntimeClusterStatus[];
}

/** Lease names of replica presence: `replica:<datastoreType>:<replicaId>` (never a cluster name). */
const presenceName = (type: string, replica: string) => `replica:${type}:${replica}`;

/**
 * The live replicas of `datastoreType` among a lease bucket's keys: its distinct presence leases.
 * A KV key listing delivers a key again when it is written while the listing runs (a presence or
 * cluster lease renewed meanwhile), so keys are counted once each — counting deliveries made one
 * connector see four replicas and hand its clusters over to itself.
 */
export async function countReplicas(keys: AsyncIterable<string>, datastoreType: string): Promise<number> {
  const prefix = presenceName(datastoreType, "");
  const live = new Set<string>();
  for await (const key of keys) {
    try {
      const name = parseLeaseKey(key);
      if (name.startsWith(prefix)) live.add(name);
    } catch {
      // Not a lease key of ours.
    }
  }
  return live.size;
}

/**
 * Runs a connector: watches the connection configs of one datastore type, takes a per-cluster
 * ownership lease (so each cluster is served by exactly one live replica, and a dead replica's
 * clusters move to another once its leases expire), and runs one `ClusterSync` per owned cluster
 * with bounded relist concurrency. On shutdown it stops every sync (their data stays on the bus)
 * and releases the leases so another replica takes over at once.
 *
 * A deleted config makes the owner retract the cluster. If no replica owned it, any replica that
 * then acquires its lease finds no config and retracts what the bus still holds for it.
 */
export class ConnectorRuntime implements AsyncDisposable {
  readonly #o: ConnectorRuntimeOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #publisher: ClusterPublisher;
  readonly #permits: Semaphore;
  readonly #key: SealingKeyPair;
  readonly #closing = new AbortController();
  readonly #desired = new Map<string, ClusterConfig>();
  readonly #syncs = new Map<string, ClusterSync>();
  readonly #ops = new Map<string, Promise<void>>();
  readonly #claimPending = new Set<string>();
  /** Syncs retracting a deleted cluster; abandoned (their data stays) if the runtime stops first. */
  readonly #removing = new Set<ClusterSync>();
  readonly #presence: string;
  #leases: LeaseManager | undefined;
  #leaseKv: KV | undefined;
  #rebalanceLoop: Promise<void> | undefined;
  #purgeLoop: Promise<void> | undefined;
  /** Live replicas as last counted by the rebalancing (1 until then). */
  #replicas = 1;
  /** Configs of clusters nobody here serves, waiting for the end of their burst to be claimed. */
  readonly #unclaimed = new Set<string>();
  /** Clusters claimed as part of this replica's share whose claim has not completed yet. */
  readonly #acquiring = new Set<string>();
  readonly #purge: TombstonePurgeStatus = { runs: 0, purged: 0, failures: 0 };
  #store: ConnectionConfigStore | undefined;
  #watch: ConnectionConfigWatch | undefined;
  #watchLoop: Promise<void> | undefined;
  #configsSynced = false;
  #watchFailures = 0;
  #watchLastError: string | undefined;
  #started = false;
  #disposed: Promise<void> | undefined;

  constructor(options: ConnectorRuntimeOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ replica: options.replicaId, datastoreType: options.datastoreType });
    this.#clock = options.clock ?? systemClock;
    this.#publisher = options.publisher ?? createBusPublisher(options.nc);
    this.#permits = new Semaphore(options.relistConcurrency ?? 4);
    this.#presence = presenceName(options.datastoreType, options.replicaId);
    try {
      this.#key = sealingKeyPairFromSeed(options.sealingSeed);
    } catch (err) {
      throw new ConnectionConfigError("the connector's sealing seed is not a curve (xkey) seed", { cause: err });
    }
  }

  /**
   * Opens the lease bucket and the config watch; resolves once the configs present at start were
   * applied, or once the first attempt to read them failed (the watch keeps retrying).
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#leases = await LeaseManager.open(this.#o.nc, {
      holder: this.#o.replicaId,
      ...(this.#o.leasesBucket !== undefined ? { bucket: this.#o.leasesBucket } : {}),
      ...(this.#o.leaseRenewIntervalMs !== undefined ? { renewIntervalMs: this.#o.leaseRenewIntervalMs } : {}),
      onAcquired: (cluster) => this.#onAcquired(cluster),
      onLost: (cluster, reason, error) => this.#onLost(cluster, reason, error),
    });
    this.#leases.start();
    this.#leaseKv = await new Kvm(jetstream(this.#o.nc)).open(this.#o.leasesBucket ?? DEFAULT_LEASES_BUCKET);
    // Presence: a lease like the others, so a dead replica stops counting when its leases expire.
    await this.#leases.claim(this.#presence);
    let firstRound: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      firstRound = resolve;
    });
    this.#watchLoop = this.#watchConfigs(firstRound);
    await ready;
    this.#rebalanceLoop = this.#rebalance();
    if ((this.#o.tombstoneRetentionMs ?? 0) > 0) this.#purgeLoop = this.#purgeTombstones();
    this.#logger.info({ clusters: this.#desired.size }, "connector runtime started");
  }

  status(): ConnectorRuntimeStatus {
    const names = new Set([...this.#desired.keys(), ...this.#syncs.keys()]);
    const clusters: RuntimeClusterStatus[] = [...names].sort().map((cluster) => {
      const desired = this.#desired.get(cluster);
      const sync = this.#syncs.get(cluster);
      return {
        cluster,
        owned: sync !== undefined,
        ...(desired
          ? {
              config: {
                generation: desired.valid ? desired.connection.generation : desired.generation,
                valid: desired.valid,
              },
            }
          : {}),
        ...(sync ? { status: sync.status(), stats: sync.stats() } : {}),
      };
    });
    return {
      replicaId: this.#o.replicaId,
      datastoreType: this.#o.datastoreType,
      configsSynced: this.#configsSynced,
      configWatch: {
        failures: this.#watchFailures,
        ...(this.#watchLastError !== undefined ? { lastError: this.#watchLastError } : {}),
      },
      ...(this.#leases ? { leases: this.#leases.status() } : {}),
      ...(this.#purgeLoop ? { tombstonePurge: { ...this.#purge } } : {}),
      clusters,
    };
  }

  /** Stops every sync (data kept), releases the leases, closes the watch. Idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= this.#dispose();
    return this.#disposed;
  }

  async #dispose(): Promise<void> {
    this.#closing.abort();
    await this.#watch?.close().catch(() => {});
    await this.#watchLoop;
    await this.#rebalanceLoop;
    await this.#purgeLoop;
    await Promise.allSettled([...this.#removing].map((s) => s[Symbol.asyncDispose]()));
    await Promise.allSettled(this.#ops.values());
    const syncs = [...this.#syncs.values()];
    this.#syncs.clear();
    await Promise.allSettled(syncs.map((s) => s.stop()));
    await this.#leases?.close().catch((err: unknown) => {
      this.#logger.warn({ err: errorText(err) }, "releasing the leases failed; they will expire");
    });
    this.#o.metrics?.setOwnedClusters(0);
    this.#logger.info("connector runtime stopped");
  }

  // ---- connection configs ---------------------------------------------------------------------

  async #watchConfigs(firstRound: () => void): Promise<void> {
    const closing = this.#closing.signal;
    let attempt = 0;
    while (!closing.aborted) {
      const seen = new Set<string>();
      let inSnapshot = true;
      try {
        this.#store = await ConnectionConfigStore.open(this.#o.nc, {
          ...(this.#o.connectionsBucket !== undefined ? { bucket: this.#o.connectionsBucket } : {}),
          onDecodeError: (err) => this.#logger.warn({ err: err.message }, "skipping an undecodable connection config"),
        });
        this.#watch = await this.#store.watch({ datastoreType: this.#o.datastoreType });
        if (closing.aborted) break;
        for await (const change of this.#watch) {
          if (closing.aborted) break;
          attempt = 0;
          if (change.type === "snapshot-complete") {
            inSnapshot = false;
            // Configs deleted while this replica was not watching: absent from the new snapshot.
            for (const cluster of [...this.#desired.keys()]) if (!seen.has(cluster)) this.#onDelete(cluster);
            this.#configsSynced = true;
            firstRound();
          } else if (change.type === "put") {
            if (inSnapshot) seen.add(change.config.cluster);
            this.#onPut(change.config);
          } else if (change.datastoreType === this.#o.datastoreType) {
            this.#onDelete(change.cluster);
          }
        }
      } catch (err) {
        if (closing.aborted) break;
        this.#watchFailures++;
        this.#watchLastError = errorText(err);
        this.#logger.warn({ err: this.#watchLastError }, "watching connection configs failed; retrying");
      } finally {
        await this.#watch?.close().catch(() => {});
        this.#watch = undefined;
      }
      firstRound();
      if (closing.aborted) break;
      attempt++;
      await this.#clock.sleep(backoffDelay(attempt, this.#o.backoff, this.#o.random), closing);
    }
  }

  #toClusterConfig(config: ConnectionConfig): ClusterConfig {
    const { cluster, generation } = config;
    if (config.status === "invalid") {
      return { valid: false, cluster, generation, error: config.error ?? "the connection configuration is invalid" };
    }
    let secrets: Record<string, string> = {};
    if (config.sealed) {
      try {
        secrets = openSecrets(config.sealed, this.#key, {
          ...(this.#o.expectedSenders ? { expectedSenders: this.#o.expectedSenders } : {}),
        });
      } catch (err) {
        return {
          valid: false,
          cluster,
          generation,
          error: `the connection secrets cannot be opened by this connector: ${errorText(err)}`,
        };
      }
    }
    const expiryText = config.spec["staleDataExpiry"];
    const expiry = typeof expiryText === "string" ? parseDuration(expiryText) : null;
    return {
      valid: true,
      connection: {
        cluster,
        generation,
        datastoreType: config.datastoreType,
        spec: config.spec,
        secrets,
        ...(expiry !== null && expiry > 0 ? { dataExpiryMs: expiry } : {}),
      },
    };
  }

  #onPut(config: ConnectionConfig): void {
    const desired = this.#toClusterConfig(config);
    this.#desired.set(config.cluster, desired);
    const sync = this.#syncs.get(config.cluster);
    if (sync) sync.update(desired);
    else this.#queueClaim(config.cluster);
  }

  /**
   * New configs arrive in bursts (100 RCCs applied at once). Each replica claims at once only its
   * deficit — fair share (clusters / live replicas) minus what it serves or is acquiring — and the
   * rest a rebalance interval later, when the replicas below their share have taken theirs. Claiming
   * everything at once made the busiest replica take clusters, list them, hand them over and have
   * them listed again elsewhere. Each replica takes its deficit in its own order (a hash of its id),
   * so two replicas seldom race for the same names.
   */
  #queueClaim(cluster: string): void {
    this.#unclaimed.add(cluster);
    if (this.#unclaimed.size > 1) return;
    // Let the rest of the burst arrive (it comes in one read of the config bucket). A real timer,
    // not the injected clock: this is no delay a test should have to move.
    setTimeout(() => this.#claimBurst(), 50).unref();
  }

  #claimBurst(): void {
    const names = [...this.#unclaimed].filter((c) => this.#desired.has(c) && !this.#syncs.has(c));
    this.#unclaimed.clear();
    if (this.#closing.signal.aborted || names.length === 0) return;
    const replicas = Math.max(1, this.#replicas);
    const fair = Math.ceil(this.#desired.size / replicas);
    const deficit = replicas < 2 ? names.length : Math.max(0, fair - this.#syncs.size - this.#acquiring.size);
    const order = (c: string) => createHash("sha1").update(`${this.#o.replicaId}\u0000${c}`).digest("hex");
    const ranked = names.map((c) => ({ c, k: order(c) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    for (const [i, { c }] of ranked.entries()) {
      if (i < deficit) {
        if (!this.#claimPending.has(c)) this.#acquiring.add(c);
        this.#scheduleClaim(c, "serve");
      } else this.#claimAfter(c, "serve", this.#o.rebalanceIntervalMs ?? 5_000);
    }
  }

  #onDelete(cluster: string): void {
    if (this.#desired.delete(cluster) || this.#syncs.has(cluster)) {
      this.#logger.info({ cluster }, "connection config deleted");
    }
    this.#enqueue(cluster, async () => {
      if (this.#desired.has(cluster)) return; // re-created meanwhile
      const sync = this.#syncs.get(cluster);
      if (sync) {
        this.#syncs.delete(cluster);
        this.#ownedChanged();
        await this.#remove(sync);
        await this.#leases?.release(cluster);
        return;
      }
      // Owned elsewhere (that owner retracts), or by nobody: then this replica retracts what is left.
      this.#scheduleClaim(cluster, "cleanup");
    });
  }

  // ---- ownership ------------------------------------------------------------------------------

  /**
   * Claims a cluster's lease after a balancing delay. `serve`: keep wanting it, so it moves here
   * when its owner dies. `cleanup`: only take it if free now (to retract a deleted cluster nobody
   * serves), never wait for it.
   */
  #scheduleClaim(cluster: string, mode: "serve" | "cleanup"): void {
    this.#claimAfter(cluster, mode, 0);
  }

  #claimAfter(cluster: string, mode: "serve" | "cleanup", delayMs: number): void {
    if (this.#claimPending.has(cluster) || this.#closing.signal.aborted) return;
    this.#claimPending.add(cluster);
    void (async () => {
      try {
        if (delayMs > 0) await this.#clock.sleep(delayMs, this.#closing.signal);
        this.#claimPending.delete(cluster);
        if (this.#closing.signal.aborted || this.#syncs.has(cluster)) return;
        const held = await this.#leases?.claim(cluster);
        if (!held && mode === "cleanup" && !this.#desired.has(cluster)) await this.#leases?.release(cluster);
      } catch (err) {
        this.#logger.warn({ cluster, err: errorText(err) }, "claiming a cluster failed; retrying on the next round");
      } finally {
        this.#acquiring.delete(cluster);
      }
    })();
  }

  /**
   * Hands clusters above this replica's fair share over, one per round: the sync stops (data kept),
   * the lease is released and claimed again only after another replica had time to take it.
   */
  async #rebalance(): Promise<void> {
    const closing = this.#closing.signal;
    const interval = this.#o.rebalanceIntervalMs ?? 5_000;
    while (!closing.aborted) {
      await this.#clock.sleep(interval, closing);
      if (closing.aborted) return;
      try {
        const replicas = await this.#liveReplicas();
        this.#replicas = replicas;
        const desired = [...this.#desired.values()].length;
        const fair = Math.ceil(desired / Math.max(1, replicas));
        if (replicas < 2 || this.#syncs.size <= fair) continue;
        // Never one still connecting or listing: that work would be thrown away and done again.
        const settled = [...this.#syncs].filter(([, sync]) => {
          const status = sync.status().status;
          return status !== "Connecting" && status !== "ResyncInProgress";
        });
        const cluster = settled
          .map(([name]) => name)
          .sort()
          .at(-1);
        if (cluster === undefined) continue;
        this.#logger.info({ cluster, owned: this.#syncs.size, fair, replicas }, "handing a cluster over to rebalance");
        this.#enqueue(cluster, async () => {
          const sync = this.#syncs.get(cluster);
          if (!sync) return;
          this.#syncs.delete(cluster);
          this.#ownedChanged();
          await sync.stop();
          // The new owner reports it from now on; two replicas must not both export its series.
          this.#o.metrics?.removeCluster(cluster);
          await this.#leases?.release(cluster);
        });
        // Want it again later, for failover; by then another replica holds it.
        if (this.#desired.has(cluster)) this.#claimAfter(cluster, "serve", 3 * interval);
      } catch (err) {
        this.#logger.warn({ err: errorText(err) }, "rebalancing failed; retrying next round");
      }
    }
  }

  /**
   * Removes old delete tombstones of the clusters this replica serves, one cluster after another.
   * The lease holder is the cluster's only writer (see `purgeTombstones` in `@fedview/bus`), and a
   * cluster not InSync is left for the next round: its tombstones may be about to be re-read.
   */
  async #purgeTombstones(): Promise<void> {
    const closing = this.#closing.signal;
    const retention = this.#o.tombstoneRetentionMs ?? 0;
    const interval = this.#o.tombstonePurgeIntervalMs ?? 3_600_000;
    const purge = this.#publisher.purgeTombstones?.bind(this.#publisher);
    if (!purge) return;
    while (!closing.aborted) {
      await this.#clock.sleep(interval, closing);
      if (closing.aborted) return;
      this.#purge.runs++;
      for (const [cluster, sync] of [...this.#syncs]) {
        if (closing.aborted) return;
        if (this.#syncs.get(cluster) !== sync || sync.status().status !== "InSync") continue;
        try {
          const { scanned, purged } = await purge(cluster, retention);
          this.#purge.purged += purged;
          if (purged > 0)
            this.#logger.info({ cluster, scanned, purged }, "purged old tombstones from the state stream");
        } catch (err) {
          this.#purge.failures++;
          this.#purge.lastError = `${cluster}: ${errorText(err)}`;
          this.#logger.warn({ cluster, err: errorText(err) }, "purging tombstones failed; retrying next round");
        }
      }
    }
  }

  async #liveReplicas(): Promise<number> {
    return countReplicas(await this.#leaseKv!.keys(), this.#o.datastoreType);
  }

  #onAcquired(cluster: string): void {
    if (cluster === this.#presence) return;
    this.#logger.info({ cluster }, "cluster lease acquired");
    this.#enqueue(cluster, async () => {
      if (this.#closing.signal.aborted || this.#syncs.has(cluster)) return;
      const desired = this.#desired.get(cluster);
      if (!desired) {
        await this.#retractOrphan(cluster);
        return;
      }
      const sync = new ClusterSync(this.#syncOptions(desired));
      this.#syncs.set(cluster, sync);
      this.#ownedChanged();
      sync.start();
    });
  }

  #onLost(cluster: string, reason: string, error: unknown): void {
    if (cluster === this.#presence) {
      this.#logger.warn({ reason }, "presence lease lost; it is claimed again on the next round");
      return;
    }
    this.#logger.warn(
      { cluster, reason, ...(error !== undefined ? { err: errorText(error) } : {}) },
      "cluster lease lost; stopping its sync",
    );
    this.#enqueue(cluster, async () => {
      const sync = this.#syncs.get(cluster);
      if (!sync) return;
      this.#syncs.delete(cluster);
      this.#ownedChanged();
      await sync.stop();
      this.#o.metrics?.removeCluster(cluster);
    });
  }

  async #retractOrphan(cluster: string): Promise<void> {
    // The cluster may have moved to the other datastore type: then its data is that connector's.
    for (const type of DATASTORE_TYPES) {
      if (type === this.#o.datastoreType) continue;
      if (await this.#store?.get(type, cluster).catch(() => null)) {
        await this.#leases?.release(cluster);
        return;
      }
    }
    const placeholder: ClusterConfig = { valid: false, cluster, generation: 0, error: "the cluster was removed" };
    const sync = new ClusterSync(this.#syncOptions(placeholder));
    await this.#remove(sync);
    this.#o.metrics?.removeCluster(cluster);
    await this.#leases?.release(cluster);
  }

  async #remove(sync: ClusterSync): Promise<void> {
    this.#removing.add(sync);
    try {
      await sync.remove();
    } finally {
      this.#removing.delete(sync);
    }
  }

  #syncOptions(config: ClusterConfig): ClusterSyncOptions {
    const o = this.#o;
    return {
      config,
      createSource: o.createSource,
      publisher: this.#publisher,
      logger: this.#logger,
      relistPermits: this.#permits,
      clock: this.#clock,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.random ? { random: o.random } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.livenessIntervalMs !== undefined ? { livenessIntervalMs: o.livenessIntervalMs } : {}),
      ...(o.livenessTimeoutMs !== undefined ? { livenessTimeoutMs: o.livenessTimeoutMs } : {}),
      ...(o.statusIntervalMs !== undefined ? { statusIntervalMs: o.statusIntervalMs } : {}),
    };
  }

  /** Runs per-cluster operations one after another; a failure is logged and never blocks the next. */
  #enqueue(cluster: string, op: () => Promise<void>): void {
    const previous = this.#ops.get(cluster) ?? Promise.resolve();
    const next = previous
      .then(op)
      .catch((err: unknown) => this.#logger.error({ cluster, err: errorText(err) }, "cluster operation failed"));
    this.#ops.set(cluster, next);
    void next.then(() => {
      if (this.#ops.get(cluster) === next) this.#ops.delete(cluster);
    });
  }

  #ownedChanged(): void {
    this.#o.metrics?.setOwnedClusters(this.#syncs.size);
  }
}

/** Creates a `ConnectorRuntime`; call `start()`, dispose with `await using`. */
export function createConnectorRuntime(options: ConnectorRuntimeOptions): ConnectorRuntime {
  return new ConnectorRuntime(options);
}
