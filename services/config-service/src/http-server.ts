import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** Whether the service can do its work, and if not, why. */
export interface Readiness {
  ready: boolean;
  /** What is missing, in words an operator can act on. */
  reasons: string[];
  /** Who publishes: whether this replica leads, its identity, and the leader's. */
  leadership?: { leading: boolean; replicaId: string; leader?: string };
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  readiness: () => Readiness;
}

/** The metrics and probe endpoint. */
export interface HttpServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` (the process answers) and `/readyz` (200 once ready,
 * else 503 with the reasons as JSON).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const readiness = options.readiness();
      res
        .writeHead(readiness.ready ? 200 : 503, { "content-type": "application/json" })
        .end(`${JSON.stringify(readiness)}\n`);
      return;
    }
    if (path === "/metrics") {
      // Readiness is computed on demand; asking here keeps its gauge current for every scrape.
      options.readiness();
      options.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`),
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz or /readyz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    [Symbol.asyncDispose]() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
