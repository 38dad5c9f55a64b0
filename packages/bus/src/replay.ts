/**
 * Internal: an ordered JetStream consumer that replays a stream (or the last message per subject) and
 * then keeps going live, with a single "synced" marker once it has caught up with the stream as it was
 * when the replay started. Works on nats-server 2.9 (one filter subject, no multi-filter consumers).
 */
import type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";

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

/** A running replay; iterate it once. Closing deletes the server-side consumer. */
export class Replay implements AsyncIterable<ReplayItem>, AsyncDisposable {
  readonly #consumer: Consumer;
  readonly #messages: ConsumerMessages;
  readonly #target: number;
  #synced: boolean;
  #closed = false;
  #idle: () => void = () => {};
  readonly #idleSeen: Promise<typeof IDLE>;

  /** Use {@link openReplay}. */
  constructor(consumer: Consumer, messages: ConsumerMessages, target: number, emptyAtStart: boolean) {
    this.#consumer = consumer;
    this.#messages = messages;
    this.#target = target;
    this.#synced = emptyAtStart;
    this.#idleSeen = new Promise((resolve) => {
      this.#idle = () => resolve(IDLE);
    });
    void this.#watchStatus();
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
        const result = this.#synced ? await next : await Promise.race([next, this.#idleSeen]);
        if (result === IDLE) {
          if (this.#closed) return;
          this.#synced = true;
          yield { type: "synced" };
          continue;
        }
        if (result.done) return;
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
    this.#idle();
    // stop() rather than close(): close() waits for the iterator to drain, which never happens if
    // nobody iterates (e.g. a reader closed right after an empty snapshot).
    this.#messages.stop();
    try {
      // The client leaves ordered consumers to the server's inactivity timeout; delete ours now.
      await this.#consumer.delete();
    } catch {
      // Already gone, or the connection is: the server drops the consumer after its inactivity timeout.
    }
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
export async function openReplay(js: JetStreamClient, jsm: JetStreamManager, options: ReplayOptions): Promise<Replay> {
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
  const messages = await consumer.consume({ max_messages: options.batch ?? 1000 });
  return new Replay(consumer, messages, target, info.num_pending === 0);
}
