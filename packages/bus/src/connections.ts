/**
 * Connection configs in their KV bucket: config-service writes one per remote cluster (key
 * `<datastoreType>.<cluster>`, secrets sealed), connectors watch those of their datastore type.
 */
import type { JetStreamOptions } from "@nats-io/jetstream";
import { JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeConnectionConfig, encodeConnectionConfig } from "./codecs.js";
import { ConflictError, DecodeError, TopologyError, UnavailableError } from "./errors.js";
import type { BusMetrics } from "./metrics.js";
import { defaultBusMetrics } from "./metrics.js";
import { openReplay, type Replay } from "./replay.js";
import {
  connectionKey,
  connectionKeyFilter,
  DEFAULT_CONNECTIONS_BUCKET,
  kvKeySubject,
  kvStreamName,
  parseConnectionKey,
} from "./subjects.js";
import type { ConnectionConfig, DatastoreType } from "./types.js";

/** Options of {@link ConnectionConfigStore.open}. */
export interface ConnectionStoreOptions {
  /** Bucket name; default `fedview-connections`. Create it with {@link ensureConnectionsBucket}. */
  bucket?: string;
  /** JetStream domain / API prefix, if the account uses one. */
  jetstream?: JetStreamOptions;
  /** Where decode failures of watched configs are counted; default {@link defaultBusMetrics}. */
  metrics?: BusMetrics;
  /** Told about every watched entry skipped because it did not decode. */
  onDecodeError?: (error: DecodeError) => void;
}

/** A connection config and its KV revision (use it for compare-and-set writes). */
export interface StoredConnectionConfig {
  config: ConnectionConfig;
  revision: number;
}

/** A change seen by a connection-config watch. */
export type ConnectionConfigChange =
  | { type: "put"; config: ConnectionConfig; revision: number }
  | { type: "delete"; datastoreType: DatastoreType; cluster: string; revision: number }
  /** Emitted once: every config present when the watch started has been yielded. */
  | { type: "snapshot-complete" };

/** Options of a compare-and-set write. */
export interface WriteOptions {
  /** Write only if the key is still at this revision (0: only if absent); else {@link ConflictError}. */
  previousRevision?: number;
}

const KV_OPERATION_HEADER = "KV-Operation";
const WRONG_LAST_SEQUENCE = 10071;

/**
 * A watch over connection configs: the current config of every matching key (deleted ones as
 * `delete`), one `snapshot-complete`, then live changes until closed. Entries that do not decode are
 * counted and skipped. Iterate it once.
 */
export class ConnectionConfigWatch implements AsyncIterable<ConnectionConfigChange>, AsyncDisposable {
  readonly #replay: Replay;
  readonly #prefix: string;
  readonly #options: ConnectionStoreOptions;

  /** Use {@link ConnectionConfigStore.watch}. */
  constructor(replay: Replay, bucket: string, options: ConnectionStoreOptions) {
    this.#replay = replay;
    this.#prefix = kvKeySubject(bucket, "");
    this.#options = options;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConnectionConfigChange> {
    for await (const item of this.#replay) {
      if (item.type === "synced") {
        yield { type: "snapshot-complete" };
        continue;
      }
      const { msg } = item;
      const key = msg.subject.slice(this.#prefix.length);
      try {
        const op = msg.headers?.get(KV_OPERATION_HEADER);
        if (op === "DEL" || op === "PURGE") {
          const parsed = parseConnectionKey(key);
          if (parsed === undefined) {
            throw new DecodeError(`"${key}" is not a connection-config key`, { kind: "connection", subject: key });
          }
          yield { type: "delete", ...parsed, revision: msg.seq };
        } else {
          yield { type: "put", config: decodeConnectionConfig(msg.data, key), revision: msg.seq };
        }
      } catch (err) {
        const error =
          err instanceof DecodeError
            ? err
            : new DecodeError(`cannot decode connection config ${key}`, {
                kind: "connection",
                subject: key,
                cause: err,
              });
        (this.#options.metrics ?? defaultBusMetrics).recordDecodeFailure(error);
        try {
          this.#options.onDecodeError?.(error);
        } catch {
          // A faulty listener must not stop the watch.
        }
      }
    }
  }

  /** Stops the watch. Idempotent. */
  async close(): Promise<void> {
    await this.#replay.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Reads and writes connection configs; the only code that knows their keys. */
export class ConnectionConfigStore {
  readonly #nc: NatsConnection;
  readonly #kv: KV;
  readonly #bucket: string;
  readonly #options: ConnectionStoreOptions;

  /** Use {@link ConnectionConfigStore.open}. */
  constructor(nc: NatsConnection, kv: KV, bucket: string, options: ConnectionStoreOptions) {
    this.#nc = nc;
    this.#kv = kv;
    this.#bucket = bucket;
    this.#options = options;
  }

  /** Opens the existing bucket; throws {@link TopologyError} if it does not exist. */
  static async open(nc: NatsConnection, options: ConnectionStoreOptions = {}): Promise<ConnectionConfigStore> {
    const bucket = options.bucket ?? DEFAULT_CONNECTIONS_BUCKET;
    const kv = await new Kvm(jetstream(nc, options.jetstream)).open(bucket);
    try {
      await kv.status();
    } catch (err) {
      throw new TopologyError(`KV bucket ${bucket} is not available (run ensureConnectionsBucket first)`, {
        cause: err,
      });
    }
    return new ConnectionConfigStore(nc, kv, bucket, options);
  }

  /** Writes a config (validated; secrets only sealed) and returns its new revision. */
  async put(config: ConnectionConfig, options: WriteOptions = {}): Promise<number> {
    const data = encodeConnectionConfig(config);
    const key = connectionKey(config.datastoreType, config.cluster);
    try {
      return await this.#kv.put(
        key,
        data,
        options.previousRevision === undefined ? {} : { previousSeq: options.previousRevision },
      );
    } catch (err) {
      throw conflictOr(err, key, options.previousRevision);
    }
  }

  /** The current config of a cluster, or null. Throws {@link DecodeError} if what is stored is invalid. */
  async get(datastoreType: DatastoreType, cluster: string): Promise<StoredConnectionConfig | null> {
    const key = connectionKey(datastoreType, cluster);
    const entry = await this.#kv.get(key);
    if (entry === null || entry.operation !== "PUT") return null;
    return { config: decodeConnectionConfig(entry.value, key), revision: entry.revision };
  }

  /** Removes a cluster's config; connectors watching see a `delete`. */
  async delete(datastoreType: DatastoreType, cluster: string, options: WriteOptions = {}): Promise<void> {
    const key = connectionKey(datastoreType, cluster);
    try {
      await this.#kv.delete(
        key,
        options.previousRevision === undefined ? {} : { previousSeq: options.previousRevision },
      );
    } catch (err) {
      throw conflictOr(err, key, options.previousRevision);
    }
  }

  /** Every current config (of one datastore type, or all); invalid entries are counted and skipped. */
  async list(datastoreType?: DatastoreType): Promise<StoredConnectionConfig[]> {
    const found = new Map<string, StoredConnectionConfig>();
    await using watch = await this.watch(datastoreType === undefined ? {} : { datastoreType });
    let complete = false;
    for await (const change of watch) {
      if (change.type === "snapshot-complete") {
        complete = true;
        break;
      }
      if (change.type === "put") {
        found.set(connectionKey(change.config.datastoreType, change.config.cluster), {
          config: change.config,
          revision: change.revision,
        });
      }
    }
    if (!complete) throw new UnavailableError("the connection-config listing ended before it was complete");
    return [...found.values()];
  }

  /** Watches the configs of one datastore type (or all): snapshot, `snapshot-complete`, then live. */
  async watch(options: { datastoreType?: DatastoreType } = {}): Promise<ConnectionConfigWatch> {
    const jsm = await jetstreamManager(this.#nc, this.#options.jetstream);
    const replay = await openReplay(this.#nc, jetstream(this.#nc, this.#options.jetstream), jsm, {
      stream: kvStreamName(this.#bucket),
      filter: kvKeySubject(this.#bucket, connectionKeyFilter(options.datastoreType)),
      deliver: "last_per_subject",
      batch: 256,
    });
    return new ConnectionConfigWatch(replay, this.#bucket, this.#options);
  }
}

function conflictOr(err: unknown, key: string, previousRevision: number | undefined): Error {
  if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
    return new ConflictError(`connection config ${key} is no longer at revision ${previousRevision}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
