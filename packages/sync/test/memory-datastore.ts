import {
  type ClusterSource,
  type MalformedEntry,
  ResyncRequiredError,
  type SourceChange,
  type SourceResource,
  type SourceSnapshot,
} from "../src/index.js";

type Event = { revision: number; change: SourceChange };

/**
 * A revisioned key-value datastore in memory with list/watch semantics like etcd's (one global
 * revision, compaction, watch from a revision), used to drive `ClusterSync` through every
 * transition deterministically. The etcd connector's tests run the same scenarios on real etcd.
 */
export class MemoryDatastore {
  revision = 0;
  compactedAt = 0;
  readonly origin: string;
  readonly data = new Map<string, SourceResource>();
  readonly malformed = new Map<string, MalformedEntry>();
  readonly history: Event[] = [];
  /** Rejects `check()` while set. */
  checkError: Error | undefined;
  /** `check()` never answers while true. */
  checkHangs = false;
  /** Rejects `list()` while set. */
  listError: Error | undefined;
  /** While set, `list()` waits for this promise after reading its snapshot. */
  listGate: Promise<void> | undefined;
  lists = 0;
  created = 0;
  disposed = 0;
  activeWatches = 0;
  readonly #watchers = new Set<() => void>();
  readonly #breakers = new Set<(err: Error) => void>();
  readonly #replays = new Set<(changes: SourceChange[]) => void>();

  constructor(origin = "mem-1") {
    this.origin = origin;
  }

  put(kind: string, id: string, value: unknown = { id }): SourceResource {
    this.revision++;
    const r: SourceResource = { kind, id, revision: String(this.revision), resource: { kind, id, value } };
    this.data.set(`${kind}/${id}`, r);
    this.malformed.delete(`${kind}/${id}`);
    this.#record({ type: "upsert", resource: r });
    return r;
  }

  delete(kind: string, id: string): void {
    this.revision++;
    this.data.delete(`${kind}/${id}`);
    this.malformed.delete(`${kind}/${id}`);
    this.#record({ type: "delete", kind, id, revision: String(this.revision) });
  }

  /** Stores a value that cannot be converted. */
  putMalformed(kind: string, id: string): void {
    this.revision++;
    this.data.delete(`${kind}/${id}`);
    const entry: MalformedEntry = {
      ref: `/mem/${kind}/${id}`,
      kind,
      id,
      revision: String(this.revision),
      reason: "bad",
    };
    this.malformed.set(`${kind}/${id}`, entry);
    this.#record({ type: "malformed", entry });
  }

  compact(): void {
    this.compactedAt = this.revision;
  }

  /** Makes every open watch deliver the last `n` changes again (as a client resuming too early does). */
  replayRecent(n: number): void {
    const again = this.history.slice(-n).map((e) => e.change);
    if (again.length === 0) return;
    for (const r of this.#replays) r(again);
  }

  /** Makes every open watch throw `err`. */
  breakWatches(err: Error = new ResyncRequiredError("disconnected", "watch stream dropped")): void {
    for (const b of this.#breakers) b(err);
  }

  /** A `ClusterSourceFactory` result over this datastore. */
  source(): ClusterSource {
    this.created++;
    const store = this;
    let disposed = false;
    return {
      description: `memory ${this.origin}`,
      async check(signal) {
        if (store.checkHangs) {
          await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
          throw new Error("aborted");
        }
        if (store.checkError) throw store.checkError;
      },
      async list(signal): Promise<SourceSnapshot> {
        store.lists++;
        if (store.listError) throw store.listError;
        const snapshot: SourceSnapshot = {
          revision: String(store.revision),
          origin: store.origin,
          resources: [...store.data.values()],
          malformed: [...store.malformed.values()],
        };
        if (store.listGate) await store.listGate;
        signal.throwIfAborted();
        return snapshot;
      },
      watch(after, signal) {
        return store.#watch(Number(after), signal);
      },
      async [Symbol.asyncDispose]() {
        if (!disposed) store.disposed++;
        disposed = true;
      },
    };
  }

  async *#watch(after: number, signal: AbortSignal): AsyncIterable<SourceChange[]> {
    if (after < this.compactedAt) throw new ResyncRequiredError("compacted", `revision ${after} was compacted`);
    this.activeWatches++;
    let broken: Error | undefined;
    let wake: () => void = () => {};
    const notify = () => wake();
    const breaker = (err: Error) => {
      broken = err;
      wake();
    };
    const replayed: SourceChange[][] = [];
    const replay = (changes: SourceChange[]) => {
      replayed.push(changes);
      wake();
    };
    this.#watchers.add(notify);
    this.#breakers.add(breaker);
    this.#replays.add(replay);
    signal.addEventListener("abort", notify, { once: true });
    let next = after;
    try {
      for (;;) {
        if (signal.aborted) return;
        if (broken) throw broken;
        const again = replayed.shift();
        if (again) {
          yield again;
          continue;
        }
        const batch = this.history.filter((e) => e.revision > next).map((e) => e.change);
        if (batch.length > 0) {
          next = this.revision;
          yield batch;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      this.activeWatches--;
      this.#watchers.delete(notify);
      this.#breakers.delete(breaker);
      this.#replays.delete(replay);
      signal.removeEventListener("abort", notify);
    }
  }

  #record(change: SourceChange): void {
    this.history.push({ revision: this.revision, change });
    for (const w of this.#watchers) w();
  }
}
