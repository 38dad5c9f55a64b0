import { type ConnectorMetrics, createConnectorMetrics } from "@fedview/sync";
import { collectDefaultMetrics, Registry } from "prom-client";

/** The connector's metrics on their own registry (several instances can share a process, e.g. in tests). */
export interface EtcdConnectorMetrics {
  readonly registry: Registry;
  /** Per-cluster series (status gauge, resources, events, relists, failures, sync duration). */
  readonly connector: ConnectorMetrics;
}

/** Creates the registry with Node's process metrics and the shared per-cluster connector metrics. */
export function createEtcdConnectorMetrics(): EtcdConnectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fedview_etcd_connector_" });
  return { registry, connector: createConnectorMetrics(registry, { connector: "etcdv3" }) };
}

// The HTTP endpoint is the one every connector shares; exported here as before.
export type { MetricsServer } from "@fedview/sync";
export { startMetricsServer } from "@fedview/sync";
