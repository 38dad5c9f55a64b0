/**
 * Small helpers over `AbortSignal` that always remove their listeners, because the signals they
 * listen to (a cluster's close signal) live as long as the process.
 */

/** A controller aborted when any of `signals` aborts; `dispose()` detaches it from them. */
export interface LinkedAbort {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
  dispose(): void;
}

/** Links a new controller to `signals`. */
export function linkAbort(...signals: AbortSignal[]): LinkedAbort {
  const controller = new AbortController();
  const onAbort = () => {
    detach();
    controller.abort();
  };
  const detach = () => {
    for (const s of signals) s.removeEventListener("abort", onAbort);
  };
  if (signals.some((s) => s.aborted)) controller.abort();
  else for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: (reason?: unknown) => {
      detach();
      controller.abort(reason);
    },
    dispose: detach,
  };
}

/**
 * Waits for `promise` unless one of `signals` aborts first: `{ value }` when the promise settled
 * first (a rejection is returned as `{ error }`), `undefined` when a signal won.
 */
export function raceSignals<T>(
  promise: Promise<T>,
  signals: AbortSignal[],
): Promise<{ value: T; error?: undefined } | { value?: undefined; error: unknown } | undefined> {
  return new Promise((resolve) => {
    if (signals.some((s) => s.aborted)) {
      resolve(undefined);
      return;
    }
    const onAbort = () => {
      detach();
      resolve(undefined);
    };
    const detach = () => {
      for (const s of signals) s.removeEventListener("abort", onAbort);
    };
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        detach();
        resolve({ value });
      },
      (error: unknown) => {
        detach();
        resolve({ error });
      },
    );
  });
}
