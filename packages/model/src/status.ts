/**
 * Remote cluster status values, as Calico reports them, and the numbering of Calico's Prometheus
 * gauge `remote_cluster_connection_status`.
 */
import { z } from "zod";

/** The status of a remote cluster's connection, in Calico's order. */
export const RemoteClusterStatus = {
  Connecting: "Connecting",
  ConnectionFailed: "ConnectionFailed",
  ResyncInProgress: "ResyncInProgress",
  InSync: "InSync",
  /** Kept for compatibility: fedview applies connection changes without a restart. */
  ConfigChangeRestartRequired: "ConfigChangeRestartRequired",
  ConfigIncomplete: "ConfigIncomplete",
} as const;

/** A status value, e.g. `"InSync"`. */
export type RemoteClusterStatus = (typeof RemoteClusterStatus)[keyof typeof RemoteClusterStatus];

/** Every status, in Calico's order. */
export const REMOTE_CLUSTER_STATUSES: readonly RemoteClusterStatus[] = Object.values(RemoteClusterStatus);

/** Validates a status value read from the bus. */
export const RemoteClusterStatusSchema = z.enum(RemoteClusterStatus);

/** The value of Calico's `remote_cluster_connection_status` gauge for each status. */
export const REMOTE_CLUSTER_STATUS_METRIC_VALUE: { readonly [S in RemoteClusterStatus]: number } = {
  ConnectionFailed: 0,
  Connecting: 1,
  InSync: 2,
  ResyncInProgress: 3,
  ConfigChangeRestartRequired: 4,
  ConfigIncomplete: 5,
};

/** Whether a status comes with an error text (`ConnectionFailed`, `ConfigIncomplete`). */
export function statusCarriesError(status: RemoteClusterStatus): boolean {
  return status === RemoteClusterStatus.ConnectionFailed || status === RemoteClusterStatus.ConfigIncomplete;
}

/**
 * Whether calicoq warns that data may be incomplete for a cluster in this status: still
 * connecting, connection failed, or synchronisation not complete.
 */
export function isIncompleteStatus(status: RemoteClusterStatus): boolean {
  return (
    status === RemoteClusterStatus.Connecting ||
    status === RemoteClusterStatus.ConnectionFailed ||
    status === RemoteClusterStatus.ResyncInProgress
  );
}
