import type { DecodeError } from "./errors.js";
import type { MessageKind } from "./types.js";
import { MESSAGE_KINDS } from "./types.js";

/** Called for every message that failed to decode. */
export type DecodeFailureListener = (error: DecodeError) => void;

/**
 * Counters a service exports to its metrics system (the bus itself does not depend on prom-client).
 * Every reader, subscription and watcher takes one; they share {@link defaultBusMetrics} unless given another.
 *
 * A prom-client counter can mirror it in a `collect()` callback, or subscribe with {@link onDecodeFailure}.
 */
export class BusMetrics {
  readonly #decodeFailures = new Map<MessageKind, number>(MESSAGE_KINDS.map((k) => [k, 0]));
  readonly #listeners = new Set<DecodeFailureListener>();
  #lastDecodeFailure: DecodeError | undefined;

  /** Counts a decode failure under its message kind and tells the listeners. A listener that throws is ignored. */
  recordDecodeFailure(error: DecodeError): void {
    this.#decodeFailures.set(error.kind, (this.#decodeFailures.get(error.kind) ?? 0) + 1);
    this.#lastDecodeFailure = error;
    for (const listener of this.#listeners) {
      try {
        listener(error);
      } catch {
        // A metrics listener must never break the subscription loop that reported the failure.
      }
    }
  }

  /** Decode failures so far, per message kind (every kind present, zero when none). */
  decodeFailures(): Record<MessageKind, number> {
    return Object.fromEntries(this.#decodeFailures) as Record<MessageKind, number>;
  }

  /** Total decode failures over all kinds. */
  totalDecodeFailures(): number {
    let total = 0;
    for (const n of this.#decodeFailures.values()) total += n;
    return total;
  }

  /** The most recent decode failure, for `status()` pages. */
  lastDecodeFailure(): DecodeError | undefined {
    return this.#lastDecodeFailure;
  }

  /** Registers a listener; returns the function that removes it. */
  onDecodeFailure(listener: DecodeFailureListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The process-wide metrics used when a caller does not pass its own. */
export const defaultBusMetrics = new BusMetrics();
