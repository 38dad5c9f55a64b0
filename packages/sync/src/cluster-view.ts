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
   * Digest of the published resource (equal revisions from different origins may differ);
   * unknown for entries read back from the bus without payloads.
   */
  digest?: string;
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
  #seen = new Map<string, bigint>();
  #origin: string | undefined;
  #revisionsComparable = false;

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
    const counts: Record<string, number> = {};
    for (const e of this.#entries.values()) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    return counts;
  }

  /**
   * Replaces the view by what the bus holds (last message per subject). Revisions read back are of
   * unknown origin, so the next listing is diffed by revision and content, never by ordering.
   */
  seed(published: Iterable<PublishedResource>): void {
    this.#entries.clear();
    this.#seen = new Map();
    this.#origin = undefined;
    this.#revisionsComparable = false;
    for (const p of published) {
      if (p.op !== "upsert") continue;
      this.#entries.set(resourceKey(p.kind, p.id), {
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
        const same =
          current.digest !== undefined
            ? current.digest === digestResource(r.resource)
            : current.generation === generation;
        if (same) {
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
    for (const r of diff.upserts) this.#setEntry(r, generation);
    for (const d of diff.deletes) this.#entries.delete(resourceKey(d.kind, d.id));
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

  /** Plans one watched delete (or retraction of a key turned invisible or malformed). */
  planDelete(kind: string, id: string, revision: string): ChangePlan {
    const key = resourceKey(kind, id);
    const seen = this.#seen.get(key);
    if (seen !== undefined && seen >= rev(revision)) return { action: "skip", why: "replayed" };
    const current = this.#entries.get(key);
    if (!current) {
      // Remember it anyway so that an older upsert replayed later cannot resurrect it.
      this.#seen.set(key, rev(revision));
      return { action: "skip", why: "absent" };
    }
    return { action: "delete", kind, id, revision: maxRevision(revision, current.revision) };
  }

  /** Records a published upsert. */
  commitUpsert(resource: SourceResource, generation: number): void {
    this.#seen.set(resourceKey(resource.kind, resource.id), rev(resource.revision));
    this.#setEntry(resource, generation);
  }

  /** Records a published delete. */
  commitDelete(kind: string, id: string, revision: string): void {
    const key = resourceKey(kind, id);
    this.#seen.set(key, rev(revision));
    this.#entries.delete(key);
  }

  /** Records that everything was retracted from the bus. */
  clear(): void {
    this.#entries.clear();
    this.#seen = new Map();
    this.#origin = undefined;
    this.#revisionsComparable = false;
  }

  #comparableWith(origin: string | undefined): boolean {
    return this.#revisionsComparable && origin !== undefined && origin !== "" && origin === this.#origin;
  }

  #setEntry(r: SourceResource, generation: number): void {
    this.#entries.set(resourceKey(r.kind, r.id), {
      kind: r.kind,
      id: r.id,
      revision: r.revision,
      generation,
      digest: digestResource(r.resource),
    });
  }
}
