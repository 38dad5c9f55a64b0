/**
 * Internal: an ordered JetStream consumer that replays a stream (or the last message per subject) and
 * then keeps going live, with a single "synced" marker once it has caught up with the stream as it was
 * when the replay started. Works on nats-server 2.9 (one filter subject, no multi-filter consumers).
 */
import type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { UnavailableError } from "./errors.js";

/** What to replay. */
export interface ReplayOptions {
  stream: string;
  /** One subject filter (wildcards allowed); the whole stream when absent. */
  filter?: string;
  /** `all`: every stored message; `last_per_subject`: the latest message of each subject. */
  deliver: "all" | "last_per_subject";
  /** Deliver headers only (`Nats-Msg-Size` tells the payload size); much cheaper for inventories. */
  headersOnly?: boolean;
  /** Messages per pull; default 1000. */
  batch?: number;
}

/** A replayed message, or the marker that the replay reached the stream's end as of its start. */
export type ReplayItem = { type: "msg"; msg: JsMsg } | { type: "synced" };

/**
 * The messages that arrived since the caller last looked, in stream order, or the "synced" marker.
 * A batch never straddles the marker: the messages before it and those after it come in separate batches.
 */
export type ReplayBatch = { type: "msgs"; msgs: JsMsg[] } | { type: "synced" };

const SYNCED: ReplayBatch & ReplayItem = Object.freeze({ type: "synced" });

/**
 * How long each pull waits. The server sends an idle heartbeat every half of it while nothing is
 * pending, which is how a replay knows it has caught up and that its consumer is alive (the client's
 * default, 30 s, made a failover take a minute to notice).
 */
const PULL_EXPIRES_MS = 5000;

/**
 * How long a replay waits, after its connection came back or its consumer's heartbeats stopped, for
 * a sign that the consumer serves again (a message, a heartbeat, a pull answered). The client only
 * recreates an ordered consumer the server says is gone; one whose only node died (a NATS node lost,
 * the stream leader with it) is neither found nor missing, and the client would wait forever. The
 * replay then ends with an error and its caller opens a new one, which replays what it missed.
 */
const STALL_MS = PULL_EXPIRES_MS + 1000;

/** Consumer notifications that prove the server answers for the consumer. */
const ALIVE = new Set(["heartbeat", "debug", "discard", "ordered_consumer_recreated", "reset"]);

/**
 * A running replay; iterate it once, by batch ({@link Replay.batches}) or by message. Closing deletes the
 * server-side consumer.
 *
 * The consumer delivers into a callback that only appends to a buffer; the reader takes the whole buffer
 * at once. A million-message replay thus costs one promise per socket read rather than three per message
 * (the client's iterator, this one and the caller's), and messages are handled while still young.
 */
export class Replay implements AsyncIterable<ReplayItem>, AsyncDisposable {
  readonly #consumer: Consumer;
  #messages: ConsumerMessages | undefined;
  readonly #target: number;
  #synced: boolean;
  #closed = false;
  #idleSeen = false;
  /** Messages delivered and not yet taken by the reader. */
  #buffer: JsMsg[] = [];
  /** Set once the client's consumer stopped: undefined for a plain stop, else why. */
  #ended: { error: Error | undefined } | undefined;
  /** Wakes the reader waiting for a message, a heartbeat, a stall or the end. */
  #wake: (() => void) | undefined;

  readonly #connectionStatus: AsyncIterable<{ type: string }> & { stop?: () => void };
  #stall: ReturnType<typeof setTimeout> | undefined;
  #stalled: UnavailableError | undefined;

  /** Use {@link openReplay}. */
  constructor(nc: NatsConnection, consumer: Consumer, target: number, emptyAtStart: boolean) {
    this.#connectionStatus = nc.status();
    this.#consumer = consumer;
    this.#target = target;
    this.#synced = emptyAtStart;
    void this.#watchConnection();
  }

  /** Starts delivery (called once by {@link openReplay}). */
  async start(options: { max_messages: number; expires: number }): Promise<void> {
    const messages = await this.#consumer.consume({
      ...options,
      callback: (msg) => {
        this.#buffer.push(msg);
        if (this.#stall !== undefined) this.#alive();
        this.#signal();
      },
    });
    this.#messages = messages;
    void this.#watchStatus(messages);
    void messages.closed().then((result) => {
      this.#ended = { error: result instanceof Error ? result : undefined };
      this.#signal();
    });
  }

  #signal(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    wake();
  }

  /** Starts the stall deadline (see {@link STALL_MS}) unless it runs already. */
  #suspect(why: string): void {
    if (this.#stall !== undefined || this.#closed) return;
    this.#stall = setTimeout(() => {
      this.#stall = undefined;
      this.#stalled = new UnavailableError(
        `the JetStream consumer gave no sign of life for ${STALL_MS} ms after ${why}: its node or the stream leader is likely gone`,
      );
      this.#signal();
      this.#messages?.stop(this.#stalled);
    }, STALL_MS);
    this.#stall.unref?.();
  }

  #alive(): void {
    if (this.#stall === undefined) return;
    clearTimeout(this.#stall);
    this.#stall = undefined;
  }

  async #watchConnection(): Promise<void> {
    try {
      for await (const status of this.#connectionStatus) {
        if (status.type === "reconnect") this.#suspect("a reconnect");
      }
    } catch {
      // Status notifications are advisory.
    }
  }

  /** True once the replay has caught up. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves when the underlying consumer stops; to an error if it stopped because of one. */
  closed(): Promise<Error | undefined> {
    if (this.#messages === undefined) return Promise.resolve(undefined);
    return this.#messages.closed().then((result) => (result instanceof Error ? result : undefined));
  }

  async #watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        // An idle heartbeat means the server has nothing left to send us: we are caught up even if the
        // message we aimed for was removed (purged) before we could read it.
        if (status.type === "heartbeat" && !this.#idleSeen) {
          this.#idleSeen = true;
          this.#signal();
        }
        if (status.type === "heartbeats_missed") this.#suspect("missed heartbeats");
        else if (ALIVE.has(status.type)) this.#alive();
      }
    } catch {
      // Status notifications are advisory; the message loop sees real failures.
    }
  }

  /**
   * The replay by batch: whatever arrived since the previous batch, in stream order, with `synced` once
   * between the last message of the snapshot and the first live one. Ends when the replay is closed;
   * throws if the consumer failed (stalled, or stopped by the client with an error).
   */
  async *batches(): AsyncGenerator<ReplayBatch, void, undefined> {
    try {
      if (this.#synced) yield SYNCED;
      for (;;) {
        if (this.#buffer.length > 0) {
          const msgs = this.#buffer;
          this.#buffer = [];
          if (this.#synced) {
            yield { type: "msgs", msgs };
            continue;
          }
          const last = this.#snapshotEnd(msgs);
          if (last < 0) {
            yield { type: "msgs", msgs };
            continue;
          }
          yield { type: "msgs", msgs: last === msgs.length - 1 ? msgs : msgs.slice(0, last + 1) };
          this.#synced = true;
          yield SYNCED;
          if (last < msgs.length - 1) yield { type: "msgs", msgs: msgs.slice(last + 1) };
          continue;
        }
        if (this.#stalled !== undefined) throw this.#stalled;
        if (this.#closed) return;
        if (this.#ended !== undefined) {
          if (this.#ended.error !== undefined) throw this.#ended.error;
          return;
        }
        if (this.#idleSeen && !this.#synced) {
          this.#synced = true;
          yield SYNCED;
          continue;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      await this.close();
    }
  }

  /** Index of the message that completes the snapshot in `msgs`, or -1. */
  #snapshotEnd(msgs: JsMsg[]): number {
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      if (msg.seq >= this.#target || msg.info.pending === 0) return i;
    }
    return -1;
  }

  /** The replay message by message (see {@link Replay.batches}). */
  async *[Symbol.asyncIterator](): AsyncIterator<ReplayItem> {
    for await (const batch of this.batches()) {
      if (batch.type === "synced") yield SYNCED;
      else for (const msg of batch.msgs) yield { type: "msg", msg };
    }
  }

  /** Stops the replay and deletes its consumer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#alive();
    this.#connectionStatus.stop?.();
    this.#buffer = [];
    this.#signal();
    // stop() rather than close(): close() waits for the iterator to drain, which never happens if
    // nobody iterates (e.g. a reader closed right after an empty snapshot).
    this.#messages?.stop();
    // A stalled consumer is left to the server's inactivity timeout (5 min, set by the client): its node
    // is likely gone, and on nats-server 2.9 asking to delete it made the caller's next consumer create
    // time out (5 s) in 6 of 6 failovers, against 1 of 7 without the request, so the reader reopened late.
    if (this.#stalled !== undefined) return;
    // The client leaves ordered consumers to the server's inactivity timeout; delete ours now.
    await this.#consumer.delete().catch(() => {
      // Already gone, or the connection is: the server drops the consumer after its inactivity timeout.
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Starts a replay: notes where the stream ends now, then creates an ordered consumer from the start. */
export async function openReplay(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: ReplayOptions,
): Promise<Replay> {
  // The last matching message as of now is the replay's goal; anything published later is "live".
  // Unfiltered, that is the stream's last sequence (nats 2.9 answers a `>` last-by-subject lookup with
  // nothing when the very last message was deleted). When the lookup finds nothing, the goal is unknown
  // and the replay relies on the consumer's pending count reaching zero instead.
  let target: number;
  if (options.filter === undefined) {
    target = (await jsm.streams.info(options.stream)).state.last_seq;
  } else {
    const last = await jsm.streams.getMessage(options.stream, { last_by_subj: options.filter });
    target = last?.seq ?? Number.MAX_SAFE_INTEGER;
  }
  const consumer = await js.consumers.get(options.stream, {
    ...(options.filter === undefined ? {} : { filter_subjects: options.filter }),
    deliver_policy: options.deliver === "all" ? DeliverPolicy.All : DeliverPolicy.LastPerSubject,
    headers_only: options.headersOnly ?? false,
  });
  // Nothing pending when the consumer was created: the snapshot is empty, everything after is live.
  const info = await consumer.info(true);
  const replay = new Replay(nc, consumer, target, info.num_pending === 0);
  await replay.start({ max_messages: options.batch ?? 1000, expires: PULL_EXPIRES_MS });
  return replay;
}
