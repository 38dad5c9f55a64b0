import { mkdtemp, rm, writeFile } from "node:fs/promises";
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

/** A running nats-server (or cluster). Dispose with `await using` to stop it and remove its files. */
export interface NatsServer extends AsyncDisposable {
  /** The first node's client URL, e.g. `nats://127.0.0.1:4222` (`tls://…` with TLS). */
  url: string;
  /** Every node's client URL. */
  urls: string[];
  nodes: NatsNode[];
  /** Present when started with `tls`. */
  tls?: TlsMaterial;
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
 * Starts the real `nats-server` binary on free loopback ports with its own temp dir, waits until it
 * answers its health check, and returns its URLs. Retries with fresh ports if one was taken meanwhile.
 */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startNatsOnce(options);
    } catch (err) {
      lastError = err;
      if (!(err instanceof TestServerError) || !/address already in use|bind/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function startNatsOnce(options: StartNatsOptions): Promise<NatsServer> {
  const jetstream = options.jetstream ?? true;
  const size = Math.max(1, options.cluster ?? 1);
  const dir = await mkdtemp(join(tmpdir(), "fedview-nats-"));
  const tls = options.tls ? await createTlsMaterial("nats-client") : undefined;
  const verifyClients = typeof options.tls === "object" && options.tls.verifyClients === true;
  const ports = await freePorts(size * 3);
  const clusterName = `fv${process.pid}`;

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
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  return {
    url: nodes[0]!.url,
    urls: nodes.map((n) => n.url),
    nodes,
    ...(tls ? { tls } : {}),
    stop: stopAll,
    restart: async () => {
      await stopAll();
      await Promise.all(nodes.map((n) => n.start()));
      if (size > 1 && jetstream) await waitForClusterJetStream(nodes);
    },
    async [Symbol.asyncDispose]() {
      await stopAll();
      await rm(dir, { recursive: true, force: true });
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
