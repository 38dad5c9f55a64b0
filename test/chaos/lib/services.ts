/**
 * fedview services as real child Node processes, so that `kill()` is a real SIGKILL: each runs its
 * built `dist/src/main.js` (built here with `tsc -b` if needed; CI's typecheck step has already built
 * it), or with `FEDVIEW_CHAOS_TSX=1` its `src/main.ts` under tsx with workspace packages resolved to
 * their sources (children.tsconfig.json) — slower to start, no build. Configured through its
 * environment only, with its metrics port fixed so that a restart answers on the same `/readyz`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { freePort, ManagedProcess, TIMEOUTS, waitFor } from "@fedview/testkit";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../../..");

/** tsx's loader, by absolute URL so that the children do not depend on the working directory. */
const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;

const USE_TSX = /^(1|true|yes|on)$/i.test(process.env["FEDVIEW_CHAOS_TSX"] ?? "");
const BUILD_LOCK = join(tmpdir(), "fedview-chaos-build.lock");
/** Written after a successful build; a build is skipped while no input is newer than it. */
const BUILD_STAMP = join(ROOT, "test", "chaos", "dist", ".services-built");
let built: Promise<void> | undefined;

/** The newest modification time of the files the services are built from (sources and configs). */
function newestInput(): number {
  let newest = statSync(join(ROOT, "tsconfig.base.json")).mtimeMs;
  const walk = (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const group of ["packages", "services"]) {
    for (const entry of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const base = join(ROOT, group, entry.name);
      walk(join(base, "src"));
      for (const file of ["tsconfig.json", "package.json"]) {
        try {
          newest = Math.max(newest, statSync(join(base, file)).mtimeMs);
        } catch {
          // not every workspace has both
        }
      }
    }
  }
  return newest;
}

/** True when the last build is newer than every input and left every service's entry point. */
function upToDate(): boolean {
  try {
    return statSync(BUILD_STAMP).mtimeMs > newestInput() && SERVICE_NAMES.every((name) => builtEntry(name));
  } catch {
    return false;
  }
}

/**
 * Brings the services' `dist` up to date with `tsc -b`, once per test process, and not at all while
 * nothing changed since the last build (a no-op `tsc -b` of four services still costs seconds of CPU
 * per test file). Test files run in parallel processes: a lock directory keeps their builds from
 * writing at once.
 */
function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    for (;;) {
      try {
        mkdirSync(BUILD_LOCK);
        break;
      } catch {
        // Someone else builds; a lock older than ten minutes was left by a killed run.
        try {
          if (Date.now() - statSync(BUILD_LOCK).mtimeMs > 600_000) rmSync(BUILD_LOCK, { recursive: true, force: true });
        } catch {
          // gone meanwhile
        }
        await sleep(200);
      }
    }
    try {
      if (upToDate()) return;
      // Inputs changed after this moment are built by the next run: the stamp is this moment's.
      const startedAt = new Date();
      const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const projects = SERVICE_NAMES.map((name) => join(ROOT, "services", name));
      const run = spawnSync(process.execPath, [tsc, "-b", ...projects], { cwd: ROOT, encoding: "utf8" });
      if (run.status !== 0 && !SERVICE_NAMES.every((name) => builtEntry(name))) {
        throw new Error(`building the services failed:\n${run.stdout}${run.stderr}`);
      }
      if (run.status === 0) {
        mkdirSync(join(BUILD_STAMP, ".."), { recursive: true });
        writeFileSync(BUILD_STAMP, `${startedAt.toISOString()}\n`);
        utimesSync(BUILD_STAMP, startedAt, startedAt);
      }
    } finally {
      rmSync(BUILD_LOCK, { recursive: true, force: true });
    }
  })();
  return built;
}

function builtEntry(service: ServiceName): boolean {
  try {
    return statSync(join(ROOT, "services", service, "dist", "src", "main.js")).isFile();
  } catch {
    return false;
  }
}

export const SERVICE_NAMES = ["config-service", "etcd-connector", "k8s-connector", "query-service"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceProcess {
  name: string;
  service: ServiceName;
  /** `http://127.0.0.1:<port>`: `/metrics`, `/healthz`, `/readyz` (the port may change if it was taken). */
  readonly httpUrl: string;
  readonly process: ManagedProcess;
  /** Starts (again) and waits until `/readyz` answers 200. */
  start(): Promise<void>;
  /** Waits until the (re)started process answers `/healthz`: it runs and reached NATS. */
  live(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void>;
  /** Everything the process wrote to stdout and stderr, every run. */
  log(): string;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Prepares a service process (not started). `env` is its whole configuration on top of `PATH` and
 * `HOME`; the metrics host and port are set here (a new port when another process took it meanwhile).
 */
export async function serviceProcess(
  service: ServiceName,
  env: Record<string, string>,
  options: { dir: string; name?: string },
): Promise<ServiceProcess> {
  if (!USE_TSX) await ensureBuilt();
  const name = options.name ?? service;
  const logFile = join(options.dir, `${name}.log`);
  let httpUrl = "";
  const make = async (): Promise<ManagedProcess> => {
    const port = await freePort();
    httpUrl = `http://127.0.0.1:${port}`;
    const url = httpUrl;
    return new ManagedProcess({
      name,
      command: process.execPath,
      args: USE_TSX
        ? ["--import", TSX_LOADER, join(ROOT, "services", service, "src", "main.ts")]
        : [join(ROOT, "services", service, "dist", "src", "main.js")],
      logFile,
      aptPackage: "nodejs",
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: process.env["HOME"] ?? "",
        TSX_TSCONFIG_PATH: join(ROOT, "test", "chaos", "lib", "children.tsconfig.json"),
        FEDVIEW_METRICS_HOST: "127.0.0.1",
        FEDVIEW_METRICS_PORT: String(port),
        FEDVIEW_LOG_LEVEL: "info",
        ...env,
      },
      ready: () => answers(`${url}/readyz`),
    });
  };
  let managed = await make();
  return {
    name,
    service,
    get httpUrl() {
      return httpUrl;
    },
    get process() {
      return managed;
    },
    async start() {
      for (let attempt = 1; ; attempt++) {
        try {
          await managed.start();
          return;
        } catch (err) {
          // A free port is only free until someone binds it: take another one.
          if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
          managed = await make();
        }
      }
    },
    async live() {
      await waitFor(() => answers(`${httpUrl}/healthz`), {
        timeout: TIMEOUTS.serverStart,
        interval: 50,
        message: `${name} to answer /healthz`,
      });
    },
    kill: () => managed.kill(),
    stop: () => managed.stop(),
    log: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
  };
}

/**
 * The sum of a Prometheus counter or gauge a service exposes, over the series whose labels include
 * `labels` (0 when there is none).
 */
export async function metricValue(
  service: ServiceProcess,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const response = await fetch(`${service.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = new Map(
      [...(match[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!] as const),
    );
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(match[4]);
  }
  return sum;
}
