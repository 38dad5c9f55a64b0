/**
 * Waiting for the federation: one progress line per cluster whenever its status changes, until every
 * cluster is InSync or the wait runs out — then a line per cluster that is not, with its status and
 * error. Only a sync completed during this run counts: after a restart the view already holds the last
 * run's statuses, which prove nothing about the new connections.
 */
import { LOCAL_CLUSTER } from "@fedview/model";
import type { ClusterStatusRow } from "@fedview/query-service";
import type { SyncReport } from "./types.js";

/** Options of `waitForClusters`. */
export interface WaitForClustersOptions {
  /** The query service's rows (`view.status()`). */
  rows: () => ClusterStatusRow[];
  /** The clusters to wait for; asked again on every round (RCCs may appear meanwhile). */
  clusters: () => string[];
  /** Epoch ms: a sync counts only if it completed after this. */
  since: number;
  timeoutMs: number;
  say: (line: string) => void;
  signal?: AbortSignal;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** True when the cluster completed a sync during this run and is watching now. */
export function syncedSince(row: ClusterStatusRow | undefined, since: number): boolean {
  if (row?.status !== "InSync" || row.stale) return false;
  const at = row.lastSync ?? row.since;
  return at !== undefined && Date.parse(at) >= since;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `_local` is shown as what it is. */
export function clusterLabel(cluster: string): string {
  return cluster === LOCAL_CLUSTER ? "_local (this cluster)" : cluster;
}

function describe(row: ClusterStatusRow | undefined, since: number): string {
  if (row?.status === undefined) return "waiting for its connector";
  if (row.status === "InSync" && !syncedSince(row, since)) return "InSync on the last run; syncing again";
  const parts: string[] = [row.status];
  if (row.error !== undefined) parts.push(`— ${row.error}`);
  if (row.status === "InSync") {
    const counts = [plural(row.workloadEndpoints, "workload endpoint"), plural(row.hostEndpoints, "host endpoint")];
    if (row.local) counts.push(plural(row.policies, "policy", "policies"));
    parts.push(`— ${counts.join(", ")}`);
  }
  return parts.join(" ");
}

/** Waits until every cluster synced during this run, or `timeoutMs` passed, or `signal` aborted. */
export async function waitForClusters(options: WaitForClustersOptions): Promise<SyncReport> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.timeoutMs;
  const shown = new Map<string, string>();
  let clusters: string[] = [];
  let rows: Record<string, ClusterStatusRow | undefined> = {};
  const width = () => Math.max(...clusters.map((c) => clusterLabel(c).length), 8);
  for (;;) {
    clusters = options.clusters();
    const byCluster = new Map(options.rows().map((r) => [r.cluster, r]));
    rows = Object.fromEntries(clusters.map((c) => [c, byCluster.get(c)]));
    for (const cluster of clusters) {
      const text = describe(rows[cluster], options.since);
      if (shown.get(cluster) === text) continue;
      shown.set(cluster, text);
      options.say(`  ${clusterLabel(cluster).padEnd(width())}  ${text}`);
    }
    const inSync = clusters.every((c) => syncedSince(rows[c], options.since));
    if (inSync || options.signal?.aborted) return { inSync, clusters, rows };
    if (now() >= deadline) {
      const seconds = Math.round(options.timeoutMs / 1000);
      for (const cluster of clusters) {
        if (syncedSince(rows[cluster], options.since)) continue;
        options.say(
          `  ${clusterLabel(cluster)} is not InSync after ${seconds} s: ${describe(rows[cluster], options.since)}`,
        );
      }
      return { inSync: false, clusters, rows };
    }
    await sleep(options.pollMs ?? 200);
  }
}
