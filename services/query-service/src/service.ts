/**
 * The query service: connects to NATS, replays the durable state stream into a `FederatedView`, goes
 * live, and — once the snapshot is loaded — serves the `fedview-query` micro service in a queue group
 * shared by replicas. It never contacts a cluster: on restart it rebuilds from JetStream alone.
 *
 * A replica that is still loading does not join the queue group, so it never answers from an
 * incomplete view; `start()` waits for the snapshot at most `readyTimeoutMs` and logs progress.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type BusConnection,
  BusMetrics,
  type BusService,
  connectBus,
  ensureStateStream,
  openStateReader,
  QUERY_SERVICE_NAME,
  type ServiceEndpoint,
  type StateReader,
  type StreamEndpoint,
  serveService,
  type UnaryEndpoint,
} from "@fedview/bus";
import { type Logger, pino } from "pino";
import type { QueryServiceConfig } from "./config.js";
import type { HandlerContext } from "./handlers/common.js";
import { endpointEndpoint } from "./handlers/endpoint.js";
import { evalEndpoint } from "./handlers/eval.js";
import { hostEndpoint } from "./handlers/host.js";
import { inventoryEndpoint } from "./handlers/inventory.js";
import { policyEndpoint } from "./handlers/policy.js";
import { statusEndpoint } from "./handlers/status.js";
import { watchEndpoint } from "./handlers/watch.js";
import { collectGarbage } from "./heap.js";
import { createQueryMetrics, type QueryMetrics } from "./metrics.js";
import type { ClusterProblem, QueryServiceStatus } from "./types.js";
import { FederatedView } from "./view.js";

/** The version the micro service announces. */
export const QUERY_SERVICE_VERSION = "0.1.0";

/** Injected dependencies; tests use them, production takes the defaults. */
export interface QueryServiceDeps {
  logger?: Logger;
  /** Waits `ms`, or less if `signal` aborts. Default: a timer. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A running query service. */
export interface QueryService extends AsyncDisposable {
  /** Connects, starts loading, and waits for the snapshot at most `readyTimeoutMs`. Idempotent. */
  start(): Promise<void>;
  status(): QueryServiceStatus;
  /** Resolves once the snapshot is loaded and the micro service answers. */
  readonly ready: Promise<void>;
  /** The view the service answers from (read-only use). */
  readonly view: FederatedView;
  /** Base URL of `/metrics`, `/healthz` and `/readyz` once started (undefined when disabled). */
  readonly metricsUrl: string | undefined;
}

/**
 * bus's `ServiceEndpoint` is `UnaryEndpoint<never, …>`, which no endpoint with a request schema
 * satisfies (a zod schema's output type is covariant); until bus widens it, endpoints are cast here.
 */
function asServiceEndpoint(
  endpoint: UnaryEndpoint<never, unknown> | StreamEndpoint<never, unknown> | object,
): ServiceEndpoint {
  return endpoint as ServiceEndpoint;
}

function defaultDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Creates the query service; nothing happens until `start()`. */
export function createQueryService(config: QueryServiceConfig, deps: QueryServiceDeps = {}): QueryService {
  const log = deps.logger ?? pino({ name: "fedview-query-service", level: config.logLevel });
  const delay = deps.delay ?? defaultDelay;
  const busMetrics = new BusMetrics();
  const stopping = new AbortController();
  const readyGate = deferred();
  const problemListeners = new Set<(problems: ClusterProblem[]) => void>();

  let applied = 0;
  let dropped = 0;
  let snapshotMessages = 0;
  let readerFailures = 0;
  let watches = 0;
  let ready = false;
  let readySince: string | undefined;
  let lastError: { message: string; at: string } | undefined;
  let lastProblems = "[]";

  const view = new FederatedView({
    tombstoneRetentionMs: config.tombstoneRetentionMs,
    onDrop: (event, reason, detail) => {
      dropped++;
      metrics.recordDropped(reason);
      if (reason !== "stale") {
        log.warn({ cluster: event.cluster, kind: event.kind, id: event.id, reason, detail }, "resource event dropped");
      }
    },
  });
  const metrics: QueryMetrics = createQueryMetrics(view, busMetrics);

  let nc: BusConnection | undefined;
  let reader: StateReader | undefined;
  let service: BusService | undefined;
  let http: Server | undefined;
  let metricsUrl: string | undefined;
  let readerLoop: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let disposing: Promise<void> | undefined;

  const recordError = (err: unknown, message: string): void => {
    const text = err instanceof Error ? err.message : String(err);
    lastError = { message: `${message}: ${text}`, at: new Date().toISOString() };
    log.error({ err }, message);
  };

  const status = (): QueryServiceStatus => {
    const s: QueryServiceStatus = {
      ready,
      connected: nc !== undefined && !nc.isClosed(),
      applied,
      dropped,
      snapshotMessages,
      readerFailures,
      endpoints: view.endpointCount,
      watches,
    };
    if (readySince !== undefined) s.readySince = readySince;
    if (lastError !== undefined) s.lastError = lastError;
    return s;
  };

  const notifyProblems = (): void => {
    const problems = view.problems();
    const text = JSON.stringify(problems);
    if (text === lastProblems) return;
    lastProblems = text;
    for (const listener of problemListeners) listener(problems);
  };

  const context: HandlerContext = {
    view,
    metrics: {
      ...metrics,
      watchOpened: () => {
        watches++;
        metrics.watchOpened();
      },
      watchClosed: () => {
        watches--;
        metrics.watchClosed();
      },
    },
    watchHeartbeatMs: config.watchHeartbeatMs,
    serviceStatus: status,
    onProblemsChange(listener) {
      problemListeners.add(listener);
      return () => problemListeners.delete(listener);
    },
  };

  /** Joins the queue group; retried with backoff until it works or the service stops. */
  const serve = async (): Promise<void> => {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      try {
        service = await serveService(nc!, {
          name: QUERY_SERVICE_NAME,
          version: QUERY_SERVICE_VERSION,
          description: "fedview federated view: calicoq eval, policy, endpoint, host, status and watch; inventory",
          queue: config.queue,
          endpoints: {
            eval: asServiceEndpoint(evalEndpoint(context)),
            policy: asServiceEndpoint(policyEndpoint(context)),
            endpoint: asServiceEndpoint(endpointEndpoint(context)),
            host: asServiceEndpoint(hostEndpoint(context)),
            status: asServiceEndpoint(statusEndpoint(context)),
            watch: asServiceEndpoint(watchEndpoint(context)),
            inventory: asServiceEndpoint(inventoryEndpoint(context)),
          },
          metrics: busMetrics,
          onError: (err, endpoint) => recordError(err, `query ${endpoint} failed`),
        });
        // The endpoints' subscriptions reach the server before anyone is told the service answers.
        await nc!.flush();
        ready = true;
        readySince = new Date().toISOString();
        metrics.setReady(true);
        log.info(
          { endpoints: view.endpointCount, messages: snapshotMessages, queue: config.queue },
          "snapshot loaded; serving fedview-query",
        );
        readyGate.resolve();
        return;
      } catch (err) {
        recordError(err, "cannot start the fedview-query micro service");
        await delay(backoff(attempt), stopping.signal);
      }
    }
  };

  const backoff = (attempt: number): number => {
    const base = Math.min(config.retry.maxMs, config.retry.initialMs * 2 ** Math.min(attempt, 16));
    return base / 2 + Math.random() * (base / 2);
  };

  /** Reads the state stream forever: snapshot, then live. Reopens after failures; never throws. */
  const runReader = async (): Promise<void> => {
    let attempt = 0;
    while (!stopping.signal.aborted) {
      try {
        reader = await openStateReader(nc!, {
          stream: config.stateStream,
          metrics: busMetrics,
          onDecodeError: (err) => log.warn({ err: err.message, subject: err.subject }, "undecodable state message"),
        });
        // By batch: whatever arrived since the last turn is applied in one synchronous pass, so the
        // messages die young and a replay costs one promise per batch, not several per message.
        for await (const items of reader.batches()) {
          attempt = 0;
          let resources = 0;
          let statuses = 0;
          for (const item of items) {
            if (!ready && item.type !== "snapshot-complete") snapshotMessages++;
            switch (item.type) {
              case "resource":
                if (view.applyResourceEvent(item.event)) resources++;
                break;
              case "status":
                if (view.applyClusterStatus(item.status)) {
                  statuses++;
                  notifyProblems();
                }
                break;
              case "snapshot-complete":
                if (!ready && service === undefined) {
                  const gcMs = collectGarbage();
                  log.info({ gcMs: Math.round(gcMs) }, "heap collected after loading the snapshot");
                  void serve();
                }
                break;
            }
          }
          applied += resources + statuses;
          if (resources > 0) metrics.recordApplied("resource", resources);
          if (statuses > 0) metrics.recordApplied("status", statuses);
        }
        const outcome = await reader.closed();
        if (stopping.signal.aborted) return;
        throw outcome instanceof Error ? outcome : new Error("the state reader stopped");
      } catch (err) {
        if (stopping.signal.aborted) return;
        readerFailures++;
        metrics.recordReaderFailure();
        recordError(err, "state stream reader failed; reopening");
        await reader?.close().catch(() => {});
        await delay(backoff(attempt++), stopping.signal);
      }
    }
  };

  const startHttp = async (): Promise<void> => {
    if (config.metrics === null) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/metrics") {
        metrics.registry.metrics().then(
          (body) => {
            res.writeHead(200, { "content-type": metrics.registry.contentType });
            res.end(body);
          },
          (err: unknown) => {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(String(err));
          },
        );
        return;
      }
      if (path === "/healthz" || path === "/readyz") {
        const ok = path === "/healthz" ? nc !== undefined && !nc.isClosed() && !stopping.signal.aborted : ready;
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify(status()));
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.metrics!.port, config.metrics!.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    http = server;
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    metricsUrl = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`;
    log.info({ url: metricsUrl }, "metrics and health endpoints listening");
  };

  const start = (): Promise<void> => {
    starting ??= (async () => {
      nc = await connectBus(config.bus);
      log.info({ servers: config.bus.servers, stream: config.stateStream }, "connected to NATS");
      if (config.ensureStream) await ensureStateStream(nc, { stateStream: config.stateStream });
      await startHttp();
      readerLoop = runReader();
      const progress = setInterval(() => {
        log.info({ messages: snapshotMessages, endpoints: view.endpointCount }, "loading snapshot from JetStream");
      }, config.progressIntervalMs);
      progress.unref();
      const loaded = await Promise.race([
        readyGate.promise.then(() => true),
        delay(config.readyTimeoutMs, stopping.signal).then(() => false),
      ]);
      clearInterval(progress);
      if (!loaded && !stopping.signal.aborted) {
        log.warn(
          { messages: snapshotMessages, waitedMs: config.readyTimeoutMs },
          "snapshot not loaded yet; not serving until it is",
        );
        // Keep logging progress until ready.
        const later = setInterval(() => {
          if (ready || stopping.signal.aborted) clearInterval(later);
          else
            log.info({ messages: snapshotMessages, endpoints: view.endpointCount }, "loading snapshot from JetStream");
        }, config.progressIntervalMs);
        later.unref();
      }
    })();
    return starting;
  };

  const dispose = (): Promise<void> => {
    disposing ??= (async () => {
      stopping.abort();
      metrics.setReady(false);
      ready = false;
      await starting?.catch(() => {});
      await service?.stop().catch((err: unknown) => log.warn({ err }, "stopping the micro service failed"));
      await reader?.close().catch(() => {});
      await readerLoop;
      if (http !== undefined) {
        const server = http;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      await nc?.[Symbol.asyncDispose]();
      problemListeners.clear();
      log.info("query service stopped");
    })();
    return disposing;
  };

  return {
    start,
    status,
    ready: readyGate.promise,
    view,
    get metricsUrl() {
      return metricsUrl;
    },
    [Symbol.asyncDispose]: dispose,
  };
}
