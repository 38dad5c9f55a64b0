import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTlsMaterial, type TlsMaterial } from "./certs.js";
import { TestServerError } from "./errors.js";
import { freePorts } from "./ports.js";
import { ManagedProcess } from "./process.js";

/** Per-user subject permissions, as nats-server's `authorization.users[].permissions`. */
export interface NatsPermissions {
  publish?: { allow?: string[]; deny?: string[] };
  subscribe?: { allow?: string[]; deny?: string[] };
  /** Let the user answer requests sent to it (micro services reply through `_INBOX.>`). */
  allowResponses?: boolean;
}

export interface NatsUser {
  user: string;
  password: string;
  permissions?: NatsPermissions;
}

export interface StartNatsOptions {
  /** Enable JetStream with a file store in the server's temp dir. Default true. */
  jetstream?: boolean;
  /** Number of nodes; more than 1 starts a route-connected cluster with JetStream replication. Default 1. */
  cluster?: number;
  /** Serve TLS with a generated CA; `verifyClients` also requires a client certificate. */
  tls?: boolean | { verifyClients?: boolean };
  /** Username/password users; without users the server accepts anyone. */
  users?: NatsUser[];
  /** Extra nats-server configuration appended to each node's file. */
  extraConfig?: string;
  /**
   * Keep the server's files (configuration, JetStream store, log, the ports it listens on) in this
   * directory instead of a temp dir, and leave them there on dispose: a later `startNats({ dir })` comes
   * back on the same data and the same ports. TLS material is still generated per start.
   */
  dir?: string;
  /** Client port of the (single) node; default the one remembered in `dir`, else a free one. */
  port?: number;
  /** Monitoring (HTTP) port of the (single) node; default the one remembered in `dir`, else a free one. */
  monitorPort?: number;
}

/** One nats-server process of a (possibly single-node) cluster. */
export interface NatsNode {
  name: string;
  url: string;
  monitorUrl: string;
  storeDir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * A running nats-server (or cluster). Dispose with `await using` to stop it and remove its files (with
 * `dir`, the files stay).
 */
export interface NatsServer extends AsyncDisposable {
  /** The first node's client URL, e.g. `nats://127.0.0.1:4222` (`tls://…` with TLS). */
  url: string;
  /** Every node's client URL. */
  urls: string[];
  nodes: NatsNode[];
  /** Present when started with `tls`. */
  tls?: TlsMaterial;
  /** Where the server's files are: `dir` when given, else its temp dir. */
  dir: string;
  /** Stops every node (data kept). */
  stop(): Promise<void>;
  /** Restarts every node with the same ports and store dirs. */
  restart(): Promise<void>;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function permissionsConfig(p: NatsPermissions): string {
  const part = (name: string, rule?: { allow?: string[]; deny?: string[] }) => {
    if (rule === undefined) return "";
    const lists = [];
    if (rule.allow) lists.push(`allow: [${rule.allow.map(quote).join(", ")}]`);
    if (rule.deny) lists.push(`deny: [${rule.deny.map(quote).join(", ")}]`);
    return `${name}: { ${lists.join(", ")} }`;
  };
  const parts = [part("publish", p.publish), part("subscribe", p.subscribe)];
  if (p.allowResponses) parts.push("allow_responses: true");
  return `permissions: { ${parts.filter((x) => x !== "").join(", ")} }`;
}

async function healthy(monitorUrl: string, jetstream: boolean): Promise<boolean> {
  const response = await fetch(`${monitorUrl}/healthz${jetstream ? "?js-enabled-only=true" : ""}`, {
    signal: AbortSignal.timeout(1000),
  });
  return response.ok;
}

/**
 * Starts the real `nats-server` binary on free loopback ports with its own temp dir (or `dir`), waits until
 * it answers its health check, and returns its URLs. Retries with fresh ports if one was taken meanwhile;
 * fixed or remembered ports are not changed: a clash fails with the ports named.
 */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServer> {
  const size = Math.max(1, options.cluster ?? 1);
  if (size > 1 && (options.port !== undefined || options.monitorPort !== undefined)) {
    throw new TestServerError("port and monitorPort fix the ports of a single node; a cluster picks its own");
  }
  const remembered = options.dir === undefined ? undefined : await readRemembered(options.dir, size);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startNatsOnce(options, size, remembered);
    } catch (err) {
      lastError = err;
      if (!(err instanceof TestServerError) || !/address already in use|bind/i.test(err.message)) throw err;
      // Fixed or remembered ports stay taken however often we try: say which and stop.
      if (remembered !== undefined || options.port !== undefined || options.monitorPort !== undefined) {
        const forget = options.dir === undefined ? "" : ` or delete ${join(options.dir, PORTS_FILE)} to pick new ones`;
        throw new TestServerError(
          `nats-server cannot listen on its fixed ports (${describePorts(options, remembered)}): another process holds one; stop it${forget}`,
          { cause: err },
        );
      }
    }
  }
  throw lastError;
}

/** The file in `dir` that remembers a server's ports and cluster name. */
const PORTS_FILE = "ports.json";

/** Ports and cluster name of a server kept in a `dir`, so that a restart reuses them. */
interface RememberedNats {
  clusterName: string;
  nodes: { client: number; monitor: number; route: number }[];
}

async function readRemembered(dir: string, size: number): Promise<RememberedNats | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, PORTS_FILE), "utf8");
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as Partial<RememberedNats>;
  const nodes = Array.isArray(parsed.nodes) ? parsed.nodes : [];
  const valid = nodes.every((n) => [n.client, n.monitor, n.route].every((p) => Number.isInteger(p) && p > 0));
  if (typeof parsed.clusterName !== "string" || nodes.length !== size || !valid) {
    throw new TestServerError(
      `${join(dir, PORTS_FILE)} does not describe a ${size}-node server; delete it to pick new ports`,
    );
  }
  return { clusterName: parsed.clusterName, nodes };
}

function describePorts(options: StartNatsOptions, remembered: RememberedNats | undefined): string {
  const first = remembered?.nodes[0];
  const client = options.port ?? first?.client;
  const monitor = options.monitorPort ?? first?.monitor;
  return [client && `client ${client}`, monitor && `monitor ${monitor}`].filter(Boolean).join(", ");
}

async function startNatsOnce(
  options: StartNatsOptions,
  size: number,
  remembered: RememberedNats | undefined,
): Promise<NatsServer> {
  const jetstream = options.jetstream ?? true;
  const kept = options.dir !== undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "fedview-nats-")));
  if (kept) await mkdir(dir, { recursive: true });
  const tls = options.tls ? await createTlsMaterial("nats-client") : undefined;
  const verifyClients = typeof options.tls === "object" && options.tls.verifyClients === true;
  const fresh = await freePorts(size * 3);
  const ports = fresh.map((port, idx) => {
    const node = remembered?.nodes[Math.floor(idx / 3)];
    const which = idx % 3;
    if (idx === 0 && options.port !== undefined) return options.port;
    if (idx === 1 && options.monitorPort !== undefined) return options.monitorPort;
    if (node === undefined) return port;
    return which === 0 ? node.client : which === 1 ? node.monitor : node.route;
  });
  const clusterName = remembered?.clusterName ?? `fv${process.pid}`;

  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const [clientPort, monitorPort, routePort] = [ports[i * 3]!, ports[i * 3 + 1]!, ports[i * 3 + 2]!];
    const name = `n${i + 1}`;
    const storeDir = join(dir, name, "jetstream");
    const lines = [`server_name: ${name}`, `listen: "127.0.0.1:${clientPort}"`, `http: "127.0.0.1:${monitorPort}"`];
    lines.push("max_payload: 1048576");
    if (jetstream) lines.push(`jetstream { store_dir: ${quote(storeDir)}, max_mem: 256MB, max_file: 4GB }`);
    if (tls) {
      lines.push(
        `tls { cert_file: ${quote(tls.server.certFile)}, key_file: ${quote(tls.server.keyFile)}, ca_file: ${quote(
          tls.caFile,
        )}, verify: ${verifyClients} }`,
      );
    }
    if (options.users && options.users.length > 0) {
      const users = options.users.map(
        (u) =>
          `{ user: ${quote(u.user)}, password: ${quote(u.password)}${u.permissions ? `, ${permissionsConfig(u.permissions)}` : ""} }`,
      );
      lines.push(`authorization { users: [ ${users.join(", ")} ] }`);
    }
    if (size > 1) {
      const routes = ports
        .filter((_, idx) => idx % 3 === 2 && idx !== i * 3 + 2)
        .map((p) => quote(`nats-route://127.0.0.1:${p}`));
      lines.push(`cluster { name: ${clusterName}, listen: "127.0.0.1:${routePort}", routes: [${routes.join(", ")}] }`);
    }
    if (options.extraConfig) lines.push(options.extraConfig);
    const configFile = join(dir, `${name}.conf`);
    await writeFile(configFile, `${lines.join("\n")}\n`);

    const monitorUrl = `http://127.0.0.1:${monitorPort}`;
    const proc = new ManagedProcess({
      name: `nats-server ${name}`,
      command: "nats-server",
      args: ["-c", configFile],
      logFile: join(dir, `${name}.log`),
      aptPackage: "nats-server",
      // A clustered JetStream node is healthy only once a meta leader exists, which needs the others up:
      // for clusters wait for the plain listener first, then for JetStream once all nodes run.
      ready: () => healthy(monitorUrl, size === 1 && jetstream).catch(() => false),
    });
    const scheme = tls ? "tls" : "nats";
    const node: NatsNode = {
      name,
      url: `${scheme}://127.0.0.1:${clientPort}`,
      monitorUrl,
      storeDir,
      process: proc,
      stop: () => proc.stop(),
      kill: () => proc.kill(),
      start: () => proc.start(),
      restart: () => proc.restart(),
    };
    nodes.push(node);
  }

  try {
    await Promise.all(nodes.map((n) => n.start()));
    if (size > 1 && jetstream) await waitForClusterJetStream(nodes);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    if (!kept) await rm(dir, { recursive: true, force: true });
    if (tls) await rm(tls.authority.dir, { recursive: true, force: true });
    throw err;
  }
  if (kept) {
    const record: RememberedNats = {
      clusterName,
      nodes: nodes.map((_, i) => ({ client: ports[i * 3]!, monitor: ports[i * 3 + 1]!, route: ports[i * 3 + 2]! })),
    };
    await writeFile(join(dir, PORTS_FILE), `${JSON.stringify(record, null, 2)}\n`);
  }

  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  return {
    url: nodes[0]!.url,
    urls: nodes.map((n) => n.url),
    nodes,
    ...(tls ? { tls } : {}),
    dir,
    stop: stopAll,
    restart: async () => {
      await stopAll();
      await Promise.all(nodes.map((n) => n.start()));
      if (size > 1 && jetstream) await waitForClusterJetStream(nodes);
    },
    async [Symbol.asyncDispose]() {
      await stopAll();
      if (!kept) await rm(dir, { recursive: true, force: true });
      if (tls) await rm(tls.authority.dir, { recursive: true, force: true });
    },
  };
}

async function waitForClusterJetStream(nodes: NatsNode[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await Promise.all(nodes.map((n) => healthy(n.monitorUrl, true).catch(() => false)));
    if (ok.every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TestServerError("the NATS cluster did not elect a JetStream meta leader within 30 s");
}
