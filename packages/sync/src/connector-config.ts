/**
 * The environment every connector reads, whatever its datastore; a connector adds its own variables
 * as an extra zod shape.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `FEDVIEW_NATS_*` | see `@fedview/bus` | how to reach NATS |
 * | `FEDVIEW_CONNECTOR_XKEY_SEED`, `FEDVIEW_CONNECTOR_XKEY_SEED_FILE` | (one required) | the connectors' curve seed (`SX…`) that opens sealed connection secrets |
 * | `FEDVIEW_CONFIG_XKEY_PUBLIC` | | accept secrets sealed only by these config-service public keys (`X…`, comma-separated) |
 * | `FEDVIEW_REPLICA_ID` | `<hostname>-<pid>-<random>` | this replica's lease identity; unique per process |
 * | `FEDVIEW_METRICS_HOST`, `FEDVIEW_METRICS_PORT` | `0.0.0.0`, per connector | `/metrics`, `/healthz`, `/readyz`; `0` picks a free port, `off` disables |
 * | `FEDVIEW_CONNECTIONS_BUCKET`, `FEDVIEW_LEASES_BUCKET`, `FEDVIEW_STATE_STREAM` | bus defaults | names on the bus |
 * | `FEDVIEW_ENSURE_STREAM` | `true` | create the stream and buckets when missing |
 * | `FEDVIEW_LEASE_TTL_MS` | `6000` | lease TTL when this connector creates the lease bucket |
 * | `FEDVIEW_RELIST_CONCURRENCY` | `4` | clusters listing at once |
 * | `FEDVIEW_LIVENESS_INTERVAL_MS`, `FEDVIEW_LIVENESS_TIMEOUT_MS` | `10000`, `10000` | liveness check of each cluster |
 * | `FEDVIEW_BACKOFF_INITIAL_MS`, `FEDVIEW_BACKOFF_MAX_MS` | `500`, `30000` | reconnect backoff (jittered, capped) |
 * | `FEDVIEW_REBALANCE_INTERVAL_MS` | `5000` | how often replicas even out the clusters they serve |
 * | `FEDVIEW_STREAM_TOMBSTONE_RETENTION_MS` | `86400000` (24 h) | delete tombstones of owned clusters older than this are purged from the state stream; keep it far above any consumer's lag and above the query service's `FEDVIEW_TOMBSTONE_RETENTION_MS`; `0` never purges |
 * | `FEDVIEW_TOMBSTONE_PURGE_INTERVAL_MS` | `3600000` (1 h) | how often they are purged |
 * | `FEDVIEW_LOG_LEVEL` | `info` | pino level |
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import {
  type BusConnectOptions,
  busConnectOptionsFromEnv,
  envBoolean,
  envInteger,
  envOptional,
  natsEnvSchema,
  toIssues,
} from "@fedview/bus";
import { z } from "zod";

/** What every connector needs, whatever its datastore. */
export interface ConnectorConfig {
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
  /** 0: tombstones are never purged. */
  tombstoneRetentionMs: number;
  tombstonePurgeIntervalMs: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** How one connector reads its environment. */
export interface ReadConnectorConfigOptions<Extra extends z.ZodRawShape> {
  /** `etcd-connector`, `k8s-connector`: in error messages and the NATS client name (`fedview-…`). */
  service: string;
  /** Default of `FEDVIEW_METRICS_PORT`. */
  defaultMetricsPort: number;
  /** The connector's own variables. */
  extraEnv: Extra;
  /** The connector's configuration error class. */
  configError: new (
    message: string,
    options?: { cause?: unknown },
  ) => Error;
}

const name = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
  .optional();

const connectorEnvShape = (defaultMetricsPort: number) => ({
  // Read here too, so the schema names every variable the service reads; busConnectOptionsFromEnv builds the options.
  ...natsEnvSchema.shape,
  FEDVIEW_CONNECTOR_XKEY_SEED: envOptional,
  FEDVIEW_CONNECTOR_XKEY_SEED_FILE: envOptional,
  FEDVIEW_CONFIG_XKEY_PUBLIC: envOptional,
  FEDVIEW_REPLICA_ID: envOptional,
  FEDVIEW_METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  FEDVIEW_METRICS_PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return defaultMetricsPort;
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
  FEDVIEW_ENSURE_STREAM: envBoolean(true),
  FEDVIEW_LEASE_TTL_MS: envInteger(6_000, 1_000),
  FEDVIEW_RELIST_CONCURRENCY: envInteger(4, 1),
  FEDVIEW_LIVENESS_INTERVAL_MS: envInteger(10_000, 100),
  FEDVIEW_LIVENESS_TIMEOUT_MS: envInteger(10_000, 100),
  FEDVIEW_BACKOFF_INITIAL_MS: envInteger(500, 1),
  FEDVIEW_BACKOFF_MAX_MS: envInteger(30_000, 1),
  FEDVIEW_REBALANCE_INTERVAL_MS: envInteger(5_000, 100),
  FEDVIEW_STREAM_TOMBSTONE_RETENTION_MS: envInteger(86_400_000, 0),
  FEDVIEW_TOMBSTONE_PURGE_INTERVAL_MS: envInteger(3_600_000, 1_000),
  FEDVIEW_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/**
 * Reads the shared connector variables and the connector's `extraEnv` from `env`. Throws
 * `configError` naming every invalid variable; secret values never appear in the error. Returns the
 * shared configuration and the parsed extra variables.
 */
export function readConnectorConfig<Extra extends z.ZodRawShape>(
  env: Record<string, string | undefined>,
  options: ReadConnectorConfigOptions<Extra>,
): { config: ConnectorConfig; extra: z.output<z.ZodObject<Extra>> } {
  const ConfigError = options.configError;
  const parsed = z.object(connectorEnvShape(options.defaultMetricsPort)).safeParse(env);
  const parsedExtra = z.object(options.extraEnv).safeParse(env);
  if (!parsed.success || !parsedExtra.success) {
    const issues = [
      ...(parsed.success ? [] : toIssues(parsed.error)),
      ...(parsedExtra.success ? [] : toIssues(parsedExtra.error)),
    ];
    throw new ConfigError(
      `invalid ${options.service} configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
  }
  const e = parsed.data;

  let bus: BusConnectOptions;
  try {
    // Keep trying rather than exiting when NATS starts after the connector.
    bus = busConnectOptionsFromEnv(env, {
      name: `fedview-${options.service}`,
      reconnect: { waitOnFirstConnect: true },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
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

  const config: ConnectorConfig = {
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
    tombstoneRetentionMs: e.FEDVIEW_STREAM_TOMBSTONE_RETENTION_MS,
    tombstonePurgeIntervalMs: e.FEDVIEW_TOMBSTONE_PURGE_INTERVAL_MS,
    logLevel: e.FEDVIEW_LOG_LEVEL,
  };
  return { config, extra: parsedExtra.data as z.output<z.ZodObject<Extra>> };
}
