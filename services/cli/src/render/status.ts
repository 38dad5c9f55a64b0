/** `fedview status`: the cluster table, its json/yaml form, and the progress line of `--wait`. */
import type { ClusterStatusRow } from "@fedview/query-service";
import { stringify } from "yaml";

const COLUMNS = ["CLUSTER", "STATUS", "ENDPOINTS", "STALE SINCE", "LAST SYNC", "ERROR"] as const;

function cells(row: ClusterStatusRow): string[] {
  return [
    row.cluster,
    row.status ?? "Unknown",
    String(row.workloadEndpoints + row.hostEndpoints),
    row.stale ? (row.staleSince ?? "yes") : "-",
    row.lastSync ?? "-",
    row.error ?? "",
  ];
}

/** A table with one row per cluster, columns padded to their widest cell (the error last, unpadded). */
export function renderStatusTable(rows: readonly ClusterStatusRow[]): string {
  if (rows.length === 0) return "No clusters known yet.\n";
  const table = [[...COLUMNS], ...rows.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("   ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/** `-o json`: the rows as the query service reports them. */
export function renderStatusJson(rows: readonly ClusterStatusRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/** `-o yaml`. */
export function renderStatusYaml(rows: readonly ClusterStatusRow[]): string {
  return rows.length === 0 ? "[]\n" : stringify(rows, { lineWidth: 0 });
}

/** How far the sync is: clusters in sync out of all known, and which are not yet. */
export interface SyncProgress {
  inSync: number;
  total: number;
  pending: string[];
}

export function syncProgress(rows: readonly ClusterStatusRow[]): SyncProgress {
  const pending = rows
    .filter((r) => r.status !== "InSync")
    .map((r) => `${r.cluster}: ${r.status ?? "Unknown"}${r.error === undefined ? "" : ` (${r.error})`}`);
  return { inSync: rows.length - pending.length, total: rows.length, pending };
}

/** One progress line, e.g. `waiting for sync: 1/2 clusters in sync, 3.2s elapsed; west: Connecting`. */
export function renderProgress(progress: SyncProgress, elapsedMs: number): string {
  const head = `waiting for sync: ${progress.inSync}/${progress.total} clusters in sync, ${(elapsedMs / 1000).toFixed(1)}s elapsed`;
  return progress.pending.length === 0 ? head : `${head}; ${progress.pending.join(", ")}`;
}
