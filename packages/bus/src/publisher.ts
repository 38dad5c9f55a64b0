/**
 * Publishing state into the durable stream. Every publish goes through JetStream and waits for (or
 * tracks) the stream's ack, so a connector knows what is stored. Core-NATS subscribers see the same
 * messages live, because a JetStream publish is an ordinary publish that the stream also captures.
 */
import type { JetStreamClient, JetStreamPublishOptions } from "@nats-io/jetstream";
import { JetStreamApiError } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { createInbox } from "@nats-io/nats-core";
import { encodeClusterStatus, encodeResourceEvent } from "./codecs.js";
import { ConflictError, PublishError } from "./errors.js";
import { resourceSubject, statusSubject } from "./subjects.js";
import type { ClusterStatusMessage, ResourceEvent } from "./types.js";
import { stateHeaders } from "./wire-headers.js";

/** The stream's acknowledgement of a stored message. */
export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/** Options of a single acknowledged publish. */
export interface PublishStateOptions {
  /** Milliseconds to wait for the ack; default the JetStream client's timeout. */
  timeoutMs?: number;
  /**
   * Store only if the subject's last message has this stream sequence (0: the subject is empty).
   * A mismatch raises {@link ConflictError}: someone else wrote the subject meanwhile.
   */
  expectLastSubjectSequence?: number;
}

const WRONG_LAST_SEQUENCE = 10071;
/** The JetStream client's own default ack timeout. */
const DEFAULT_ACK_TIMEOUT_MS = 5000;
const utf8Decoder = new TextDecoder();

/** The connection behind a JetStream client, when the client exposes it (the nats.js one does). */
function connectionOf(js: JetStreamClient): NatsConnection | undefined {
  const nc = (js as unknown as { nc?: unknown }).nc;
  return typeof nc === "object" && nc !== null && "publish" in nc && "subscribe" in nc
    ? (nc as NatsConnection)
    : undefined;
}

async function publishAcked(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  op: "upsert" | "delete",
  generation: number,
  revision: string | undefined,
  options: PublishStateOptions,
): Promise<PublishAck> {
  const opts: Partial<JetStreamPublishOptions> = { headers: stateHeaders(op, generation, revision) };
  if (options.timeoutMs !== undefined) opts.timeout = options.timeoutMs;
  if (options.expectLastSubjectSequence !== undefined) {
    opts.expect = { lastSubjectSequence: options.expectLastSubjectSequence };
  }
  try {
    const ack = await js.publish(subject, data, opts);
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
      throw new ConflictError(`${subject} changed since sequence ${options.expectLastSubjectSequence}`, { cause: err });
    }
    throw new PublishError(`JetStream did not store ${subject}: ${(err as Error).message}`, 1, { cause: err });
  }
}

/**
 * Publishes one resource event (an upsert, or a delete as a tombstone) and waits for the stream's ack.
 * Throws {@link EncodeError} for an invalid event, {@link PublishError} when not stored, and
 * {@link ConflictError} when `expectLastSubjectSequence` does not hold.
 */
export async function publishResourceEvent(
  js: JetStreamClient,
  event: ResourceEvent,
  options: PublishStateOptions = {},
): Promise<PublishAck> {
  const data = encodeResourceEvent(event);
  const subject = resourceSubject(event.cluster, event.kind, event.id);
  return publishAcked(js, subject, data, event.op, event.generation, event.revision, options);
}

/** Publishes a cluster status (or its removal, a tombstone) and waits for the stream's ack. */
export async function publishClusterStatus(
  js: JetStreamClient,
  message: ClusterStatusMessage,
  options: PublishStateOptions = {},
): Promise<PublishAck> {
  const data = encodeClusterStatus(message);
  return publishAcked(js, statusSubject(message.cluster), data, message.op, message.generation, undefined, options);
}

/** Options of a {@link ResourcePublisher}. */
export interface ResourcePublisherOptions {
  /** Publishes awaiting their ack at once; default 256. Higher is faster and uses more memory. */
  maxInFlight?: number;
  /** Milliseconds to wait for each ack; default the JetStream client's timeout. */
  timeoutMs?: number;
}

/** Counters of a {@link ResourcePublisher}. */
export interface ResourcePublisherStats {
  published: number;
  acked: number;
  failed: number;
  inFlight: number;
}

/**
 * Pipelined publishing of many resource events (a connector's listing or watch stream) with a bounded
 * window of unacknowledged publishes.
 *
 * Order: events leave in the order `publish` was called (a full window queues callers first-in first-out),
 * and one connection delivers them to the stream in that order, so the stream keeps the last event of
 * each subject. A publish is never retried, because a late retry could overwrite a newer event.
 *
 * Batching: events published within one event-loop turn are handed to the client together at its end
 * (one socket write), in order.
 *
 * Acks: each event is published with a reply subject under one inbox of this publisher, and the
 * stream's acks come back on a single wildcard subscription, matched by number, with one timer
 * sweeping for overdue acks. A JetStream request per event would cost a promise, a timer and an
 * `Error` each, which at 20k events/s was a quarter of a connector's CPU. (With a client that does
 * not expose its connection, events go through `JetStreamClient.publish`.)
 *
 * Failures: `publish` resolves once the event is queued for sending, not stored. A failed ack is reported exactly once,
 * as a {@link PublishError} from the next `publish` or `flush` call; the caller should then treat what
 * it published since its last successful `flush` as unknown and resync (republish its listing).
 */
export class ResourcePublisher implements AsyncDisposable {
  readonly #js: JetStreamClient;
  readonly #maxInFlight: number;
  readonly #timeoutMs: number | undefined;
  readonly #waiters: Array<() => void> = [];
  #idle: Array<() => void> = [];
  /** Events with a slot, waiting for the end of the event-loop turn to be sent together. */
  #queued: Array<{ subject: string; data: Uint8Array; opts: Partial<JetStreamPublishOptions> }> = [];
  #inFlight = 0;
  #published = 0;
  #acked = 0;
  #failed = 0;
  #unreported = 0;
  #firstUnreported: unknown;
  #closed = false;
  readonly #nc: NatsConnection | undefined;
  readonly #ackTimeoutMs: number;
  /** Inbox of the acks (`<inbox>.<n>`), subscribed on first use. */
  #ackInbox: string | undefined;
  #ackSub: Subscription | undefined;
  #ackSeq = 0;
  /** Ack number → deadline, in send order (so the sweep only looks at the front). */
  readonly #awaitingAck = new Map<number, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(js: JetStreamClient, options: ResourcePublisherOptions = {}) {
    this.#js = js;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 256);
    this.#timeoutMs = options.timeoutMs;
    this.#nc = connectionOf(js);
    this.#ackTimeoutMs = options.timeoutMs ?? js.getOptions().timeout ?? DEFAULT_ACK_TIMEOUT_MS;
  }

  /**
   * Queues one event for sending (see Batching), waiting first for room in the window. Throws {@link EncodeError} for an invalid
   * event (nothing sent) and {@link PublishError} for earlier failures not yet reported.
   */
  async publish(event: ResourceEvent): Promise<void> {
    if (this.#closed) throw new PublishError("the resource publisher is closed", 0);
    this.#throwUnreported();
    // Encode first: an invalid event fails at once instead of after waiting for the window.
    const data = encodeResourceEvent(event);
    const subject = resourceSubject(event.cluster, event.kind, event.id);
    const headers = stateHeaders(event.op, event.generation, event.revision);
    await this.#slot();
    this.#published++;
    const opts: Partial<JetStreamPublishOptions> = { headers };
    if (this.#timeoutMs !== undefined) opts.timeout = this.#timeoutMs;
    this.#queued.push({ subject, data, opts });
    if (this.#queued.length === 1) setImmediate(this.#sendQueued);
  }

  /**
   * Hands every queued event to the client at once. The client writes what it is given within one
   * tick as one socket write; a caller that awaits each `publish` would otherwise make one write per
   * event, which cost a connector more CPU than encoding them.
   */
  readonly #sendQueued = (): void => {
    const batch = this.#queued;
    this.#queued = [];
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) {
      const inbox = this.#ensureAckInbox(nc);
      const deadline = performance.now() + this.#ackTimeoutMs;
      for (const { subject, data, opts } of batch) {
        const n = ++this.#ackSeq;
        this.#awaitingAck.set(n, deadline);
        try {
          nc.publish(subject, data, { reply: `${inbox}.${n}`, ...(opts.headers ? { headers: opts.headers } : {}) });
        } catch (err) {
          this.#awaitingAck.delete(n);
          this.#settle(err);
        }
      }
      this.#sweeper ??= setInterval(this.#sweep, Math.max(10, Math.min(1000, this.#ackTimeoutMs / 4)));
      return;
    }
    for (const { subject, data, opts } of batch) {
      this.#js.publish(subject, data, opts).then(
        () => this.#settle(undefined),
        (err: unknown) => this.#settle(err ?? new Error("publish failed")),
      );
    }
  };

  #ensureAckInbox(nc: NatsConnection): string {
    if (this.#ackInbox === undefined) {
      const prefix = (nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
      const inbox = createInbox(prefix);
      this.#ackInbox = inbox;
      this.#ackSub = nc.subscribe(`${inbox}.*`, {
        callback: (err, msg) => {
          if (err !== null) return;
          this.#onAck(Number(msg.subject.slice(inbox.length + 1)), msg);
        },
      });
    }
    return this.#ackInbox;
  }

  #onAck(n: number, msg: Msg): void {
    // Unknown: already timed out (and counted as failed).
    if (!this.#awaitingAck.delete(n)) return;
    if (msg.headers?.hasError === true && msg.data.length === 0) {
      const code = msg.headers.code;
      this.#settle(new Error(code === 503 ? "no stream stores this subject (no responders)" : msg.headers.status));
      return;
    }
    let ack: { stream?: unknown; seq?: unknown; error?: { code?: number; err_code?: number; description?: string } };
    try {
      ack = JSON.parse(utf8Decoder.decode(msg.data)) as typeof ack;
    } catch (err) {
      this.#settle(err);
      return;
    }
    if (ack.error !== undefined) {
      this.#settle(
        new Error(`${ack.error.description ?? "JetStream error"} (${ack.error.err_code ?? ack.error.code})`),
      );
    } else if (typeof ack.stream === "string" && typeof ack.seq === "number") {
      this.#settle(undefined);
    } else {
      this.#settle(new Error("invalid ack response"));
    }
  }

  /** Fails acks past their deadline; stops when none is awaited. */
  readonly #sweep = (): void => {
    const now = performance.now();
    for (const [n, deadline] of this.#awaitingAck) {
      if (deadline > now) break;
      this.#awaitingAck.delete(n);
      this.#settle(new Error(`no ack within ${this.#ackTimeoutMs} ms`));
    }
    if (this.#awaitingAck.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };

  /** Records one event's outcome: stored (no error) or not. */
  #settle(err: unknown): void {
    if (err === undefined) {
      this.#acked++;
    } else {
      this.#failed++;
      if (this.#unreported === 0) this.#firstUnreported = err;
      this.#unreported++;
    }
    this.#release();
  }

  /** Waits until every sent event is acknowledged; throws {@link PublishError} for unreported failures. */
  async flush(): Promise<void> {
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.#throwUnreported();
  }

  /** Counters since construction. */
  stats(): ResourcePublisherStats {
    return { published: this.#published, acked: this.#acked, failed: this.#failed, inFlight: this.#inFlight };
  }

  /** Waits for in-flight acks (failures are dropped: the caller chose to stop) and refuses further publishes. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#ackSub?.unsubscribe();
    this.#ackSub = undefined;
    this.#ackInbox = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #throwUnreported(): void {
    if (this.#unreported === 0) return;
    const n = this.#unreported;
    const cause = this.#firstUnreported;
    this.#unreported = 0;
    this.#firstUnreported = undefined;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new PublishError(`${n} resource event(s) were not stored by JetStream: ${reason}`, n, { cause });
  }

  #slot(): Promise<void> {
    // Queue behind earlier waiters even when a slot is free, so events never overtake each other.
    if (this.#inFlight < this.#maxInFlight && this.#waiters.length === 0) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) {
      // Hand the slot straight to the oldest waiter; the in-flight count stays the same.
      next();
      return;
    }
    this.#inFlight--;
    if (this.#inFlight === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }
}
