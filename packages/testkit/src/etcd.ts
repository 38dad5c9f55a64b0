import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { IOptions } from "etcd3";
import { type CertificateAuthority, type CertificatePair, createTlsMaterial, type TlsMaterial } from "./certs.js";
import { TestServerError } from "./errors.js";
import { freePorts } from "./ports.js";
import { ManagedProcess } from "./process.js";

const run = promisify(execFile);

/** An etcd user made by `startEtcd({ auth })`, with read (and optionally write) access to key prefixes. */
export interface EtcdUser {
  name: string;
  password: string;
  /** Key prefixes the user may read; default none. */
  read?: string[];
  /** Key prefixes the user may read and write; default none. */
  readWrite?: string[];
}

export interface StartEtcdOptions {
  /** Serve clients over TLS with a generated CA and require client certificates. */
  tls?: boolean;
  /**
   * Enable etcd authentication: a `root` user (password returned in `auth`) plus any `users`.
   * With `tls`, the client certificate's common name `root` also authenticates as root.
   */
  auth?: boolean | { users?: EtcdUser[] };
  /**
   * Keep the server's files in this directory instead of a temp dir, and leave them there on dispose:
   * data (`data/`), log, the ports it listens on, its TLS material (`tls/`, renewed when it expires within
   * the hour) and root password. A later `startEtcd({ dir })` comes back on the same data, ports,
   * certificates and credentials; `auth` users are created only on the first start.
   */
  dir?: string;
  /** Client port; default the one remembered in `dir`, else a free one. */
  port?: number;
  /** Peer port; default the one remembered in `dir`, else a free one. */
  peerPort?: number;
}

/** A running etcd. Dispose with `await using` to stop it and remove its data dir (with `dir`, kept). */
export interface EtcdServer extends AsyncDisposable {
  /** Client URL, `http://127.0.0.1:port` or `https://…` with TLS. */
  url: string;
  endpoints: string[];
  dataDir: string;
  /** Where the server's files are: `dir` when given, else its temp dir. */
  dir: string;
  /** CA, server and a client certificate (CN `root`), when started with `tls`. */
  tls?: TlsMaterial;
  /** Root credentials, when started with `auth`. */
  auth?: { username: string; password: string };
  process: ManagedProcess;
  /** Options for an `etcd3` client connected as root (TLS and auth filled in). */
  clientOptions(): Promise<IOptions>;
  /** Runs the real `etcdctl` against this server as root and returns its stdout. */
  etcdctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops and starts with the same ports and data dir: data survives. */
  restart(): Promise<void>;
}

function health(url: string, tls: TlsMaterial | undefined): Promise<boolean> {
  if (!tls) {
    return fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
      .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === "true")
      .catch(() => false);
  }
  return new Promise((resolve) => {
    const req = request(
      `${url}/health`,
      { ca: tls.ca, cert: tls.client.cert, key: tls.client.key, timeout: 1000 },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve(res.statusCode === 200 && body.includes('"true"')));
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/**
 * Starts the real `etcd` binary (single member) on free loopback ports with its own data dir (or in
 * `dir`), waits until it reports healthy, and optionally turns on TLS with client certificates and
 * authentication. Retries with fresh ports if one was taken meanwhile; fixed or remembered ports are not
 * changed: a clash fails with the ports named.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const remembered = options.dir === undefined ? undefined : await readRememberedPorts(options.dir);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startEtcdOnce(options, remembered);
    } catch (err) {
      lastError = err;
      if (!(err instanceof TestServerError) || !/address already in use|bind/i.test(err.message)) throw err;
      // Fixed or remembered ports stay taken however often we try: say which and stop.
      if (remembered !== undefined || options.port !== undefined || options.peerPort !== undefined) {
        const client = options.port ?? remembered?.client;
        const peer = options.peerPort ?? remembered?.peer;
        const forget = options.dir === undefined ? "" : ` or delete ${join(options.dir, PORTS_FILE)} to pick new ones`;
        throw new TestServerError(
          `etcd cannot listen on its fixed ports (${[client && `client ${client}`, peer && `peer ${peer}`].filter(Boolean).join(", ")}): another process holds one; stop it${forget}`,
          { cause: err },
        );
      }
    }
  }
  throw lastError;
}

/** Files of a server kept in a `dir`. */
const PORTS_FILE = "ports.json";
const AUTH_FILE = "auth.json";
const TLS_DIR = "tls";
/** Kept certificates are renewed when they expire within this long. */
const RENEW_BEFORE_MS = 60 * 60 * 1000;

async function readRememberedPorts(dir: string): Promise<{ client: number; peer: number } | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, PORTS_FILE), "utf8");
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as { client?: unknown; peer?: unknown };
  if (!Number.isInteger(parsed.client) || !Number.isInteger(parsed.peer)) {
    throw new TestServerError(`${join(dir, PORTS_FILE)} does not hold etcd's ports; delete it to pick new ports`);
  }
  return { client: parsed.client as number, peer: parsed.peer as number };
}

/** A CA whose files were kept in a `dir`: it verifies, but issues nothing new (its key lives on disk only). */
function keptAuthority(dir: string, ca: string): CertificateAuthority {
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    ca,
    keyFile: join(dir, "ca.key"),
    issue: () =>
      Promise.reject(new TestServerError(`the CA kept in ${dir} issues no certificates; start etcd without dir`)),
  };
}

async function keptPair(dir: string, name: string): Promise<CertificatePair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
}

function validFor(pem: string, ms: number): boolean {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime() - Date.now() > ms;
  } catch {
    return false;
  }
}

/**
 * TLS material kept in `<dir>/tls`: reused while every certificate stays valid for another hour, else
 * generated again (a fresh CA, server certificate and client certificate with common name `root`).
 */
async function keptTlsMaterial(dir: string): Promise<TlsMaterial> {
  const tlsDir = join(dir, TLS_DIR);
  const names = ["ca", "server", "client"];
  const present = names.every((n) => existsSync(join(tlsDir, `${n}.crt`)) && existsSync(join(tlsDir, `${n}.key`)));
  if (present) {
    const [ca, server, client] = await Promise.all(names.map((n) => keptPair(tlsDir, n)));
    if ([ca!, server!, client!].every((p) => validFor(p.cert, RENEW_BEFORE_MS))) {
      return {
        authority: keptAuthority(tlsDir, ca!.cert),
        caFile: ca!.certFile,
        ca: ca!.cert,
        server: server!,
        client: client!,
      };
    }
  }
  const fresh = await createTlsMaterial("root");
  try {
    await mkdir(tlsDir, { recursive: true, mode: 0o700 });
    const copies: [string, string][] = [
      [fresh.caFile, "ca.crt"],
      [fresh.authority.keyFile, "ca.key"],
      [fresh.server.certFile, "server.crt"],
      [fresh.server.keyFile, "server.key"],
      [fresh.client.certFile, "client.crt"],
      [fresh.client.keyFile, "client.key"],
    ];
    for (const [from, to] of copies) await copyFile(from, join(tlsDir, to));
  } finally {
    await rm(fresh.authority.dir, { recursive: true, force: true });
  }
  return keptTlsMaterial(dir);
}

async function startEtcdOnce(
  options: StartEtcdOptions,
  remembered: { client: number; peer: number } | undefined,
): Promise<EtcdServer> {
  const kept = options.dir !== undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "fedview-etcd-")));
  if (kept) await mkdir(dir, { recursive: true });
  const dataDir = join(dir, "data");
  // With a kept dir, an existing data dir means this server was set up before (auth included).
  const restarting = kept && existsSync(dataDir);
  const tls = options.tls ? (kept ? await keptTlsMaterial(dir) : await createTlsMaterial("root")) : undefined;
  const [freeClient, freePeer] = (await freePorts(2)) as [number, number];
  const clientPort = options.port ?? remembered?.client ?? freeClient;
  const peerPort = options.peerPort ?? remembered?.peer ?? freePeer;
  const scheme = tls ? "https" : "http";
  const url = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name",
    "fv",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    url,
    "--advertise-client-urls",
    url,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `fv=${peer}`,
    "--initial-cluster-state",
    "new",
    "--logger",
    "zap",
    "--log-level",
    "warn",
  ];
  if (tls) {
    args.push(
      "--cert-file",
      tls.server.certFile,
      "--key-file",
      tls.server.keyFile,
      "--trusted-ca-file",
      tls.caFile,
      "--client-cert-auth",
    );
  }
  const proc = new ManagedProcess({
    name: "etcd",
    command: "etcd",
    args,
    logFile: join(dir, "etcd.log"),
    aptPackage: "etcd-server",
    env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === "arm64" ? "arm64" : "" },
    ready: () => health(url, tls),
  });

  const tlsArgs = tls ? ["--cacert", tls.caFile, "--cert", tls.client.certFile, "--key", tls.client.keyFile] : [];
  const keptAuth = restarting && options.auth ? await readKeptAuth(dir) : undefined;
  const rootPassword = keptAuth?.password ?? `root-${Math.random().toString(36).slice(2)}`;
  let authOn = keptAuth !== undefined;
  const etcdctl = async (...cmd: string[]): Promise<string> => {
    // With a client certificate whose CN is root, etcd authenticates by certificate; otherwise by password.
    const userArgs = authOn && !tls ? ["--user", `root:${rootPassword}`] : [];
    try {
      const { stdout } = await run("etcdctl", ["--endpoints", url, ...tlsArgs, ...userArgs, ...cmd], {
        env: { ...process.env, ETCDCTL_API: "3" },
      });
      return stdout;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") {
        throw new TestServerError('etcdctl is not installed: run "apt-get install -y etcd-client"', { cause: err });
      }
      throw new TestServerError(`etcdctl ${cmd.join(" ")} failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  };

  try {
    await proc.start();
    if (options.auth && !authOn) {
      await etcdctl("user", "add", `root:${rootPassword}`);
      await etcdctl("user", "grant-role", "root", "root");
      const users = typeof options.auth === "object" ? (options.auth.users ?? []) : [];
      for (const u of users) {
        await etcdctl("user", "add", `${u.name}:${u.password}`);
        await etcdctl("role", "add", u.name);
        for (const prefix of u.read ?? []) {
          await etcdctl("role", "grant-permission", u.name, "--prefix=true", "read", prefix);
        }
        for (const prefix of u.readWrite ?? []) {
          await etcdctl("role", "grant-permission", u.name, "--prefix=true", "readwrite", prefix);
        }
        await etcdctl("user", "grant-role", u.name, u.name);
      }
      await etcdctl("auth", "enable");
      authOn = true;
      if (kept)
        await writeFile(join(dir, AUTH_FILE), `${JSON.stringify({ password: rootPassword })}\n`, { mode: 0o600 });
    }
  } catch (err) {
    await proc.kill();
    if (!kept) await rm(dir, { recursive: true, force: true });
    if (tls && !kept) await rm(tls.authority.dir, { recursive: true, force: true });
    throw err;
  }
  if (kept) await writeFile(join(dir, PORTS_FILE), `${JSON.stringify({ client: clientPort, peer: peerPort })}\n`);

  return {
    url,
    endpoints: [url],
    dataDir,
    dir,
    ...(tls ? { tls } : {}),
    ...(options.auth ? { auth: { username: "root", password: rootPassword } } : {}),
    process: proc,
    async clientOptions(): Promise<IOptions> {
      return {
        hosts: [url],
        ...(tls
          ? {
              credentials: {
                rootCertificate: await readFile(tls.caFile),
                certChain: await readFile(tls.client.certFile),
                privateKey: await readFile(tls.client.keyFile),
              },
            }
          : {}),
        ...(options.auth && !tls ? { auth: { username: "root", password: rootPassword } } : {}),
      };
    },
    etcdctl,
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    start: () => proc.start(),
    restart: () => proc.restart(),
    async [Symbol.asyncDispose]() {
      await proc.stop();
      if (kept) return;
      await rm(dir, { recursive: true, force: true });
      if (tls) await rm(tls.authority.dir, { recursive: true, force: true });
    },
  };
}

async function readKeptAuth(dir: string): Promise<{ password: string }> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, AUTH_FILE), "utf8")) as { password?: unknown };
    if (typeof parsed.password === "string") return { password: parsed.password };
  } catch {
    // Reported below.
  }
  throw new TestServerError(
    `etcd in ${dir} has data but no root password in ${AUTH_FILE}; delete the dir to start over`,
  );
}
