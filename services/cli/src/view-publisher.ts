/**
 * The `ClusterPublisher` port of `@fedview/sync` over a `FederatedView`: in-process mode publishes
 * straight into the view. Unlike sync's memory publisher it keeps no log and no copy of the resources
 * (a `fedview watch` may run for days), only what `ClusterSync` reads back: the last op, revision and
 * generation per key, and each cluster's status.
 */
import type { ClusterStatus } from "@fedview/bus";
import type { FederatedView } from "@fedview/query-service";
import type {
  ClusterPublisher,
  ClusterStatusReport,
  PublishedClusterState,
  PublishedResource,
  SourceResource,
} from "@fedview/sync";

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A `ClusterSync` status report as the bus (and the view) carries it. */
export function toClusterStatus(report: ClusterStatusReport): ClusterStatus {
  const status: ClusterStatus = {
    v: 1,
    op: "upsert",
    cluster: report.cluster,
    status: report.status,
    since: iso(report.since)!,
    generation: report.generation,
    counts: { ...report.counts },
    stale: report.stale,
  };
  if (report.error !== undefined) status.error = report.error;
  const staleSince = iso(report.staleSince);
  if (staleSince !== undefined) status.staleSince = staleSince;
  const lastSync = iso(report.lastSync);
  if (lastSync !== undefined) status.lastSync = lastSync;
  const expiresAt = iso(report.expiresAt);
  if (expiresAt !== undefined) status.expiresAt = expiresAt;
  return status;
}

/** A publisher into `view`; `onStatus` hears every status after the view applied it. */
export function createViewPublisher(view: FederatedView, onStatus: (status: ClusterStatus) => void): ClusterPublisher {
  const published = new Map<string, Map<string, PublishedResource>>();
  const reports = new Map<string, ClusterStatusReport>();
  const keysOf = (cluster: string) => {
    let keys = published.get(cluster);
    if (keys === undefined) {
      keys = new Map();
      published.set(cluster, keys);
    }
    return keys;
  };
  return {
    async readState(cluster): Promise<PublishedClusterState> {
      const status = reports.get(cluster);
      return {
        resources: [...(published.get(cluster)?.values() ?? [])].map((r) => ({ ...r })),
        ...(status === undefined ? {} : { status }),
      };
    },
    async publishUpsert(cluster, generation, r: SourceResource) {
      view.applyResourceEvent({
        v: 1,
        op: "upsert",
        cluster,
        kind: r.kind,
        id: r.id,
        revision: r.revision,
        generation,
        resource: r.resource as never,
      });
      keysOf(cluster).set(`${r.kind}/${r.id}`, {
        op: "upsert",
        kind: r.kind,
        id: r.id,
        revision: r.revision,
        generation,
      });
    },
    async publishDelete(cluster, generation, kind, id, revision) {
      view.applyResourceEvent({ v: 1, op: "delete", cluster, kind, id, revision, generation });
      // The view keeps its own tombstone; here the key is simply gone.
      keysOf(cluster).delete(`${kind}/${id}`);
    },
    async flush() {},
    async publishStatus(report) {
      reports.set(report.cluster, report);
      const status = toClusterStatus(report);
      view.applyClusterStatus(status);
      onStatus(status);
    },
    async removeStatus(cluster, generation) {
      reports.delete(cluster);
      view.applyClusterStatus({ v: 1, op: "delete", cluster, generation, since: new Date().toISOString() });
    },
  };
}
