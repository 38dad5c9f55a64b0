import type { ClusterStatusRow } from "@fedview/query-service";
import { describe, expect, it } from "vitest";
import { syncedSince, waitForClusters } from "../src/wait-sync.js";

const START = Date.parse("2025-03-01T10:00:00.000Z");
const iso = (offsetMs: number) => new Date(START + offsetMs).toISOString();

function row(cluster: string, fields: Partial<ClusterStatusRow>): ClusterStatusRow {
  return {
    cluster,
    local: cluster === "_local",
    workloadEndpoints: 0,
    hostEndpoints: 0,
    profiles: 0,
    policies: 0,
    stale: false,
    ...fields,
  };
}

/** A clock that moves only when the wait sleeps, and rows that change as it moves. */
function scripted(script: (now: number) => ClusterStatusRow[]) {
  let now = START;
  return {
    rows: () => script(now),
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

describe("syncedSince", () => {
  it.each([
    ["InSync after the start", row("a", { status: "InSync", lastSync: iso(5) }), true],
    ["InSync on the last run (before the start)", row("a", { status: "InSync", lastSync: iso(-60_000) }), false],
    ["InSync but stale", row("a", { status: "InSync", lastSync: iso(5), stale: true }), false],
    ["InSync without lastSync, since after the start", row("a", { status: "InSync", since: iso(5) }), true],
    ["ResyncInProgress", row("a", { status: "ResyncInProgress", since: iso(5) }), false],
    ["no row", undefined, false],
  ])("%s", (_name, r, expected) => {
    expect(syncedSince(r, START)).toBe(expected);
  });
});

describe("waitForClusters", () => {
  it("prints a line per status change and returns once every cluster synced during this run", async () => {
    const lines: string[] = [];
    const clock = scripted((now) => {
      const t = now - START;
      return [
        row(
          "_local",
          t < 400
            ? { status: "InSync", lastSync: iso(-60_000) }
            : { status: "InSync", lastSync: iso(400), workloadEndpoints: 4, hostEndpoints: 2, policies: 5 },
        ),
        ...(t < 200
          ? []
          : [
              row(
                "east",
                t < 600
                  ? { status: "ResyncInProgress", since: iso(200) }
                  : { status: "InSync", lastSync: iso(600), workloadEndpoints: 1, hostEndpoints: 1 },
              ),
            ]),
      ];
    });
    const report = await waitForClusters({
      ...clock,
      clusters: () => ["_local", "east"],
      since: START,
      timeoutMs: 10_000,
      say: (line) => lines.push(line),
    });
    expect(report.inSync).toBe(true);
    expect(report.clusters).toEqual(["_local", "east"]);
    expect(lines).toEqual([
      "  _local (this cluster)  InSync on the last run; syncing again",
      "  east                   waiting for its connector",
      "  east                   ResyncInProgress",
      "  _local (this cluster)  InSync — 4 workload endpoints, 2 host endpoints, 5 policies",
      "  east                   InSync — 1 workload endpoint, 1 host endpoint",
    ]);
  });

  it("says which cluster is not in sync, with its status and error, when the wait runs out", async () => {
    const lines: string[] = [];
    const clock = scripted(() => [
      row("_local", { status: "InSync", lastSync: iso(10) }),
      row("west", {
        status: "ConnectionFailed",
        since: iso(10),
        error: "dial tcp 10.9.0.1:6443: connect: connection refused",
      }),
    ]);
    const report = await waitForClusters({
      ...clock,
      clusters: () => ["_local", "west", "north"],
      since: START,
      timeoutMs: 3_000,
      say: (line) => lines.push(line),
    });
    expect(report.inSync).toBe(false);
    expect(report.rows["west"]?.status).toBe("ConnectionFailed");
    expect(lines.slice(-2)).toEqual([
      "  west is not InSync after 3 s: ConnectionFailed — dial tcp 10.9.0.1:6443: connect: connection refused",
      "  north is not InSync after 3 s: waiting for its connector",
    ]);
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const clock = scripted(() => [row("_local", { status: "Connecting", since: iso(1) })]);
    const waiting = waitForClusters({
      ...clock,
      sleep: async () => {
        controller.abort();
      },
      clusters: () => ["_local"],
      since: START,
      timeoutMs: 60_000,
      say: () => {},
      signal: controller.signal,
    });
    await expect(waiting).resolves.toMatchObject({ inSync: false });
  });
});
