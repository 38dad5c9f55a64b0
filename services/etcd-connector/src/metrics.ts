import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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
