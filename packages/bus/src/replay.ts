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

const IDLE = Symbol("idle");

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
const STALLED = Symbol("stalled");

/** Consumer notifications that prove the server answers for the consumer. */
const ALIVE = new Set(["heartbeat", "debug", "discard", "ordered_consumer_recreated", "reset"]);

/** A running replay; iterate it once. Closing deletes the server-side consumer. */
export class Replay implements AsyncIterable<ReplayItem>, AsyncDisposable {
  readonly #consumer: Consumer;
  readonly #messages: ConsumerMessages;
  readonly #target: number;
  #synced: boolean;
  #closed = false;
  #idle: () => void = () => {};
  readonly #idleSeen: Promise<typeof IDLE>;

  readonly #connectionStatus: AsyncIterable<{ type: string }> & { stop?: () => void };
  #stall: ReturnType<typeof setTimeout> | undefined;
  #stalled: UnavailableError | undefined;
  #onStalled: () => void = () => {};
  readonly #stalledSeen: Promise<typeof STALLED>;

  /** Use {@link openReplay}. */
  constructor(
    nc: NatsConnection,
    consumer: Consumer,
    messages: ConsumerMessages,
    target: number,
    emptyAtStart: boolean,
  ) {
    this.#connectionStatus = nc.status();
    this.#consumer = consumer;
    this.#messages = messages;
    this.#target = target;
    this.#synced = emptyAtStart;
    this.#idleSeen = new Promise((resolve) => {
      this.#idle = () => resolve(IDLE);
    });
    this.#stalledSeen = new Promise((resolve) => {
      this.#onStalled = () => resolve(STALLED);
    });
    void this.#watchStatus();
    void this.#watchConnection();
  }

  /** Starts the stall deadline (see {@link STALL_MS}) unless it runs already. */
  #suspect(why: string): void {
    if (this.#stall !== undefined || this.#closed) return;
    this.#stall = setTimeout(() => {
      this.#stall = undefined;
      this.#stalled = new UnavailableError(
        `the JetStream consumer gave no sign of life for ${STALL_MS} ms after ${why}: its node or the stream leader is likely gone`,
      );
      this.#onStalled();
      this.#messages.stop(this.#stalled);
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
    return this.#messages.closed().then((result) => (result instanceof Error ? result : undefined));
  }

  async #watchStatus(): Promise<void> {
    try {
      for await (const status of this.#messages.status()) {
        // An idle heartbeat means the server has nothing left to send us: we are caught up even if the
        // message we aimed for was removed (purged) before we could read it.
        if (status.type === "heartbeat") this.#idle();
        if (status.type === "heartbeats_missed") this.#suspect("missed heartbeats");
        else if (ALIVE.has(status.type)) this.#alive();
      }
    } catch {
      // Status notifications are advisory; the message loop sees real failures.
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReplayItem> {
    if (this.#synced) yield { type: "synced" };
    const it = this.#messages[Symbol.asyncIterator]();
    try {
      let next = pull(it);
      for (;;) {
        const result = this.#synced
          ? await Promise.race([next, this.#stalledSeen])
          : await Promise.race([next, this.#idleSeen, this.#stalledSeen]);
        if (result === STALLED) throw this.#stalled;
        if (result === IDLE) {
          if (this.#closed) return;
          this.#synced = true;
          yield { type: "synced" };
          continue;
        }
        if (result.done) return;
        this.#alive();
        const msg = result.value;
        next = pull(it);
        yield { type: "msg", msg };
        if (!this.#synced && (msg.seq >= this.#target || msg.info.pending === 0)) {
          this.#synced = true;
          yield { type: "synced" };
        }
      }
    } finally {
      await this.close();
    }
  }

  /** Stops the replay and deletes its consumer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#alive();
    this.#connectionStatus.stop?.();
    this.#idle();
    // stop() rather than close(): close() waits for the iterator to drain, which never happens if
    // nobody iterates (e.g. a reader closed right after an empty snapshot).
    this.#messages.stop();
    // The client leaves ordered consumers to the server's inactivity timeout; delete ours now. A stalled
    // consumer cannot answer: do not wait out the request timeout for it.
    const deleted = this.#consumer.delete().catch(() => {
      // Already gone, or the connection is: the server drops the consumer after its inactivity timeout.
    });
    if (this.#stalled === undefined) await deleted;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// Reads ahead one message; the no-op catch keeps a read-ahead that nobody awaits (the caller stopped
// iterating) from becoming an unhandled rejection. Awaiting the returned promise still sees the error.
function pull(it: AsyncIterator<JsMsg>): Promise<IteratorResult<JsMsg>> {
  const next = it.next();
  next.catch(() => {});
  return next;
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
  const messages = await consumer.consume({ max_messages: options.batch ?? 1000, expires: PULL_EXPIRES_MS });
  return new Replay(nc, consumer, messages, target, info.num_pending === 0);
}
