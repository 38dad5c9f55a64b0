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
  /**
   * The next `count` resource publishes are sent but not stored, as when the stream does not
   * acknowledge them: the failure is reported by a later `publishUpsert`/`publishDelete` or `flush`
   * of the same cluster, once, and the messages after them are stored as usual.
   */
  failNextStores(count: number): void;
  /** Resource publications that were sent but not stored (see `failNextStores`), in order. */
  readonly notStored: readonly PublishedEvent[];
  /** Registers a callback run after each publication (for waiting in tests). */
  onPublish(listener: (event: PublishedEvent) => void): () => void;
}

/** Options of `createMemoryPublisher`. */
export interface MemoryPublisherOptions {
  /**
   * Store resource publishes a turn of the event loop after they were sent, as the bus acknowledges
   * them, instead of at once: `publishUpsert`/`publishDelete` resolve before the message is stored
   * and `flush` waits for it. Default false.
   */
  pipelined?: boolean;
}

type ResourceEvent = Extract<PublishedEvent, { type: "upsert" | "delete" }>;

interface ClusterPipe {
  sent: Array<{ event: ResourceEvent; store: boolean }>;
  unreported: number;
  idle: Array<() => void>;
}

/** Creates an empty `MemoryPublisher`. */
export function createMemoryPublisher(options: MemoryPublisherOptions = {}): MemoryPublisher {
  const log: PublishedEvent[] = [];
  const notStored: PublishedEvent[] = [];
  const state = new Map<string, Map<string, PublishedResource>>();
  const statuses = new Map<string, ClusterStatusReport>();
  const listeners = new Set<(e: PublishedEvent) => void>();
  const pipes = new Map<string, ClusterPipe>();
  let failure: Error | undefined;
  let failStores = 0;

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
  const pipeOf = (cluster: string) => {
    let p = pipes.get(cluster);
    if (!p) {
      p = { sent: [], unreported: 0, idle: [] };
      pipes.set(cluster, p);
    }
    return p;
  };
  const throwUnreported = (cluster: string) => {
    const p = pipes.get(cluster);
    if (!p || p.unreported === 0) return;
    const n = p.unreported;
    p.unreported = 0;
    throw new Error(`${n} resource event(s) of ${cluster} were not stored`);
  };
  const store = (event: ResourceEvent) => {
    const key = `${event.kind}/${event.id}`;
    if (event.type === "upsert") {
      clusterState(event.cluster).set(key, {
        op: "upsert",
        kind: event.kind,
        id: event.id,
        revision: event.revision,
        generation: event.generation,
        resource: JSON.parse(JSON.stringify(event.resource)) as unknown,
      });
    } else {
      const { kind, id, revision, generation } = event;
      clusterState(event.cluster).set(key, { op: "delete", kind, id, revision, generation });
    }
    record(event);
  };
  const settle = (p: ClusterPipe) => {
    const sent = p.sent;
    p.sent = [];
    for (const s of sent) {
      if (s.store) store(s.event);
      else {
        notStored.push(s.event);
        p.unreported++;
      }
    }
    const idle = p.idle;
    p.idle = [];
    for (const resolve of idle) resolve();
  };
  const send = async (event: ResourceEvent) => {
    await check();
    throwUnreported(event.cluster);
    const p = pipeOf(event.cluster);
    const stored = failStores === 0;
    if (!stored) failStores--;
    p.sent.push({ event, store: stored });
    if (!options.pipelined) settle(p);
    else if (p.sent.length === 1) setImmediate(() => settle(p));
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
    failNextStores(count) {
      failStores = count;
    },
    notStored,
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
      const { kind, id, revision, resource } = r;
      await send({ type: "upsert", cluster, generation, kind, id, revision, resource });
    },
    async publishDelete(cluster, generation, kind, id, revision) {
      await send({ type: "delete", cluster, generation, kind, id, revision });
    },
    async publishStatus(report) {
      await check();
      statuses.set(report.cluster, report);
      record({ type: "status", cluster: report.cluster, report });
    },
    async flush(cluster) {
      await check();
      const p = pipes.get(cluster);
      if (p && p.sent.length > 0) await new Promise<void>((resolve) => p.idle.push(resolve));
      throwUnreported(cluster);
    },
    async removeStatus(cluster) {
      await check();
      statuses.delete(cluster);
      record({ type: "status-removed", cluster });
    },
  };
}
