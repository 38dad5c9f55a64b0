/**
 * The Kubernetes `ClusterSource`: lists every served resource type at one resourceVersion and
 * watches each type from it, owning the watch lifecycle that client-node's informer leaves open.
 *
 * Resume point. A Kubernetes list returns its own resourceVersion, but every built-in and custom
 * resource of one API server shares etcd's revision space. So the first type is listed at the newest
 * version R and every other type with `resourceVersion=R&resourceVersionMatch=Exact` (continue tokens
 * keep R across pages): the snapshot is consistent at the single revision R that the `ClusterSource`
 * contract asks for, and `watch(R)` starts one watch per type from R. Each type's watch then tracks
 * its own last resourceVersion (events and bookmarks), so a watch the server ends cleanly, or one
 * that fails in transit, is restarted from exactly where it was — no gap, no relist.
 *
 * Lifecycle. A restart after an error waits a capped, jittered backoff (a deliberate stop never
 * restarts); too many failures in a row end the watch with the last error. A 410 (`ERROR` event with
 * code 410, as client-node reports it) ends the watch with `ResyncRequiredError` so `ClusterSync`
 * relists and publishes deletes only once the new listing is complete. A watch with no event and no
 * bookmark for `watchdogMs` is aborted — even one still waiting for response headers — and ends the
 * same way. 401, 403 and 404 end it at once with a message a person can act on.
 */

import { assertClusterName, type ResourceKind } from "@fedview/model";
import {
  type BackoffOptions,
  backoffDelay,
  type Clock,
  type ClusterSource,
  type ClusterSourceFactory,
  createClusterSourceFactory,
  type MalformedEntry,
  ResyncRequiredError,
  type SourceChange,
  type SourceResource,
  type SourceSnapshot,
  systemClock,
} from "@fedview/sync";
import {
  type ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  NetworkingV1Api,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { buildKubeConfig, describeKubeConfig, kubernetesMaterialFromConnection } from "./client.js";
import { convertObject, objectRef, objectRevision } from "./convert.js";
import { KubeConfigError, KubeSourceError } from "./errors.js";
import { collectionPath, kindsFor, qualifiedResource, resourceTypesFor } from "./kinds.js";
import { describeKubeError, httpStatus } from "./kube-errors.js";
import type { KubeResourceType, KubernetesSourceOptions, KubeSourceMetrics, WatchEndReason } from "./types.js";
import { startWatchRequest } from "./watch-request.js";
import { Watchdog } from "./watchdog.js";

/** Changes handed to `ClusterSync` at most per batch. */
const MAX_BATCH = 500;
/** Listing attempts when the listing's resourceVersion is compacted between two requests. */
const LIST_ATTEMPTS = 3;

interface ListPage {
  items: unknown[];
  resourceVersion: string | undefined;
  continueToken: string | undefined;
}

interface ListParams {
  limit: number;
  _continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

interface WatchEnd {
  reason: WatchEndReason;
  /** Events and bookmarks received. */
  events: number;
  error?: Error;
  /** The credentials or the server's API cannot work: do not retry. */
  fatal?: boolean;
}

/** Per-request options that make a client-node API call abortable. */
function abortable(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/** The items and list metadata of a typed list (`_continue`) or a custom object list (`continue`). */
function toPage(list: unknown): ListPage {
  const body = (list ?? {}) as { items?: unknown; metadata?: Record<string, unknown> };
  const meta = body.metadata ?? {};
  const token = meta["_continue"] ?? meta["continue"];
  const rv = meta["resourceVersion"];
  return {
    items: Array.isArray(body.items) ? body.items : [],
    resourceVersion: typeof rv === "string" && rv !== "" ? rv : undefined,
    continueToken: typeof token === "string" && token !== "" ? token : undefined,
  };
}

/** A signal aborted when any of `signals` aborts; `dispose()` detaches it. */
function linkSignals(...signals: AbortSignal[]): { signal: AbortSignal; abort(): void; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  for (const s of signals) {
    if (s.aborted) controller.abort();
    else s.addEventListener("abort", onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    dispose: () => {
      for (const s of signals) s.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Changes from every watched type, in arrival order, handed out in batches. The first failure is
 * thrown once everything queued before it was handed out.
 */
class ChangeQueue {
  readonly #items: SourceChange[] = [];
  #failure: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  push(change: SourceChange): void {
    this.#items.push(change);
    this.#notify();
  }

  fail(error: unknown): void {
    this.#failure ??= { error };
    this.#notify();
  }

  /** The next batch; undefined once `signal` aborted. */
  async take(signal: AbortSignal): Promise<SourceChange[] | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      if (this.#items.length > 0) return this.#items.splice(0, MAX_BATCH);
      if (this.#failure) throw this.#failure.error;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  #notify(): void {
    this.#wake?.();
  }
}

class KubernetesSource implements ClusterSource {
  readonly description: string;
  readonly #cluster: string;
  readonly #config: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #networking: NetworkingV1Api;
  readonly #types: KubeResourceType[];
  /** The types the last listing found served (optional ones may be missing); watched from its revision. */
  #served: KubeResourceType[];
  readonly #pageSize: number;
  readonly #requestTimeoutMs: number;
  readonly #watchdogMs: number;
  readonly #watchTimeoutSeconds: number;
  readonly #watchRetries: number;
  readonly #backoff: BackoffOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: Logger | undefined;
  readonly #metrics: KubeSourceMetrics | undefined;
  readonly #closed = new AbortController();

  constructor(options: KubernetesSourceOptions) {
    try {
      assertClusterName(options.cluster);
    } catch (err) {
      throw new KubeConfigError((err as Error).message, { cause: err });
    }
    this.#cluster = options.cluster;
    const kinds: readonly ResourceKind[] = options.kinds ?? kindsFor(options.cluster, options.overlayRouting ?? false);
    this.#types = resourceTypesFor(kinds);
    if (this.#types.length === 0) throw new KubeConfigError("a Kubernetes source needs at least one kind to serve");
    this.#served = this.#types;
    this.#config = buildKubeConfig(options.material);
    this.description = describeKubeConfig(this.#config);
    this.#core = this.#config.makeApiClient(CoreV1Api);
    this.#custom = this.#config.makeApiClient(CustomObjectsApi);
    this.#networking = this.#config.makeApiClient(NetworkingV1Api);
    this.#pageSize = Math.max(1, options.pageSize ?? 500);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#watchdogMs = options.watchdogMs ?? 300_000;
    this.#watchTimeoutSeconds = Math.max(1, options.watchTimeoutSeconds ?? 240);
    this.#watchRetries = Math.max(0, options.watchRetries ?? 5);
    this.#backoff = options.backoff ?? {};
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /** One small list of the first served type: proves the server answers, authenticates and authorizes. */
  async check(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    const type = this.#types[0]!;
    try {
      await this.#listPage(type, { limit: 1 }, signal);
    } catch (err) {
      throw this.#describe(err, "list", type);
    }
  }

  async list(signal: AbortSignal): Promise<SourceSnapshot> {
    this.#assertOpen();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#listOnce(signal);
      } catch (err) {
        // The listing's version was compacted between two requests: start over at the newest one.
        if (httpStatus(err) === 410 && attempt < LIST_ATTEMPTS && !signal.aborted) {
          this.#logger?.info({ attempt }, "the listing's resourceVersion expired mid-listing; listing again");
          continue;
        }
        throw err;
      }
    }
  }

  async #listOnce(signal: AbortSignal): Promise<SourceSnapshot> {
    let revision: string | undefined;
    let origin: string | undefined;
    const resources: SourceResource[] = [];
    const malformed: MalformedEntry[] = [];
    const served: KubeResourceType[] = [];
    for (const type of this.#types) {
      let token: string | undefined;
      let first = true;
      for (;;) {
        signal.throwIfAborted();
        const params: ListParams =
          token !== undefined
            ? { limit: this.#pageSize, _continue: token }
            : revision !== undefined
              ? { limit: this.#pageSize, resourceVersion: revision, resourceVersionMatch: "Exact" }
              : { limit: this.#pageSize };
        let page: ListPage;
        try {
          page = await this.#listPage(type, params, signal);
        } catch (err) {
          if (first && type.optional && httpStatus(err) === 404) {
            this.#logger?.info({ resource: qualifiedResource(type) }, "optional resource not served; skipping it");
            break;
          }
          // A 410 keeps its status code through the description, so `list()` can start over.
          throw this.#describe(err, "list", type);
        }
        if (first) served.push(type);
        first = false;
        this.#metrics?.countListPage(this.#cluster, qualifiedResource(type));
        if (revision === undefined) {
          if (page.resourceVersion === undefined || !/^\d+$/.test(page.resourceVersion)) {
            throw new KubeSourceError(
              `${this.description}: list ${qualifiedResource(type)}: the API server returned no numeric resourceVersion`,
            );
          }
          revision = page.resourceVersion;
        }
        for (const item of page.items) {
          if (type.plural === "namespaces" && objectRef(item) === "kube-system") origin ??= this.#originOf(item);
          this.#collect(type, item, revision, resources, malformed);
        }
        token = page.continueToken;
        if (token === undefined) break;
      }
    }
    this.#served = served;
    return { revision: revision ?? "0", ...(origin ? { origin } : {}), resources, malformed };
  }

  /** The kube-system namespace's UID names the cluster, hence its etcd revision space. */
  #originOf(namespace: unknown): string | undefined {
    const uid = (namespace as { metadata?: { uid?: unknown } }).metadata?.uid;
    return typeof uid === "string" && uid !== "" ? `kube-system/${uid}` : undefined;
  }

  #collect(
    type: KubeResourceType,
    item: unknown,
    listedAt: string,
    resources: SourceResource[],
    malformed: MalformedEntry[],
  ): void {
    const revision = objectRevision(item) ?? listedAt;
    const c = convertObject(this.#cluster, type, item);
    if (c.type === "resource") {
      resources.push({ kind: c.kind, id: c.id, revision, resource: c.resource });
    } else if (c.type === "malformed") {
      malformed.push(this.#malformed(type, item, c, revision));
    }
  }

  #malformed(
    type: KubeResourceType,
    item: unknown,
    c: { kind: ResourceKind; id?: string; reason: string },
    revision: string,
  ): MalformedEntry {
    return {
      ref: `${qualifiedResource(type)} ${objectRef(item)}`,
      kind: c.kind,
      ...(c.id !== undefined ? { id: c.id } : {}),
      revision,
      reason: c.reason,
    };
  }

  async #listPage(type: KubeResourceType, params: ListParams, signal: AbortSignal): Promise<ListPage> {
    const options = abortable(
      AbortSignal.any([signal, this.#closed.signal, AbortSignal.timeout(this.#requestTimeoutMs)]),
    );
    switch (qualifiedResource(type)) {
      case "namespaces":
        return toPage(await this.#core.listNamespace(params, options));
      case "serviceaccounts":
        return toPage(await this.#core.listServiceAccountForAllNamespaces(params, options));
      case "pods":
        return toPage(await this.#core.listPodForAllNamespaces(params, options));
      case "nodes":
        return toPage(await this.#core.listNode(params, options));
      case "networkpolicies.networking.k8s.io":
        return toPage(await this.#networking.listNetworkPolicyForAllNamespaces(params, options));
      default: {
        const request = { group: type.group, version: type.version, plural: type.plural, ...params };
        const list: unknown = type.namespaced
          ? await this.#custom.listCustomObjectForAllNamespaces(request, options)
          : await this.#custom.listClusterCustomObject(request, options);
        return toPage(list);
      }
    }
  }

  // ---- watching ------------------------------------------------------------------------------

  async *watch(after: string, signal: AbortSignal): AsyncIterable<SourceChange[]> {
    this.#assertOpen();
    if (!/^\d+$/.test(after)) throw new KubeSourceError(`${this.description}: cannot watch from "${after}"`);
    const queue = new ChangeQueue();
    const link = linkSignals(signal, this.#closed.signal);
    const revisions = new Map<KubeResourceType, bigint>(this.#served.map((t) => [t, BigInt(after)]));
    let progress = BigInt(after);
    const advanced = (type: KubeResourceType, revision: string) => {
      revisions.set(type, BigInt(revision));
      // Everything up to the oldest type's position has been delivered: that is the cluster's progress.
      let min: bigint | undefined;
      for (const r of revisions.values()) if (min === undefined || r < min) min = r;
      if (min !== undefined && min > progress) {
        progress = min;
        queue.push({ type: "progress", revision: min.toString() });
      }
    };
    const loops = this.#served.map((type) =>
      this.#watchType(type, after, queue, link.signal, advanced).catch((err: unknown) => {
        if (!link.signal.aborted) queue.fail(err);
      }),
    );
    try {
      for (;;) {
        const batch = await queue.take(link.signal);
        if (batch === undefined) break;
        yield batch;
      }
      if (!signal.aborted) throw new KubeSourceError(`${this.description}: the source was disposed`);
    } finally {
      link.abort();
      link.dispose();
      await Promise.allSettled(loops);
    }
  }

  /** Watches one type from `from` until `signal` aborts or the watch cannot go on (then it throws). */
  async #watchType(
    type: KubeResourceType,
    from: string,
    queue: ChangeQueue,
    signal: AbortSignal,
    advanced: (type: KubeResourceType, revision: string) => void,
  ): Promise<void> {
    const resource = qualifiedResource(type);
    let revision = from;
    let failures = 0;
    let idleCloses = 0;
    while (!signal.aborted) {
      const end = await this.#watchOnce(type, revision, queue, signal, (rv, bookmark) => {
        revision = rv;
        if (bookmark) advanced(type, rv);
      });
      if (signal.aborted) return;
      this.#metrics?.countWatchRestart(this.#cluster, resource, end.reason);
      if (end.reason === "expired") {
        throw new ResyncRequiredError(
          "expired",
          `${this.description}: the ${resource} watch's resourceVersion ${revision} is too old (410 Gone); relisting`,
        );
      }
      if (end.reason === "silent") {
        throw new ResyncRequiredError(
          "silent",
          `${this.description}: the ${resource} watch was silent for ${this.#watchdogMs} ms (no event, no bookmark); relisting`,
        );
      }
      let error = end.error;
      if (end.reason === "closed") {
        // The server ends watches at their timeout: go on from where this one was, at once. Only
        // repeated ends without a single event (a server that closes every watch) count as failures.
        idleCloses = end.events > 0 ? 0 : idleCloses + 1;
        if (end.events > 0) failures = 0;
        if (idleCloses < 2) {
          this.#logger?.debug({ resource, revision }, "watch ended by the server; watching again");
          continue;
        }
        error = new KubeSourceError(
          `${this.description}: watch ${resource}: the API server keeps ending the watch at once`,
        );
      } else {
        idleCloses = 0;
        if (end.events > 0) failures = 0;
      }
      const failure = error ?? new KubeSourceError(`${this.description}: watch ${resource} failed`);
      if (end.fatal) throw failure;
      failures++;
      if (failures > this.#watchRetries) throw failure;
      const delay = backoffDelay(failures, this.#backoff, this.#random);
      this.#logger?.info(
        { resource, revision, attempt: failures, delayMs: delay, err: failure.message },
        "watch failed; watching again after a backoff",
      );
      await this.#clock.sleep(delay, signal);
    }
  }

  /** One watch request from `revision`; resolves with how it ended. Never rejects. */
  async #watchOnce(
    type: KubeResourceType,
    revision: string,
    queue: ChangeQueue,
    signal: AbortSignal,
    moved: (revision: string, bookmark: boolean) => void,
  ): Promise<WatchEnd> {
    let events = 0;
    let expired = false;
    let failedWith: { code?: unknown; message?: unknown; reason?: unknown } | undefined;
    let silent = false;
    let ended = false;
    // Spread restarts of many watches over time, as client-go's reflector does.
    const timeoutSeconds = Math.max(
      1,
      Math.floor(this.#watchTimeoutSeconds / 2 + (this.#random() * this.#watchTimeoutSeconds) / 2),
    );
    // Armed before the request: a server that never sends response headers is silent too.
    let abortRequest: () => void = () => {};
    const watchdog = new Watchdog(this.#clock, this.#watchdogMs, () => {
      silent = true;
      abortRequest();
    });
    const request = startWatchRequest(
      this.#config,
      collectionPath(type),
      { resourceVersion: revision, allowWatchBookmarks: true, timeoutSeconds },
      (eventType, object) => {
        if (ended) return;
        watchdog.touch();
        events++;
        switch (eventType) {
          case "ADDED":
          case "MODIFIED":
          case "DELETED": {
            const rv = objectRevision(object) ?? revision;
            const change = this.#change(type, eventType, object, rv);
            if (change) queue.push(change);
            moved(rv, false);
            return;
          }
          case "BOOKMARK": {
            const rv = objectRevision(object);
            if (rv !== undefined) moved(rv, true);
            return;
          }
          case "ERROR": {
            const status = (object ?? {}) as { code?: unknown; message?: unknown; reason?: unknown };
            if (status.code === 410) expired = true;
            else failedWith = status;
            return;
          }
        }
      },
    );
    abortRequest = () => request.abort();
    if (silent) request.abort();
    const onAbort = () => request.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) request.abort();
    let err: Error | null;
    try {
      err = await request.done;
    } finally {
      ended = true;
      watchdog[Symbol.dispose]();
      signal.removeEventListener("abort", onAbort);
    }
    if (silent) return { reason: "silent", events };
    if (expired) return { reason: "expired", events };
    const resource = qualifiedResource(type);
    if (failedWith !== undefined) {
      const code = typeof failedWith.code === "number" ? failedWith.code : undefined;
      const message = typeof failedWith.message === "string" ? failedWith.message : "an unknown error";
      return {
        reason: "error",
        events,
        error: new KubeSourceError(
          `${this.description}: watch ${resource}: the API server ended the watch: ${message}${code !== undefined ? ` (${code})` : ""}`,
          code !== undefined ? { statusCode: code } : undefined,
        ),
      };
    }
    if (err !== null) {
      const status = httpStatus(err);
      return {
        reason: "error",
        events,
        error: this.#describe(err, "watch", type),
        fatal: status === 401 || status === 403 || status === 404,
      };
    }
    return { reason: "closed", events };
  }

  #change(type: KubeResourceType, eventType: string, object: unknown, revision: string): SourceChange | undefined {
    const c = convertObject(this.#cluster, type, object);
    if (eventType === "DELETED") {
      const id = c.type === "none" ? undefined : c.id;
      return id !== undefined ? { type: "delete", kind: type.kind, id, revision } : undefined;
    }
    switch (c.type) {
      case "resource":
        return { type: "upsert", resource: { kind: c.kind, id: c.id, revision, resource: c.resource } };
      case "hidden":
        // It exists but is not part of the view (e.g. a pod that finished): a delete for the view.
        return { type: "delete", kind: c.kind, id: c.id, revision };
      case "malformed":
        return { type: "malformed", entry: this.#malformed(type, object, c, revision) };
      case "none":
        return undefined;
    }
  }

  #describe(err: unknown, verb: "list" | "watch", type: KubeResourceType): Error {
    if (err instanceof KubeSourceError || err instanceof ResyncRequiredError) return err;
    return describeKubeError(err, { cluster: this.#cluster, description: this.description, verb, type });
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw new KubeSourceError(`${this.description}: the source was disposed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Every list and watch request listens to this signal and ends; nothing else is held.
    this.#closed.abort();
  }
}

/**
 * Creates a Kubernetes `ClusterSource` for one cluster. Throws `KubeConfigError` for material that
 * cannot work. No I/O happens before `check()`.
 */
export function createKubernetesSource(options: KubernetesSourceOptions): ClusterSource {
  return new KubernetesSource(options);
}

/** Options shared by every source a factory builds. */
export type KubernetesSourceFactoryOptions = Omit<KubernetesSourceOptions, "cluster" | "material" | "overlayRouting">;

/** A `ClusterSourceFactory` for `ClusterSync`: one Kubernetes source per connection config. */
export function createKubernetesSourceFactory(options: KubernetesSourceFactoryOptions = {}): ClusterSourceFactory {
  return createClusterSourceFactory(options, kubernetesMaterialFromConnection, createKubernetesSource);
}
