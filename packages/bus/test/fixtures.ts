import type { ClusterStatus, ConnectionConfig, ResourceDelete, ResourceUpsert } from "../src/index.js";

/** A converted WorkloadEndpoint upsert of `cluster`, namespaced id `ns/name`. */
export function wepUpsert(cluster: string, id: string, revision = "1", generation = 1): ResourceUpsert {
  const [namespace, name] = id.includes("/") ? (id.split("/") as [string, string]) : [undefined, id];
  return {
    v: 1,
    op: "upsert",
    cluster,
    kind: "WorkloadEndpoint",
    id,
    revision,
    generation,
    resource: {
      apiVersion: "projectcalico.org/v3",
      kind: "WorkloadEndpoint",
      metadata: { name, ...(namespace === undefined ? {} : { namespace }), labels: { app: "web" } },
      spec: { node: `${cluster}/node-1`, ipNetworks: ["10.0.0.1/32"] },
    },
  };
}

/** A WorkloadEndpoint delete (tombstone). */
export function wepDelete(cluster: string, id: string, revision = "2", generation = 1): ResourceDelete {
  return { v: 1, op: "delete", cluster, kind: "WorkloadEndpoint", id, revision, generation };
}

/** An InSync status of `cluster`. */
export function inSync(cluster: string, generation = 1): ClusterStatus {
  return {
    v: 1,
    op: "upsert",
    cluster,
    status: "InSync",
    since: "2024-05-01T10:00:00.000Z",
    generation,
    counts: { WorkloadEndpoint: 3, Profile: 1 },
    stale: false,
    lastSync: "2024-05-01T10:00:00.000Z",
  };
}

/** A valid etcd connection config without secrets. */
export function etcdConfig(cluster: string, generation = 1): ConnectionConfig {
  return {
    v: 1,
    cluster,
    datastoreType: "etcdv3",
    generation,
    status: "valid",
    spec: { etcdEndpoints: ["https://10.0.0.5:2379"], etcdCACert: "-----BEGIN CERTIFICATE-----\nMIIB\n" },
  };
}

/** Timers that fire only when the test says so. */
export class ManualTimers {
  #next = 1;
  readonly #pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.#pending.set(id, { callback, ms });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.#pending.delete(handle as number);
  };

  /** Number of armed timers. */
  get armed(): number {
    return this.#pending.size;
  }

  /** Fires every armed timer once; returns how many fired. */
  fireAll(): number {
    const due = [...this.#pending.values()];
    this.#pending.clear();
    for (const { callback } of due) callback();
    return due.length;
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}
