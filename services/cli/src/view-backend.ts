/**
 * A `QueryBackend` over a `FederatedView` held in this process: what in-process mode answers from once
 * the pipeline has loaded the view, and what tests hand to `runCli` directly.
 */
import type { ClusterProblem, FederatedView } from "@fedview/query-service";
import type { Answer, BackendMode, QueryBackend, WatchMessage, WatchStream } from "./types.js";

/** Options of `createViewBackend`. */
export interface ViewBackendOptions {
  mode?: BackendMode;
  /**
   * Problems to report with every answer; default the view's own (`view.problems()`, from the
   * statuses applied to it).
   */
  problems?: () => ClusterProblem[];
  /** Called once on dispose (closing datastore clients and watches the view is fed by). */
  dispose?: () => Promise<void>;
}

/** Turns callbacks into an async iterable that ends when `signal` aborts. */
export function callbackStream(
  signal: AbortSignal,
  subscribe: (push: (event: WatchMessage) => void) => () => void,
): WatchStream {
  return {
    async *[Symbol.asyncIterator]() {
      const queue: WatchMessage[] = [];
      let wake: (() => void) | undefined;
      const onAbort = () => wake?.();
      const unsubscribe = subscribe((event) => {
        queue.push(event);
        wake?.();
      });
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        for (;;) {
          const event = queue.shift();
          if (event !== undefined) {
            yield event;
            continue;
          }
          if (signal.aborted) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        unsubscribe();
      }
    },
  };
}

/** Answers every query from `view`. */
export function createViewBackend(view: FederatedView, options: ViewBackendOptions = {}): QueryBackend {
  const problems = options.problems ?? (() => view.problems());
  const answer = <T>(result: T): Promise<Answer<T>> => Promise.resolve({ result, problems: problems() });
  let disposed = false;
  return {
    mode: options.mode ?? "in-process",
    eval: async (selector) => answer(view.eval(selector)),
    policy: async (name, opts) => answer(view.policy(name, opts)),
    endpoint: async (substring, opts) => answer(view.endpoint(substring, opts)),
    host: async (hostname, opts) => answer(view.host(hostname, opts)),
    status: async () => answer(view.status()),
    watch: async (selector, signal) => {
      // Parse errors surface here, before the stream is handed out.
      const probe = view.watch(selector, () => {});
      probe.close();
      return callbackStream(signal, (push) => {
        // The current matches arrive while `watch` runs; `synced` follows them.
        const watch = view.watch(selector, push);
        push({ type: "synced", problems: problems() });
        return () => watch.close();
      });
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      await options.dispose?.();
    },
  };
}
