/**
 * Choosing the stack's ports: what the caller asks for, else what the state directory remembers, else
 * the well-known default when it is free (so `nats://127.0.0.1:4222` and calicoctl's default etcd
 * `http://127.0.0.1:2379` just work), else any free port.
 */
import { createServer } from "node:net";
import type { StackPorts } from "./types.js";

/** The well-known ports tried first: NATS's, etcd's, and each service's own default metrics port. */
export const PREFERRED_PORTS: Readonly<Partial<StackPorts>> = {
  nats: 4222,
  natsMonitor: 8222,
  etcd: 2379,
  etcdPeer: 2380,
  queryMetrics: 9464,
  configMetrics: 9465,
  etcdConnectorMetrics: 9466,
  k8sConnectorMetrics: 9467,
};

/** Every port of the stack, in a stable order. */
export const PORT_NAMES = [
  "nats",
  "natsMonitor",
  "etcd",
  "etcdPeer",
  "queryMetrics",
  "configMetrics",
  "etcdConnectorMetrics",
  "k8sConnectorMetrics",
  "eastEtcd",
  "eastEtcdPeer",
  "westKubeApi",
  "secretStore",
] as const satisfies readonly (keyof StackPorts)[];

/** Listens on 127.0.0.1:`port` (0: any) for a moment; the port it got, or undefined when taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const got = address !== null && typeof address === "object" ? address.port : undefined;
      server.close(() => resolve(got));
    });
  });
}

/**
 * The ports of this run. `requested` wins, then `remembered`; a port neither names is the preferred one
 * when free, else a free one. Requested and remembered ports are not probed: if one is taken, the
 * server that needs it fails and says which.
 */
export async function choosePorts(
  remembered: Readonly<Record<string, number>>,
  requested: Readonly<Partial<StackPorts>> = {},
  preferredPorts: Readonly<Partial<StackPorts>> = PREFERRED_PORTS,
): Promise<StackPorts> {
  const chosen: Partial<StackPorts> = {};
  const taken = new Set<number>();
  for (const name of PORT_NAMES) {
    const fixed = requested[name] ?? remembered[name];
    if (fixed !== undefined && fixed > 0) {
      chosen[name] = fixed;
      taken.add(fixed);
    }
  }
  for (const name of PORT_NAMES) {
    if (chosen[name] !== undefined) continue;
    const preferred = preferredPorts[name];
    let port = preferred !== undefined && !taken.has(preferred) ? await tryListen(preferred) : undefined;
    while (port === undefined || taken.has(port)) port = await tryListen(0);
    chosen[name] = port;
    taken.add(port);
  }
  return chosen as StackPorts;
}
