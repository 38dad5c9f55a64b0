/**
 * Types of `@fedview/stack`: what `createLocalStack` / `runStack` take, the ports and URLs of a running
 * stack, and the per-cluster progress it reports while waiting for the federation to sync.
 */
import type { ClusterStatusRow } from "@fedview/query-service";

/** Where the stack writes what it prints: `process.stdout`, or anything with `write`. */
export interface TextSink {
  write(text: string): unknown;
}

/**
 * Every TCP port the stack listens on (all on 127.0.0.1). Chosen once per state directory — the
 * well-known defaults when free, else free ports — and remembered there, so a restart reuses them.
 */
export interface StackPorts {
  /** nats-server clients (preferred 4222). */
  nats: number;
  /** nats-server monitoring, `/healthz`, `/jsz` (preferred 8222). */
  natsMonitor: number;
  /** The embedded local etcd's clients (preferred 2379, calicoctl's default `ETCD_ENDPOINTS`). */
  etcd: number;
  /** The embedded local etcd's peers (preferred 2380). */
  etcdPeer: number;
  /** query-service `/metrics`, `/healthz`, `/readyz` (preferred 9464, the service's default). */
  queryMetrics: number;
  /** config-service metrics (preferred 9465). */
  configMetrics: number;
  /** etcd-connector metrics (preferred 9466). */
  etcdConnectorMetrics: number;
  /** k8s-connector metrics (preferred 9467). */
  k8sConnectorMetrics: number;
  /** Demo: the etcd of remote cluster `cluster-east` (TLS). */
  eastEtcd: number;
  /** Demo: its peer port. */
  eastEtcdPeer: number;
  /** Demo: the Kubernetes API of remote cluster `cluster-west`. */
  westKubeApi: number;
  /** Demo: the local Kubernetes API that holds `clusterAccessSecret` Secrets. */
  secretStore: number;
}

/** Options of `createLocalStack` and `runStack`. */
export interface LocalStackOptions {
  /** The one directory all state lives in; a restart with the same directory keeps the view. */
  stateDir: string;
  /** Seed and connect the demo federation (two remote clusters and local policies). */
  demo: boolean;
  /** Ports to use instead of the remembered or preferred ones (this run only, remembered afterwards). */
  ports?: Partial<StackPorts>;
  /** Where progress and the summary are printed; default nowhere. */
  stdout?: TextSink;
  /** Aborting it stops the stack (`runStack`) or abandons a start in progress (`createLocalStack`). */
  signal?: AbortSignal;
  /**
   * calicoctl's environment (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`, `KUBECONFIG`, …), read without the demo to
   * choose the local datastore; default `process.env`. Naming no datastore means the embedded etcd.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for every cluster to be InSync before saying which is not; default 90 000 ms. */
  syncTimeoutMs?: number;
  /** Level of the services' log file (`<stateDir>/logs/fedview.log`); default `info`. */
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** Where a running stack can be reached. */
export interface StackUrls {
  /** `nats://127.0.0.1:<port>`: what `FEDVIEW_NATS_URL` should be set to. */
  nats: string;
  natsMonitor: string;
  /** The embedded local etcd; absent when the local datastore comes from calicoctl's environment. */
  etcd?: string;
  /** Base URLs of each service's `/metrics`, `/healthz`, `/readyz`. */
  metrics: {
    queryService: string;
    configService: string;
    etcdConnector: string;
    k8sConnector: string;
  };
  /** The demo's servers, with the demo. */
  demo?: {
    eastEtcd: string;
    westKubeApi: string;
    secretStore: string;
  };
}

/** The child processes of a running stack (nats-server, etcd), by role. */
export interface StackProcesses {
  nats: number;
  etcd?: number;
  eastEtcd?: number;
}

/** What the wait for the federation found: every cluster and whether all were InSync in time. */
export interface SyncReport {
  inSync: boolean;
  /** The clusters waited for: `_local` and every RemoteClusterConfiguration. */
  clusters: string[];
  /** The query service's row of each cluster when the wait ended (absent: nothing heard yet). */
  rows: Record<string, ClusterStatusRow | undefined>;
}

/** A running local stack. Stop it with `stop()` or `await using`; stopping twice is harmless. */
export interface LocalStack extends AsyncDisposable {
  readonly stateDir: string;
  readonly ports: StackPorts;
  readonly urls: StackUrls;
  /** PIDs of the server processes the stack started. */
  readonly processes: StackProcesses;
  /** The local datastore, as calicoctl names it, e.g. `etcdv3 http://127.0.0.1:2379 (embedded)`. */
  readonly datastore: string;
  /** The outcome of the start's wait for every cluster to be InSync. */
  readonly sync: SyncReport;
  /** Stops the services, then the servers; state stays in `stateDir`. */
  stop(): Promise<void>;
}
