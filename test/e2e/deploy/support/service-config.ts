/**
 * Each service's own configuration reader (`services/<name>/src/config.ts`, a `read…Config(env)`
 * that validates the environment with zod), loaded by path so that a service added later is checked
 * without changing these tests.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { repoPath } from "./repo.js";

type Env = Record<string, string | undefined>;

/** A service's configuration reader and the environment variables its schema reads. */
export interface ServiceConfigReader {
  service: string;
  /** e.g. `readQueryServiceConfig` */
  functionName: string;
  /** Throws the service's configuration error on a bad environment, as the service does at start. */
  read(env: Env): unknown;
  /** Every variable the schema looks at. */
  knownVariables: ReadonlySet<string>;
}

/** Whether `services/<service>/src/config.ts` exists yet. */
export function hasServiceConfig(service: string): boolean {
  return existsSync(repoPath("services", service, "src", "config.ts"));
}

/** Loads `services/<service>/src/config.ts` and finds its one exported `read…Config` function. */
export async function loadServiceConfig(service: string): Promise<ServiceConfigReader> {
  const path = repoPath("services", service, "src", "config.ts");
  if (!existsSync(path)) throw new Error(`services/${service}/src/config.ts does not exist`);
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const readers = Object.entries(module).filter(
    ([name, value]) => /^read\w*Config$/.test(name) && typeof value === "function",
  );
  if (readers.length !== 1) {
    throw new Error(
      `services/${service}/src/config.ts should export one read…Config function, found ${readers.map(([n]) => n).join(", ") || "none"}`,
    );
  }
  const [functionName, fn] = readers[0]!;
  const read = fn as (env: Env) => unknown;
  return { service, functionName, read, knownVariables: variablesReadBy(read) };
}

/**
 * The variable names a reader looks up, found by handing it an empty environment that records every
 * lookup (zod reads each key of its object schema). The reader's error about the empty environment
 * is expected and ignored.
 */
function variablesReadBy(read: (env: Env) => unknown): Set<string> {
  const seen = new Set<string>();
  const record = (key: string | symbol) => {
    if (typeof key === "string" && /^[A-Z][A-Z0-9_]*$/.test(key)) seen.add(key);
  };
  const env = new Proxy({} as Env, {
    get(_target, key) {
      record(key);
      return undefined;
    },
    has(_target, key) {
      record(key);
      return false;
    },
  });
  try {
    read(env);
  } catch {
    // An empty environment lacks required variables; only the lookups matter here.
  }
  return seen;
}

/** The metrics/probe port a config object carries (`metrics: {host, port} | null`). */
export function metricsPortOf(config: unknown): number | null | undefined {
  if (typeof config !== "object" || config === null || !("metrics" in config)) return undefined;
  const metrics = (config as { metrics: unknown }).metrics;
  if (metrics === null) return null;
  if (typeof metrics === "object" && metrics !== null && "port" in metrics) {
    const port = (metrics as { port: unknown }).port;
    return typeof port === "number" ? port : undefined;
  }
  return undefined;
}

/** The NATS servers a config object carries (`bus.servers`). */
export function natsServersOf(config: unknown): string[] | undefined {
  if (typeof config !== "object" || config === null || !("bus" in config)) return undefined;
  const bus = (config as { bus: unknown }).bus;
  if (typeof bus !== "object" || bus === null || !("servers" in bus)) return undefined;
  const servers = (bus as { servers: unknown }).servers;
  return Array.isArray(servers) ? servers.filter((s): s is string => typeof s === "string") : undefined;
}
