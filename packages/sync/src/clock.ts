import type { Clock } from "./types.js";

/** The real clock: `Date.now()` and `setTimeout`, with timers that never keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref?.();
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};

/** A clock that moves only when told to: for tests of backoff, liveness and expiry. */
export interface ManualClock extends Clock {
  /** Moves time forward and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void;
  /** Number of sleeps currently waiting. */
  readonly pending: number;
  /** Deadline (epoch ms) of the earliest waiting sleep, if any. */
  nextDeadline(): number | undefined;
}

/** Creates a `ManualClock` starting at `start` epoch ms. */
export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  const sleepers = new Set<{ at: number; wake: () => void }>();
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const entry = {
          at: now + Math.max(0, ms),
          wake: () => {
            sleepers.delete(entry);
            signal?.removeEventListener("abort", entry.wake);
            resolve();
          },
        };
        sleepers.add(entry);
        signal?.addEventListener("abort", entry.wake, { once: true });
      });
    },
    advance(ms) {
      now += ms;
      for (const s of [...sleepers]) if (s.at <= now) s.wake();
    },
    get pending() {
      return sleepers.size;
    },
    nextDeadline() {
      let min: number | undefined;
      for (const s of sleepers) if (min === undefined || s.at < min) min = s.at;
      return min;
    },
  };
}
