import { type Backoff, createBackoff, type Delay, realDelay } from "./backoff.js";

/** A complete listing and the datastore version it was read at (etcd revision, Kubernetes resourceVersion). */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** One change seen by a watch; a bookmark only moves the version forward. */
export type WatchEvent<T> =
  | { type: "upsert"; item: T; resourceVersion: string }
  | DeleteWatchEvent
  | { type: "bookmark"; resourceVersion: string };

/** A deletion seen by a watch. */
export interface DeleteWatchEvent {
  type: "delete";
  key: string;
  resourceVersion: string;
}

/**
 * The outcome of a watch stream: `undefined` when it ended normally (Kubernetes closes watches after a
 * timeout), an `ExpiredWatchError` when its start version is gone (410 / compaction), another error otherwise.
 */
export type WatchEnd = Error | undefined;

/** A running watch stream. */
export interface WatchStream {
  /** Settles once the stream ends, never rejects. */
  readonly done: Promise<WatchEnd>;
  stop(): Promise<void>;
}

/** What a datastore provides for list-then-watch. */
export interface ListWatchSource<T> {
  /** Named in logs and status, e.g. `etcd remoteclusterconfigurations`. */
  readonly description: string;
  list(): Promise<ListResult<T>>;
  /** Watches every change strictly after `resourceVersion`. */
  watch(resourceVersion: string, onEvent: (event: WatchEvent<T>) => void): Promise<WatchStream>;
  keyOf(item: T): string;
  versionOf(item: T): string;
}

/** The start version of a watch is no longer available: the caller must list again. */
export class ExpiredWatchError extends Error {
  override readonly name = "ExpiredWatchError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Called with the cache's changes. Handlers are synchronous; queue asynchronous work yourself. */
export interface ListWatchHandlers<T> {
  onUpsert(item: T): void;
  onDelete(key: string, last: T): void;
  /** After every complete listing has been applied (first sync and each relist). */
  onSynced?(): void;
}

/** Health of a list-watch loop, in the shape every fedview loop reports. */
export interface ListWatchStatus {
  synced: boolean;
  entries: number;
  relists: number;
  failures: number;
  lastFailure?: { at: string; message: string };
}

export interface ListWatchOptions {
  backoff?: Backoff;
  delay?: Delay;
  /** Told about every failure; the loop carries on regardless. */
  onError?: (error: unknown, source: string) => void;
  now?: () => Date;
}

/** A running list-then-watch loop over a source, with its cache. */
export interface ListWatch<T> extends AsyncDisposable {
  status(): ListWatchStatus;
  /** The cached items, by key. */
  items(): ReadonlyMap<string, T>;
  /** Resolves after the first complete listing has been delivered. */
  readonly synced: Promise<void>;
}

/**
 * Lists, delivers the difference against its cache, then watches from the listing's version; resumes the
 * watch after a normal end, relists at once when the version expired and after a capped, jittered backoff
 * on any other failure. Never throws out: failures are counted and reported through `status()`.
 */
export function startListWatch<T>(
  source: ListWatchSource<T>,
  handlers: ListWatchHandlers<T>,
  options: ListWatchOptions = {},
): ListWatch<T> {
  const backoff = options.backoff ?? createBackoff();
  const delay = options.delay ?? realDelay;
  const now = options.now ?? (() => new Date());
  const cache = new Map<string, T>();
  const abort = new AbortController();
  const state: ListWatchStatus = { synced: false, entries: 0, relists: 0, failures: 0 };
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  let current: WatchStream | undefined;

  const fail = (error: unknown): void => {
    state.failures++;
    state.lastFailure = { at: now().toISOString(), message: error instanceof Error ? error.message : String(error) };
    options.onError?.(error, source.description);
  };

  const applyListing = (listing: ListResult<T>): void => {
    const seen = new Set<string>();
    for (const item of listing.items) {
      const key = source.keyOf(item);
      seen.add(key);
      const previous = cache.get(key);
      if (previous !== undefined && source.versionOf(previous) === source.versionOf(item)) continue;
      cache.set(key, item);
      handlers.onUpsert(item);
    }
    for (const [key, last] of [...cache]) {
      if (seen.has(key)) continue;
      cache.delete(key);
      handlers.onDelete(key, last);
    }
    state.entries = cache.size;
    state.synced = true;
    handlers.onSynced?.();
    markSynced();
  };

  const onEvent = (event: WatchEvent<T>): void => {
    if (event.type === "bookmark") return;
    if (event.type === "upsert") {
      cache.set(source.keyOf(event.item), event.item);
      handlers.onUpsert(event.item);
    } else {
      const last = cache.get(event.key);
      if (last === undefined) return;
      cache.delete(event.key);
      handlers.onDelete(event.key, last);
    }
    state.entries = cache.size;
  };

  const stopped = new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve()));

  const loop = async (): Promise<void> => {
    let needList = true;
    let version = "";
    while (!abort.signal.aborted) {
      try {
        if (needList) {
          const listing = await source.list();
          if (abort.signal.aborted) break;
          if (state.synced) state.relists++;
          applyListing(listing);
          version = listing.resourceVersion;
          needList = false;
        }
        let latest = version;
        current = await source.watch(version, (event) => {
          latest = event.resourceVersion;
          onEvent(event);
        });
        backoff.reset();
        const end = await Promise.race([current.done, stopped.then(() => undefined)]);
        await current.stop();
        current = undefined;
        version = latest;
        if (abort.signal.aborted) break;
        if (end instanceof ExpiredWatchError) {
          needList = true;
          continue;
        }
        // A normal end resumes from the last version after a short pause, so a server that closes
        // watches at once cannot make this loop spin.
        if (end !== undefined) {
          needList = true;
          fail(end);
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        needList = true;
        fail(error);
      }
      await delay(backoff.next(), abort.signal);
    }
  };
  const running = loop();

  return {
    synced,
    status: () => ({ ...state, ...(state.lastFailure ? { lastFailure: { ...state.lastFailure } } : {}) }),
    items: () => cache,
    async [Symbol.asyncDispose]() {
      abort.abort();
      await current?.stop();
      await running;
    },
  };
}
