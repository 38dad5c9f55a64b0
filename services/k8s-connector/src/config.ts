/**
 * The Kubernetes connector's configuration, read from the environment and validated with zod.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `FEDVIEW_NATS_URL` | `nats://127.0.0.1:4222` | NATS server URL(s), comma-separated |
 * | `FEDVIEW_NATS_USER`, `FEDVIEW_NATS_PASSWORD`, `FEDVIEW_NATS_TOKEN`, `FEDVIEW_NATS_NKEY_SEED_FILE`, `FEDVIEW_NATS_CREDS_FILE` | | NATS authentication (one method) |
 * | `FEDVIEW_NATS_TLS_CA_FILE`, `…_CERT_FILE`, `…_KEY_FILE` | | NATS TLS |
 * | `FEDVIEW_CONNECTOR_XKEY_SEED`, `FEDVIEW_CONNECTOR_XKEY_SEED_FILE` | (one required) | the connectors' curve seed (`SX…`) that opens sealed connection secrets |
 * | `FEDVIEW_CONFIG_XKEY_PUBLIC` | | accept secrets sealed only by these config-service public keys (`X…`, comma-separated) |
 * | `FEDVIEW_REPLICA_ID` | `<hostname>-<pid>-<random>` | this replica's lease identity; unique per process |
 * | `FEDVIEW_METRICS_HOST`, `FEDVIEW_METRICS_PORT` | `0.0.0.0`, `9467` | `/metrics`, `/healthz`, `/readyz`; `0` picks a free port, `off` disables |
 * | `FEDVIEW_CONNECTIONS_BUCKET`, `FEDVIEW_LEASES_BUCKET`, `FEDVIEW_STATE_STREAM` | bus defaults | names on the bus |
 * | `FEDVIEW_ENSURE_STREAM` | `true` | create the stream and buckets when missing |
 * | `FEDVIEW_LEASE_TTL_MS` | `6000` | lease TTL when this connector creates the lease bucket |
 * | `FEDVIEW_RELIST_CONCURRENCY` | `4` | clusters listing at once |
 * | `FEDVIEW_LIVENESS_INTERVAL_MS`, `FEDVIEW_LIVENESS_TIMEOUT_MS` | `10000`, `10000` | liveness check of each cluster's API server |
 * | `FEDVIEW_BACKOFF_INITIAL_MS`, `FEDVIEW_BACKOFF_MAX_MS` | `500`, `30000` | reconnect and watch-restart backoff (jittered, capped) |
 * | `FEDVIEW_REBALANCE_INTERVAL_MS` | `5000` | how often replicas even out the clusters they serve |
 * | `FEDVIEW_K8S_PAGE_SIZE` | `500` | objects per list request |
 * | `FEDVIEW_K8S_REQUEST_TIMEOUT_MS` | `60000` | deadline of each list request |
 * | `FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS` | `240` | `timeoutSeconds` of watch requests (jittered down to half) |
 * | `FEDVIEW_K8S_WATCHDOG_MS` | `300000` | a watch without event or bookmark this long is aborted and the cluster relisted; above the watch timeout |
 * | `FEDVIEW_K8S_WATCH_RETRIES` | `5` | failed watch requests in a row before the cluster reconnects |
 * | `FEDVIEW_LOG_LEVEL` | `info` | pino level |
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { type BusConnectOptions, busConnectOptionsSchema, toIssues } from "@fedview/bus";
import { z } from "zod";
import { ConfigError } from "./errors.js";

/** Everything the service needs, typed. */
export interface KubernetesConnectorConfig {
  bus: BusConnectOptions;
  /** The connectors' curve seed (`SX…`); a secret, never logged. */
  xkeySeed: string;
  expectedSenders?: string[];
  replicaId: string;
  /** `null`: no HTTP endpoint. */
  metrics: { host: string; port: number } | null;
  connectionsBucket?: string;
  leasesBucket?: string;
  stateStream?: string;
  ensureTopology: boolean;
  leaseTtlMs: number;
  relistConcurrency: number;
  livenessIntervalMs: number;
  livenessTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  rebalanceIntervalMs: number;
  kubernetes: {
    pageSize: number;
    requestTimeoutMs: number;
    watchTimeoutSeconds: number;
    watchdogMs: number;
    watchRetries: number;
  };
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const boolean = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      if (/^(1|true|yes|on)$/i.test(v.trim())) return true;
      if (/^(0|false|no|off)$/i.test(v.trim())) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });

const integer = (fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: "custom", message: `expected an integer ≥ ${min}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const name = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
  .optional();

const envSchema = z.object({
  FEDVIEW_NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  FEDVIEW_NATS_USER: optional,
  FEDVIEW_NATS_PASSWORD: z.string().optional(),
  FEDVIEW_NATS_TOKEN: optional,
  FEDVIEW_NATS_NKEY_SEED_FILE: optional,
  FEDVIEW_NATS_CREDS_FILE: optional,
  FEDVIEW_NATS_TLS_CA_FILE: optional,
  FEDVIEW_NATS_TLS_CERT_FILE: optional,
  FEDVIEW_NATS_TLS_KEY_FILE: optional,
  FEDVIEW_CONNECTOR_XKEY_SEED: optional,
  FEDVIEW_CONNECTOR_XKEY_SEED_FILE: optional,
  FEDVIEW_CONFIG_XKEY_PUBLIC: optional,
  FEDVIEW_REPLICA_ID: optional,
  FEDVIEW_METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  FEDVIEW_METRICS_PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return 9467;
      if (v.trim() === "off") return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65_535) {
        ctx.addIssue({ code: "custom", message: `expected a port, 0 or "off", got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  FEDVIEW_CONNECTIONS_BUCKET: name,
  FEDVIEW_LEASES_BUCKET: name,
  FEDVIEW_STATE_STREAM: name,
  FEDVIEW_ENSURE_STREAM: boolean(true),
  FEDVIEW_LEASE_TTL_MS: integer(6_000, 1_000),
  FEDVIEW_RELIST_CONCURRENCY: integer(4, 1),
  FEDVIEW_LIVENESS_INTERVAL_MS: integer(10_000, 100),
  FEDVIEW_LIVENESS_TIMEOUT_MS: integer(10_000, 100),
  FEDVIEW_BACKOFF_INITIAL_MS: integer(500, 1),
  FEDVIEW_BACKOFF_MAX_MS: integer(30_000, 1),
  FEDVIEW_REBALANCE_INTERVAL_MS: integer(5_000, 100),
  FEDVIEW_K8S_PAGE_SIZE: integer(500, 1),
  FEDVIEW_K8S_REQUEST_TIMEOUT_MS: integer(60_000, 100),
  FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: integer(240, 1),
  FEDVIEW_K8S_WATCHDOG_MS: integer(300_000, 100),
  FEDVIEW_K8S_WATCH_RETRIES: integer(5, 0),
  FEDVIEW_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/**
 * Reads the configuration from `env` (default `process.env`). Throws `ConfigError` naming every
 * invalid variable; secret values never appear in the error.
 */
export function readKubernetesConnectorConfig(
  env: Record<string, string | undefined> = process.env,
): KubernetesConnectorConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new ConfigError(
      `invalid k8s-connector configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
  }
  const e = parsed.data;

  const bus: BusConnectOptions = {
    servers: list(e.FEDVIEW_NATS_URL),
    name: "fedview-k8s-connector",
    // Keep trying rather than exiting when NATS starts after the connector.
    reconnect: { waitOnFirstConnect: true },
  };
  if (e.FEDVIEW_NATS_USER !== undefined) bus.user = e.FEDVIEW_NATS_USER;
  if (e.FEDVIEW_NATS_PASSWORD !== undefined) bus.password = e.FEDVIEW_NATS_PASSWORD;
  if (e.FEDVIEW_NATS_TOKEN !== undefined) bus.token = e.FEDVIEW_NATS_TOKEN;
  if (e.FEDVIEW_NATS_NKEY_SEED_FILE !== undefined) bus.nkeySeedFile = e.FEDVIEW_NATS_NKEY_SEED_FILE;
  if (e.FEDVIEW_NATS_CREDS_FILE !== undefined) bus.credentialsFile = e.FEDVIEW_NATS_CREDS_FILE;
  const tls: NonNullable<BusConnectOptions["tls"]> = {};
  if (e.FEDVIEW_NATS_TLS_CA_FILE !== undefined) tls.caFile = e.FEDVIEW_NATS_TLS_CA_FILE;
  if (e.FEDVIEW_NATS_TLS_CERT_FILE !== undefined) tls.certFile = e.FEDVIEW_NATS_TLS_CERT_FILE;
  if (e.FEDVIEW_NATS_TLS_KEY_FILE !== undefined) tls.keyFile = e.FEDVIEW_NATS_TLS_KEY_FILE;
  if (Object.keys(tls).length > 0) bus.tls = tls;
  const checked = busConnectOptionsSchema.safeParse(bus);
  if (!checked.success) {
    const issues = toIssues(checked.error);
    throw new ConfigError(
      `invalid NATS settings: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
    );
  }

  if ((e.FEDVIEW_CONNECTOR_XKEY_SEED === undefined) === (e.FEDVIEW_CONNECTOR_XKEY_SEED_FILE === undefined)) {
    throw new ConfigError(
      "set exactly one of FEDVIEW_CONNECTOR_XKEY_SEED and FEDVIEW_CONNECTOR_XKEY_SEED_FILE: the connectors' curve seed (SX…) opens sealed connection secrets",
    );
  }
  let xkeySeed = e.FEDVIEW_CONNECTOR_XKEY_SEED;
  if (e.FEDVIEW_CONNECTOR_XKEY_SEED_FILE !== undefined) {
    try {
      xkeySeed = readFileSync(e.FEDVIEW_CONNECTOR_XKEY_SEED_FILE, "utf8").trim();
    } catch (err) {
      throw new ConfigError(
        `FEDVIEW_CONNECTOR_XKEY_SEED_FILE: cannot read ${e.FEDVIEW_CONNECTOR_XKEY_SEED_FILE}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  if (!xkeySeed?.startsWith("SX")) {
    throw new ConfigError("the connector xkey seed must be a curve seed starting with SX");
  }
  if (e.FEDVIEW_BACKOFF_MAX_MS < e.FEDVIEW_BACKOFF_INITIAL_MS) {
    throw new ConfigError("FEDVIEW_BACKOFF_MAX_MS must not be below FEDVIEW_BACKOFF_INITIAL_MS");
  }
  // A watch the server may keep quiet until its timeout must not look silent before then.
  if (e.FEDVIEW_K8S_WATCHDOG_MS <= e.FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS * 1000) {
    throw new ConfigError(
      "FEDVIEW_K8S_WATCHDOG_MS must exceed FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: a quiet watch would otherwise be taken for a silent one",
    );
  }

  return {
    bus,
    xkeySeed,
    ...(e.FEDVIEW_CONFIG_XKEY_PUBLIC !== undefined ? { expectedSenders: list(e.FEDVIEW_CONFIG_XKEY_PUBLIC) } : {}),
    replicaId: e.FEDVIEW_REPLICA_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    metrics: e.FEDVIEW_METRICS_PORT === null ? null : { host: e.FEDVIEW_METRICS_HOST, port: e.FEDVIEW_METRICS_PORT },
    ...(e.FEDVIEW_CONNECTIONS_BUCKET !== undefined ? { connectionsBucket: e.FEDVIEW_CONNECTIONS_BUCKET } : {}),
    ...(e.FEDVIEW_LEASES_BUCKET !== undefined ? { leasesBucket: e.FEDVIEW_LEASES_BUCKET } : {}),
    ...(e.FEDVIEW_STATE_STREAM !== undefined ? { stateStream: e.FEDVIEW_STATE_STREAM } : {}),
    ensureTopology: e.FEDVIEW_ENSURE_STREAM,
    leaseTtlMs: e.FEDVIEW_LEASE_TTL_MS,
    relistConcurrency: e.FEDVIEW_RELIST_CONCURRENCY,
    livenessIntervalMs: e.FEDVIEW_LIVENESS_INTERVAL_MS,
    livenessTimeoutMs: e.FEDVIEW_LIVENESS_TIMEOUT_MS,
    backoff: { initialMs: e.FEDVIEW_BACKOFF_INITIAL_MS, maxMs: e.FEDVIEW_BACKOFF_MAX_MS },
    rebalanceIntervalMs: e.FEDVIEW_REBALANCE_INTERVAL_MS,
    kubernetes: {
      pageSize: e.FEDVIEW_K8S_PAGE_SIZE,
      requestTimeoutMs: e.FEDVIEW_K8S_REQUEST_TIMEOUT_MS,
      watchTimeoutSeconds: e.FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS,
      watchdogMs: e.FEDVIEW_K8S_WATCHDOG_MS,
      watchRetries: e.FEDVIEW_K8S_WATCH_RETRIES,
    },
    logLevel: e.FEDVIEW_LOG_LEVEL,
  };
}
