import { REMOTE_CLUSTER_STATUS_METRIC_VALUE } from "@fedview/model";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ClusterStatusValue } from "./types.js";

/**
 * Per-cluster metrics of a connector. Every series carries the cluster; `removeCluster` drops all
 * of a cluster's series when its RCC is deleted, so dashboards do not show ghosts.
 */
export interface ConnectorMetrics {
  setStatus(cluster: string, status: ClusterStatusValue): void;
  setResources(cluster: string, counts: Readonly<Record<string, number>>): void;
  countEvents(cluster: string, kind: string, op: "upsert" | "delete", n?: number): void;
  countRelist(cluster: string, reason: string): void;
  countFailure(cluster: string, at: number): void;
  countMalformed(cluster: string, n?: number): void;
  observeSyncDuration(cluster: string, seconds: number): void;
  setOwnedClusters(n: number): void;
  removeCluster(cluster: string): void;
}

/** Options of `createConnectorMetrics`. */
export interface ConnectorMetricsOptions {
  /** Label value of `connector` on every series, e.g. `etcdv3`. */
  connector: string;
}

/**
 * Registers the connector metrics in `registry`:
 *
 * - `remote_cluster_connection_status{remote_cluster_name}`: Calico's gauge and numbering
 *   (ConnectionFailed 0, Connecting 1, InSync 2, ResyncInProgress 3, ConfigChangeRestartRequired 4,
 *   ConfigIncomplete 5).
 * - `fedview_connector_resources{cluster,kind}`: live resources published.
 * - `fedview_connector_events_total{cluster,kind,op}`: upserts and deletes published.
 * - `fedview_connector_relists_total{cluster,reason}`: complete listings.
 * - `fedview_connector_failures_total{cluster}` and `fedview_connector_last_failure_timestamp_seconds{cluster}`.
 * - `fedview_connector_malformed_total{cluster}`: remote entries skipped as malformed.
 * - `fedview_connector_sync_duration_seconds{cluster}`: listing through publication, per relist.
 * - `fedview_connector_owned_clusters`: clusters this replica serves.
 */
export function createConnectorMetrics(registry: Registry, options: ConnectorMetricsOptions): ConnectorMetrics {
  const registers = [registry];
  const constLabels = { connector: options.connector };
  const status = new Gauge({
    name: "remote_cluster_connection_status",
    help: "Connection status of a remote cluster (0 ConnectionFailed, 1 Connecting, 2 InSync, 3 ResyncInProgress, 4 ConfigChangeRestartRequired, 5 ConfigIncomplete)",
    labelNames: ["remote_cluster_name", "connector"],
    registers,
  });
  const resources = new Gauge({
    name: "fedview_connector_resources",
    help: "Resources of a cluster currently published, by kind",
    labelNames: ["cluster", "kind", "connector"],
    registers,
  });
  const events = new Counter({
    name: "fedview_connector_events_total",
    help: "Resource upserts and deletes published for a cluster",
    labelNames: ["cluster", "kind", "op", "connector"],
    registers,
  });
  const relists = new Counter({
    name: "fedview_connector_relists_total",
    help: "Complete listings of a cluster, by reason",
    labelNames: ["cluster", "reason", "connector"],
    registers,
  });
  const failures = new Counter({
    name: "fedview_connector_failures_total",
    help: "Connection, watch and publication failures of a cluster",
    labelNames: ["cluster", "connector"],
    registers,
  });
  const lastFailure = new Gauge({
    name: "fedview_connector_last_failure_timestamp_seconds",
    help: "Time of the last failure of a cluster",
    labelNames: ["cluster", "connector"],
    registers,
  });
  const malformed = new Counter({
    name: "fedview_connector_malformed_total",
    help: "Remote entries skipped because they could not be read or converted",
    labelNames: ["cluster", "connector"],
    registers,
  });
  const duration = new Histogram({
    name: "fedview_connector_sync_duration_seconds",
    help: "Duration of a listing of a cluster through the publication of its difference",
    labelNames: ["cluster", "connector"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const owned = new Gauge({
    name: "fedview_connector_owned_clusters",
    help: "Clusters this connector replica currently serves",
    labelNames: ["connector"],
    registers,
  });

  // prom-client removes series only by their full label set: remember which ones exist per cluster.
  const kinds = new Map<string, Set<string>>();
  const eventKeys = new Map<string, Set<string>>();
  const reasons = new Map<string, Set<string>>();
  const remember = (map: Map<string, Set<string>>, cluster: string, value: string) => {
    let set = map.get(cluster);
    if (!set) {
      set = new Set();
      map.set(cluster, set);
    }
    set.add(value);
  };

  return {
    setStatus(cluster, value) {
      status.set({ remote_cluster_name: cluster, ...constLabels }, REMOTE_CLUSTER_STATUS_METRIC_VALUE[value]);
    },
    setResources(cluster, counts) {
      const known = kinds.get(cluster) ?? new Set<string>();
      for (const kind of new Set([...known, ...Object.keys(counts)])) {
        remember(kinds, cluster, kind);
        resources.set({ cluster, kind, ...constLabels }, counts[kind] ?? 0);
      }
    },
    countEvents(cluster, kind, op, n = 1) {
      if (n <= 0) return;
      remember(eventKeys, cluster, `${kind}\u0000${op}`);
      events.inc({ cluster, kind, op, ...constLabels }, n);
    },
    countRelist(cluster, reason) {
      remember(reasons, cluster, reason);
      relists.inc({ cluster, reason, ...constLabels });
    },
    countFailure(cluster, at) {
      failures.inc({ cluster, ...constLabels });
      lastFailure.set({ cluster, ...constLabels }, at / 1000);
    },
    countMalformed(cluster, n = 1) {
      if (n > 0) malformed.inc({ cluster, ...constLabels }, n);
    },
    observeSyncDuration(cluster, seconds) {
      duration.observe({ cluster, ...constLabels }, seconds);
    },
    setOwnedClusters(n) {
      owned.set(constLabels, n);
    },
    removeCluster(cluster) {
      status.remove({ remote_cluster_name: cluster, ...constLabels });
      for (const kind of kinds.get(cluster) ?? []) resources.remove({ cluster, kind, ...constLabels });
      for (const key of eventKeys.get(cluster) ?? []) {
        const [kind = "", op = ""] = key.split("\u0000");
        events.remove({ cluster, kind, op, ...constLabels });
      }
      for (const reason of reasons.get(cluster) ?? []) relists.remove({ cluster, reason, ...constLabels });
      failures.remove({ cluster, ...constLabels });
      lastFailure.remove({ cluster, ...constLabels });
      malformed.remove({ cluster, ...constLabels });
      duration.remove({ cluster, ...constLabels });
      kinds.delete(cluster);
      eventKeys.delete(cluster);
      reasons.delete(cluster);
    },
  };
}
