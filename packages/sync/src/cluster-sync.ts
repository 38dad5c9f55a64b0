import type { Logger } from "pino";
import { backoffDelay } from "./backoff.js";
import { systemClock } from "./clock.js";
import { ClusterView, nextRevision, type SnapshotDiff } from "./cluster-view.js";
import {
  errorText,
  LivenessError,
  PublishError,
  ResourceRejectedError,
  ResyncRequiredError,
  SourceTimeoutError,
} from "./errors.js";
import type { ConnectorMetrics } from "./metrics.js";
import type { Semaphore } from "./semaphore.js";
import { linkAbort, raceSignals } from "./signals.js";
import type {
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
  SourceChange,
  SourceResource,
} from "./types.js";

/** The desired configuration of one cluster: a usable connection, or why there is none. */
export type ClusterConfig =
  | { valid: true; connection: ClusterConnection }
  | { valid: false; cluster: string; generation: number; error: string };

/** Options of `ClusterSync`. Only `config`, `createSource`, `publisher` and `logger` are required. */
export interface ClusterSyncOptions {
  config: ClusterConfig;
  createSource: ClusterSourceFactory;
  publisher: ClusterPublisher;
  logger: Logger;
  metrics?: ConnectorMetrics;
  clock?: Clock;
  /** Randomness for backoff jitter; default `Math.random`. */
  random?: () => number;
  backoff?: BackoffOptions;
  /** Shared across clusters to bound concurrent listings. */
  relistPermits?: Semaphore;
  /** Interval of the liveness check while watching, which also publishes the status again. Default 10 s. */
  livenessIntervalMs?: number;
  /** A `check()` (liveness or before a listing) slower than this fails. Default 10 s. */
  livenessTimeoutMs?: number;
  /** Count-only status updates are coalesced to at most one per interval. Default 1 s. */
  statusIntervalMs?: number;
  /**
   * Reading the cluster's state back from the bus (at start, after a publish failure) slower than
   * this fails and is retried with backoff, so that a read that never ends does not keep a relist
   * permit, nor the cluster, for good. Default 60 s.
   */
  stateReadTimeoutMs?: number;
  /**
   * How long the revision of a deleted key is remembered to drop replays older than the delete.
   * Default 60 s; at most `maxDeletedKeys` (default 100 000) are kept.
   */
  deletedRetentionMs?: number;
  maxDeletedKeys?: number;
}

interface Serving {
  source: ClusterSource;
  generation: number;
  abort: AbortController;
  /** Resolves with why the watch ended; `undefined` when it was stopped. Never rejects. */
  done: Promise<unknown>;
  /** Aborted once `done` resolved: wakes waits that must not outlive the watch. */
  ended: AbortController;
}

function asPublishError(err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  return new PublishError(`publishing to the bus failed: ${errorText(err)}`, { cause: err });
}

async function disposeQuietly(source: ClusterSource, logger: Logger): Promise<void> {
  try {
    await source[Symbol.asyncDispose]();
  } catch (err) {
    logger.debug({ err: errorText(err) }, "disposing a cluster source failed");
  }
}

/**
 * Keeps one cluster's resources on the bus equal to what its datastore holds, exactly once:
 *
 * - `Connecting` → `check()` → `ResyncInProgress` → `list()` → publish the difference against what
 *   the bus holds (upserts first, then deletes, all only after the listing is complete) → `InSync`
 *   → watch from the listing's revision. Changes older than the last one seen for a key are dropped.
 * - A watch that ends with `ResyncRequiredError` is followed at once by a relist on the same
 *   source. Any other failure (connection, liveness, bus) makes the status `ConnectionFailed` with
 *   the error text, disposes the source and retries with capped, jittered backoff. Data already
 *   published stays and the status says it is stale; with `dataExpiryMs` it is retracted once it
 *   has been stale that long.
 * - `update()` with a new generation builds a new source, lists it while the old one keeps
 *   serving, then stops the old watch, publishes the difference and swaps: no delete-then-add.
 *   An invalid config retracts everything and reports `ConfigIncomplete`.
 * - `stop()` leaves the bus as it is (another replica takes over); `remove()` retracts every
 *   resource, then the status.
 * - While watching, the status is published again at every liveness check, so the owner's status is
 *   the one on the bus even when a previous owner's stale status was stored after it.
 *
 * The bus view is seeded at start from the last message of each of the cluster's subjects, so a
 * restart or a takeover publishes only what changed meanwhile.
 */
export class ClusterSync implements AsyncDisposable {
  readonly cluster: string;
  readonly #createSource: ClusterSourceFactory;
  readonly #publisher: ClusterPublisher;
  readonly #logger: Logger;
  readonly #metrics: ConnectorMetrics | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #permits: Semaphore | undefined;
  readonly #livenessIntervalMs: number;
  readonly #livenessTimeoutMs: number;
  readonly #statusIntervalMs: number;
  readonly #stateReadTimeoutMs: number;

  readonly #view: ClusterView;
  readonly #close = new AbortController();
  readonly #removeAbort = new AbortController();
  #desired: ClusterConfig;
  #changed = new AbortController();
  #loop: Promise<void> | undefined;
  #serving: Serving | undefined;
  #needsSeed = true;
  #everSynced = false;
  #removed = false;

  #status: ClusterStatusValue = "Connecting";
  #since: number;
  #error: string | undefined;
  #swapError: string | undefined;
  #generation: number;
  #staleSince: number | undefined;
  #lastSync: number | undefined;
  #statusChain: Promise<void> = Promise.resolve();
  #lastStatusAt = 0;
  #statusFlushPending = false;
  #statusPublishFailing = false;
  /** A status of this cluster may be on the bus (seeded or published), so removal must retract it. */
  #statusOnBus = false;
  /** Watched changes were sent since the background ack check last started waiting. */
  #acksPending = false;
  /** The background ack check: waits until everything sent is stored; never rejects. */
  #acking: Promise<void> | undefined;
  /** A store that failed, found by the background ack check and not yet acted upon (by a resync). */
  #ackFailure: PublishError | undefined;
  /** Wakes the serving watch when the background ack check finds a failure. */
  #onAckFailure: ((err: PublishError) => void) | undefined;
  readonly #malformedLogged = new Set<string>();
  readonly #stats: ClusterSyncStats = { synced: false, entries: 0, failures: 0, relists: 0, malformed: 0, events: 0 };

  constructor(options: ClusterSyncOptions) {
    this.#desired = options.config;
    this.cluster = options.config.valid ? options.config.connection.cluster : options.config.cluster;
    this.#createSource = options.createSource;
    this.#publisher = options.publisher;
    this.#logger = options.logger.child({ cluster: this.cluster });
    this.#metrics = options.metrics;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? {};
    this.#permits = options.relistPermits;
    this.#livenessIntervalMs = options.livenessIntervalMs ?? 10_000;
    this.#livenessTimeoutMs = options.livenessTimeoutMs ?? 10_000;
    this.#statusIntervalMs = options.statusIntervalMs ?? 1_000;
    this.#stateReadTimeoutMs = options.stateReadTimeoutMs ?? 60_000;
    this.#view = new ClusterView({
      ...(options.deletedRetentionMs !== undefined ? { deletedRetentionMs: options.deletedRetentionMs } : {}),
      ...(options.maxDeletedKeys !== undefined ? { maxDeletedKeys: options.maxDeletedKeys } : {}),
    });
    this.#since = this.#clock.now();
    this.#generation = this.#desiredGeneration();
  }

  /** Starts syncing in the background; idempotent. */
  start(): void {
    if (this.#loop || this.#close.signal.aborted) return;
    this.#loop = this.#run().catch((err: unknown) => {
      // The loop records every failure itself; reaching here is a bug, but it must not crash.
      this.#logger.error({ err: errorText(err) }, "cluster sync loop ended unexpectedly");
    });
  }

  /** Applies a new desired config. Same generation and validity: nothing happens. */
  update(config: ClusterConfig): void {
    const current = this.#desired;
    const generation = config.valid ? config.connection.generation : config.generation;
    if (current.valid === config.valid && this.#desiredGeneration() === generation) {
      this.#desired = config;
      return;
    }
    this.#desired = config;
    this.#logger.info({ generation, valid: config.valid }, "cluster configuration changed");
    const changed = this.#changed;
    this.#changed = new AbortController();
    changed.abort();
  }

  /** The cluster's status as published. */
  status(): ClusterStatusReport {
    const counts = this.#view.counts();
    const stale = this.#staleSince !== undefined && this.#view.size > 0;
    const error = this.#error ?? this.#swapError;
    const expiresAt = this.#expiresAt();
    return {
      cluster: this.cluster,
      status: this.#status,
      ...(error !== undefined ? { error } : {}),
      since: this.#since,
      generation: this.#generation,
      counts,
      stale,
      ...(stale && this.#staleSince !== undefined ? { staleSince: this.#staleSince } : {}),
      ...(this.#lastSync !== undefined ? { lastSync: this.#lastSync } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  /** Synced / entries / failures / last failure, and the other counters. */
  stats(): ClusterSyncStats {
    return { ...this.#stats, entries: this.#view.size, synced: this.#everSynced };
  }

  /** Stops watching and leaves the cluster's data and status on the bus (ownership moves). */
  async stop(): Promise<void> {
    this.#close.abort();
    await this.#loop;
    await this.#stopServing(true);
    await this.#statusChain;
    await this.#publisher.release?.(this.cluster);
  }

  /**
   * Retracts every resource of the cluster, then its status, and stops. Retries bus failures
   * with backoff until it succeeds or `stop()` is called.
   */
  async remove(): Promise<void> {
    this.#removed = true;
    await this.stop();
    const giveUp = this.#removeAbort.signal;
    for (let attempt = 1; !giveUp.aborted; attempt++) {
      try {
        if (this.#needsSeed) await this.#seed(giveUp);
        await this.#retractAll(this.#generation, true);
        await this.#statusChain;
        if (this.#statusOnBus) await this.#publisher.removeStatus(this.cluster, this.#generation);
        this.#metrics?.removeCluster(this.cluster);
        this.#logger.info("cluster removed: every resource retracted, status removed");
        return;
      } catch (err) {
        this.#needsSeed = true;
        this.#logger.warn({ err: errorText(err), attempt }, "retracting a removed cluster failed; retrying");
        await this.#clock.sleep(backoffDelay(attempt, this.#backoff, this.#random), giveUp);
      }
    }
  }

  /** Stops, keeping the bus state; also abandons a `remove()` still retrying. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#removeAbort.abort();
    await this.stop();
  }

  // ---- main loop ---------------------------------------------------------------------------

  async #run(): Promise<void> {
    const closing = this.#close.signal;
    let attempt = 0;
    while (!closing.aborted) {
      const changed = this.#changed.signal;
      try {
        if (this.#needsSeed && !this.#serving) await this.#seed(closing);
        const desired = this.#desired;
        if (!desired.valid) {
          await this.#applyInvalid(desired);
          attempt = 0;
          await raceSignals(new Promise<never>(() => {}), [changed, closing]);
          continue;
        }
        if (this.#serving?.ended.signal.aborted && this.#serving.generation !== desired.connection.generation) {
          // The previous generation stopped serving while the new one still fails: nothing is
          // watched any more, so the data is stale and the status must say so.
          const old = this.#serving;
          this.#serving = undefined;
          await disposeQuietly(old.source, this.#logger);
          const why = await old.done;
          throw why ?? new ResyncRequiredError("ended", "the watch ended");
        }
        const serving = this.#serving;
        if (serving && serving.generation === desired.connection.generation) {
          const ended = await raceSignals(serving.done, [changed, closing]);
          if (!ended) continue;
          this.#serving = undefined;
          const why = ended.value;
          if (why instanceof ResyncRequiredError) {
            this.#logger.info({ reason: why.reason, err: why.message }, "watch needs a relist");
            await this.#establish(desired.connection, serving.source, why.reason, changed);
          } else {
            await disposeQuietly(serving.source, this.#logger);
            throw why ?? new ResyncRequiredError("ended", "the watch ended");
          }
          attempt = 0;
          continue;
        }
        const reason = this.#serving ? "config-change" : attempt > 0 ? "reconnect" : "initial";
        await this.#establish(desired.connection, undefined, reason, changed);
        attempt = 0;
      } catch (err) {
        if (closing.aborted) break;
        // A newer config arrived mid-attempt: not a failure, just start over with it.
        if (changed.aborted) continue;
        attempt++;
        this.#fail(err);
        await this.#retryWait(attempt);
      }
    }
  }

  /**
   * Connects (or reuses `reuse`), lists, publishes the difference and starts watching. With a
   * watch already serving an older generation, that watch keeps serving until the new listing is
   * complete and is stopped just before the difference is published.
   */
  async #establish(
    connection: ClusterConnection,
    reuse: ClusterSource | undefined,
    reason: string,
    changed: AbortSignal,
  ): Promise<void> {
    const link = linkAbort(this.#close.signal, changed);
    const swapping = this.#serving !== undefined;
    let source = reuse;
    try {
      if (!source) {
        if (!swapping && this.#status !== "ConnectionFailed") this.#setStatus("Connecting");
        source = await this.#createSource(connection);
        this.#logger.info({ source: source.description, generation: connection.generation }, "connecting");
      }
      const src = source;
      await this.#withTimeout(src.check(link.signal), `${src.description} did not answer`, link.signal);
      if (!swapping) this.#setStatus("ResyncInProgress");
      const started = this.#clock.now();
      const list = () => src.list(link.signal);
      const snapshot = await (this.#permits ? this.#permits.run(list, link.signal) : list());
      link.signal.throwIfAborted();

      if (swapping) await this.#stopServing(true);
      const diff = this.#view.planSnapshot(snapshot, connection.generation);
      await this.#publishDiff(diff, connection.generation);
      this.#view.commitSnapshot(snapshot, diff, connection.generation);
      this.#noteMalformed(snapshot.malformed);

      const seconds = (this.#clock.now() - started) / 1000;
      this.#stats.relists++;
      this.#metrics?.countRelist(this.cluster, reason);
      this.#metrics?.observeSyncDuration(this.cluster, seconds);
      this.#logger.info(
        {
          reason,
          generation: connection.generation,
          revision: snapshot.revision,
          listed: snapshot.resources.length,
          upserts: diff.upserts.length,
          deletes: diff.deletes.length,
          unchanged: diff.unchanged,
          malformed: snapshot.malformed.length,
          seconds,
        },
        "cluster listed and published",
      );

      this.#generation = connection.generation;
      this.#startServing(src, connection.generation, snapshot.revision);
      source = undefined;
      this.#everSynced = true;
      this.#staleSince = undefined;
      this.#swapError = undefined;
      this.#lastSync = this.#clock.now();
      this.#setStatus("InSync");
    } finally {
      link.dispose();
      if (source) await disposeQuietly(source, this.#logger);
    }
  }

  #fail(err: unknown): void {
    const at = this.#clock.now();
    const text = errorText(err);
    this.#stats.failures++;
    this.#stats.lastFailure = { at, error: text };
    this.#metrics?.countFailure(this.cluster, at);
    if (err instanceof PublishError || this.#ackFailure) this.#needsSeed = true;
    const desired = this.#desired;
    if (!desired.valid) {
      this.#logger.warn({ err: text }, "retracting an invalid cluster failed");
      this.#setStatus("ConfigIncomplete", desired.error);
      return;
    }
    if (this.#serving) {
      // A hot swap failed: the previous generation keeps serving, the status says what failed.
      this.#swapError = `configuration generation ${desired.connection.generation} not applied: ${text}`;
      this.#logger.warn({ err: text, generation: desired.connection.generation }, "new configuration failed");
      this.#publishStatus();
      return;
    }
    if (this.#staleSince === undefined && this.#view.size > 0) this.#staleSince = at;
    this.#logger.warn({ err: text, stale: this.#view.size > 0 }, "cluster connection failed");
    this.#setStatus("ConnectionFailed", text);
  }

  /** Waits out the backoff, waking early for a config change and retracting expired data. */
  async #retryWait(attempt: number): Promise<void> {
    const until = this.#clock.now() + backoffDelay(attempt, this.#backoff, this.#random);
    const changed = this.#changed.signal;
    const servingEnded = this.#serving?.ended.signal;
    let expiryTried = false;
    for (;;) {
      const now = this.#clock.now();
      const expiresAt = this.#expiresAt();
      if (expiresAt !== undefined && now >= expiresAt && !expiryTried) {
        expiryTried = true;
        await this.#expire();
      }
      if (now >= until) return;
      const nextExpiry = expiryTried ? undefined : this.#expiresAt();
      const wakeAt = Math.min(until, nextExpiry ?? until);
      const link = linkAbort(this.#close.signal, changed, ...(servingEnded ? [servingEnded] : []));
      await this.#clock.sleep(wakeAt - now, link.signal);
      link.dispose();
      if (link.signal.aborted) return;
    }
  }

  #expiresAt(): number | undefined {
    const desired = this.#desired;
    const expiry = desired.valid ? desired.connection.dataExpiryMs : undefined;
    if (expiry === undefined || this.#staleSince === undefined || this.#view.size === 0) return undefined;
    return this.#staleSince + expiry;
  }

  async #expire(): Promise<void> {
    try {
      const n = this.#view.size;
      await this.#retractAll(this.#generation);
      this.#staleSince = undefined;
      this.#logger.warn({ retracted: n }, "stale data of the cluster expired and was retracted");
      this.#publishStatus();
    } catch (err) {
      this.#needsSeed = true;
      this.#logger.warn({ err: errorText(err) }, "retracting expired data failed");
    }
  }

  async #applyInvalid(desired: { generation: number; error: string }): Promise<void> {
    await this.#stopServing(true);
    this.#generation = desired.generation;
    if (this.#view.size > 0) {
      this.#logger.warn({ err: desired.error, retracting: this.#view.size }, "cluster configuration is invalid");
    }
    await this.#retractAll(desired.generation);
    this.#staleSince = undefined;
    this.#swapError = undefined;
    this.#setStatus("ConfigIncomplete", desired.error);
  }

  // ---- bus -----------------------------------------------------------------------------------

  async #seed(signal: AbortSignal): Promise<void> {
    // Publishes still in flight would land after the read and be missing from it: let them settle.
    // Their failures are what this re-read is for, so they are dropped here.
    await this.#settle().catch(() => {});
    this.#ackFailure = undefined;
    let state: Awaited<ReturnType<ClusterPublisher["readState"]>>;
    // Bounded with the listings: each read of a cluster's state makes the server scan the stream
    // for its subjects, and 100 clusters seeding at once stalled the server (lease renewals too).
    // Not left to the publisher to honour `signal` and end: the bus's inventory read did neither (an
    // ordered consumer that cannot be recreated retries for good), and held the permit forever, so
    // that stop() waited for it and every cluster behind that permit stayed as it was.
    const read = () =>
      this.#bounded(
        this.#publisher.readState(this.cluster, signal),
        this.#stateReadTimeoutMs,
        "the bus did not return the cluster's state",
        signal,
      );
    try {
      state = await (this.#permits ? this.#permits.run(read, signal) : read());
    } catch (err) {
      throw new PublishError(`reading the cluster's state from the bus failed: ${errorText(err)}`, { cause: err });
    }
    this.#view.seed(state.resources);
    if (state.status) {
      this.#statusOnBus = true;
      this.#generation = Math.max(this.#generation, state.status.generation);
    }
    if (state.status && !this.#everSynced) {
      this.#lastSync ??= state.status.lastSync;
      if (state.status.stale) this.#staleSince ??= state.status.staleSince;
    }
    if (this.#view.size > 0) this.#staleSince ??= this.#clock.now();
    this.#needsSeed = false;
    this.#logger.debug({ resources: this.#view.size }, "seeded the cluster's view from the bus");
    this.#publishStatus();
  }

  /** Sends every item in order, then waits until the bus stored them all. */
  async #send<T>(items: Iterable<T>, publish: (item: T) => Promise<void>): Promise<void> {
    try {
      for (const item of items) await publish(item);
    } catch (err) {
      throw asPublishError(err);
    }
    await this.#settle();
  }

  /**
   * Waits until everything sent so far is stored, and throws a failure not yet acted upon, whether
   * this wait or the background ack check found it: the check takes failures out of the publisher,
   * so both are consulted before anything is reported in sync.
   */
  async #settle(): Promise<void> {
    while (this.#acking) await this.#acking;
    try {
      await this.#publisher.flush(this.cluster);
    } catch (err) {
      throw asPublishError(err);
    }
    if (this.#ackFailure) throw this.#ackFailure;
  }

  /**
   * Watched changes do not wait for their acks: the publisher's window bounds what is in flight,
   * and this check waits in the background until everything sent is stored. A store that failed
   * ends the watch with a `PublishError`, so the cluster's state is re-read from the bus and the
   * cluster relisted, as when a publish itself throws.
   */
  #checkAcks(): void {
    this.#acksPending = true;
    if (this.#acking) return;
    this.#acking = (async () => {
      try {
        while (this.#acksPending) {
          this.#acksPending = false;
          await this.#publisher.flush(this.cluster);
        }
      } catch (err) {
        const failure = asPublishError(err);
        this.#ackFailure ??= failure;
        this.#onAckFailure?.(failure);
      } finally {
        // Cleared in the same turn as the last `#acksPending` check, so a send after it starts a new check.
        this.#acking = undefined;
      }
    })();
  }

  async #publishDiff(diff: SnapshotDiff, generation: number): Promise<void> {
    // Upserts first: a listing never makes the view shrink before it has grown to the new state.
    const rejected = new Set<SourceResource>();
    await this.#send(diff.upserts, async (r) => {
      if (!(await this.#tryUpsert(r, generation))) rejected.add(r);
    });
    if (rejected.size > 0) {
      // Unpublishable now: its older version on the bus is retracted, as for malformed data.
      diff.upserts = diff.upserts.filter((r) => !rejected.has(r));
      for (const r of rejected) {
        const current = this.#view.get(r.kind, r.id);
        if (current) diff.deletes.push({ kind: r.kind, id: r.id, revision: r.revision });
      }
    }
    await this.#send(diff.deletes, (d) =>
      this.#publisher.publishDelete(this.cluster, generation, d.kind, d.id, d.revision),
    );
    this.#countPublished(
      diff.upserts.map((u) => u.kind),
      diff.deletes.map((d) => d.kind),
    );
  }

  /**
   * Deletes everything the cluster has on the bus. Consumers order by (generation, revision) and
   * drop anything not newer, so a delete never carries an older generation than its upsert;
   * `final` (the cluster is gone: no upsert of this generation can follow) also moves the revision
   * past the upsert's so that a consumer cannot take the delete for a replay.
   */
  async #retractAll(generation: number, final = false): Promise<void> {
    const entries = [...this.#view.entries()];
    if (entries.length === 0) return;
    await this.#send(entries, (e) =>
      this.#publisher.publishDelete(
        this.cluster,
        Math.max(generation, e.generation),
        e.kind,
        e.id,
        final ? nextRevision(e.revision) : e.revision,
      ),
    );
    this.#countPublished(
      [],
      entries.map((e) => e.kind),
    );
    this.#view.clear();
  }

  /** Publishes one upsert; false (and noted as malformed) when the bus refuses this resource. */
  async #tryUpsert(resource: SourceResource, generation: number): Promise<boolean> {
    try {
      await this.#publisher.publishUpsert(this.cluster, generation, resource);
      return true;
    } catch (err) {
      if (!(err instanceof ResourceRejectedError)) throw err;
      this.#noteMalformed([
        {
          ref: `${resource.kind} ${resource.id}`,
          kind: resource.kind,
          id: resource.id,
          revision: resource.revision,
          reason: err.message,
        },
      ]);
      return false;
    }
  }

  #countPublished(upsertKinds: string[], deleteKinds: string[]): void {
    this.#stats.events += upsertKinds.length + deleteKinds.length;
    if (!this.#metrics) return;
    const tally = (kinds: string[], op: "upsert" | "delete") => {
      const byKind = new Map<string, number>();
      for (const k of kinds) byKind.set(k, (byKind.get(k) ?? 0) + 1);
      for (const [k, n] of byKind) this.#metrics?.countEvents(this.cluster, k, op, n);
    };
    tally(upsertKinds, "upsert");
    tally(deleteKinds, "delete");
  }

  // ---- watching ------------------------------------------------------------------------------

  #startServing(source: ClusterSource, generation: number, after: string): void {
    const abort = new AbortController();
    const ended = new AbortController();
    const done = this.#serve(source, generation, after, abort.signal);
    void done.then(() => ended.abort());
    this.#serving = { source, generation, abort, done, ended };
  }

  async #stopServing(dispose: boolean): Promise<void> {
    const serving = this.#serving;
    if (!serving) return;
    this.#serving = undefined;
    serving.abort.abort();
    await serving.done;
    if (dispose) await disposeQuietly(serving.source, this.#logger);
  }

  /** Watches and checks liveness until either fails or `signal` aborts. Never rejects. */
  async #serve(source: ClusterSource, generation: number, after: string, signal: AbortSignal): Promise<unknown> {
    const local = linkAbort(signal);
    const watching = (async (): Promise<unknown> => {
      try {
        for await (const batch of source.watch(after, local.signal)) {
          await this.#applyBatch(batch, generation);
          if (local.signal.aborted) return undefined;
        }
        return local.signal.aborted ? undefined : new ResyncRequiredError("ended", "the watch ended");
      } catch (err) {
        if (err instanceof PublishError) return err;
        return local.signal.aborted ? undefined : err;
      }
    })();
    const liveness = this.#liveness(source, local.signal);
    const ackFailed = new Promise<unknown>((resolve) => {
      if (this.#ackFailure) resolve(this.#ackFailure);
      else this.#onAckFailure = resolve;
    });
    const first = await Promise.race([watching, liveness, ackFailed]);
    this.#onAckFailure = undefined;
    local.abort();
    await Promise.allSettled([watching, liveness]);
    local.dispose();
    return signal.aborted ? undefined : first;
  }

  async #liveness(source: ClusterSource, signal: AbortSignal): Promise<unknown> {
    while (!signal.aborted) {
      await this.#clock.sleep(this.#livenessIntervalMs, signal);
      if (signal.aborted) return undefined;
      // Re-asserted every round, not only when something is pending: the status subject keeps the last
      // message, whoever sent it, and a previous owner's status (sent before it learnt that its lease
      // was lost, or timed out in a congested connection and stored later) can land after this
      // owner's last one. Without this, such a cluster showed ResyncInProgress on the bus for good
      // while it was InSync here, as nothing about it changed any more.
      this.#publishStatus();
      try {
        await this.#withTimeout(source.check(signal), `${source.description} did not answer`, signal);
      } catch (err) {
        if (signal.aborted) return undefined;
        return new LivenessError(`liveness check failed: ${errorText(err)}`, { cause: err });
      }
    }
    return undefined;
  }

  async #applyBatch(batch: SourceChange[], generation: number): Promise<void> {
    const now = this.#clock.now();
    this.#view.pruneDeleted(now);
    const upserts: string[] = [];
    const deletes: string[] = [];
    const publishDelete = async (kind: string, id: string, revision: string) => {
      await this.#publisher.publishDelete(this.cluster, generation, kind, id, revision);
      this.#view.commitDelete(kind, id, revision, now);
      deletes.push(kind);
    };
    const publishUpsert = async (resource: SourceResource) => {
      if (await this.#tryUpsert(resource, generation)) {
        this.#view.commitUpsert(resource, generation);
        upserts.push(resource.kind);
        return;
      }
      const plan = this.#view.planDelete(resource.kind, resource.id, resource.revision, now);
      if (plan.action === "delete") await publishDelete(plan.kind, plan.id, plan.revision);
    };
    // The view is updated as each publish is sent, so later changes plan against it; if the bus
    // then fails to store one, the view is re-read from the bus before going on (see #checkAcks).
    const apply = async (change: SourceChange) => {
      switch (change.type) {
        case "upsert": {
          const plan = this.#view.planUpsert(change.resource);
          if (plan.action === "upsert") await publishUpsert(plan.resource);
          return;
        }
        case "delete": {
          const plan = this.#view.planDelete(change.kind, change.id, change.revision, now);
          if (plan.action === "delete") await publishDelete(plan.kind, plan.id, plan.revision);
          return;
        }
        case "malformed": {
          this.#noteMalformed([change.entry]);
          const { kind, id, revision } = change.entry;
          if (kind === undefined || id === undefined) return;
          const current = this.#view.get(kind, id);
          if (!current) return;
          // Its current value is unusable: retract it, as a relist that skipped it would.
          const plan = this.#view.planDelete(kind, id, revision ?? current.revision, now);
          if (plan.action === "delete") await publishDelete(plan.kind, plan.id, plan.revision);
          else if (revision === undefined) await publishDelete(kind, id, current.revision);
          return;
        }
        case "progress":
          return;
      }
    };
    try {
      for (const change of batch) await apply(change);
    } catch (err) {
      throw asPublishError(err);
    } finally {
      if (upserts.length + deletes.length > 0) this.#checkAcks();
    }
    if (upserts.length + deletes.length === 0) return;
    this.#countPublished(upserts, deletes);
    this.#countsChanged();
  }

  #noteMalformed(entries: MalformedEntry[]): void {
    if (entries.length === 0) return;
    this.#stats.malformed += entries.length;
    this.#metrics?.countMalformed(this.cluster, entries.length);
    for (const e of entries) {
      if (this.#malformedLogged.has(e.ref)) continue;
      // Bounded: a cluster full of garbage must not grow this without limit.
      if (this.#malformedLogged.size < 10_000) this.#malformedLogged.add(e.ref);
      this.#logger.warn({ ref: e.ref, kind: e.kind, reason: e.reason }, "skipping malformed remote data");
    }
  }

  /** `promise`, unless `signal` aborts (rejects with its reason) or `ms` pass (`SourceTimeoutError`) first. */
  async #bounded<T>(promise: Promise<T>, ms: number, message: string, signal: AbortSignal): Promise<T> {
    const timer = linkAbort(signal);
    const cut = new Promise<never>((_, reject) => {
      void this.#clock.sleep(ms, timer.signal).then(() => {
        if (signal.aborted) reject(signal.reason ?? new Error("stopped"));
        else if (!timer.signal.aborted) reject(new SourceTimeoutError(`${message} within ${ms} ms`));
      });
    });
    try {
      return await Promise.race([promise, cut]);
    } finally {
      timer.abort();
      promise.catch(() => {});
      cut.catch(() => {});
    }
  }

  async #withTimeout<T>(promise: Promise<T>, message: string, signal: AbortSignal): Promise<T> {
    const timer = linkAbort(signal);
    const timeout = this.#clock.sleep(this.#livenessTimeoutMs, timer.signal).then(() => {
      if (!timer.signal.aborted) throw new SourceTimeoutError(`${message} within ${this.#livenessTimeoutMs} ms`);
      return undefined as never;
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      timer.abort();
      promise.catch(() => {});
      timeout.catch(() => {});
    }
  }

  // ---- status --------------------------------------------------------------------------------

  #desiredGeneration(): number {
    const d = this.#desired;
    return d.valid ? d.connection.generation : d.generation;
  }

  #setStatus(status: ClusterStatusValue, error?: string): void {
    if (status !== this.#status) {
      this.#status = status;
      this.#since = this.#clock.now();
      this.#logger.info({ status, ...(error ? { err: error } : {}) }, "cluster status");
    }
    this.#error = error;
    this.#publishStatus();
  }

  #countsChanged(): void {
    this.#metrics?.setResources(this.cluster, this.#view.counts());
    const wait = this.#lastStatusAt + this.#statusIntervalMs - this.#clock.now();
    if (wait <= 0) {
      this.#publishStatus();
      return;
    }
    if (this.#statusFlushPending) return;
    this.#statusFlushPending = true;
    void this.#clock.sleep(wait, this.#close.signal).then(() => {
      if (this.#statusFlushPending && !this.#close.signal.aborted) this.#publishStatus();
    });
  }

  /** Queues a status publication (in order); a failure is logged and retried at the next tick. */
  #publishStatus(): void {
    if (this.#removed && this.#close.signal.aborted) return;
    this.#statusFlushPending = false;
    this.#lastStatusAt = this.#clock.now();
    const report = this.status();
    this.#metrics?.setStatus(this.cluster, report.status);
    this.#metrics?.setResources(this.cluster, report.counts);
    this.#statusOnBus = true;
    this.#statusChain = this.#statusChain
      .then(() => this.#publisher.publishStatus(report))
      .then(
        () => {
          this.#statusPublishFailing = false;
        },
        (err: unknown) => {
          if (!this.#statusPublishFailing) {
            this.#logger.warn({ err: errorText(err) }, "publishing the cluster status failed");
          }
          this.#statusPublishFailing = true;
        },
      );
  }
}
