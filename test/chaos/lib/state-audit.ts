/**
 * Audits of the bus itself during NATS faults: what a live subscriber sees on the resource subjects
 * (duplicates and events older than one already seen, per resource), and what the durable state
 * stream holds for a cluster compared with the truth.
 */
import {
  type BusConnection,
  compareVersions,
  decodeResourceEvent,
  openStateReader,
  RESOURCE_SUBJECTS,
} from "@fedview/bus";
import { diffView, type Versioned, type ViewDiff } from "./exact.js";

/** A live recorder of resource events. */
export interface WireAudit {
  /** Events received. */
  received: number;
  /** Events not newer than one already received for the same resource (redelivered or reordered). */
  regressions: number;
  /**
   * What this subscriber last saw of each resource it heard of: upserts at their revision, deletes
   * as `deleted` — the state a reader of the live subjects alone would hold.
   */
  latest(): Map<string, { revision: string; deleted: boolean }>;
  stop(): void;
}

/** The key `WireAudit.latest()` files a resource under. */
export const wireKey = (r: { cluster: string; kind: string; id: string }) => `${r.cluster} ${r.kind} ${r.id}`;

export function auditWire(nc: BusConnection): WireAudit {
  const seen = new Map<string, { generation: number; revision: string; deleted: boolean }>();
  const audit: WireAudit = {
    received: 0,
    regressions: 0,
    latest: () => new Map([...seen].map(([key, v]) => [key, { revision: v.revision, deleted: v.deleted }])),
    stop: () => sub.unsubscribe(),
  };
  const sub = nc.subscribe(RESOURCE_SUBJECTS, {
    callback: (err, msg) => {
      if (err !== null) return;
      try {
        const event = decodeResourceEvent(msg.data, msg.subject);
        audit.received++;
        const key = wireKey(event);
        const held = seen.get(key);
        if (held !== undefined && compareVersions(event, held) <= 0) audit.regressions++;
        else seen.set(key, { generation: event.generation, revision: event.revision, deleted: event.op === "delete" });
      } catch {
        // Not an event: the decoders are fuzzed elsewhere.
      }
    },
  });
  return audit;
}

/** The live resources the state stream holds for `cluster` (its last message per subject). */
export async function storedState(nc: BusConnection, cluster: string): Promise<Versioned[]> {
  const live = new Map<string, Versioned>();
  await using reader = await openStateReader(nc, { filter: { type: "resource", cluster } });
  for await (const item of reader) {
    if (item.type === "snapshot-complete") break;
    if (item.type !== "resource") continue;
    const { event } = item;
    const key = `${event.kind} ${event.id}`;
    if (event.op === "upsert") live.set(key, { cluster, kind: event.kind, id: event.id, revision: event.revision });
    else live.delete(key);
  }
  return [...live.values()];
}

/** How the state stream differs from the truth of `clusters`. */
export async function diffStoredState(
  nc: BusConnection,
  truth: readonly Versioned[],
  clusters: readonly string[],
): Promise<ViewDiff> {
  const stored = (await Promise.all(clusters.map((c) => storedState(nc, c)))).flat();
  return diffView(truth, stored);
}
