import type { BackoffOptions } from "./types.js";

/** Defaults of `backoffDelay`: 0.5 s doubling up to 30 s. */
export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, factor: 2 } as const;

/**
 * Delay before retry number `attempt` (1-based): the capped exponential value, of which a random
 * half is kept ("equal jitter"). Clusters that failed together thus retry spread over time instead
 * of in a storm, while no delay falls below half the base.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const factor = options.factor ?? DEFAULT_BACKOFF.factor;
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(max, initial * factor ** Math.min(n - 1, 64));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base / 2 + (base / 2) * r);
}
