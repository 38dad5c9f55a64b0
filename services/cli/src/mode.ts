/**
 * Mode selection: NATS when `--nats` or `FEDVIEW_NATS_URL` is set, in-process otherwise. In-process
 * queries wait for the pipeline to settle (bounded by `--sync-timeout`) before they answer.
 */
import { LOCAL_CLUSTER } from "@fedview/model";
import type { ClusterStatusRow } from "@fedview/query-service";
import { describeDatastore, loadDatastoreConfig } from "./calico-config.js";
import { type BackendRequest, type CommandContext, natsUrl } from "./context.js";
import type { Pipeline, SourceFactories } from "./in-process.js";
import { openNatsBackend } from "./nats-backend.js";
import type { QueryBackend } from "./types.js";
import { callbackStream, createViewBackend } from "./view-backend.js";

/** Options of `openInProcessBackend` besides the command's request. */
export interface InProcessBackendOptions {
  sourceFactories?: SourceFactories;
  /** Overrides `--sync-timeout` (e.g. `status --wait --timeout`). */
  syncTimeoutMs?: number;
}

/** Wraps a running pipeline: every answer waits until it settled; `status(false)` does not. */
export function pipelineBackend(pipeline: Pipeline, settle: () => Promise<void>): QueryBackend {
  const inner = createViewBackend(pipeline.view, { dispose: async () => pipeline[Symbol.asyncDispose]() });
  return {
    mode: "in-process",
    eval: async (selector) => {
      await settle();
      return inner.eval(selector);
    },
    policy: async (name, options) => {
      await settle();
      return inner.policy(name, options);
    },
    endpoint: async (substring, options) => {
      await settle();
      return inner.endpoint(substring, options);
    },
    host: async (hostname, options) => {
      await settle();
      return inner.host(hostname, options);
    },
    status: async (wait = true) => {
      if (wait) await pipeline.settled;
      const answer = await inner.status();
      // A cluster that has not reported yet is connecting, as a new RCC starts out.
      const known = new Set(answer.result.map((row) => row.cluster));
      const pending: ClusterStatusRow[] = pipeline.clusters
        .filter((cluster) => !known.has(cluster))
        .map((cluster) => ({
          cluster,
          local: cluster === LOCAL_CLUSTER,
          status: "Connecting",
          workloadEndpoints: 0,
          hostEndpoints: 0,
          profiles: 0,
          policies: 0,
          stale: false,
        }));
      return { ...answer, result: [...answer.result, ...pending] };
    },
    watch: async (selector, signal) => {
      await settle();
      // Validates the selector (throws before any stream is handed out).
      await inner.watch(selector, AbortSignal.abort());
      const { view } = pipeline;
      const problemsKey = () => JSON.stringify(view.problems().map((p) => [p.cluster, p.status, p.error]));
      return callbackStream(signal, (push) => {
        const watch = view.watch(selector, push);
        push({ type: "synced", problems: view.problems() });
        // As the query service does: tell the watcher whenever the clusters not in sync change.
        let last = problemsKey();
        const stop = pipeline.onStatus(() => {
          const key = problemsKey();
          if (key === last) return;
          last = key;
          push({ type: "problems", problems: view.problems() });
        });
        return () => {
          stop();
          watch.close();
        };
      });
    },
    [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
  };
}

/** In-process mode against the datastore of `-c` / calicoctl's environment. */
export async function openInProcessBackend(
  request: BackendRequest,
  ctx: CommandContext,
  options: InProcessBackendOptions = {},
): Promise<QueryBackend> {
  const { globals } = request;
  const datastore = await loadDatastoreConfig(globals.config, ctx.io.env, ctx.io.cwd);
  // Loaded on demand: the datastore clients (Kubernetes' above all) take seconds to import, which
  // `version`, `--help` and NATS mode should not pay.
  const { cliLogger, settleLocal, startPipeline } = await import("./in-process.js");
  ctx.debug(`in-process mode: local datastore ${describeDatastore(datastore)} (from ${datastore.origin})`);
  const pipeline = await startPipeline({
    datastore,
    logger: cliLogger(ctx.io, globals.debug === true),
    syncTimeoutMs: options.syncTimeoutMs ?? globals.syncTimeoutMs,
    ...(options.sourceFactories === undefined ? {} : { sourceFactories: options.sourceFactories }),
  });
  ctx.debug(`syncing clusters: ${pipeline.clusters.join(", ")}`);
  let settling: Promise<void> | undefined;
  const settle = () => {
    settling ??= settleLocal(pipeline, datastore);
    return settling;
  };
  return pipelineBackend(pipeline, settle);
}

/** The default `BackendOpener`: NATS or in-process. */
export async function openBackend(request: BackendRequest, ctx: CommandContext): Promise<QueryBackend> {
  const url = natsUrl(request.globals, ctx.io);
  if (url !== undefined) {
    ctx.debug(`NATS mode: asking the query service on ${url}`);
    return openNatsBackend(url, ctx.io.env);
  }
  return openInProcessBackend(
    request,
    ctx,
    request.syncTimeoutMs === undefined ? {} : { syncTimeoutMs: request.syncTimeoutMs },
  );
}
