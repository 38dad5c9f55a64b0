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
import { envInteger } from "@fedview/bus";
import { type ConnectorConfig, readConnectorConfig } from "@fedview/sync";
import { ConfigError } from "./errors.js";

/** Everything the service needs, typed: the shared connector settings and the Kubernetes ones. */
export interface KubernetesConnectorConfig extends ConnectorConfig {
  kubernetes: {
    pageSize: number;
    requestTimeoutMs: number;
    watchTimeoutSeconds: number;
    watchdogMs: number;
    watchRetries: number;
  };
}

/**
 * Reads the configuration from `env` (default `process.env`). Throws `ConfigError` naming every
 * invalid variable; secret values never appear in the error.
 */
export function readKubernetesConnectorConfig(
  env: Record<string, string | undefined> = process.env,
): KubernetesConnectorConfig {
  const { config, extra: e } = readConnectorConfig(env, {
    service: "k8s-connector",
    defaultMetricsPort: 9467,
    extraEnv: {
      FEDVIEW_K8S_PAGE_SIZE: envInteger(500, 1),
      FEDVIEW_K8S_REQUEST_TIMEOUT_MS: envInteger(60_000, 100),
      FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: envInteger(240, 1),
      FEDVIEW_K8S_WATCHDOG_MS: envInteger(300_000, 100),
      FEDVIEW_K8S_WATCH_RETRIES: envInteger(5, 0),
    },
    configError: ConfigError,
  });
  // A watch the server may keep quiet until its timeout must not look silent before then.
  if (e.FEDVIEW_K8S_WATCHDOG_MS <= e.FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS * 1000) {
    throw new ConfigError(
      "FEDVIEW_K8S_WATCHDOG_MS must exceed FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: a quiet watch would otherwise be taken for a silent one",
    );
  }
  return {
    ...config,
    kubernetes: {
      pageSize: e.FEDVIEW_K8S_PAGE_SIZE,
      requestTimeoutMs: e.FEDVIEW_K8S_REQUEST_TIMEOUT_MS,
      watchTimeoutSeconds: e.FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS,
      watchdogMs: e.FEDVIEW_K8S_WATCHDOG_MS,
      watchRetries: e.FEDVIEW_K8S_WATCH_RETRIES,
    },
  };
}
