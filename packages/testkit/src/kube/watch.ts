import type { ServerResponse } from "node:http";
import type { ResourceDefinition } from "./registry.js";
import type { ObjectPredicate } from "./selectors.js";
import type { KubeStatus } from "./status.js";
import type { StoreEvent } from "./store.js";
import type { KubeObject, WatchEventType } from "./types.js";

/** The annotation on the bookmark that ends the initial events of a `sendInitialEvents` watch. */
export const INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end";

/** What tests can see of an open watch. */
export interface WatchInfo {
  /** Request path, e.g. `/api/v1/namespaces/a/pods`. */
  path: string;
  user: string;
  /** The `resourceVersion` the watch started from (`""` when absent). */
  resourceVersion: string;
  labelSelector?: string;
  fieldSelector?: string;
  bookmarks: boolean;
  /** Events (including bookmarks) written to the socket so far. */
  sent: number;
  /** Events held back because watches are hung. */
  pending: number;
}

export interface WatchStreamOptions {
  res: ServerResponse;
  def: ResourceDefinition;
  /** Only events of this namespace, for a namespaced path. */
  namespace?: string;
  predicate: ObjectPredicate;
  bookmarks: boolean;
  info: Omit<WatchInfo, "sent" | "pending" | "bookmarks">;
  /** True while the server holds every watch silent (fault injection). */
  isHung: () => boolean;
  /** Called once when the stream is over, however it ended. */
  onClosed: (stream: WatchStream) => void;
  /** Extra headers for the 200 response (Audit-Id and the like). */
  headers: Record<string, string>;
  /** The store's current resourceVersion, for the bookmark sent before a timeout close. */
  currentVersion: () => number;
}

/**
 * One watch response: HTTP 200 with a chunked body of newline-delimited JSON events, the way
 * kube-apiserver streams them. While the server is hung nothing at all is written — not events, not
 * bookmarks, not even the end of the response — and everything held back goes out on resume.
 */
export class WatchStream {
  /** Set once the stream has replayed what it owes and may receive live store events. */
  live = false;
  readonly #options: WatchStreamOptions;
  readonly #pending: string[] = [];
  #sent = 0;
  #headersFlushed = false;
  #endRequested = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WatchStreamOptions) {
    this.#options = options;
    const { res } = options;
    res.writeHead(200, {
      ...options.headers,
      "Content-Type": "application/json",
      "Transfer-Encoding": "chunked",
      "Cache-Control": "no-cache, private",
    });
    res.on("close", () => this.#finish());
    this.#flush();
  }

  get closed(): boolean {
    return this.#closed;
  }

  info(): WatchInfo {
    return {
      ...this.#options.info,
      bookmarks: this.#options.bookmarks,
      sent: this.#sent,
      pending: this.#pending.length,
    };
  }

  /** Ends the watch after `ms`, as the server does at `timeoutSeconds` or its own limit; a bookmark goes first. */
  closeAfter(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      // Only a live stream has sent everything up to the current version, so only it may claim it.
      if (this.live) this.bookmark(this.#options.currentVersion());
      this.end();
    }, ms);
  }

  /** Whether a store event belongs to this watch's resource and namespace (before selectors). */
  accepts(event: StoreEvent): boolean {
    return (
      event.def === this.#options.def &&
      (this.#options.namespace === undefined || event.object.metadata.namespace === this.#options.namespace)
    );
  }

  /**
   * Sends a store event, translated for the selectors like the watch cache does: an object that starts
   * matching is ADDED, one that stops matching is DELETED (its previous state, at the event's version).
   */
  deliver(event: StoreEvent): void {
    const { predicate } = this.#options;
    const now = event.type !== "DELETED" && predicate(event.object);
    const before = event.prev !== undefined && predicate(event.prev);
    if (event.type === "ADDED") {
      if (now) this.send("ADDED", event.object);
    } else if (event.type === "DELETED") {
      if (before) this.send("DELETED", event.object);
    } else if (now && before) {
      this.send("MODIFIED", event.object);
    } else if (now) {
      this.send("ADDED", event.object);
    } else if (before && event.prev !== undefined) {
      const prev = event.prev;
      this.send("DELETED", { ...prev, metadata: { ...prev.metadata, resourceVersion: String(event.rv) } });
    }
  }

  /** Sends a synthetic ADDED for an object that exists when the watch starts. */
  initial(object: KubeObject): void {
    if (this.#options.predicate(object)) this.send("ADDED", object);
  }

  /** A BOOKMARK carrying only `metadata.resourceVersion`, if the client asked for bookmarks and we are not hung. */
  bookmark(rv: number, annotations?: Record<string, string>): void {
    if (!this.#options.bookmarks || this.#closed || this.#endRequested || this.#options.isHung()) return;
    const { def } = this.#options;
    const metadata = { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) };
    this.send("BOOKMARK", { kind: def.kind, apiVersion: def.apiVersion, metadata });
  }

  /** Sends an ERROR event with a Status, then ends the response: how the real server fails a started watch. */
  fail(status: KubeStatus): void {
    this.#write(JSON.stringify({ type: "ERROR", object: status }));
    this.end();
  }

  send(type: Exclude<WatchEventType, "ERROR">, object: KubeObject): void {
    this.#write(JSON.stringify({ type, object }));
  }

  /** Ends the response cleanly (server-side close); deferred while hung. */
  end(): void {
    if (this.#closed) return;
    this.#endRequested = true;
    this.#flush();
  }

  /** Writes out whatever was held back while hung. */
  resume(): void {
    this.#flush();
  }

  /** Tears the connection down without ending the response. */
  destroy(): void {
    this.#options.res.destroy();
    this.#finish();
  }

  #write(line: string): void {
    if (this.#closed || this.#endRequested) return;
    this.#pending.push(`${line}\n`);
    this.#flush();
  }

  #flush(): void {
    if (this.#closed || this.#options.isHung()) return;
    const { res } = this.#options;
    if (!this.#headersFlushed) {
      res.flushHeaders();
      this.#headersFlushed = true;
    }
    for (const line of this.#pending.splice(0)) {
      res.write(line);
      this.#sent++;
    }
    if (this.#endRequested) {
      res.end();
      this.#finish();
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#options.onClosed(this);
  }
}
