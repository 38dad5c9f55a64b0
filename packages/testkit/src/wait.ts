import { setTimeout as sleep } from "node:timers/promises";
import { WaitTimeoutError } from "./errors.js";

/**
 * Generous timeouts for tests on real servers. They live here, not in test files, so a slow CI machine
 * is handled in one place. A test that needs one of these to pass quickly is a benchmark, not a test.
 */
export const TIMEOUTS = {
  /** A server process answering its health check. */
  serverStart: 30_000,
  /** A server process exiting after SIGTERM before it is killed. */
  serverStop: 10_000,
  /** A condition that depends on the pipeline catching up (`waitFor`). */
  eventually: 20_000,
} as const;

export interface WaitForOptions {
  /** Milliseconds before giving up; default `TIMEOUTS.eventually`. */
  timeout?: number;
  /** Milliseconds between attempts; default 25, growing to 250. */
  interval?: number;
  /** Said in the error when the condition never holds. */
  message?: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false` (or stops throwing) and returns it.
 * On timeout the error names `message` and the last failure, so a failing test says what it was waiting for.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + (options.timeout ?? TIMEOUTS.eventually);
  let interval = options.interval ?? 25;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
      throw new WaitTimeoutError(`timed out waiting for ${options.message ?? "condition"}${why}`, {
        cause: lastError,
      });
    }
    await sleep(interval);
    interval = Math.min(interval * 2, 250);
  }
}
