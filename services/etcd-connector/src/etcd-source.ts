import { assertClusterName, etcdPrefix, parseEtcdKey, type ResourceKind } from "@fedview/model";
import {
  type ClusterConnection,
  type ClusterSource,
  type ClusterSourceFactory,
  createClusterSourceFactory,
  type MalformedEntry,
  ResyncRequiredError,
  type SourceChange,
  type SourceResource,
  type SourceSnapshot,
} from "@fedview/sync";
import type { Etcd3, IKeyValue, IRangeResponse, IWatchResponse, Watcher } from "etcd3";
import type { Logger } from "pino";
import { z } from "zod";
import { convertKeyValue, federatedId, kindsFor } from "./convert.js";
import { EtcdConfigError, EtcdSourceError } from "./errors.js";
import { createEtcdClient, DEFAULT_MAX_RECEIVE_BYTES, describeEtcdError } from "./etcd-client.js";
import type { EtcdConnectionMaterial, EtcdSourceOptions } from "./types.js";

interface KindRange {
  kind: ResourceKind;
  start: Buffer;
  end: Buffer;
}

/** The byte range of every key starting with `prefix` (etcd's `range_end` for a prefix). */
function prefixRange(kind: ResourceKind): KindRange {
  const start = Buffer.from(etcdPrefix(kind));
  const end = Buffer.from(start);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return { kind, start, end: end.subarray(0, i + 1) };
    }
  }
  return { kind, start, end: Buffer.from([0]) };
}

const COMPACTED = /required revision has been compacted/i;
const CHANNEL_CLOSED = /Channel closed before call started/i;
const ZERO_BYTE = Buffer.from([0]);

/** Default keys per page, and the first page's keys before any size is known. */
export const DEFAULT_PAGE_KEYS = 10_000;
const FIRST_PAGE_KEYS = 1_000;
/** Default bytes aimed at per page. */
export const DEFAULT_PAGE_BYTES = 8 * 1024 * 1024;
/** What a key-value costs in a range response beside its key and value (revisions, version, tags). */
const KV_OVERHEAD_BYTES = 32;

/**
 * The sizes of a response the client refused as larger than its receive limit (grpc-js says
 * `RESOURCE_EXHAUSTED: Received message larger than max (<bytes> vs <limit>)`), or undefined for
 * any other error. etcd's own RESOURCE_EXHAUSTED ("too many requests") is not this.
 */
function refusedAsTooLarge(err: unknown): { bytes?: number; limitBytes: number } | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const m = /larger than max \((\d+) vs\.? (\d+)\)/i.exec(message);
  if (m) return { bytes: Number(m[1]), limitBytes: Number(m[2]) };
  return undefined;
}
const CONNECTION_LEVEL = /permission denied|authentication|auth token|unauthenticated/i;

function positiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new EtcdConfigError(`the etcd source option ${field} must be a positive integer, got ${value}`);
  }
  return value;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The etcd v3 `ClusterSource`: lists the Calico prefixes of the served kinds at one revision
 * (paginated range reads pinned to the revision of the first page), watches them from that
 * revision + 1, and ends the watch with `ResyncRequiredError` on compaction, cancellation or any
 * disconnection — never trusting etcd3's own resume, which can skip events when a stream drops
 * right after resuming.
 */
class EtcdSource implements ClusterSource {
  readonly description: string;
  readonly #cluster: string;
  readonly #client: Etcd3;
  readonly #ranges: KindRange[];
  readonly #pageSize: number;
  readonly #pageBytes: number;
  /** Bytes per key of the last page read (or refused): sizes the next page. */
  #bytesPerKey: number | undefined;
  readonly #timeoutMs: number;
  readonly #watchStartTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #watchers = new Set<Watcher>();
  /** Watchers etcd3 no longer tracks (cancelled by etcd, ended, or detached while disconnected). */
  readonly #ended = new Set<Watcher>();
  #disposed = false;

  constructor(options: EtcdSourceOptions) {
    try {
      assertClusterName(options.cluster);
    } catch (err) {
      throw new EtcdConfigError((err as Error).message, { cause: err });
    }
    this.#cluster = options.cluster;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#watchStartTimeoutMs = options.watchStartTimeoutMs ?? 10_000;
    this.#pageSize = positiveInteger("pageSize", options.pageSize ?? DEFAULT_PAGE_KEYS);
    const maxReceiveBytes = positiveInteger("maxReceiveBytes", options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES);
    this.#pageBytes = positiveInteger("pageBytes", options.pageBytes ?? Math.min(DEFAULT_PAGE_BYTES, maxReceiveBytes));
    if (this.#pageBytes > maxReceiveBytes) {
      throw new EtcdConfigError(
        `the etcd page size in bytes (${this.#pageBytes}, pageBytes / FEDVIEW_ETCD_PAGE_BYTES) must not exceed the receive limit (${maxReceiveBytes}, maxReceiveBytes / FEDVIEW_ETCD_MAX_RECEIVE_BYTES)`,
      );
    }
    this.#logger = options.logger;
    const kinds = options.kinds ?? kindsFor(options.cluster, options.overlayRouting ?? false);
    if (kinds.length === 0) throw new EtcdConfigError("an etcd source needs at least one kind to serve");
    this.#ranges = kinds.map(prefixRange);
    this.description = `etcd ${options.material.endpoints.join(",")}`;
    this.#client = createEtcdClient(options.material, this.#timeoutMs, maxReceiveBytes);
  }

  /** One linearizable single-key range over the first served prefix: proves reachability, auth and read access. */
  async check(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    const first = this.#ranges[0]!;
    const probe = () =>
      this.#client.kv.range(
        { key: first.start, range_end: first.end, limit: 1, keys_only: true },
        { deadline: Date.now() + this.#timeoutMs },
      );
    try {
      signal.throwIfAborted();
      try {
        await probe();
      } catch (err) {
        // etcd3 closes and replaces its channel after a stream error (a watch cancelled for
        // compaction is one); a call started on the closed channel never reached the server, so
        // one more try on the new channel says whether the remote is really unreachable.
        if (!CHANNEL_CLOSED.test(String((err as Error)?.message)) || signal.aborted) throw err;
        await probe();
      }
    } catch (err) {
      throw this.#error(err);
    }
  }

  async list(signal: AbortSignal): Promise<SourceSnapshot> {
    this.#assertOpen();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#listOnce(signal);
      } catch (err) {
        // The pinned revision was compacted between two pages: start over at the newest revision.
        if (COMPACTED.test(String((err as Error)?.message)) && attempt < 3 && !signal.aborted) {
          this.#logger?.info({ attempt }, "listing revision was compacted mid-listing; listing again");
          continue;
        }
        throw this.#error(err);
      }
    }
  }

  async #listOnce(signal: AbortSignal): Promise<SourceSnapshot> {
    let revision: string | undefined;
    let origin: string | undefined;
    const resources: SourceResource[] = [];
    const malformed: MalformedEntry[] = [];
    for (const range of this.#ranges) {
      let next: Promise<IRangeResponse> | undefined = this.#page(range, range.start, revision, signal);
      while (next !== undefined) {
        const res: IRangeResponse = await next;
        revision ??= res.header.revision;
        origin ??= res.header.cluster_id;
        const last = res.kvs.at(-1);
        // Ask for the next page before converting this one: etcd reads it while we convert.
        next =
          res.more && last !== undefined
            ? this.#page(range, Buffer.concat([last.key, ZERO_BYTE]), revision, signal)
            : undefined;
        // Awaited on the next turn; a rejection while converting must not count as unhandled.
        next?.catch(() => {});
        for (const kv of res.kvs) this.#convert(kv, resources, malformed);
      }
    }
    return { revision: revision ?? "0", ...(origin ? { origin } : {}), resources, malformed };
  }

  /** How many keys the next page asks for: about `pageBytes` at the bytes per key seen so far. */
  #pageLimit(): number {
    if (this.#bytesPerKey === undefined) return Math.min(this.#pageSize, FIRST_PAGE_KEYS);
    return Math.max(1, Math.min(this.#pageSize, Math.floor(this.#pageBytes / this.#bytesPerKey)));
  }

  /**
   * One range page from `key`, at `revision` once the listing has one. A page the client refuses as
   * larger than its receive limit is asked for again with fewer keys, at the same key and revision,
   * down to a single key; a single value over the limit fails the listing with a clear error.
   */
  async #page(
    range: KindRange,
    key: Buffer,
    revision: string | undefined,
    signal: AbortSignal,
  ): Promise<IRangeResponse> {
    let limit = this.#pageLimit();
    for (;;) {
      signal.throwIfAborted();
      const at = revision !== undefined ? { revision } : {};
      try {
        const res = await this.#client.kv.range(
          { key, range_end: range.end, limit, ...at },
          { deadline: Date.now() + this.#timeoutMs },
        );
        if (res.kvs.length > 0) {
          let bytes = 0;
          for (const kv of res.kvs) bytes += kv.key.length + kv.value.length + KV_OVERHEAD_BYTES;
          this.#bytesPerKey = bytes / res.kvs.length;
        }
        return res;
      } catch (err) {
        const refused = refusedAsTooLarge(err);
        if (refused === undefined) throw err;
        // How many keys that refused page really held: fewer than the limit near a range's end.
        const count = await this.#client.kv.range(
          { key, range_end: range.end, count_only: true, ...at },
          { deadline: Date.now() + this.#timeoutMs },
        );
        const held = Math.max(1, Math.min(limit, Number(count.count)));
        if (held === 1) throw await this.#oversized(range, key, at, refused);
        if (refused.bytes !== undefined) this.#bytesPerKey = refused.bytes / held;
        const next =
          refused.bytes !== undefined
            ? Math.floor(((held * refused.limitBytes) / refused.bytes) * 0.9)
            : Math.floor(held / 2);
        this.#logger?.info(
          { kind: range.kind, keys: held, bytes: refused.bytes, limitBytes: refused.limitBytes, nextKeys: next },
          "etcd range page exceeded the receive limit; reading it again in smaller pages",
        );
        limit = Math.max(1, Math.min(held - 1, next));
      }
    }
  }

  /** The error for a single value larger than the receive limit, naming its key. */
  async #oversized(
    range: KindRange,
    key: Buffer,
    at: { revision?: string },
    refused: { bytes?: number; limitBytes: number },
  ): Promise<EtcdSourceError> {
    let name = key.toString();
    try {
      const res = await this.#client.kv.range(
        { key, range_end: range.end, limit: 1, keys_only: true, ...at },
        { deadline: Date.now() + this.#timeoutMs },
      );
      name = res.kvs[0]?.key.toString() ?? name;
    } catch {
      // The key is only for the message; the range's start names the place well enough.
    }
    const size = refused.bytes !== undefined ? `${refused.bytes} bytes, ` : "";
    return new EtcdSourceError(
      `${this.description}: the value of ${name} (${size}with its framing) is larger than the etcd client's receive limit of ${refused.limitBytes} bytes; raise FEDVIEW_ETCD_MAX_RECEIVE_BYTES (maxReceiveBytes) above it`,
    );
  }

  #convert(kv: IKeyValue, resources: SourceResource[], malformed: MalformedEntry[]): void {
    const key = kv.key.toString();
    const c = convertKeyValue(this.#cluster, key, kv.value, kv.mod_revision);
    if (c.type === "resource") {
      resources.push({ kind: c.kind, id: c.id, revision: kv.mod_revision, resource: c.resource });
    } else if (c.type === "malformed") {
      malformed.push({
        ref: key,
        ...(c.kind ? { kind: c.kind } : {}),
        ...(c.id ? { id: c.id } : {}),
        revision: kv.mod_revision,
        reason: c.reason,
      });
    }
  }

  async *watch(after: string, signal: AbortSignal): AsyncIterable<SourceChange[]> {
    this.#assertOpen();
    const start = (BigInt(after) + 1n).toString();
    const queue: SourceChange[][] = [];
    let failure: unknown;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const fail = (err: unknown) => {
      failure ??= err;
      notify();
    };
    signal.addEventListener("abort", notify);
    const watchers: Watcher[] = [];
    let connected = 0;
    try {
      for (const range of this.#ranges) {
        const watcher = this.#client
          .watch()
          .inRange({ start: range.start, end: range.end })
          .startRevision(start)
          .watcher();
        watchers.push(watcher);
        this.#watchers.add(watcher);
        watcher.on("connected", () => {
          connected++;
          notify();
        });
        watcher.on("data", (res: IWatchResponse) => {
          queue.push(this.#changes(res));
          notify();
        });
        watcher.on("disconnected", (err: Error) => {
          fail(
            new ResyncRequiredError("disconnected", `etcd watch disconnected: ${describeEtcdError(err)}`, {
              cause: err,
            }),
          );
          // No stream exists right now, so detaching sends nothing; etcd3 must not resume it.
          this.#detach(watcher);
        });
        watcher.on("error", (err: Error) => {
          // etcd cancelled it and etcd3 already dropped it: sending a cancel now would earn a
          // response for an unknown watch, which etcd3 throws on.
          this.#ended.add(watcher);
          fail(this.#watchError(err));
          notify();
        });
        watcher.on("end", () => {
          this.#ended.add(watcher);
          notify();
        });
      }
      const startBy = Date.now() + this.#watchStartTimeoutMs;
      for (;;) {
        if (signal.aborted) return;
        if (queue.length > 0) {
          // Everything that arrived while the consumer was busy goes as one batch: the engine
          // publishes a batch as a unit, so one event per batch would cost a round trip each.
          yield queue.length === 1 ? queue.pop()! : queue.splice(0).flat();
          continue;
        }
        if (failure !== undefined) throw failure;
        if (connected < watchers.length && Date.now() >= startBy) {
          throw new EtcdSourceError(
            `${this.description}: the watch was not acknowledged within ${this.#watchStartTimeoutMs} ms`,
          );
        }
        const waitFor = connected < watchers.length ? Math.max(1, startBy - Date.now()) : undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (waitFor !== undefined) void sleep(waitFor, signal).then(resolve);
        });
      }
    } finally {
      signal.removeEventListener("abort", notify);
      // After a compaction or cancellation etcd ends every watch of this revision by itself: give
      // it a moment, so that our cancel requests do not cross its cancellations.
      if (failure !== undefined && !(failure instanceof ResyncRequiredError && failure.reason === "disconnected")) {
        const graceUntil = Date.now() + 2_000;
        while (watchers.some((w) => !this.#ended.has(w)) && Date.now() < graceUntil) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 50).unref();
          });
        }
      }
      await this.#cancel(watchers);
    }
  }

  #changes(res: IWatchResponse): SourceChange[] {
    if (res.events.length === 0) return [{ type: "progress", revision: res.header.revision }];
    const out: SourceChange[] = [];
    for (const ev of res.events) {
      const key = ev.kv.key.toString();
      const revision = ev.kv.mod_revision;
      if (ev.type === "Delete") {
        const ref = parseEtcdKey(key);
        if (ref !== null) out.push({ type: "delete", kind: ref.kind, id: federatedId(this.#cluster, ref), revision });
        continue;
      }
      const c = convertKeyValue(this.#cluster, key, ev.kv.value, revision);
      switch (c.type) {
        case "resource":
          out.push({ type: "upsert", resource: { kind: c.kind, id: c.id, revision, resource: c.resource } });
          break;
        case "hidden":
          // It exists but is no longer visible (e.g. lost its ipNetworks): a delete for the view.
          out.push({ type: "delete", kind: c.kind, id: c.id, revision });
          break;
        case "malformed":
          out.push({
            type: "malformed",
            entry: {
              ref: key,
              ...(c.kind ? { kind: c.kind } : {}),
              ...(c.id ? { id: c.id } : {}),
              revision,
              reason: c.reason,
            },
          });
          break;
      }
    }
    return out;
  }

  #watchError(err: Error): Error {
    const text = describeEtcdError(err);
    // etcd cancels a watch whose start revision was compacted without giving a reason.
    if (/^Watcher canceled:\s*$/.test(err.message) || COMPACTED.test(err.message)) {
      return new ResyncRequiredError("compacted", "etcd cancelled the watch: its start revision was compacted", {
        cause: err,
      });
    }
    if (CONNECTION_LEVEL.test(err.message)) return new EtcdSourceError(`${this.description}: ${text}`, { cause: err });
    return new ResyncRequiredError("cancelled", `etcd cancelled the watch: ${text}`, { cause: err });
  }

  #detach(watcher: Watcher): void {
    if (this.#ended.has(watcher)) return;
    this.#ended.add(watcher);
    watcher.cancel().catch(() => {});
  }

  async #cancel(watchers: Watcher[]): Promise<void> {
    if (watchers.length === 0) return;
    for (const w of watchers) this.#watchers.delete(w);
    const live = watchers.filter((w) => !this.#ended.has(w));
    for (const w of watchers) this.#ended.delete(w);
    if (live.length === 0) return;
    // A cancel waits for etcd's answer; a stream that is gone never answers. Bounded, then dropped.
    const done = Promise.allSettled(live.map((w) => w.cancel()));
    const timeout = new AbortController();
    await Promise.race([done, sleep(2_000, timeout.signal)]);
    timeout.abort();
  }

  #error(err: unknown): Error {
    if (err instanceof EtcdSourceError || err instanceof ResyncRequiredError) return err;
    return new EtcdSourceError(`${this.description}: ${describeEtcdError(err)}`, { cause: err });
  }

  #assertOpen(): void {
    if (this.#disposed) throw new EtcdSourceError(`${this.description}: the source was disposed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    // Watchers must be detached before close(), or etcd3 keeps re-establishing them forever.
    await this.#cancel([...this.#watchers]);
    this.#client.close();
  }
}

/** Creates an etcd `ClusterSource` for one cluster. Throws `EtcdConfigError` for unusable material. */
export function createEtcdSource(options: EtcdSourceOptions): ClusterSource {
  return new EtcdSource(options);
}

const EndpointsSchema = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((e) => e.trim()).filter((e) => e !== ""));

/** The fields of a connection config the etcd connector reads (validated at the edge). */
const EtcdSpecSchema = z.looseObject({
  etcdEndpoints: EndpointsSchema,
  etcdCACert: z.string().min(1).optional(),
  etcdCert: z.string().min(1).optional(),
  etcdKey: z.string().min(1).optional(),
  etcdUsername: z.string().min(1).optional(),
  etcdPassword: z.string().optional(),
  overlayRoutingMode: z.enum(["Enabled", "Disabled"]).optional(),
});

/**
 * The etcd material and options of a connection config: non-secret fields from `spec`, secrets
 * (`etcdUsername`, `etcdPassword`, `etcdKey`) from the opened `secrets`, which win over the spec.
 * Throws `EtcdConfigError` naming the field at fault (never its value).
 */
export function etcdMaterialFromConnection(connection: ClusterConnection): {
  material: EtcdConnectionMaterial;
  overlayRouting: boolean;
} {
  const parsed = EtcdSpecSchema.safeParse({ ...connection.spec, ...connection.secrets });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EtcdConfigError(
      `the etcd connection config is invalid: ${issue ? `${issue.path.join(".") || "spec"}: ${issue.message}` : "unknown problem"}`,
    );
  }
  const s = parsed.data;
  const material: EtcdConnectionMaterial = {
    endpoints: s.etcdEndpoints,
    ...(s.etcdUsername !== undefined ? { username: s.etcdUsername, password: s.etcdPassword ?? "" } : {}),
    ...(s.etcdCACert !== undefined ? { caCert: s.etcdCACert } : {}),
    ...(s.etcdCert !== undefined ? { cert: s.etcdCert } : {}),
    ...(s.etcdKey !== undefined ? { key: s.etcdKey } : {}),
  };
  return { material, overlayRouting: s.overlayRoutingMode === "Enabled" };
}

/** Options shared by every source a factory builds. */
export type EtcdSourceFactoryOptions = Omit<EtcdSourceOptions, "cluster" | "material" | "overlayRouting">;

/** A `ClusterSourceFactory` for `ClusterSync`: one etcd source per connection config. */
export function createEtcdSourceFactory(options: EtcdSourceFactoryOptions = {}): ClusterSourceFactory {
  return createClusterSourceFactory(options, etcdMaterialFromConnection, createEtcdSource);
}
