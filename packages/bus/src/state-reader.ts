/**
 * Reading the durable state stream: a replaying reader (snapshot, one "snapshot complete" signal, then
 * live), a per-cluster inventory for connectors starting up, and compaction of old tombstones.
 */
import type { JetStreamOptions, JsMsg } from "@nats-io/jetstream";
import { JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeClusterStatus, decodeResourceEvent } from "./codecs.js";
import { DecodeError, UnavailableError } from "./errors.js";
import type { BusMetrics } from "./metrics.js";
import { defaultBusMetrics } from "./metrics.js";
import { openReplay, type Replay } from "./replay.js";
import {
  DEFAULT_STATE_STREAM,
  parseResourceSubject,
  RESOURCE_SUBJECTS,
  resourceFilterSubject,
  STATUS_SUBJECTS,
  statusFilterSubject,
} from "./subjects.js";
import type { ClusterStatusMessage, MessageKind, ResourceEvent } from "./types.js";
import { GENERATION_HEADER, OP_HEADER, REVISION_HEADER } from "./wire-headers.js";

/**
 * Which part of the state to read. nats-server 2.9 allows one filter subject per consumer, so a reader
 * reads either everything, or resources (optionally of one cluster and/or kind), or statuses.
 */
export type StateFilter = { type: "resource"; cluster?: string; kind?: string } | { type: "status"; cluster?: string };

/** Options shared by the readers of the state stream. */
export interface StateStreamOptions {
  /** State stream name; default `FEDVIEW_STATE`. */
  stream?: string;
  /** JetStream domain / API prefix, if the account uses one. */
  jetstream?: JetStreamOptions;
  /** Where decode failures are counted; default {@link defaultBusMetrics}. */
  metrics?: BusMetrics;
  /** Told about every message skipped because it did not decode. */
  onDecodeError?: (error: DecodeError) => void;
  /** Messages per pull; default 1000. */
  batch?: number;
}

/** Options of {@link openStateReader}. */
export interface StateReaderOptions extends StateStreamOptions {
  filter?: StateFilter;
}

/** What a state reader yields. */
export type StateItem =
  | { type: "resource"; event: ResourceEvent; seq: number; time: Date }
  | { type: "status"; status: ClusterStatusMessage; seq: number; time: Date }
  /** Emitted once: every message stored when the reader started has been yielded; the rest is live. */
  | { type: "snapshot-complete" };

function filterSubject(filter: StateFilter | undefined): string | undefined {
  if (filter === undefined) return undefined;
  if (filter.type === "status") return statusFilterSubject(filter.cluster);
  return resourceFilterSubject({
    ...(filter.cluster === undefined ? {} : { cluster: filter.cluster }),
    ...(filter.kind === undefined ? {} : { kind: filter.kind }),
  });
}

const RESOURCE_PREFIX = RESOURCE_SUBJECTS.slice(0, -1);
const STATUS_PREFIX = STATUS_SUBJECTS.slice(0, -1);

function kindOf(subject: string): MessageKind {
  return subject.startsWith(RESOURCE_PREFIX) ? "resource" : "status";
}

const SNAPSHOT_COMPLETE: StateItem = Object.freeze({ type: "snapshot-complete" });

// The decoders check the whole subject against the envelope; a prefix tells which decoder applies.
function decodeStateMessage(msg: JsMsg): StateItem {
  const subject = msg.subject;
  if (subject.startsWith(RESOURCE_PREFIX)) {
    return { type: "resource", event: decodeResourceEvent(msg.data, subject), seq: msg.seq, time: msg.time };
  }
  if (subject.startsWith(STATUS_PREFIX)) {
    return { type: "status", status: decodeClusterStatus(msg.data, subject), seq: msg.seq, time: msg.time };
  }
  throw new DecodeError(`"${msg.subject}" is not a fedview state subject`, {
    kind: kindOf(msg.subject),
    subject: msg.subject,
  });
}

function reportDecodeError(err: unknown, msg: JsMsg, options: StateStreamOptions): void {
  const error =
    err instanceof DecodeError
      ? err
      : new DecodeError(`cannot decode ${msg.subject}`, {
          kind: kindOf(msg.subject),
          subject: msg.subject,
          cause: err,
        });
  (options.metrics ?? defaultBusMetrics).recordDecodeFailure(error);
  try {
    options.onDecodeError?.(error);
  } catch {
    // A faulty listener must not stop the reader.
  }
}

/**
 * A replaying reader of the state stream. Iterate it once: every stored message matching the filter
 * (deletes included, as tombstones), then one `snapshot-complete`, then live messages until closed.
 * Messages that do not decode are counted and skipped. With an empty stream the first item is
 * `snapshot-complete`. Consumers should still drop events older than what they hold ({@link isNewer}).
 */
export class StateReader implements AsyncIterable<StateItem>, AsyncDisposable {
  readonly #replay: Replay;
  readonly #options: StateReaderOptions;

  /** Use {@link openStateReader}. */
  constructor(replay: Replay, options: StateReaderOptions) {
    this.#replay = replay;
    this.#options = options;
  }

  /** True once `snapshot-complete` has been reached. */
  get snapshotComplete(): boolean {
    return this.#replay.synced;
  }

  /**
   * The reader by batch: the items decoded from whatever arrived since the previous batch, in stream
   * order; `snapshot-complete` comes alone, once. Iterate either this or the reader itself, once. A
   * replay of a million messages then costs a promise per batch, not several per message.
   */
  async *batches(): AsyncGenerator<StateItem[], void, undefined> {
    for await (const batch of this.#replay.batches()) {
      if (batch.type === "synced") {
        yield [SNAPSHOT_COMPLETE];
        continue;
      }
      const items: StateItem[] = [];
      for (const msg of batch.msgs) {
        try {
          items.push(decodeStateMessage(msg));
        } catch (err) {
          reportDecodeError(err, msg, this.#options);
        }
      }
      if (items.length > 0) yield items;
    }
  }

  /** The reader item by item (see {@link StateReader.batches}). */
  async *[Symbol.asyncIterator](): AsyncIterator<StateItem> {
    for await (const items of this.batches()) yield* items;
  }

  /** Resolves when the reader stops; to an error if the consumer failed rather than being closed. */
  closed(): Promise<Error | undefined> {
    return this.#replay.closed();
  }

  /** Stops reading and deletes the server-side consumer. Idempotent. */
  async close(): Promise<void> {
    await this.#replay.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Opens a {@link StateReader} (an ordered consumer, DeliverAll, one filter subject). */
export async function openStateReader(nc: NatsConnection, options: StateReaderOptions = {}): Promise<StateReader> {
  const jsm = await jetstreamManager(nc, options.jetstream);
  const filter = filterSubject(options.filter);
  const replay = await openReplay(nc, jetstream(nc, options.jetstream), jsm, {
    stream: options.stream ?? DEFAULT_STATE_STREAM,
    ...(filter === undefined ? {} : { filter }),
    deliver: "all",
    ...(options.batch === undefined ? {} : { batch: options.batch }),
  });
  return new StateReader(replay, options);
}

/** What the bus holds for one resource of a cluster. */
export interface InventoryEntry {
  kind: string;
  id: string;
  /** `delete` for a tombstone. */
  op: "upsert" | "delete";
  revision: string;
  generation: number;
  /** Stream sequence of the message. */
  seq: number;
}

/** kind → id → entry: the last message of every resource subject of a cluster. */
export type ClusterInventory = Map<string, Map<string, InventoryEntry>>;

/** Options of {@link readClusterInventory}. */
export interface InventoryOptions extends StateStreamOptions {
  /**
   * Read headers only (default true): op, revision and generation travel in headers, so the payloads of
   * 100k+ resources need not cross the wire. Set false to decode and validate full payloads instead.
   */
  headersOnly?: boolean;
}

function entryFromHeaders(msg: JsMsg): InventoryEntry {
  const address = parseResourceSubject(msg.subject);
  const op = msg.headers?.get(OP_HEADER);
  const revision = msg.headers?.get(REVISION_HEADER);
  const generation = Number(msg.headers?.get(GENERATION_HEADER));
  if (address === undefined || (op !== "upsert" && op !== "delete") || !revision || !Number.isSafeInteger(generation)) {
    throw new DecodeError(`resource message on ${msg.subject} lacks valid fedview headers`, {
      kind: "resource",
      subject: msg.subject,
    });
  }
  return { kind: address.kind, id: address.id, op, revision, generation, seq: msg.seq };
}

/**
 * Reads the last message of every resource subject of `cluster` — what a connector needs to diff
 * against on start-up. Tombstones are included (op `delete`). Reads until the stream's end as of the
 * call, then stops; efficient for 100k+ subjects (one ordered consumer, headers only by default).
 */
export async function readClusterInventory(
  nc: NatsConnection,
  cluster: string,
  options: InventoryOptions = {},
): Promise<ClusterInventory> {
  const jsm = await jetstreamManager(nc, options.jetstream);
  const headersOnly = options.headersOnly ?? true;
  const replay = await openReplay(nc, jetstream(nc, options.jetstream), jsm, {
    stream: options.stream ?? DEFAULT_STATE_STREAM,
    filter: resourceFilterSubject({ cluster }),
    deliver: "all",
    headersOnly,
    batch: options.batch ?? 5000,
  });
  const inventory: ClusterInventory = new Map();
  let complete = false;
  for await (const item of replay) {
    if (item.type === "synced") {
      complete = true;
      break;
    }
    let entry: InventoryEntry;
    try {
      if (headersOnly) {
        entry = entryFromHeaders(item.msg);
      } else {
        const event = decodeResourceEvent(item.msg.data, item.msg.subject);
        entry = {
          kind: event.kind,
          id: event.id,
          op: event.op,
          revision: event.revision,
          generation: event.generation,
          seq: item.msg.seq,
        };
      }
    } catch (err) {
      reportDecodeError(err, item.msg, options);
      continue;
    }
    let byId = inventory.get(entry.kind);
    if (byId === undefined) {
      byId = new Map();
      inventory.set(entry.kind, byId);
    }
    byId.set(entry.id, entry);
  }
  await replay.close();
  // A partial inventory would make the connector delete what it merely did not get to read.
  if (!complete) throw new UnavailableError(`the inventory of ${cluster} ended before reaching the stream's end`);
  return inventory;
}

/** Options of {@link purgeTombstones}. */
export interface PurgeTombstonesOptions extends StateStreamOptions {
  /** Tombstones stored longer ago than this are removed. */
  olderThanMs: number;
  /**
   * Only this cluster's resource tombstones (a smaller scan): what the connector holding the cluster's
   * lease can run after each resync. Without it, every resource and status tombstone is considered.
   */
  cluster?: string;
  /** The clock; default `Date.now`. */
  now?: () => number;
}

/** What a compaction did. */
export interface PurgeTombstonesResult {
  scanned: number;
  purged: number;
}

const NO_MESSAGE_FOUND = 10037;

/**
 * Removes delete tombstones (resource deletes and status removals) older than `olderThanMs` from the
 * state stream, so the stream does not grow with every resource that ever existed.
 *
 * Safe only for consumers not lagging that far behind: a reader that has not yet seen a tombstone when
 * it is removed never learns of that delete.
 *
 * Who runs it: nothing schedules it inside this package. The natural owner is the connector replica
 * holding a cluster's lease (the cluster's only writer), with `cluster` set, after a resync completes;
 * a single operator job over the whole stream works too. The query service forgets deleted versions
 * on its own after `FEDVIEW_TOMBSTONE_RETENTION_MS`, which should stay below `olderThanMs`. Choose `olderThanMs` far above any consumer's lag (hours,
 * not seconds). A subject rewritten after the scan is left alone: removal is by exact stream sequence.
 */
export async function purgeTombstones(
  nc: NatsConnection,
  options: PurgeTombstonesOptions,
): Promise<PurgeTombstonesResult> {
  const stream = options.stream ?? DEFAULT_STATE_STREAM;
  const jsm = await jetstreamManager(nc, options.jetstream);
  const cutoffMs = (options.now ?? Date.now)() - options.olderThanMs;
  const replay = await openReplay(nc, jetstream(nc, options.jetstream), jsm, {
    stream,
    ...(options.cluster === undefined ? {} : { filter: resourceFilterSubject({ cluster: options.cluster }) }),
    deliver: "all",
    headersOnly: true,
    batch: options.batch ?? 5000,
  });
  const doomed: number[] = [];
  let scanned = 0;
  let complete = false;
  for await (const item of replay) {
    if (item.type === "synced") {
      complete = true;
      break;
    }
    scanned++;
    if (item.msg.headers?.get(OP_HEADER) === "delete" && item.msg.time.getTime() < cutoffMs) {
      doomed.push(item.msg.seq);
    }
  }
  await replay.close();
  if (!complete) throw new UnavailableError("the tombstone scan ended before reaching the stream's end");
  let purged = 0;
  for (const seq of doomed) {
    try {
      // no_erase: the data is a tombstone, nothing secret to overwrite, and erasing is slower.
      if (await jsm.streams.deleteMessage(stream, seq, false)) purged++;
    } catch (err) {
      // Already replaced by a newer message on the same subject: exactly what we want.
      if (!(err instanceof JetStreamApiError && err.code === NO_MESSAGE_FOUND)) throw err;
    }
  }
  return { scanned, purged };
}
