/**
 * Prometheus metrics of one connector instance, on its own registry (replicas in one process, as in
 * tests, never collide): the per-cluster series every connector shares (`@fedview/sync`) and the
 * Kubernetes watch lifecycle. A removed cluster's series all go.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

/** The `/metrics`, `/healthz` and `/readyz` endpoint. */
export interface MetricsServer extends AsyncDisposable {
  readonly url: string;
}

/**
 * Serves Prometheus text on `/metrics`, 200 on `/healthz`, and on `/readyz` 200 once `ready()` says
 * so, else 503 with the reasons as JSON.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => { ready: boolean; reasons: string[] };
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const r = options.ready();
      res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json" }).end(`${JSON.stringify(r)}\n`);
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  return {
    url: `http://${host}:${port}`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
