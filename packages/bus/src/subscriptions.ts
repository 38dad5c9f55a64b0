/**
 * Plain core-NATS subscriptions to live state messages: no replay, no durability, just what is published
 * from now on. For a snapshot first, use {@link openStateReader}.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { decodeClusterStatus, decodeResourceEvent } from "./codecs.js";
import { DecodeError } from "./errors.js";
import type { BusMetrics } from "./metrics.js";
import { defaultBusMetrics } from "./metrics.js";
import type { ResourceFilter } from "./subjects.js";
import { resourceFilterSubject, statusFilterSubject } from "./subjects.js";
import type { ClusterStatusMessage, MessageKind, ResourceEvent } from "./types.js";

/** Options shared by live subscriptions. */
export interface LiveSubscriptionOptions {
  /** Share the messages with the other members of this queue group instead of receiving all of them. */
  queue?: string;
  /** Where decode failures are counted; default {@link defaultBusMetrics}. */
  metrics?: BusMetrics;
  /** Told about every message skipped because it did not decode. */
  onDecodeError?: (error: DecodeError) => void;
}

/**
 * A core-NATS subscription that yields decoded messages. Messages that do not decode are counted and
 * skipped; the loop never throws them. Iterate it once.
 */
export class BusSubscription<T> implements AsyncIterable<T>, AsyncDisposable {
  readonly #sub: Subscription;
  readonly #decode: (msg: Msg) => T;
  readonly #kind: MessageKind;
  readonly #options: LiveSubscriptionOptions;

  /** Use {@link subscribeResourceEvents} or {@link subscribeClusterStatus}. */
  constructor(sub: Subscription, kind: MessageKind, decode: (msg: Msg) => T, options: LiveSubscriptionOptions) {
    this.#sub = sub;
    this.#kind = kind;
    this.#decode = decode;
    this.#options = options;
  }

  /** The subject (possibly wildcard) subscribed to. */
  get subject(): string {
    return this.#sub.getSubject();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const msg of this.#sub) {
      let value: T;
      try {
        value = this.#decode(msg);
      } catch (err) {
        const error =
          err instanceof DecodeError
            ? err
            : new DecodeError(`cannot decode ${msg.subject}`, { kind: this.#kind, subject: msg.subject, cause: err });
        (this.#options.metrics ?? defaultBusMetrics).recordDecodeFailure(error);
        try {
          this.#options.onDecodeError?.(error);
        } catch {
          // A faulty listener must not end the subscription.
        }
        continue;
      }
      yield value;
    }
  }

  /** Resolves when the subscription ends; to an error if the server ended it (e.g. a permission error). */
  get closed(): Promise<Error | undefined> {
    return this.#sub.closed.then((result) => (result instanceof Error ? result : undefined));
  }

  /** Stops the subscription at once. */
  unsubscribe(): void {
    this.#sub.unsubscribe();
  }

  /** Stops the subscription after the messages already received are iterated. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#sub.isClosed()) return;
    try {
      await this.#sub.drain();
    } catch {
      this.#sub.unsubscribe();
    }
  }
}

/** Options of {@link subscribeResourceEvents}. */
export interface ResourceSubscriptionOptions extends LiveSubscriptionOptions, ResourceFilter {}

/**
 * Subscribes (core NATS, live only) to resource events, optionally of one cluster and/or kind.
 * The subscription reaches the server asynchronously; `await nc.flush()` before relying on it.
 */
export function subscribeResourceEvents(
  nc: NatsConnection,
  options: ResourceSubscriptionOptions = {},
): BusSubscription<ResourceEvent> {
  const subject = resourceFilterSubject({
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    ...(options.kind === undefined ? {} : { kind: options.kind }),
  });
  const sub = nc.subscribe(subject, options.queue === undefined ? {} : { queue: options.queue });
  return new BusSubscription(sub, "resource", (msg) => decodeResourceEvent(msg.data, msg.subject), options);
}

/** Options of {@link subscribeClusterStatus}. */
export interface StatusSubscriptionOptions extends LiveSubscriptionOptions {
  cluster?: string;
}

/** Subscribes (core NATS, live only) to cluster statuses, optionally of one cluster (flush as above). */
export function subscribeClusterStatus(
  nc: NatsConnection,
  options: StatusSubscriptionOptions = {},
): BusSubscription<ClusterStatusMessage> {
  const sub = nc.subscribe(
    statusFilterSubject(options.cluster),
    options.queue === undefined ? {} : { queue: options.queue },
  );
  return new BusSubscription(sub, "status", (msg) => decodeClusterStatus(msg.data, msg.subject), options);
}
