import type { ClusterStatusValue } from "./types.js";

/**
 * Calico's numbering of `remote_cluster_connection_status`. Kept here until `@fedview/model`
 * exports it; then this becomes a re-export.
 */
export const CLUSTER_STATUS_GAUGE_VALUES: Readonly<Record<ClusterStatusValue, number>> = {
  ConnectionFailed: 0,
  Connecting: 1,
  InSync: 2,
  ResyncInProgress: 3,
  ConfigChangeRestartRequired: 4,
  ConfigIncomplete: 5,
};
