/**
 * The config service's configuration, read from the environment and validated with zod. The local
 * datastore is chosen the way calicoctl chooses it.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `DATASTORE_TYPE` | `etcdv3` | where RCCs live: `etcdv3` or `kubernetes` |
 * | `ETCD_ENDPOINTS` | `http://127.0.0.1:2379` | local etcd, comma-separated |
 * | `ETCD_USERNAME`, `ETCD_PASSWORD` | | etcd authentication |
 * | `ETCD_KEY_FILE`, `ETCD_CERT_FILE`, `ETCD_CA_CERT_FILE` | | etcd TLS |
 * | `KUBECONFIG` | | local Kubernetes API (for the CRD store, and for Secrets with either datastore) |
 * | `K8S_API_ENDPOINT`, `K8S_API_TOKEN`, `K8S_CA_FILE`, `K8S_CERT_FILE`, `K8S_KEY_FILE`, `K8S_INSECURE_SKIP_TLS_VERIFY` | | override the kubeconfig |
 * | `FEDVIEW_NATS_URL` | `nats://127.0.0.1:4222` | NATS server URL(s), comma-separated |
 * | `FEDVIEW_NATS_USER`, `FEDVIEW_NATS_PASSWORD`, `FEDVIEW_NATS_TOKEN`, `FEDVIEW_NATS_NKEY_SEED_FILE`, `FEDVIEW_NATS_CREDS_FILE` | | NATS authentication (one method) |
 * | `FEDVIEW_NATS_TLS_CA_FILE`, `…_CERT_FILE`, `…_KEY_FILE` | | NATS TLS |
 * | `FEDVIEW_CONNECTIONS_BUCKET` | `fedview-connections` | KV bucket of connection configs |
 * | `FEDVIEW_STATE_STREAM` | `FEDVIEW_STATE` | stream holding cluster statuses |
 * | `FEDVIEW_REPLICA_ID` | `<hostname>-<pid>-<random>` | this replica's identity in the leader lease; unique per process (the pod name) |
 * | `FEDVIEW_LEASES_BUCKET` | `fedview-leases` | KV bucket of leases (the connectors' bucket: config-service's leader lease lives there too) |
 * | `FEDVIEW_LEASE_TTL_MS` | `6000` | lease TTL when this service creates the lease bucket; set it as the connectors do, or the two keep resetting it |
 * | `FEDVIEW_ENSURE_STREAM` | `true` | create the stream and buckets when missing |
 * | `FEDVIEW_JETSTREAM_REPLICAS` | `1` | replicas of the stream and buckets it creates (1–5, at most the NATS cluster size; 3 for a 3-node cluster) |
 * | `FEDVIEW_CONNECTOR_XKEY_PUBLIC` | (required) | the connectors' curve public key (`X…`): secrets are sealed to it |
 * | `FEDVIEW_CONFIG_XKEY_SEED`, `FEDVIEW_CONFIG_XKEY_SEED_FILE` | generated | this service's curve seed (`SX…`); keep it stable so restarts do not republish |
 * | `FEDVIEW_METRICS_HOST`, `FEDVIEW_METRICS_PORT` | `0.0.0.0`, `9465` | `/metrics`, `/healthz`, `/readyz`; `0` picks a free port, `off` disables |
 * | `FEDVIEW_FEDERATE_LOCAL` | `true` | publish the local cluster's connection config (`_local`, from the settings above) so connectors serve its endpoints and policies; `false` withdraws the one this service published |
 * | `FEDVIEW_FILE_POLL_INTERVAL_MS` | `10000` | safety-net re-read of watched files (`0` off) |
 * | `FEDVIEW_ALLOW_K8S_FIELDS_WITH_ETCD` | `false` | accept `k8s*` fields on an etcdv3 RCC, as Calico does |
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
  isSealingPublicKey,
  natsEnvSchema,
  toIssues,
} from "@fedview/bus";
import { z } from "zod";
import { ConfigurationError } from "./errors.js";
import type { KubeConnectionSettings } from "./kube-client.js";

/** How to reach the local etcd, as calicoctl's `ETCD_*` variables say. */
export interface EtcdSettings {
  endpoints: string[];
  username?: string;
  password?: string;
  keyFile?: string;
  certFile?: string;
  caCertFile?: string;
}

/** Everything `createConfigService` needs. */
export interface ConfigServiceConfig {
  datastoreType: "etcdv3" | "kubernetes";
  /** Set when `datastoreType` is `etcdv3`. */
  etcd?: EtcdSettings;
  /** The local Kubernetes API: required for the `kubernetes` datastore, optional (Secrets only) with etcd. */
  kubernetes?: KubeConnectionSettings;
  bus: BusConnectOptions;
  connectionsBucket: string;
  stateStream: string;
  /** This replica's identity as holder of the leader lease; unique per process. */
  replicaId: string;
  /** Where the leader lease lives (shared with the connectors' leases). */
  leasesBucket: string;
  /** TTL of the lease bucket when this service creates it. */
  leaseTtlMs: number;
  ensureTopology: boolean;
  /** JetStream replicas of the state stream and the buckets (1–5). */
  jetstreamReplicas: number;
  sealing: {
    connectorPublicKey: string;
    /** This service's curve seed; generated at start when absent. */
    seed?: string;
  };
  /** Null disables the HTTP endpoint; port 0 binds a free port. */
  metrics: { host: string; port: number } | null;
  filePollIntervalMs: number;
  /** Publish the local cluster (`_local`) from the local datastore's settings. */
  federateLocal: boolean;
  allowKubernetesFieldsWithEtcd: boolean;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

const name = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
    .default(fallback);

const envSchema = z.object({
  DATASTORE_TYPE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v.trim() === "" ? "etcdv3" : v.trim();
      if (value === "etcdv3" || value === "kubernetes") return value;
      ctx.addIssue({ code: "custom", message: `must be "etcdv3" or "kubernetes", not "${v}"` });
      return z.NEVER;
    }),
  ETCD_ENDPOINTS: z.string().default("http://127.0.0.1:2379"),
  ETCD_USERNAME: envOptional,
  ETCD_PASSWORD: z.string().optional(),
  ETCD_KEY_FILE: envOptional,
  ETCD_CERT_FILE: envOptional,
  ETCD_CA_CERT_FILE: envOptional,
  KUBECONFIG: envOptional,
  K8S_API_ENDPOINT: envOptional,
  K8S_API_TOKEN: envOptional,
  K8S_CA_FILE: envOptional,
  K8S_CERT_FILE: envOptional,
  K8S_KEY_FILE: envOptional,
  K8S_INSECURE_SKIP_TLS_VERIFY: envBoolean(false),
  // Read here too, so the schema names every variable the service reads; busConnectOptionsFromEnv builds the options.
  ...natsEnvSchema.shape,
  FEDVIEW_CONNECTIONS_BUCKET: name("fedview-connections"),
  FEDVIEW_STATE_STREAM: name("FEDVIEW_STATE"),
  FEDVIEW_REPLICA_ID: envOptional,
  FEDVIEW_LEASES_BUCKET: name("fedview-leases"),
  FEDVIEW_LEASE_TTL_MS: envInteger(6_000, 1_000),
  FEDVIEW_ENSURE_STREAM: envBoolean(true),
  FEDVIEW_JETSTREAM_REPLICAS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return 1;
      const n = Number(v.trim());
      if (!Number.isInteger(n) || n < 1 || n > 5) {
        ctx.addIssue({
          code: "custom",
          message: `expected a whole number from 1 to 5 (JetStream replicas of the stream and buckets, at most the NATS cluster size), got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    }),
  FEDVIEW_CONNECTOR_XKEY_PUBLIC: z
    .string({ message: "is required: the connectors' curve public key (X…), to seal credentials to" })
    .transform((v) => v.trim())
    .refine(isSealingPublicKey, "is not a curve (xkey) public key: it starts with X, e.g. from `nk -gen x25519`"),
  FEDVIEW_CONFIG_XKEY_SEED: envOptional,
  FEDVIEW_CONFIG_XKEY_SEED_FILE: envOptional,
  FEDVIEW_METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  FEDVIEW_METRICS_PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return 9465;
      if (v.trim().toLowerCase() === "off") return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: "custom", message: `expected a port (0–65535) or "off", got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  FEDVIEW_FILE_POLL_INTERVAL_MS: envInteger(10_000, 0),
  FEDVIEW_FEDERATE_LOCAL: envBoolean(true),
  FEDVIEW_ALLOW_K8S_FIELDS_WITH_ETCD: envBoolean(false),
  FEDVIEW_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/**
 * Reads the configuration from `env` (default `process.env`). Throws `ConfigurationError` naming every
 * invalid variable. Secret values never appear in the error.
 */
export function readConfigServiceConfig(env: Record<string, string | undefined> = process.env): ConfigServiceConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new ConfigurationError(
      `invalid config-service configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
  }
  const e = parsed.data;

  const kubernetes: KubeConnectionSettings = {};
  if (e.KUBECONFIG !== undefined) kubernetes.kubeconfig = e.KUBECONFIG;
  if (e.K8S_API_ENDPOINT !== undefined) kubernetes.apiEndpoint = e.K8S_API_ENDPOINT;
  if (e.K8S_API_TOKEN !== undefined) kubernetes.token = e.K8S_API_TOKEN;
  if (e.K8S_CA_FILE !== undefined) kubernetes.caFile = e.K8S_CA_FILE;
  if (e.K8S_CERT_FILE !== undefined) kubernetes.certFile = e.K8S_CERT_FILE;
  if (e.K8S_KEY_FILE !== undefined) kubernetes.keyFile = e.K8S_KEY_FILE;
  if (e.K8S_INSECURE_SKIP_TLS_VERIFY) kubernetes.insecureSkipTLSVerify = true;
  const kubernetesGiven = kubernetes.kubeconfig !== undefined || kubernetes.apiEndpoint !== undefined;

  const etcd: EtcdSettings = {
    endpoints: e.ETCD_ENDPOINTS.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  };
  if (e.ETCD_USERNAME !== undefined) etcd.username = e.ETCD_USERNAME;
  if (e.ETCD_PASSWORD !== undefined && e.ETCD_PASSWORD !== "") etcd.password = e.ETCD_PASSWORD;
  if (e.ETCD_KEY_FILE !== undefined) etcd.keyFile = e.ETCD_KEY_FILE;
  if (e.ETCD_CERT_FILE !== undefined) etcd.certFile = e.ETCD_CERT_FILE;
  if (e.ETCD_CA_CERT_FILE !== undefined) etcd.caCertFile = e.ETCD_CA_CERT_FILE;
  if ((etcd.certFile === undefined) !== (etcd.keyFile === undefined)) {
    throw new ConfigurationError("ETCD_CERT_FILE and ETCD_KEY_FILE go together: set both or neither");
  }

  let bus: BusConnectOptions;
  try {
    // The service keeps trying rather than exiting when NATS starts after it.
    bus = busConnectOptionsFromEnv(env, { name: "fedview-config-service", reconnect: { waitOnFirstConnect: true } });
  } catch (error) {
    throw new ConfigurationError((error as Error).message, { cause: error });
  }

  let seed = e.FEDVIEW_CONFIG_XKEY_SEED;
  if (seed !== undefined && e.FEDVIEW_CONFIG_XKEY_SEED_FILE !== undefined) {
    throw new ConfigurationError("set FEDVIEW_CONFIG_XKEY_SEED or FEDVIEW_CONFIG_XKEY_SEED_FILE, not both");
  }
  if (e.FEDVIEW_CONFIG_XKEY_SEED_FILE !== undefined) {
    try {
      seed = readFileSync(e.FEDVIEW_CONFIG_XKEY_SEED_FILE, "utf8").trim();
    } catch (error) {
      throw new ConfigurationError(
        `FEDVIEW_CONFIG_XKEY_SEED_FILE: cannot read ${e.FEDVIEW_CONFIG_XKEY_SEED_FILE}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
  }
  if (seed !== undefined && !seed.startsWith("SX")) {
    throw new ConfigurationError("the config service's xkey seed must be a curve seed starting with SX");
  }

  return {
    datastoreType: e.DATASTORE_TYPE,
    ...(e.DATASTORE_TYPE === "etcdv3" ? { etcd } : {}),
    // Without KUBECONFIG or K8S_API_ENDPOINT the kubernetes datastore uses the pod's service account.
    ...(e.DATASTORE_TYPE === "kubernetes" || kubernetesGiven ? { kubernetes } : {}),
    bus,
    connectionsBucket: e.FEDVIEW_CONNECTIONS_BUCKET,
    stateStream: e.FEDVIEW_STATE_STREAM,
    replicaId: e.FEDVIEW_REPLICA_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    leasesBucket: e.FEDVIEW_LEASES_BUCKET,
    leaseTtlMs: e.FEDVIEW_LEASE_TTL_MS,
    ensureTopology: e.FEDVIEW_ENSURE_STREAM,
    jetstreamReplicas: e.FEDVIEW_JETSTREAM_REPLICAS,
    sealing: { connectorPublicKey: e.FEDVIEW_CONNECTOR_XKEY_PUBLIC, ...(seed !== undefined ? { seed } : {}) },
    metrics: e.FEDVIEW_METRICS_PORT === null ? null : { host: e.FEDVIEW_METRICS_HOST, port: e.FEDVIEW_METRICS_PORT },
    filePollIntervalMs: e.FEDVIEW_FILE_POLL_INTERVAL_MS,
    federateLocal: e.FEDVIEW_FEDERATE_LOCAL,
    allowKubernetesFieldsWithEtcd: e.FEDVIEW_ALLOW_K8S_FIELDS_WITH_ETCD,
    logLevel: e.FEDVIEW_LOG_LEVEL,
  };
}
