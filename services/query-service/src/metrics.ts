/**
 * Prometheus metrics of one query service instance, on its own registry (replicas in one process,
 * as in tests, never collide). View sizes and statuses are read from the view at scrape time.
 */
import type { BusMetrics } from "@fedview/bus";
import { isLocalCluster, REMOTE_CLUSTER_STATUS_METRIC_VALUE } from "@fedview/model";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DropReason, FederatedView } from "./view.js";

/** The verbs of the query service, as metric labels. */
export type QueryVerb = "eval" | "policy" | "endpoint" | "host" | "status" | "watch" | "inventory";

/** How a request ended. */
export type QueryOutcome = "ok" | "not_found" | "invalid" | "error";

export interface QueryMetrics {
  readonly registry: Registry;
  /** Records one answered request. */
  observeQuery(verb: QueryVerb, outcome: QueryOutcome, seconds: number): void;
  /** Counts `count` (default 1) applied messages of `type`. */
  recordApplied(type: "resource" | "status", count?: number): void;
  recordDropped(reason: DropReason): void;
  setReady(ready: boolean): void;
  recordReaderFailure(): void;
  watchOpened(): void;
  watchClosed(): void;
}

/** Creates the metrics of one service instance, reading view sizes from `view` at scrape time. */
export function createQueryMetrics(view: FederatedView, bus: BusMetrics): QueryMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const queries = new Counter({
    name: "fedview_query_requests_total",
    help: "Query requests answered, by verb and outcome.",
    labelNames: ["verb", "outcome"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "fedview_query_duration_seconds",
    help: "Time to answer a query, by verb (for watch: time to send the initial matches).",
    labelNames: ["verb"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: "fedview_view_resources",
    help: "Resources held in the federated view, by cluster and kind.",
    labelNames: ["cluster", "kind"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const size of view.sizes()) this.set({ cluster: size.cluster, kind: size.kind }, size.count);
    },
  });
  new Gauge({
    name: "remote_cluster_connection_status",
    help: "Remote cluster status as Calico numbers it: ConnectionFailed 0, Connecting 1, InSync 2, ResyncInProgress 3, ConfigChangeRestartRequired 4, ConfigIncomplete 5.",
    labelNames: ["remote_cluster_name"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of view.status()) {
        if (row.status === undefined || isLocalCluster(row.cluster)) continue;
        this.set({ remote_cluster_name: row.cluster }, REMOTE_CLUSTER_STATUS_METRIC_VALUE[row.status]);
      }
    },
  });
  const applied = new Counter({
    name: "fedview_view_events_applied_total",
    help: "Bus messages applied to the view, by type.",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: "fedview_view_events_dropped_total",
    help: "Resource events the view dropped, by reason (stale: older than what it holds).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const ready = new Gauge({
    name: "fedview_query_ready",
    help: "1 once the snapshot from JetStream is loaded and the service answers.",
    registers: [registry],
  });
  const readerFailures = new Counter({
    name: "fedview_state_reader_failures_total",
    help: "Times the state stream reader failed and was reopened.",
    registers: [registry],
  });
  const watches = new Gauge({
    name: "fedview_query_watches",
    help: "Open watch streams.",
    registers: [registry],
  });
  new Gauge({
    name: "fedview_bus_decode_failures",
    help: "Bus messages that failed to decode, by message kind.",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      for (const [kind, n] of Object.entries(bus.decodeFailures())) this.set({ kind }, n);
    },
  });
  return {
    registry,
    observeQuery(verb, outcome, seconds) {
      queries.inc({ verb, outcome });
      latency.observe({ verb }, seconds);
    },
    recordApplied: (type, count = 1) => applied.inc({ type }, count),
    recordDropped: (reason) => dropped.inc({ reason }),
    setReady: (value) => ready.set(value ? 1 : 0),
    recordReaderFailure: () => readerFailures.inc(),
    watchOpened: () => watches.inc(),
    watchClosed: () => watches.dec(),
  };
}
