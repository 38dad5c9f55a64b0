/**
 * The etcd connector's configuration, read from the environment and validated with zod.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `FEDVIEW_NATS_URL` | `nats://127.0.0.1:4222` | NATS server URL(s), comma-separated |
 * | `FEDVIEW_NATS_USER`, `FEDVIEW_NATS_PASSWORD`, `FEDVIEW_NATS_TOKEN`, `FEDVIEW_NATS_NKEY_SEED_FILE`, `FEDVIEW_NATS_CREDS_FILE` | | NATS authentication (one method) |
 * | `FEDVIEW_NATS_TLS_CA_FILE`, `…_CERT_FILE`, `…_KEY_FILE` | | NATS TLS |
 * | `FEDVIEW_CONNECTOR_XKEY_SEED`, `FEDVIEW_CONNECTOR_XKEY_SEED_FILE` | (one required) | the connectors' curve seed (`SX…`) that opens sealed connection secrets |
 * | `FEDVIEW_CONFIG_XKEY_PUBLIC` | | accept secrets sealed only by these config-service public keys (`X…`, comma-separated) |
 * | `FEDVIEW_REPLICA_ID` | `<hostname>-<pid>-<random>` | this replica's lease identity; unique per process |
 * | `FEDVIEW_METRICS_HOST`, `FEDVIEW_METRICS_PORT` | `0.0.0.0`, `9466` | `/metrics`, `/healthz`, `/readyz`; `0` picks a free port, `off` disables |
 * | `FEDVIEW_CONNECTIONS_BUCKET`, `FEDVIEW_LEASES_BUCKET`, `FEDVIEW_STATE_STREAM` | bus defaults | names on the bus |
 * | `FEDVIEW_ENSURE_STREAM` | `true` | create the stream and buckets when missing |
 * | `FEDVIEW_LEASE_TTL_MS` | `6000` | lease TTL when this connector creates the lease bucket |
 * | `FEDVIEW_RELIST_CONCURRENCY` | `4` | clusters listing at once |
 * | `FEDVIEW_ETCD_PAGE_SIZE`, `FEDVIEW_ETCD_PAGE_BYTES` | `10000`, `8388608` (8 MiB) | most keys per listing page, and the bytes a page aims at (the key count follows the bytes per key seen) |
 * | `FEDVIEW_ETCD_MAX_RECEIVE_BYTES` | `67108864` (64 MiB) | largest message accepted from etcd; a page still over it is read again in smaller pages; ≥ the page bytes |
 * | `FEDVIEW_ETCD_REQUEST_TIMEOUT_MS` | `10000` | deadline of each etcd request |
 * | `FEDVIEW_LIVENESS_INTERVAL_MS`, `FEDVIEW_LIVENESS_TIMEOUT_MS` | `10000`, `10000` | liveness check of each etcd client |
 * | `FEDVIEW_BACKOFF_INITIAL_MS`, `FEDVIEW_BACKOFF_MAX_MS` | `500`, `30000` | reconnect backoff (jittered, capped) |
 * | `FEDVIEW_REBALANCE_INTERVAL_MS` | `5000` | how often replicas even out the clusters they serve |
 * | `FEDVIEW_LOG_LEVEL` | `info` | pino level |
 */
import { envInteger } from "@fedview/bus";
import { type ConnectorConfig, readConnectorConfig } from "@fedview/sync";
import { ConfigError } from "./errors.js";
import { DEFAULT_MAX_RECEIVE_BYTES } from "./etcd-client.js";
import { DEFAULT_PAGE_BYTES, DEFAULT_PAGE_KEYS } from "./etcd-source.js";

/** Everything the service needs, typed: the shared connector settings and etcd's own. */
export interface EtcdConnectorConfig extends ConnectorConfig {
  etcdPageSize: number;
  etcdPageBytes: number;
  etcdMaxReceiveBytes: number;
  etcdRequestTimeoutMs: number;
}

/**
 * Reads the configuration from `env` (default `process.env`). Throws `ConfigError` naming every
 * invalid variable; secret values never appear in the error.
 */
export function readEtcdConnectorConfig(env: Record<string, string | undefined> = process.env): EtcdConnectorConfig {
  const { config, extra } = readConnectorConfig(env, {
    service: "etcd-connector",
    defaultMetricsPort: 9466,
    extraEnv: {
      FEDVIEW_ETCD_PAGE_SIZE: envInteger(DEFAULT_PAGE_KEYS, 1),
      FEDVIEW_ETCD_PAGE_BYTES: envInteger(DEFAULT_PAGE_BYTES, 1024),
      FEDVIEW_ETCD_MAX_RECEIVE_BYTES: envInteger(DEFAULT_MAX_RECEIVE_BYTES, 1024),
      FEDVIEW_ETCD_REQUEST_TIMEOUT_MS: envInteger(10_000, 100),
    },
    configError: ConfigError,
  });
  if (extra.FEDVIEW_ETCD_PAGE_BYTES > extra.FEDVIEW_ETCD_MAX_RECEIVE_BYTES) {
    throw new ConfigError(
      `FEDVIEW_ETCD_PAGE_BYTES (${extra.FEDVIEW_ETCD_PAGE_BYTES}) must not exceed FEDVIEW_ETCD_MAX_RECEIVE_BYTES (${extra.FEDVIEW_ETCD_MAX_RECEIVE_BYTES}): lower the first or raise the second`,
    );
  }
  return {
    ...config,
    etcdPageSize: extra.FEDVIEW_ETCD_PAGE_SIZE,
    etcdPageBytes: extra.FEDVIEW_ETCD_PAGE_BYTES,
    etcdMaxReceiveBytes: extra.FEDVIEW_ETCD_MAX_RECEIVE_BYTES,
    etcdRequestTimeoutMs: extra.FEDVIEW_ETCD_REQUEST_TIMEOUT_MS,
  };
}
