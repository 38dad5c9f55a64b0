/**
 * The query service's configuration, read from the environment and validated with zod.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `FEDVIEW_NATS_URL` | `nats://127.0.0.1:4222` | NATS server URL(s), comma-separated |
 * | `FEDVIEW_NATS_USER`, `FEDVIEW_NATS_PASSWORD` | | user/password authentication |
 * | `FEDVIEW_NATS_TOKEN` | | token authentication |
 * | `FEDVIEW_NATS_NKEY_SEED_FILE` | | nkey seed file (re-read on reconnect) |
 * | `FEDVIEW_NATS_CREDS_FILE` | | `.creds` file (re-read on reconnect) |
 * | `FEDVIEW_NATS_TLS_CA_FILE`, `…_CERT_FILE`, `…_KEY_FILE` | | TLS CA and client certificate |
 * | `FEDVIEW_STATE_STREAM` | `FEDVIEW_STATE` | the durable state stream |
 * | `FEDVIEW_ENSURE_STREAM` | `true` | create the stream if it is missing |
 * | `FEDVIEW_QUERY_QUEUE` | `fedview-query` | queue group shared by replicas |
 * | `FEDVIEW_METRICS_HOST`, `FEDVIEW_METRICS_PORT` | `0.0.0.0`, `9464` | `/metrics`, `/healthz`, `/readyz`; port `0` picks a free one, `off` disables |
 * | `FEDVIEW_READY_TIMEOUT_MS` | `120000` | how long `start()` waits for the snapshot |
 * | `FEDVIEW_PROGRESS_INTERVAL_MS` | `5000` | how often snapshot loading progress is logged |
 * | `FEDVIEW_WATCH_HEARTBEAT_MS` | `5000` | liveness checks of `watch` callers |
 * | `FEDVIEW_TOMBSTONE_RETENTION_MS` | `300000` | how long the view remembers a deleted resource's version (bounds memory under create/delete churn) |
 * | `FEDVIEW_LOG_LEVEL` | `info` | pino level |
 */
import {
  type BusConnectOptions,
  busConnectOptionsFromEnv,
  envBoolean,
  envInteger,
  natsEnvSchema,
  toIssues,
} from "@fedview/bus";
import { z } from "zod";
import { QueryServiceConfigError } from "./errors.js";

/** Everything `createQueryService` needs. */
export interface QueryServiceConfig {
  bus: BusConnectOptions;
  stateStream: string;
  ensureStream: boolean;
  queue: string;
  /** Null disables the HTTP endpoint; port 0 binds a free port. */
  metrics: { host: string; port: number } | null;
  readyTimeoutMs: number;
  progressIntervalMs: number;
  watchHeartbeatMs: number;
  /** How long the view remembers the version of a deleted resource. */
  tombstoneRetentionMs: number;
  /** Backoff of the state reader after a failure: first delay and cap, in milliseconds. */
  retry: { initialMs: number; maxMs: number };
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

const envSchema = z.object({
  // Read here too, so the schema names every variable the service reads; busConnectOptionsFromEnv builds the options.
  ...natsEnvSchema.shape,
  FEDVIEW_STATE_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
    .default("FEDVIEW_STATE"),
  FEDVIEW_ENSURE_STREAM: envBoolean(true),
  FEDVIEW_QUERY_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "a NATS queue group name")
    .default("fedview-query"),
  FEDVIEW_METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  FEDVIEW_METRICS_PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return 9464;
      if (v.trim().toLowerCase() === "off") return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: "custom", message: `expected a port (0–65535) or "off", got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  FEDVIEW_READY_TIMEOUT_MS: envInteger(120_000, 0),
  FEDVIEW_PROGRESS_INTERVAL_MS: envInteger(5000, 100),
  FEDVIEW_WATCH_HEARTBEAT_MS: envInteger(5000, 100),
  FEDVIEW_TOMBSTONE_RETENTION_MS: envInteger(300_000, 1000),
  FEDVIEW_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/**
 * Reads the configuration from `env` (default `process.env`). Throws `QueryServiceConfigError`
 * naming every invalid variable.
 */
export function readQueryServiceConfig(env: Record<string, string | undefined> = process.env): QueryServiceConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new QueryServiceConfigError(
      `invalid query service configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
  }
  const e = parsed.data;
  let bus: BusConnectOptions;
  try {
    bus = busConnectOptionsFromEnv(env, { name: "fedview-query-service" });
  } catch (error) {
    throw new QueryServiceConfigError((error as Error).message, { cause: error });
  }
  return {
    bus,
    stateStream: e.FEDVIEW_STATE_STREAM,
    ensureStream: e.FEDVIEW_ENSURE_STREAM,
    queue: e.FEDVIEW_QUERY_QUEUE,
    metrics: e.FEDVIEW_METRICS_PORT === null ? null : { host: e.FEDVIEW_METRICS_HOST, port: e.FEDVIEW_METRICS_PORT },
    readyTimeoutMs: e.FEDVIEW_READY_TIMEOUT_MS,
    progressIntervalMs: e.FEDVIEW_PROGRESS_INTERVAL_MS,
    watchHeartbeatMs: e.FEDVIEW_WATCH_HEARTBEAT_MS,
    tombstoneRetentionMs: e.FEDVIEW_TOMBSTONE_RETENTION_MS,
    retry: { initialMs: 500, maxMs: 30_000 },
    logLevel: e.FEDVIEW_LOG_LEVEL,
  };
}
