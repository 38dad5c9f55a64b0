/**
 * What the scenarios run on: real nats-server and etcd from `@fedview/testkit`, and the query service
 * and etcd connector as child Node processes (their own `dist/src/main.js`, so their RSS is theirs
 * alone), configured through their environment variables as in production.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  type BusConnection,
  type ConnectionConfig,
  ConnectionConfigStore,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  querySubject,
  requestService,
} from "@fedview/bus";
import type { QueryServiceStatus } from "@fedview/query-service";
import { freePort, type NatsServer, startNats, waitFor } from "@fedview/testkit";

const require = createRequire(import.meta.url);

/**
 * How long the suite waits for the pipeline to get somewhere (services ready, clusters loaded and
 * InSync, churn converged) before it calls the scenario broken. Generous, so that a loaded machine is
 * never mistaken for a broken pipeline; `run.ts` lowers it for `--quick`, whose sizes are small.
 */
export const patience = { ms: 600_000 };

/** Every service child still running, killed if the bench exits without stopping them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** The `main.js` beside a workspace package's built entry point. */
function mainOf(pkg: string): string {
  return join(dirname(require.resolve(pkg)), "main.js");
}

/** Resident set size of a process, in bytes (Linux `/proc`). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU seconds (user + system) a process has used so far (Linux `/proc`). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A service running as a child process. */
export interface ChildService extends AsyncDisposable {
  readonly pid: number;
  readonly metricsUrl: string;
  readonly startedAt: number;
  rss(): number;
  cpu(): number;
  /** Resolves with the milliseconds from spawn to `/readyz` answering 200. */
  ready(timeoutMs?: number): Promise<number>;
  /** The last lines the process wrote to stderr and stdout, for error messages. */
  output(): string;
}

async function spawnService(script: string, env: Record<string, string>, port: number): Promise<ChildService> {
  const startedAt = performance.now();
  // BENCH_CPU_PROF=<dir>: every child writes a V8 CPU profile there when it exits.
  const profile = process.env["BENCH_CPU_PROF"];
  const flags = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [];
  const child: ChildProcess = spawn(process.execPath, ["--max-old-space-size=8192", ...flags, script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );
  const metricsUrl = `http://127.0.0.1:${port}`;
  const pid = child.pid!;
  return {
    pid,
    metricsUrl,
    startedAt,
    rss: () => rssBytes(pid),
    cpu: () => cpuSeconds(pid),
    output: () => lines.join("\n"),
    async ready(timeoutMs = patience.ms) {
      await waitFor(
        async () => {
          if (exited !== undefined) throw new Error(`${script} exited with ${exited}:\n${lines.join("\n")}`);
          const res = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
          return res?.status === 200;
        },
        { timeout: timeoutMs, interval: 20, message: `${script} ready` },
      );
      return performance.now() - startedAt;
    },
    async [Symbol.asyncDispose]() {
      if (exited !== undefined) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** Starts a query service child on `natsUrl`. */
export async function spawnQueryService(natsUrl: string, env: Record<string, string> = {}): Promise<ChildService> {
  const port = await freePort();
  return spawnService(
    mainOf("@fedview/query-service"),
    {
      FEDVIEW_NATS_URL: natsUrl,
      FEDVIEW_METRICS_HOST: "127.0.0.1",
      FEDVIEW_METRICS_PORT: String(port),
      FEDVIEW_LOG_LEVEL: "warn",
      FEDVIEW_READY_TIMEOUT_MS: "600000",
      ...env,
    },
    port,
  );
}

/** Starts an etcd connector child on `natsUrl`, opening secrets with `seed`. */
export async function spawnConnector(
  natsUrl: string,
  seed: string,
  env: Record<string, string> = {},
): Promise<ChildService> {
  const port = await freePort();
  return spawnService(
    mainOf("@fedview/etcd-connector"),
    {
      FEDVIEW_NATS_URL: natsUrl,
      FEDVIEW_CONNECTOR_XKEY_SEED: seed,
      FEDVIEW_METRICS_HOST: "127.0.0.1",
      FEDVIEW_METRICS_PORT: String(port),
      FEDVIEW_LOG_LEVEL: "warn",
      FEDVIEW_LIVENESS_INTERVAL_MS: "10000",
      FEDVIEW_REBALANCE_INTERVAL_MS: "1000",
      FEDVIEW_LEASE_TTL_MS: "6000",
      ...env,
    },
    port,
  );
}

/** A NATS server with the bus topology, a connection for the bench, and the connectors' key. */
export interface Bus extends AsyncDisposable {
  nats: NatsServer;
  nc: BusConnection;
  configs: ConnectionConfigStore;
  connectorSeed: string;
  /**
   * Writes the connection config of an etcd remote cluster as config-service does once an RCC is
   * applied (no secrets: the bench etcd has neither TLS nor auth).
   */
  applyCluster(cluster: string, endpoints: string[], generation?: number): Promise<void>;
  removeCluster(cluster: string): Promise<void>;
}

export async function startBus(): Promise<Bus> {
  // max_payload stays at its 1 MB default: big answers must take the chunked path, as in production.
  const nats = await startNats();
  const nc = await connectBus({ servers: nats.url, name: "bench" });
  await ensureBusTopology(nc);
  const configs = await ConnectionConfigStore.open(nc);
  const seed = new TextDecoder().decode(createSealingKeyPair().getSeed());
  return {
    nats,
    nc,
    configs,
    connectorSeed: seed,
    async applyCluster(cluster, endpoints, generation = 1) {
      const config: ConnectionConfig = {
        v: 1,
        cluster,
        datastoreType: "etcdv3",
        generation,
        status: "valid",
        spec: { etcdEndpoints: endpoints },
      };
      await configs.put(config);
    },
    async removeCluster(cluster) {
      await configs.delete("etcdv3", cluster);
    },
    async [Symbol.asyncDispose]() {
      await nc.close().catch(() => {});
      await nats[Symbol.asyncDispose]();
    },
  };
}

/** The query service's own status, over NATS. */
export async function queryStatus(nc: BusConnection): Promise<QueryServiceStatus> {
  const answer = await requestService<{ result: { service: QueryServiceStatus } }>(
    nc,
    querySubject("status"),
    {},
    { timeoutMs: 30_000 },
  );
  return answer.result.service;
}

/**
 * Waits for the query service to hold `endpoints`; on timeout the error says how many it holds and
 * how the connector's log ends, on one line (the run's table shows the first line of a failure).
 */
export async function waitForEndpoints(
  nc: BusConnection,
  endpoints: number,
  connector: ChildService | undefined,
  timeoutMs = patience.ms,
  interval = 100,
): Promise<void> {
  let held = -1;
  try {
    await waitFor(
      async () => {
        held = (await queryStatus(nc)).endpoints;
        return held >= endpoints;
      },
      { timeout: timeoutMs, interval, message: "endpoints" },
    );
  } catch {
    const tail = connector?.output().split("\n").slice(-3).join(" | ") ?? "";
    throw new Error(
      `the pipeline did not converge: the query service holds ${held} of ${endpoints} endpoints after ` +
        `${timeoutMs / 1000} s${tail ? `; the connector's log ends: ${tail}` : "; the connector logged nothing"}`,
    );
  }
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
