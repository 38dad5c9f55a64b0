import type {
  ClusterPublisher,
  ClusterStatusReport,
  PublishedClusterState,
  PublishedResource,
  SourceResource,
} from "./types.js";

/** One publication recorded by a `MemoryPublisher`, in order. */
export type PublishedEvent =
  | {
      type: "upsert";
      cluster: string;
      generation: number;
      kind: string;
      id: string;
      revision: string;
      resource: unknown;
    }
  | { type: "delete"; cluster: string; generation: number; kind: string; id: string; revision: string }
  | { type: "status"; cluster: string; report: ClusterStatusReport }
  | { type: "status-removed"; cluster: string };

/**
 * A `ClusterPublisher` that keeps the federated state in memory: the last message per resource and
 * the status of every cluster, plus the ordered log of publications. The CLI's in-process mode uses
 * it to run connectors without a bus; tests use its log to check ordering.
 */
export interface MemoryPublisher extends ClusterPublisher {
  /** Every publication so far, in order. */
  readonly log: readonly PublishedEvent[];
  /** Live resources of a cluster (tombstones excluded), keyed `kind/id`. */
  resources(cluster: string): Map<string, PublishedResource>;
  /** Last status of a cluster, unless removed. */
  statusOf(cluster: string): ClusterStatusReport | undefined;
  /** Makes every following call fail with `error` until called again with `undefined`. */
  failWith(error: Error | undefined): void;
  /** Registers a callback run after each publication (for waiting in tests). */
  onPublish(listener: (event: PublishedEvent) => void): () => void;
}

/** Creates an empty `MemoryPublisher`. */
export function createMemoryPublisher(): MemoryPublisher {
  const log: PublishedEvent[] = [];
  const state = new Map<string, Map<string, PublishedResource>>();
  const statuses = new Map<string, ClusterStatusReport>();
  const listeners = new Set<(e: PublishedEvent) => void>();
  let failure: Error | undefined;

  const clusterState = (cluster: string) => {
    let m = state.get(cluster);
    if (!m) {
      m = new Map();
      state.set(cluster, m);
    }
    return m;
  };
  const record = (event: PublishedEvent) => {
    log.push(event);
    for (const l of listeners) l(event);
  };
  const check = async () => {
    await Promise.resolve();
    if (failure) throw failure;
  };

  return {
    log,
    resources(cluster) {
      const live = new Map<string, PublishedResource>();
      for (const [k, v] of state.get(cluster) ?? []) if (v.op === "upsert") live.set(k, v);
      return live;
    },
    statusOf: (cluster) => statuses.get(cluster),
    failWith(error) {
      failure = error;
    },
    onPublish(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async readState(cluster): Promise<PublishedClusterState> {
      await check();
      const status = statuses.get(cluster);
      return {
        resources: [...(state.get(cluster)?.values() ?? [])].map((r) => ({ ...r })),
        ...(status ? { status } : {}),
      };
    },
    async publishUpsert(cluster, generation, r: SourceResource) {
      await check();
      clusterState(cluster).set(`${r.kind}/${r.id}`, {
        op: "upsert",
        kind: r.kind,
        id: r.id,
        revision: r.revision,
        generation,
        resource: JSON.parse(JSON.stringify(r.resource)) as unknown,
      });
      record({
        type: "upsert",
        cluster,
        generation,
        kind: r.kind,
        id: r.id,
        revision: r.revision,
        resource: r.resource,
      });
    },
    async publishDelete(cluster, generation, kind, id, revision) {
      await check();
      clusterState(cluster).set(`${kind}/${id}`, { op: "delete", kind, id, revision, generation });
      record({ type: "delete", cluster, generation, kind, id, revision });
    },
    async publishStatus(report) {
      await check();
      statuses.set(report.cluster, report);
      record({ type: "status", cluster: report.cluster, report });
    },
    async flush() {
      await check();
    },
    async removeStatus(cluster) {
      await check();
      statuses.delete(cluster);
      record({ type: "status-removed", cluster });
    },
  };
}
