/**
 * One watch request through client-node's `Watch`, unchanged, made abortable at any moment.
 *
 * `Watch.watch()` resolves with its AbortController only once the response headers arrived, so a
 * server that never answers (a hung API server, a black-holed connection) cannot be aborted through
 * it. Each request here goes through a per-request view of the `KubeConfig` that remembers the HTTP
 * agent client-node creates for it; destroying that agent tears the socket down whatever state the
 * request is in, and client-node then reports the end through its `done` callback as usual.
 */
import type { Agent } from "node:http";
import { type KubeConfig, Watch } from "@kubernetes/client-node";

/** One event as the API server streams it. */
export type WatchEventHandler = (type: string, object: unknown) => void;

/** A running watch request. */
export interface WatchRequest {
  /** Resolves once the request is over: `null` for a clean end by the server, else the error. Never rejects. */
  readonly done: Promise<Error | null>;
  /** Ends the request now (idempotent); `done` then resolves. */
  abort(): void;
}

function isAgent(value: unknown): value is Agent {
  return typeof value === "object" && value !== null && typeof (value as Agent).destroy === "function";
}

/** Starts watching `path` (a collection path) with `query`, calling `onEvent` for every event line. */
export function startWatchRequest(
  config: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean>,
  onEvent: WatchEventHandler,
): WatchRequest {
  let agent: Agent | undefined;
  let controller: AbortController | undefined;
  let aborted = false;
  let finish: (err: Error | null) => void = () => {};
  const done = new Promise<Error | null>((resolve) => {
    finish = (err) => {
      resolve(err);
      // Sockets of a finished request must not linger (client-node makes one agent per request).
      agent?.destroy();
    };
  });

  // Everything else resolves through the prototype: the current cluster, the user, the auth plugins.
  const tracked = Object.create(config) as KubeConfig;
  tracked.applyToFetchOptions = async (options) => {
    if (aborted) throw new Error("the watch was aborted before it started");
    const init = await config.applyToFetchOptions(options);
    const candidate: unknown = init.agent;
    if (isAgent(candidate)) agent = candidate;
    if (aborted) throw new Error("the watch was aborted before it started");
    return init;
  };

  new Watch(tracked)
    .watch(
      path,
      query,
      (type: string, object: unknown) => onEvent(type, object),
      (err: unknown) => {
        finish(err === null || err === undefined ? null : err instanceof Error ? err : new Error(String(err)));
      },
    )
    .then(
      (c) => {
        controller = c;
        if (aborted) c.abort();
      },
      (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
    );

  return {
    done,
    abort() {
      if (aborted) return;
      aborted = true;
      controller?.abort();
      // Before the response headers there is no controller yet: only the socket can be torn down.
      agent?.destroy();
    },
  };
}
