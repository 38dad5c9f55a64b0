/**
 * A remote etcd misbehaving under fedview: cut off while creates and deletes go on in it, compacted
 * past the connector's watch during churn, restarted during churn. Each ends with the view equal to
 * the remote exactly.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffView, readView } from "../lib/exact.js";
import { BOUNDS, FIGURES, scenarioTimeout } from "../lib/figures.js";
import type { RemoteEtcd } from "../lib/remote-etcd.js";
import { metricValue } from "../lib/services.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";

const CLUSTER = "east";
let stack: ChaosStack;
let remote: RemoteEtcd;

beforeAll(async () => {
  stack = await startChaosStack({
    remotes: { [CLUSTER]: { seed: 7, proxied: true } },
    initialResources: FIGURES.initialResources,
    // A held connection must not be given up by the liveness check before the compaction is done;
    // a cut one fails at once anyway.
    env: { "etcd-connector": { FEDVIEW_LIVENESS_TIMEOUT_MS: "30000", FEDVIEW_ETCD_REQUEST_TIMEOUT_MS: "30000" } },
  });
  remote = stack.remotes.get(CLUSTER)!;
  await stack.expectExact(TIMEOUTS.eventually * 2, "the first sync");
}, TIMEOUTS.serverStart * 4);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe("remote etcd faults", () => {
  it(
    `cut off for ${FIGURES.outageMs / 1000} s with creates and deletes meanwhile: ConnectionFailed within ${BOUNDS.connectionFailedMs / 1000} s, data kept and marked stale, exact after it returns`,
    async () => {
      const before = await remote.truth();
      const proxy = remote.proxy!;
      await proxy.down();
      const cut = Date.now();
      const churn = remote.churn.run(Math.ceil(FIGURES.churnUpdates / 4), {
        spanMs: FIGURES.outageMs * 0.8,
      });
      const failed = await waitFor(
        async () => {
          const row = await stack.clusterStatus(CLUSTER);
          return row?.status === "ConnectionFailed" ? row : undefined;
        },
        { timeout: BOUNDS.connectionFailedMs, message: `${CLUSTER} to report ConnectionFailed` },
      );
      const failedAfter = Date.now() - cut;
      expect(failed.stale).toBe(true);
      expect(failed.error).toBeTruthy();
      // Kept: the view still holds exactly what the remote held when it was cut off.
      const kept = diffView(before, await readView(stack.client, CLUSTER));
      expect(kept).toEqual({ lost: [], stale: [], extra: [] });
      const { written } = await churn;
      expect(written).toBeGreaterThan(0);
      await sleep(Math.max(0, FIGURES.outageMs - (Date.now() - cut)));
      const returned = Date.now();
      await proxy.up();
      const total = await stack.expectExact(TIMEOUTS.eventually, "the view after the remote came back");
      const row = await waitFor(async () => {
        const r = await stack.clusterStatus(CLUSTER);
        return r?.status === "InSync" && !r.stale ? r : undefined;
      });
      expect(row.error).toBeUndefined();
      console.info(
        `etcd outage: ConnectionFailed after ${failedAfter} ms, ${written} changes while cut off, ${total} exact ${Date.now() - returned} ms after it returned`,
      );
    },
    scenarioTimeout(FIGURES.outageMs + BOUNDS.connectionFailedMs + TIMEOUTS.eventually),
  );

  it(
    "compacted past the watch revision during churn: the connector relists and the view is exact",
    async () => {
      const connector = stack.service("etcd-connector");
      const relists = () => metricValue(connector, "fedview_connector_relists_total", { reason: "compacted" });
      const compactedBefore = await relists();
      const proxy = remote.proxy!;
      // Hold the connector's bytes so its watch falls behind, change a lot, compact it all away.
      proxy.pause();
      // Enough to fill the held connection's buffers (300 at least, whatever the figures), quick
      // enough to beat gRPC's keepalive (15 s).
      const changes = Math.min(Math.max(Math.ceil(FIGURES.churnUpdates / 2), 300), 1000);
      const { written } = await remote.churn.run(changes, {
        concurrency: 8,
      });
      const head = (await remote.client.put("/fedview-chaos/compaction-mark").value("x")).header.revision;
      await remote.etcd.etcdctl("compaction", head);
      proxy.resume();
      try {
        await waitFor(async () => (await relists()) > compactedBefore, {
          message: "a relist because the watch revision was compacted",
        });
      } catch (err) {
        // Say what the connector did instead: its relists by reason and how its log ends.
        const text = await (await fetch(`${connector.httpUrl}/metrics`)).text();
        const counted = text.split("\n").filter((l) => l.startsWith("fedview_connector_relists_total"));
        throw new Error(`${(err as Error).message}\n${counted.join("\n")}\n${connector.process.logTail(12)}`, {
          cause: err,
        });
      }
      const total = await stack.expectExact(TIMEOUTS.eventually, "the view after compaction");
      console.info(`etcd compaction: ${written} changes, compacted at ${head}, ${total} exact`);
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it(
    "restarted during churn: the view is exact once it is back",
    async () => {
      const churn = remote.churn.run(Math.ceil(FIGURES.churnUpdates / 4), { spanMs: 3000 });
      await sleep(500);
      await remote.etcd.restart();
      const { written, failed } = await churn;
      const total = await stack.expectExact(TIMEOUTS.eventually, "the view after the etcd restart");
      console.info(`etcd restart: ${written} changes (${failed} refused while down), ${total} exact`);
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it("did it all within each service's NATS permissions", async () => {
    expect(await stack.bus.violations()).toEqual([]);
  });
});
