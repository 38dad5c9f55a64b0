/**
 * TEMPORARY stand-in for the parts of `@fedview/bus` the view uses, until bus exports them.
 * Shapes copied from bus's `types.ts`; to be replaced by re-exports from `@fedview/bus`.
 */
export interface ResourceEventBase {
  v: 1;
  cluster: string;
  kind: string;
  id: string;
  revision: string;
  generation: number;
}
export interface ResourceUpsert extends ResourceEventBase {
  op: "upsert";
  resource: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
    [key: string]: unknown;
  };
}
export interface ResourceDelete extends ResourceEventBase {
  op: "delete";
  resource?: undefined;
}
export type ResourceEvent = ResourceUpsert | ResourceDelete;

export type ClusterStatusValue =
  | "Connecting"
  | "ConnectionFailed"
  | "ResyncInProgress"
  | "InSync"
  | "ConfigChangeRestartRequired"
  | "ConfigIncomplete";

export interface ClusterStatus {
  v: 1;
  op: "upsert";
  cluster: string;
  status: ClusterStatusValue;
  error?: string;
  since: string;
  generation: number;
  counts: Record<string, number>;
  stale: boolean;
  staleSince?: string;
  lastSync?: string;
  expiresAt?: string;
}
export interface ClusterStatusRemoved {
  v: 1;
  op: "delete";
  cluster: string;
  generation: number;
  since: string;
}
export type ClusterStatusMessage = ClusterStatus | ClusterStatusRemoved;

export function compareVersions(
  a: { generation: number; revision: string },
  b: { generation: number; revision: string },
): number {
  if (a.generation !== b.generation) return a.generation < b.generation ? -1 : 1;
  const x = BigInt(a.revision);
  const y = BigInt(b.revision);
  return x < y ? -1 : x > y ? 1 : 0;
}
