/**
 * Types of the etcd connector: the connection material of one etcd cluster and the options of the
 * etcd `ClusterSource`.
 */
import type { ResourceKind } from "@fedview/model";
import type { Logger } from "pino";

/**
 * How to reach one etcd cluster. Certificates and keys are PEM contents, never paths; the password
 * and key are secrets and are never logged.
 */
export interface EtcdConnectionMaterial {
  /** `http://` or `https://` URLs. */
  endpoints: string[];
  username?: string;
  password?: string;
  /** PEM CA bundle to verify the server; without it `https` uses the system roots. */
  caCert?: string;
  /** PEM client certificate (mTLS). */
  cert?: string;
  /** PEM client private key (mTLS). */
  key?: string;
}

/** Options of `createEtcdSource`. */
export interface EtcdSourceOptions {
  /** `_local` or the RCC name: names are prefixed per calico.md §3 for remote clusters. */
  cluster: string;
  material: EtcdConnectionMaterial;
  /** Also pull Nodes and IPPools (`syncOptions.overlayRoutingMode: Enabled`). */
  overlayRouting?: boolean;
  /** Kinds to serve instead of the defaults (tests, the CLI). */
  kinds?: readonly ResourceKind[];
  /**
   * At most this many keys per range request when listing. Default 10 000: etcd 3.4 walks every
   * remaining key of the range in its index for each page, so small pages cost quadratic time.
   */
  pageSize?: number;
  /**
   * Aim for range responses of about this many bytes when listing: the next page's key count is
   * taken from the bytes per key seen so far. Default 8 MiB. Must not exceed `maxReceiveBytes`.
   */
  pageBytes?: number;
  /**
   * Largest message the client accepts from etcd (gRPC's default is 4 MiB). Default 64 MiB. A page
   * still refused as too large is shrunk and read again at the same revision.
   */
  maxReceiveBytes?: number;
  /** Deadline of each etcd request (range, check), ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** How long a new watch may take to be acknowledged by etcd, ms. Default 10 000. */
  watchStartTimeoutMs?: number;
  logger?: Logger;
}

/** What converting one stored key-value gives. */
export type ConvertedValue =
  | { type: "resource"; kind: ResourceKind; id: string; resource: unknown }
  /** Valid, but not part of the merged view (a WorkloadEndpoint without `ipNetworks`). */
  | { type: "hidden"; kind: ResourceKind; id: string }
  | { type: "malformed"; kind?: ResourceKind; id?: string; reason: string };
