import { type KubeConfig, Watch } from "@kubernetes/client-node";
import { DatastoreError } from "./errors.js";
import { kubeStatusCode } from "./kube-client.js";
import { ExpiredWatchError, type WatchEnd, type WatchStream } from "./list-watch.js";

/** A Kubernetes object as a watch delivers it. */
export interface KubeWatchObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  [key: string]: unknown;
}

/** How a change was reported: an object added or modified, or deleted. */
export type KubeChange = { type: "upsert" | "delete"; object: KubeWatchObject } | { type: "bookmark"; version: string };

/** How long a stop waits for the request to settle before giving up on it. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * Watches `path` from `resourceVersion` with bookmarks on. A 410 (answered up front or as an ERROR event,
 * as kube-apiserver does for a too-old version) ends the stream with `ExpiredWatchError`.
 */
export function watchKubePath(
  config: KubeConfig,
  path: string,
  resourceVersion: string,
  onChange: (change: KubeChange) => void,
  query: Record<string, string> = {},
): WatchStream {
  let stopped = false;
  let settle!: (end: WatchEnd) => void;
  const done = new Promise<WatchEnd>((resolve) => {
    settle = resolve;
  });
  const finish = (end: WatchEnd): void => settle(stopped ? undefined : end);

  const request = new Watch(config)
    .watch(
      path,
      { ...query, resourceVersion, allowWatchBookmarks: true },
      (type: string, object: KubeWatchObject) => {
        if (stopped) return;
        if (type === "ADDED" || type === "MODIFIED") onChange({ type: "upsert", object });
        else if (type === "DELETED") onChange({ type: "delete", object });
        else if (type === "BOOKMARK") {
          const version = object.metadata?.resourceVersion;
          if (version) onChange({ type: "bookmark", version });
        } else if (type === "ERROR") {
          const status = object as { code?: number; message?: string };
          finish(
            status.code === 410
              ? new ExpiredWatchError(`watch of ${path} from ${resourceVersion} expired: ${status.message ?? "410"}`)
              : new DatastoreError(`watch of ${path} failed: ${status.message ?? JSON.stringify(object)}`),
          );
          void request.then((controller) => controller.abort());
        }
      },
      (error: unknown) => {
        if (error === null || error === undefined) return finish(undefined);
        const code = kubeStatusCode(error);
        finish(
          code === 410
            ? new ExpiredWatchError(`watch of ${path} from ${resourceVersion} expired (410)`, { cause: error })
            : new DatastoreError(`watch of ${path} failed: ${(error as Error).message ?? String(error)}`, {
                cause: error,
              }),
        );
      },
    )
    .catch((error: unknown) => {
      finish(new DatastoreError(`cannot watch ${path}: ${(error as Error).message}`, { cause: error }));
      return new AbortController();
    });

  return {
    done,
    async stop() {
      if (stopped) return;
      stopped = true;
      settle(undefined);
      // The request may still be waiting for response headers; do not wait for it forever.
      await Promise.race([
        request.then((controller) => controller.abort()),
        new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref()),
      ]);
    },
  };
}
