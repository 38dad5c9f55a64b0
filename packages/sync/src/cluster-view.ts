import { createHash } from "node:crypto";
import type { PublishedResource, SourceResource, SourceSnapshot } from "./types.js";

/** One live resource as the bus holds it. */
export interface ViewEntry {
  kind: string;
  id: string;
  revision: string;
  /** Config generation it was published with. */
  generation: number;
  /**
   * Origin of `revision` (the listing's or watch's datastore): one object at one revision of one
   * origin has one content, so an equal revision of the same origin needs no content comparison.
   */
  origin?: string;
  /**
   * Digest of the published resource, only for entries read back from the bus with payloads (equal
   * revisions from different origins may differ); entries published from here carry `origin` instead.
   */
  digest?: string;
}

/** Options of a `ClusterView`. */
export interface ClusterViewOptions {
  /**
   * The last revision of a deleted key is remembered (to drop replays older than the delete) for
   * this long after the delete, in the caller's clock (see `pruneDeleted`). Default 60 s.
   */
  deletedRetentionMs?: number;
  /** At most this many deleted keys are remembered; the oldest go first. Default 100 000. */
  maxDeletedKeys?: number;
}

/** A delete the diff asks for; `revision` is never lower than the revision on the bus. */
export interface PlannedDelete {
  kind: string;
  id: string;
  revision: string;
}

/** What a complete listing changes on the bus. */
export interface SnapshotDiff {
  upserts: SourceResource[];
  deletes: PlannedDelete[];
  /** Listed resources already on the bus with the same revision and content. */
  unchanged: number;
  /**
   * Keys left alone because a change newer than the listing was already published for them
   * (a hot swap on the same datastore, while the old watch was still serving).
   */
  newerOnBus: number;
}

/** What to do with one watched change. */
export type ChangePlan =
  | { action: "upsert"; resource: SourceResource }
  | { action: "delete"; kind: string; id: string; revision: string }
  /** Not newer than the last change seen for the key (a replay), or a delete of a key not on the bus. */
  | { action: "skip"; why: "replayed" | "absent" };

/** The map key of a resource: kinds never contain NUL, ids never do either. */
export function resourceKey(kind: string, id: string): string {
  return `${kind}\u0000${id}`;
}

/** A content digest of a resource as it is serialised onto the bus. */
export function digestResource(resource: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(resource) ?? "null")
    .digest("base64url");
}

function rev(value: string): bigint {
  // Sources promise decimal strings; anything else sorts as oldest rather than throwing in a loop.
  return /^\d+$/.test(value) ? BigInt(value) : -1n;
}

/** The revision right after `value`: a retraction that no consumer may take for a replay of the upsert. */
export function nextRevision(value: string): string {
  return (rev(value) + 1n).toString();
}

function maxRevision(a: string, b: string): string {
  return rev(a) >= rev(b) ? a : b;
}

/**
 * The state `ClusterSync` keeps for one cluster: what is on the bus (`entries`), and the last
 * revision seen per key from the current origin (`seen`, including deleted keys) so that replays
 * and events older than what was published are dropped by revision rather than trusted.
 *
 * All methods are pure planning or explicit commits: nothing here does I/O.
 */
export class ClusterView {
  readonly #entries = new Map<string, ViewEntry>();
  /** Live entries by kind. */
  readonly #counts = new Map<string, number>();
  #seen = new Map<string, bigint>();
  /** Keys in `seen` that are not in `entries` (deleted), with when, oldest first. */
  #deleted = new Map<string, number>();
  #origin: string | undefined;
  #revisionsComparable = false;
  readonly #deletedRetentionMs: number;
  readonly #maxDeletedKeys: number;

  constructor(options: ClusterViewOptions = {}) {
    this.#deletedRetentionMs = options.deletedRetentionMs ?? 60_000;
    this.#maxDeletedKeys = Math.max(0, options.maxDeletedKeys ?? 100_000);
  }

  /** Deleted keys whose last revision is still remembered. */
  get deletedKeys(): number {
    return this.#deleted.size;
  }

  /** Live resources on the bus. */
  get size(): number {
    return this.#entries.size;
  }

  /** Origin of the revisions in `seen`, if known. */
  get origin(): string | undefined {
    return this.#origin;
  }

  entries(): IterableIterator<ViewEntry> {
    return this.#entries.values();
  }

  get(kind: string, id: string): ViewEntry | undefined {
    return this.#entries.get(resourceKey(kind, id));
  }

  /** Live resources by kind. */
  counts(): Record<string, number> {
    // Kept as entries change: the status asks after every watched batch, and counting 100k entries
    // per batch was a visible share of the watch path.
    const counts: Record<string, number> = {};
    for (const [kind, n] of this.#counts) if (n > 0) counts[kind] = n;
    return counts;
  }

  #put(key: string, entry: ViewEntry): void {
    if (!this.#entries.has(key)) this.#counts.set(entry.kind, (this.#counts.get(entry.kind) ?? 0) + 1);
    this.#entries.set(key, entry);
  }

  #remove(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#counts.set(e.kind, (this.#counts.get(e.kind) ?? 1) - 1);
  }

  #clearEntries(): void {
    this.#entries.clear();
    this.#counts.clear();
  }

  /**
   * Replaces the view by what the bus holds (last message per subject). Revisions read back are of
   * unknown origin, so the next listing is diffed by revision and content, never by ordering.
   */
  seed(published: Iterable<PublishedResource>): void {
    this.#clearEntries();
    this.#seen = new Map();
    this.#deleted = new Map();
    this.#origin = undefined;
    this.#revisionsComparable = false;
    for (const p of published) {
      if (p.op !== "upsert") continue;
      this.#put(resourceKey(p.kind, p.id), {
        kind: p.kind,
        id: p.id,
        revision: p.revision,
        generation: p.generation,
        ...(p.resource !== undefined ? { digest: digestResource(p.resource) } : {}),
      });
    }
  }

  /**
   * Plans what a complete listing, read with config `generation`, changes on the bus: upserts for
   * resources whose revision or content differs from the bus (content unknown: whose generation
   * differs, since another generation may be another datastore), deletes for keys that vanished.
   * When the listing comes from the same origin as the changes already seen, revisions are compared
   * too, so a change the previous watch published after this listing was taken is neither undone
   * nor deleted.
   */
  planSnapshot(snapshot: SourceSnapshot, generation: number): SnapshotDiff {
    const comparable = this.#comparableWith(snapshot.origin);
    const listedAt = rev(snapshot.revision);
    const diff: SnapshotDiff = { upserts: [], deletes: [], unchanged: 0, newerOnBus: 0 };
    const listed = new Set<string>();
    for (const r of snapshot.resources) {
      const key = resourceKey(r.kind, r.id);
      listed.add(key);
      const seen = comparable ? this.#seen.get(key) : undefined;
      if (seen !== undefined && seen > rev(r.revision)) {
        diff.newerOnBus++;
        continue;
      }
      const current = this.#entries.get(key);
      if (current && current.revision === r.revision) {
        if (this.#sameContent(current, r, snapshot.origin, generation)) {
          diff.unchanged++;
          continue;
        }
      }
      diff.upserts.push(r);
    }
    for (const [key, e] of this.#entries) {
      if (listed.has(key)) continue;
      const seen = comparable ? this.#seen.get(key) : undefined;
      if (seen !== undefined && seen > listedAt) {
        diff.newerOnBus++;
        continue;
      }
      // Strictly newer than the upsert on the bus even when that came from another origin.
      diff.deletes.push({ kind: e.kind, id: e.id, revision: maxRevision(snapshot.revision, nextRevision(e.revision)) });
    }
    return diff;
  }

  /**
   * Records that a listing and its diff were published. Afterwards `seen` holds the listing's
   * revisions (and, on the same origin, anything newer already seen), and the snapshot's origin.
   */
  commitSnapshot(snapshot: SourceSnapshot, diff: SnapshotDiff, generation: number): void {
    const comparable = this.#comparableWith(snapshot.origin);
    const listedAt = rev(snapshot.revision);
    const seen = new Map<string, bigint>();
    if (comparable) {
      for (const [key, r] of this.#seen) if (r > listedAt) seen.set(key, r);
    }
    for (const r of snapshot.resources) {
      const key = resourceKey(r.kind, r.id);
      const prior = seen.get(key);
      if (prior === undefined || prior < rev(r.revision)) seen.set(key, rev(r.revision));
    }
    for (const r of diff.upserts) this.#setEntry(r, generation, snapshot.origin);
    for (const d of diff.deletes) this.#remove(resourceKey(d.kind, d.id));
    // Deleted keys still remembered are those deleted after the listing (kept above), oldest first.
    const deleted = new Map<string, number>();
    for (const [key, at] of this.#deleted) if (seen.has(key) && !this.#entries.has(key)) deleted.set(key, at);
    this.#deleted = deleted;
    this.#seen = seen;
    this.#origin = snapshot.origin;
    // Within one source, revisions are always comparable; across sources only with equal origins.
    this.#revisionsComparable = true;
  }

  /** Plans one watched upsert: skipped when a change at least as new was already seen. */
  planUpsert(resource: SourceResource): ChangePlan {
    const seen = this.#seen.get(resourceKey(resource.kind, resource.id));
    if (seen !== undefined && seen >= rev(resource.revision)) return { action: "skip", why: "replayed" };
    return { action: "upsert", resource };
  }

  /**
   * Plans one watched delete (or retraction of a key turned invisible or malformed). `now` (the
   * caller's clock) dates the memory of a delete of an absent key, for `pruneDeleted`.
   */
  planDelete(kind: string, id: string, revision: string, now = 0): ChangePlan {
    const key = resourceKey(kind, id);
    const seen = this.#seen.get(key);
    if (seen !== undefined && seen >= rev(revision)) return { action: "skip", why: "replayed" };
    const current = this.#entries.get(key);
    if (!current) {
      // Remember it anyway so that an older upsert replayed later cannot resurrect it.
      this.#seen.set(key, rev(revision));
      this.#rememberDeleted(key, now);
      return { action: "skip", why: "absent" };
    }
    return { action: "delete", kind, id, revision: maxRevision(revision, current.revision) };
  }

  /** Records a published upsert. */
  commitUpsert(resource: SourceResource, generation: number): void {
    const key = resourceKey(resource.kind, resource.id);
    this.#seen.set(key, rev(resource.revision));
    this.#deleted.delete(key);
    this.#setEntry(resource, generation, this.#origin);
  }

  /** Records a published delete; `now` (the caller's clock) dates it for `pruneDeleted`. */
  commitDelete(kind: string, id: string, revision: string, now = 0): void {
    const key = resourceKey(kind, id);
    this.#seen.set(key, rev(revision));
    this.#remove(key);
    this.#rememberDeleted(key, now);
  }

  /**
   * Forgets the revisions of keys deleted before `now - deletedRetentionMs` (and beyond the cap):
   * under create/delete churn with fresh names they would otherwise grow until the next listing.
   * A replay older than such a delete arriving later would be published again; watches replay only
   * what they re-send on reconnecting, within moments, and a relist corrects anything.
   */
  pruneDeleted(now: number): number {
    const before = now - this.#deletedRetentionMs;
    let pruned = 0;
    for (const [key, at] of this.#deleted) {
      if (at >= before && this.#deleted.size <= this.#maxDeletedKeys) break;
      this.#deleted.delete(key);
      this.#seen.delete(key);
      pruned++;
    }
    return pruned;
  }

  /** Records that everything was retracted from the bus. */
  clear(): void {
    this.#clearEntries();
    this.#seen = new Map();
    this.#deleted = new Map();
    this.#origin = undefined;
    this.#revisionsComparable = false;
  }

  #rememberDeleted(key: string, now: number): void {
    // Re-inserted at the back: the map stays ordered by the time of the last delete.
    this.#deleted.delete(key);
    this.#deleted.set(key, now);
    if (this.#deleted.size > this.#maxDeletedKeys) this.pruneDeleted(Number.NEGATIVE_INFINITY);
  }

  /**
   * Whether a listed resource at the revision `current` holds has the content published for it:
   * by digest when it was read back with its payload; by origin when both revisions come from one
   * datastore; otherwise (unknown content, or two datastores) by generation, as another
   * generation may be another datastore — two known different origins always republish.
   */
  #sameContent(current: ViewEntry, listed: SourceResource, origin: string | undefined, generation: number): boolean {
    if (current.digest !== undefined) return current.digest === digestResource(listed.resource);
    if (current.origin !== undefined && origin !== undefined && origin !== "") return current.origin === origin;
    return current.generation === generation;
  }

  #comparableWith(origin: string | undefined): boolean {
    return this.#revisionsComparable && origin !== undefined && origin !== "" && origin === this.#origin;
  }

  #setEntry(r: SourceResource, generation: number, origin: string | undefined): void {
    // No digest: hashing every published resource cost the watch path more than it saved relists.
    this.#put(resourceKey(r.kind, r.id), {
      kind: r.kind,
      id: r.id,
      revision: r.revision,
      generation,
      ...(origin !== undefined && origin !== "" ? { origin } : {}),
    });
  }
}
