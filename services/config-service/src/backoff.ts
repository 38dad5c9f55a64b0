import { setTimeout as sleep } from "node:timers/promises";

/** Waits `ms` milliseconds unless `signal` aborts first. Injected so tests never wait for a real timer. */
export type Delay = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real delay: resolves early (without throwing) when the signal aborts, so loops can exit cleanly. */
export const realDelay: Delay = async (ms, signal) => {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the caller checks its signal
  }
};

/** Capped exponential backoff with full jitter. */
export interface BackoffOptions {
  /** First delay in milliseconds; default 250. */
  initialMs?: number;
  /** Upper bound in milliseconds; default 30 000. */
  maxMs?: number;
  /** Returns a number in [0, 1); default `Math.random`. */
  random?: () => number;
}

/** A backoff sequence: `next()` gives the delay before the next attempt, `reset()` after a success. */
export interface Backoff {
  next(): number;
  reset(): void;
}

/**
 * Creates a backoff whose n-th delay is drawn uniformly from [cap/2, cap) with cap = min(max, initial·2ⁿ):
 * half the window keeps retries spread out, the other half guarantees progress towards the cap.
 */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  let attempt = 0;
  return {
    next() {
      const cap = Math.min(max, initial * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.round(cap / 2 + (random() * cap) / 2);
    },
    reset() {
      attempt = 0;
    },
  };
}
