/**
 * Prometheus metrics of one connector instance, on its own registry (replicas in one process, as in
 * tests, never collide): the per-cluster series every connector shares (`@fedview/sync`) and the
 * Kubernetes watch lifecycle. A removed cluster's series all go.
 */
import { type ConnectorMetrics, createConnectorMetrics } from "@fedview/sync";
import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import type { KubeSourceMetrics } from "./types.js";

/** The connector's metrics. */
export interface KubernetesConnectorMetrics {
  readonly registry: Registry;
  /** Per-cluster series (status gauge, resources, events, relists, failures, sync duration). */
  readonly connector: ConnectorMetrics;
  /** Watch restarts and list pages, per cluster and resource. */
  readonly source: KubeSourceMetrics;
}

/**
 * Creates the registry with Node's process metrics, the shared connector metrics (label
 * `connector="kubernetes"`), and:
 *
 * - `fedview_k8s_watch_restarts_total{cluster,resource,reason}`: watch requests that ended —
 *   `closed` by the server, `error`, `expired` (410, relist) or `silent` (watchdog, relist).
 * - `fedview_k8s_list_pages_total{cluster,resource}`: list requests.
 *
 * `resource` is the qualified resource (`pods`, `networkpolicies.networking.k8s.io`,
 * `networkpolicies.crd.projectcalico.org`): plurals alone are not unique.
 */
export function createKubernetesConnectorMetrics(): KubernetesConnectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fedview_k8s_connector_" });
  const shared = createConnectorMetrics(registry, { connector: "kubernetes" });
  const restarts = new Counter({
    name: "fedview_k8s_watch_restarts_total",
    help: "Kubernetes watch requests that ended, by reason (closed, error, expired, silent)",
    labelNames: ["cluster", "resource", "reason"] as const,
    registers: [registry],
  });
  const pages = new Counter({
    name: "fedview_k8s_list_pages_total",
    help: "Kubernetes list requests (pages) of a cluster",
    labelNames: ["cluster", "resource"] as const,
    registers: [registry],
  });
  // prom-client removes series only by their full label set: remember which ones exist per cluster.
  const seen = new Map<string, { restarts: Map<string, { resource: string; reason: string }>; pages: Set<string> }>();
  const of = (cluster: string) => {
    let entry = seen.get(cluster);
    if (!entry) {
      entry = { restarts: new Map(), pages: new Set() };
      seen.set(cluster, entry);
    }
    return entry;
  };
  const connector: ConnectorMetrics = {
    ...shared,
    removeCluster(cluster) {
      shared.removeCluster(cluster);
      const entry = seen.get(cluster);
      for (const labels of entry?.restarts.values() ?? []) restarts.remove({ cluster, ...labels });
      for (const resource of entry?.pages ?? []) pages.remove({ cluster, resource });
      seen.delete(cluster);
    },
  };
  return {
    registry,
    connector,
    source: {
      countWatchRestart(cluster, resource, reason) {
        of(cluster).restarts.set(`${resource}\u0000${reason}`, { resource, reason });
        restarts.inc({ cluster, resource, reason });
      },
      countListPage(cluster, resource) {
        of(cluster).pages.add(resource);
        pages.inc({ cluster, resource });
      },
    },
  };
}

// The HTTP endpoint is the one every connector shares; exported here as before.
export type { MetricsServer } from "@fedview/sync";
export { startMetricsServer } from "@fedview/sync";
