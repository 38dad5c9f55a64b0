import {
  type BusConnection,
  type CalicoResource,
  type ClusterStatus,
  DEFAULT_STATE_STREAM,
  decodeClusterStatus,
  EncodeError,
  publishClusterStatus,
  purgeTombstones,
  ResourcePublisher,
  readClusterInventory,
  statusSubject,
} from "@fedview/bus";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { errorText, ResourceRejectedError } from "./errors.js";
import type { ClusterPublisher, ClusterStatusReport, PublishedClusterState, PublishedResource } from "./types.js";

/** Options of `createBusPublisher`. */
export interface BusPublisherOptions {
  /** State stream name; default the bus's `FEDVIEW_STATE`. */
  stream?: string;
  /** Unacknowledged resource publishes per cluster; default 256. */
  maxInFlight?: number;
  /** Milliseconds to wait for each acknowledgement; default the JetStream client's. */
  timeoutMs?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const epoch = (text: string | undefined) => (text === undefined ? undefined : Date.parse(text));

function toStatusMessage(r: ClusterStatusReport): ClusterStatus {
  return {
    v: 1,
    op: "upsert",
    cluster: r.cluster,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
    since: iso(r.since),
    generation: r.generation,
    counts: r.counts,
    stale: r.stale,
    ...(r.staleSince !== undefined ? { staleSince: iso(r.staleSince) } : {}),
    ...(r.lastSync !== undefined ? { lastSync: iso(r.lastSync) } : {}),
    ...(r.expiresAt !== undefined ? { expiresAt: iso(r.expiresAt) } : {}),
  };
}

function fromStatusMessage(m: ClusterStatus): ClusterStatusReport {
  const staleSince = epoch(m.staleSince);
  const lastSync = epoch(m.lastSync);
  const expiresAt = epoch(m.expiresAt);
  return {
    cluster: m.cluster,
    status: m.status,
    ...(m.error !== undefined ? { error: m.error } : {}),
    since: Date.parse(m.since),
    generation: m.generation,
    counts: m.counts,
    stale: m.stale,
    ...(staleSince !== undefined ? { staleSince } : {}),
    ...(lastSync !== undefined ? { lastSync } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/**
 * The `ClusterPublisher` over `@fedview/bus`: resource events through one pipelined
 * `ResourcePublisher` per cluster (so one cluster's failed ack is never reported to another),
 * statuses acknowledged one by one, and the cluster's state read back from the state stream
 * (headers only for resources, so 100k+ entries do not cross the wire).
 */
export function createBusPublisher(nc: BusConnection, options: BusPublisherOptions = {}): ClusterPublisher {
  const js = jetstream(nc);
  const publishers = new Map<string, ResourcePublisher>();
  const streamOptions = options.stream !== undefined ? { stream: options.stream } : {};
  const publisherFor = (cluster: string) => {
    let p = publishers.get(cluster);
    if (!p) {
      p = new ResourcePublisher(js, {
        ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
      publishers.set(cluster, p);
    }
    return p;
  };
  const rejectEncoding = (err: unknown, what: string): never => {
    if (err instanceof EncodeError) {
      throw new ResourceRejectedError(`the bus refuses ${what}: ${errorText(err)}`, { cause: err });
    }
    throw err;
  };

  return {
    async readState(cluster): Promise<PublishedClusterState> {
      const inventory = await readClusterInventory(nc, cluster, streamOptions);
      const resources: PublishedResource[] = [];
      for (const byId of inventory.values()) {
        for (const e of byId.values()) {
          resources.push({ kind: e.kind, id: e.id, revision: e.revision, generation: e.generation, op: e.op });
        }
      }
      // The last message of one exact subject is an indexed lookup; a filtered consumer (as the
      // inventory needs) makes the server scan the stream, which 100 clusters seeding at once felt.
      const jsm = await jetstreamManager(nc);
      const last = await jsm.streams.getMessage(options.stream ?? DEFAULT_STATE_STREAM, {
        last_by_subj: statusSubject(cluster),
      });
      let status: ClusterStatusReport | undefined;
      if (last) {
        const message = decodeClusterStatus(last.data, last.subject);
        status = message.op === "upsert" ? fromStatusMessage(message) : undefined;
      }
      return { resources, ...(status ? { status } : {}) };
    },

    async publishUpsert(cluster, generation, r) {
      const event = {
        v: 1 as const,
        op: "upsert" as const,
        cluster,
        kind: r.kind,
        id: r.id,
        revision: r.revision,
        generation,
        resource: r.resource as CalicoResource,
      };
      try {
        await publisherFor(cluster).publish(event);
      } catch (err) {
        rejectEncoding(err, `${r.kind} ${r.id}`);
      }
    },

    async publishDelete(cluster, generation, kind, id, revision) {
      await publisherFor(cluster).publish({ v: 1, op: "delete", cluster, kind, id, revision, generation });
    },

    async flush(cluster) {
      await publishers.get(cluster)?.flush();
    },

    async publishStatus(report) {
      await publishClusterStatus(js, toStatusMessage(report));
    },

    async removeStatus(cluster, generation) {
      await publishClusterStatus(js, { v: 1, op: "delete", cluster, generation, since: iso(Date.now()) });
    },

    async release(cluster) {
      const p = publishers.get(cluster);
      publishers.delete(cluster);
      await p?.close();
    },

    async purgeTombstones(cluster, olderThanMs) {
      return await purgeTombstones(nc, { ...streamOptions, cluster, olderThanMs });
    },
  };
}
