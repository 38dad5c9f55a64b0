/**
 * Types of the Kubernetes connector: the connection material of one cluster's API server, the
 * Kubernetes resource types it reads, and the options of the Kubernetes `ClusterSource`.
 */
import type { ResourceKind } from "@fedview/model";
import type { BackoffOptions, Clock } from "@fedview/sync";
import type { Logger } from "pino";

/**
 * How to reach one cluster's Kubernetes API. Everything is content, never a path. The individual
 * fields override their counterpart in `kubeconfig` (server, token, client certificate and key, CA),
 * as calicoctl's `K8S_*` settings do. `kubeconfig`, `token` and `key` are secrets: never logged.
 */
export interface KubernetesConnectionMaterial {
  /** A kubeconfig (YAML); its current context is used. */
  kubeconfig?: string;
  /** API server URL (`k8sAPIEndpoint`). */
  server?: string;
  /** Bearer token (`k8sAPIToken`). */
  token?: string;
  /** PEM CA bundle that signed the API server's certificate (`k8sCACert`). */
  caCert?: string;
  /** PEM client certificate (`k8sCert`); needs `key`. */
  cert?: string;
  /** PEM client private key (`k8sKey`); needs `cert`. */
  key?: string;
  /** Do not verify the API server's certificate (`k8sInsecureSkipTLSVerify`). */
  insecureSkipTLSVerify?: boolean;
}

/** One Kubernetes resource type the connector lists and watches, and the Calico kind it becomes. */
export interface KubeResourceType {
  /** The Calico kind its objects convert to. */
  kind: ResourceKind;
  /** API group, `""` for the core group. */
  group: string;
  version: string;
  /** Lower-case plural, as in URLs and RBAC rules. */
  plural: string;
  namespaced: boolean;
  /** Not every cluster serves it (a CRD of some Calico versions only): a 404 on listing skips it. */
  optional: boolean;
}

/** What converting one Kubernetes object gives. */
export type ConvertedObject =
  | { type: "resource"; kind: ResourceKind; id: string; resource: unknown }
  /** Valid, but not part of the merged view (a pod without IPs): a delete for the view. */
  | { type: "hidden"; kind: ResourceKind; id: string }
  /** Has no identity in the merged view at all (a pod not yet scheduled, a host-network pod). */
  | { type: "none" }
  | { type: "malformed"; kind: ResourceKind; id?: string; reason: string };

/**
 * Counters a Kubernetes source reports besides what `ClusterSync` counts; `resource` is the
 * qualified resource, e.g. `pods` or `hostendpoints.crd.projectcalico.org`.
 */
export interface KubeSourceMetrics {
  /** A watch request ended and was started again (`closed`, `error`) or given up (`expired`, `silent`). */
  countWatchRestart(cluster: string, resource: string, reason: WatchEndReason): void;
  /** One page of a listing was read. */
  countListPage(cluster: string, resource: string): void;
}

/** Why a watch request ended. */
export type WatchEndReason = "closed" | "error" | "expired" | "silent";

/** Options of `createKubernetesSource`. */
export interface KubernetesSourceOptions {
  /** `_local` or the RCC name: names are prefixed per calico.md §3 for remote clusters. */
  cluster: string;
  material: KubernetesConnectionMaterial;
  /** Also pull Nodes and IPPools (`syncOptions.overlayRoutingMode: Enabled`). */
  overlayRouting?: boolean;
  /** Calico kinds to serve instead of the defaults (tests, the CLI). */
  kinds?: readonly ResourceKind[];
  /** Objects per list request. Default 500. */
  pageSize?: number;
  /** Deadline of each list page and check, ms. Default 60 000. */
  requestTimeoutMs?: number;
  /**
   * A watch with no event and no bookmark for this long is aborted and the cluster relisted. Must
   * exceed the API server's bookmark interval (about a minute) and `watchTimeoutSeconds`. Default 300 000.
   */
  watchdogMs?: number;
  /** `timeoutSeconds` asked of each watch request, jittered between half and all of it. Default 240. */
  watchTimeoutSeconds?: number;
  /** Consecutive failed watch requests of one resource type before the watch gives up. Default 5. */
  watchRetries?: number;
  /** Backoff between failed watch requests. Default 0.5 s doubling to 30 s. */
  backoff?: BackoffOptions;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  metrics?: KubeSourceMetrics;
}
