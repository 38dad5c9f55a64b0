import { request } from "node:http";

let cached: Promise<boolean> | undefined;

/**
 * Whether a Docker engine answers (`DOCKER_HOST` as unix socket or tcp, else `/var/run/docker.sock`).
 * Docker-only tests skip in one line: `describe.skipIf(!(await dockerAvailable()))("on K3s", …)`.
 */
export function dockerAvailable(): Promise<boolean> {
  cached ??= ping();
  return cached;
}

function ping(): Promise<boolean> {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  const target = host.startsWith("unix://")
    ? { socketPath: host.slice("unix://".length) }
    : (() => {
        const u = new URL(host.replace(/^tcp:/, "http:"));
        return { host: u.hostname, port: Number(u.port || 2375) };
      })();
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/_ping", method: "GET", timeout: 1500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}
