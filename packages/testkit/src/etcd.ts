import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { IOptions } from "etcd3";
import { createTlsMaterial, type TlsMaterial } from "./certs.js";
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
}

/** A running etcd. Dispose with `await using` to stop it and remove its data dir. */
export interface EtcdServer extends AsyncDisposable {
  /** Client URL, `http://127.0.0.1:port` or `https://…` with TLS. */
  url: string;
  endpoints: string[];
  dataDir: string;
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
 * Starts the real `etcd` binary (single member) on free loopback ports with its own data dir, waits until
 * it reports healthy, and optionally turns on TLS with client certificates and authentication.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startEtcdOnce(options);
    } catch (err) {
      lastError = err;
      if (!(err instanceof TestServerError) || !/address already in use|bind/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function startEtcdOnce(options: StartEtcdOptions): Promise<EtcdServer> {
  const dir = await mkdtemp(join(tmpdir(), "fedview-etcd-"));
  const dataDir = join(dir, "data");
  const tls = options.tls ? await createTlsMaterial("root") : undefined;
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
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
  const rootPassword = `root-${Math.random().toString(36).slice(2)}`;
  let authOn = false;
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
    if (options.auth) {
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
    }
  } catch (err) {
    await proc.kill();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url,
    endpoints: [url],
    dataDir,
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
      await rm(dir, { recursive: true, force: true });
      if (tls) await rm(tls.authority.dir, { recursive: true, force: true });
    },
  };
}
