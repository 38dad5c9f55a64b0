import { LOCAL_CLUSTER } from "@fedview/bus";
import type { RemoteClusterValidationOptions } from "@fedview/model";
import type { Logger } from "pino";
import { type Backoff, createBackoff, type Delay, realDelay } from "./backoff.js";
import type { ConnectionPublisher, DesiredConnection } from "./connection-publisher.js";
import { NotLeaderError } from "./errors.js";
import type { FileWatcher } from "./file-watcher.js";
import type { SecretSource } from "./kube-secret-source.js";
import { type ListWatch, type ListWatchStatus, startListWatch } from "./list-watch.js";
import type { ConfigServiceMetrics } from "./metrics.js";
import { type Resolution, type ResolutionDependencies, resolveConnection } from "./resolver.js";
import type { RccStore, StoredRcc } from "./types.js";

/** One cluster as the reconciler last left it. */
export interface ClusterReport {
  name: string;
  /** `pending` until its first resolution has been published. */
  state: "valid" | "invalid" | "pending";
  generation?: number;
  /** The ConfigIncomplete error, naming the field. */
  error?: string;
  /** Publishes that failed (the bus unreachable); retried with backoff. */
  failures: number;
  lastFailure?: { at: string; message: string };
}

/** What `status()` reports. */
export interface ReconcilerStatus {
  synced: boolean;
  rccs: ListWatchStatus;
  /** One per RCC. */
  clusters: ClusterReport[];
  /** The local cluster (`_local`), while it is federated. */
  local?: ClusterReport;
  watchedFiles: number;
  secrets: Record<string, ListWatchStatus>;
}

export interface ReconcilerOptions {
  store: RccStore;
  publisher: ConnectionPublisher;
  files: FileWatcher;
  /** Where `clusterAccessSecret` Secrets are read; absent without a Kubernetes API. */
  secrets?: SecretSource;
  validation?: RemoteClusterValidationOptions;
  /**
   * Resolves the local cluster's connection (`_local`) from the local datastore's settings. Given: `_local`
   * is published like an RCC's cluster and follows its files. Absent: a `_local` config this service
   * published is withdrawn. Either way `_local` is never withdrawn for having no RCC.
   */
  localCluster?: () => Promise<Resolution>;
  logger: Logger;
  metrics: ConfigServiceMetrics;
  delay?: Delay;
  /** Backoff of each cluster's publish retries and of the RCC list-watch. */
  createBackoff?: () => Backoff;
  /**
   * The status of the reconciler this one follows (an earlier term as leader): each cluster's failure count
   * and last failure carry over, so an interruption stays visible after leadership moves.
   */
  previous?: ReconcilerStatus;
  now?: () => Date;
}

/**
 * Keeps the published connection configs in line with the RCCs: lists then watches the RCCs, resolves each
 * one (validation, files, Secret) whenever the RCC, a file it names or its Secret changes, publishes the
 * result, and removes the configs of deleted RCCs — including those deleted while the service was down.
 * Work is serialized per cluster; a failed publish is retried with backoff and never stops the loop.
 */
export interface Reconciler extends AsyncDisposable {
  /** Reads what is published, then starts watching the RCCs. */
  start(): Promise<void>;
  /** Resolves once the first listing of RCCs has been resolved and published, and leftovers removed. */
  readonly synced: Promise<void>;
  status(): ReconcilerStatus;
  /** Resolves when no cluster has work queued or running. */
  idle(): Promise<void>;
}

interface ClusterWork {
  name: string;
  item: StoredRcc | undefined;
  /** The local cluster, wanted while `localCluster` is given; it has no RCC. */
  local: boolean;
  dirty: boolean;
  running: Promise<void> | undefined;
  triggers: Set<string>;
  dependencyKey: string;
  dependencies: Disposable[];
  backoff: Backoff;
  report: ClusterReport;
}

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { store, publisher, logger, metrics } = options;
  const delay = options.delay ?? realDelay;
  const newBackoff = options.createBackoff ?? (() => createBackoff());
  const now = options.now ?? (() => new Date());
  const work = new Map<string, ClusterWork>();
  const history = new Map(
    [...(options.previous?.clusters ?? []), ...(options.previous?.local ? [options.previous.local] : [])].map(
      (report) => [report.name, report] as const,
    ),
  );
  const abort = new AbortController();
  let listWatch: ListWatch<StoredRcc> | undefined;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => {
    markSynced = resolve;
  });

  const updateGauges = (): void => {
    const counts = { valid: 0, invalid: 0, pending: 0 };
    for (const w of work.values()) if (w.item !== undefined) counts[w.report.state]++;
    for (const [state, count] of Object.entries(counts)) metrics.rccs.set({ state }, count);
    metrics.watchedFiles.set(options.files.size());
    metrics.watchedSecrets.set(Object.keys(options.secrets?.status() ?? {}).length);
  };

  const workFor = (name: string): ClusterWork => {
    let w = work.get(name);
    if (!w) {
      w = {
        name,
        item: undefined,
        local: false,
        dirty: false,
        running: undefined,
        triggers: new Set(),
        dependencyKey: "",
        dependencies: [],
        backoff: newBackoff(),
        report: {
          name,
          state: "pending",
          failures: history.get(name)?.failures ?? 0,
          ...(history.get(name)?.lastFailure ? { lastFailure: history.get(name)!.lastFailure! } : {}),
        },
      };
      work.set(name, w);
    }
    return w;
  };

  const wanted = (w: ClusterWork): boolean => w.local || w.item !== undefined;

  const schedule = (name: string, trigger: string): void => {
    if (abort.signal.aborted) return;
    const w = workFor(name);
    w.dirty = true;
    w.triggers.add(trigger);
    w.running ??= run(w).finally(() => {
      w.running = undefined;
      if (!wanted(w) && !w.dirty && work.get(name) === w) work.delete(name);
      updateGauges();
    });
  };

  const watchDependencies = (w: ClusterWork, dependencies: ResolutionDependencies): void => {
    const files = [...dependencies.files.keys()].sort();
    const secrets = dependencies.secrets.map((s) => `${s.namespace}/${s.name}`).sort();
    const key = JSON.stringify([files, secrets]);
    if (key === w.dependencyKey) return;
    // Register the new watches before releasing the old ones, so a shared watch is not torn down and restarted.
    const next: Disposable[] = [];
    for (const path of files) {
      next.push(
        options.files.watch(path, dependencies.files.get(path), () => {
          metrics.dependencyChanges.inc({ kind: "file" });
          schedule(w.name, `file ${path} changed`);
        }),
      );
    }
    for (const ref of dependencies.secrets) {
      if (options.secrets === undefined) continue;
      next.push(
        options.secrets.watch(ref, () => {
          metrics.dependencyChanges.inc({ kind: "secret" });
          schedule(w.name, `Secret ${ref.namespace}/${ref.name} changed`);
        }),
      );
    }
    for (const old of w.dependencies) old[Symbol.dispose]();
    w.dependencies = next;
    w.dependencyKey = key;
  };

  const releaseDependencies = (w: ClusterWork): void => {
    for (const old of w.dependencies) old[Symbol.dispose]();
    w.dependencies = [];
    w.dependencyKey = "";
  };

  const fromResolution = (w: ClusterWork, resolution: Resolution): DesiredConnection => {
    watchDependencies(w, resolution.dependencies);
    return resolution.ok
      ? { status: "valid", connection: resolution.connection }
      : { status: "invalid", datastoreType: resolution.datastoreType, error: resolution.error };
  };

  /** What connectors should see for the cluster, or undefined when its config is to be withdrawn. */
  const desiredOf = async (w: ClusterWork): Promise<DesiredConnection | undefined> => {
    if (w.name === LOCAL_CLUSTER) {
      return w.local && options.localCluster ? fromResolution(w, await options.localCluster()) : undefined;
    }
    const item = w.item;
    if (item === undefined) return undefined;
    if (item.decodeError !== undefined) {
      releaseDependencies(w);
      return {
        status: "invalid",
        datastoreType: undefined,
        error: `the stored RemoteClusterConfiguration cannot be read: ${item.decodeError}; apply it again`,
      };
    }
    return fromResolution(
      w,
      await resolveConnection(item.object, {
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...(options.validation ? { validation: options.validation } : {}),
      }),
    );
  };

  const reconcile = async (w: ClusterWork, triggers: string[]): Promise<void> => {
    const desired = await desiredOf(w);
    if (desired === undefined) {
      releaseDependencies(w);
      await publisher.remove(w.name);
      metrics.publishes.inc({ outcome: "removed" });
      logger.info(
        { cluster: w.name },
        w.name === LOCAL_CLUSTER
          ? "the local cluster is not federated (FEDVIEW_FEDERATE_LOCAL=false): its connection config is withdrawn and connectors retract its data"
          : "RemoteClusterConfiguration deleted: its connection config is withdrawn and connectors retract its data",
      );
      return;
    }
    const outcome = await publisher.publish(w.name, desired);
    metrics.publishes.inc({ outcome: outcome.changed ? "published" : "unchanged" });
    w.report = {
      name: w.name,
      state: desired.status,
      generation: outcome.generation,
      ...(desired.status === "invalid" ? { error: desired.error } : {}),
      failures: w.report.failures,
      ...(w.report.lastFailure ? { lastFailure: w.report.lastFailure } : {}),
    };
    if (!outcome.changed) {
      logger.debug({ cluster: w.name, generation: outcome.generation, triggers }, "connection config unchanged");
      return;
    }
    if (desired.status === "invalid") {
      metrics.incomplete.inc();
      logger.warn(
        { cluster: w.name, generation: outcome.generation, error: desired.error, triggers },
        w.name === LOCAL_CLUSTER
          ? "the local datastore's settings are incomplete (ConfigIncomplete): connectors retract the local cluster's data until the named setting is fixed"
          : "RemoteClusterConfiguration is incomplete (ConfigIncomplete): connectors retract this cluster's data until the named field is fixed",
      );
    } else {
      logger.info(
        {
          cluster: w.name,
          datastoreType: desired.connection.datastoreType,
          generation: outcome.generation,
          sealedFields: Object.keys(desired.connection.secrets).sort(),
          triggers,
        },
        "published connection config",
      );
    }
  };

  const run = async (w: ClusterWork): Promise<void> => {
    while (w.dirty && !abort.signal.aborted) {
      w.dirty = false;
      const triggers = [...w.triggers];
      w.triggers.clear();
      try {
        await reconcile(w, triggers);
        w.backoff.reset();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        w.report.failures++;
        w.report.lastFailure = { at: now().toISOString(), message };
        const retryMs = w.backoff.next();
        if (error instanceof NotLeaderError) {
          // A deposed leader whose term has not been stopped yet: the leader publishes this change.
          metrics.publishes.inc({ outcome: "fenced" });
          logger.info({ cluster: w.name, retryMs }, "not publishing: this replica no longer holds the leader lease");
        } else {
          metrics.publishes.inc({ outcome: "failed" });
          logger.warn(
            { cluster: w.name, err: error, retryMs },
            "cannot resolve and publish the connection config; retrying (check that NATS is reachable)",
          );
        }
        w.dirty = true;
        for (const t of triggers) w.triggers.add(t);
        await delay(retryMs, abort.signal);
      }
    }
  };

  const idle = async (): Promise<void> => {
    for (;;) {
      const running = [...work.values()].map((w) => w.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  };

  /** An RCC cannot be named `_local` (names have no `_`); one written past validation must not replace the local cluster. */
  const ignoreLocalRcc = (): void => {
    logger.warn(
      { name: LOCAL_CLUSTER },
      "ignoring a RemoteClusterConfiguration named _local: that token is reserved for the local cluster; delete it from the datastore",
    );
  };

  const removeLeftovers = async (): Promise<void> => {
    await idle();
    const present = listWatch?.items() ?? new Map();
    for (const cluster of publisher.clusters()) {
      if (cluster === LOCAL_CLUSTER) {
        // `_local` never has an RCC: it is kept while federated, and withdrawn otherwise if it is ours.
        if (!options.localCluster && publisher.isOwn(cluster)) schedule(cluster, "FEDVIEW_FEDERATE_LOCAL is off");
        continue;
      }
      if (!present.has(cluster)) schedule(cluster, "no RemoteClusterConfiguration any more");
    }
    await idle();
    synced = true;
    markSynced();
    logger.info({ rccs: present.size }, "RemoteClusterConfigurations listed and their connection configs published");
  };

  return {
    synced: syncedPromise,

    async start() {
      if (abort.signal.aborted) return;
      const backoff = newBackoff();
      for (;;) {
        try {
          await publisher.load();
          break;
        } catch (error) {
          if (abort.signal.aborted) return;
          const retryMs = backoff.next();
          logger.warn({ err: error, retryMs }, "cannot read the published connection configs from NATS; retrying");
          await delay(retryMs, abort.signal);
          if (abort.signal.aborted) return;
        }
      }
      if (abort.signal.aborted) return;
      const foreign = publisher.clusters().filter((cluster) => !publisher.isOwn(cluster));
      if (foreign.length > 0) {
        logger.warn(
          { clusters: foreign.sort() },
          "connection configs sealed by another key are published: they are republished under this service's key (replicas of config-service must share FEDVIEW_CONFIG_XKEY_SEED)",
        );
      }
      if (options.localCluster) {
        workFor(LOCAL_CLUSTER).local = true;
        schedule(LOCAL_CLUSTER, "the local datastore's settings");
      }
      let first = true;
      listWatch = startListWatch(
        store,
        {
          onUpsert: (item) => {
            if (item.name === LOCAL_CLUSTER) {
              ignoreLocalRcc();
              return;
            }
            workFor(item.name).item = item;
            schedule(item.name, `RemoteClusterConfiguration at version ${item.resourceVersion}`);
          },
          onDelete: (name) => {
            if (name === LOCAL_CLUSTER) return;
            const w = work.get(name);
            if (w) w.item = undefined;
            schedule(name, "RemoteClusterConfiguration deleted");
          },
          onSynced: () => {
            if (!first) return;
            first = false;
            void removeLeftovers();
          },
        },
        {
          backoff: newBackoff(),
          delay,
          onError: (error, source) => {
            metrics.watchFailures.inc({ source });
            logger.warn(
              { err: error, source },
              "watching RemoteClusterConfigurations failed; listing again after a pause",
            );
          },
        },
      );
    },

    status() {
      return {
        synced,
        rccs: listWatch?.status() ?? { synced: false, entries: 0, relists: 0, failures: 0 },
        clusters: [...work.values()]
          .filter((w) => w.item !== undefined)
          .map((w) => ({ ...w.report }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        ...(work.get(LOCAL_CLUSTER)?.local ? { local: { ...work.get(LOCAL_CLUSTER)!.report } } : {}),
        watchedFiles: options.files.size(),
        secrets: options.secrets?.status() ?? {},
      };
    },

    idle,

    async [Symbol.asyncDispose]() {
      if (abort.signal.aborted) return;
      abort.abort();
      await listWatch?.[Symbol.asyncDispose]();
      await Promise.all([...work.values()].map((w) => w.running));
      for (const w of work.values()) releaseDependencies(w);
    },
  };
}
