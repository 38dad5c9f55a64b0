/**
 * A Kubernetes remote misbehaving: every watch hangs silently (socket open, nothing sent), then a
 * storm of 410 Gone as its history is compacted over and over during churn. The k8s connector's
 * watchdog and relists keep the view exact throughout.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExactView } from "../lib/exact.js";
import { FIGURES, scenarioTimeout } from "../lib/figures.js";
import type { RemoteKube } from "../lib/remote-kube.js";
import { metricValue } from "../lib/services.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";

const CLUSTER = "north";
/** Watches time out after 1–2 s; a watch silent for 3 s is taken for hung. */
const WATCHDOG_MS = 3000;
let stack: ChaosStack;
let remote: RemoteKube;

const exact = (what: string, timeoutMs: number = TIMEOUTS.eventually) =>
  expectExactView(stack.client, () => remote.truth(), { clusters: [CLUSTER], timeoutMs, what });

beforeAll(async () => {
  stack = await startChaosStack({
    services: ["query-service", "config-service", "k8s-connector"],
    kubeRemotes: { [CLUSTER]: { seed: 11 } },
    initialResources: FIGURES.initialResources,
    env: {
      "k8s-connector": {
        FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: "2",
        FEDVIEW_K8S_WATCHDOG_MS: String(WATCHDOG_MS),
      },
    },
  });
  remote = stack.kubeRemotes.get(CLUSTER)!;
  await exact("the first sync", TIMEOUTS.eventually * 2);
}, TIMEOUTS.serverStart * 4);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe("Kubernetes remote faults", () => {
  it(
    "a watch that hangs silently: the watchdog gives up on it, relists catch every change, the view is exact",
    async () => {
      const connector = stack.service("k8s-connector");
      const silent = () => metricValue(connector, "fedview_k8s_watch_restarts_total", { reason: "silent" });
      const before = await silent();
      remote.server.hangWatches();
      try {
        const { written } = await remote.churn.run(Math.ceil(FIGURES.churnUpdates / 4), { spanMs: 2000 });
        // Exact while every watch still hangs: only the relists after the watchdog fired can do that.
        const total = await exact("the view while watches hang", WATCHDOG_MS * 2 + TIMEOUTS.eventually);
        expect(await silent()).toBeGreaterThan(before);
        console.info(`k8s hang: ${written} changes while hung, ${total} exact`);
      } finally {
        remote.server.resumeWatches();
      }
      await remote.churn.run(20);
      await exact("the view once watches stream again");
    },
    scenarioTimeout(TIMEOUTS.eventually * 3),
  );

  it(
    "a storm of 410 Gone during churn: the view is exact once it passes",
    async () => {
      const connector = stack.service("k8s-connector");
      const expired = () => metricValue(connector, "fedview_k8s_watch_restarts_total", { reason: "expired" });
      const before = await expired();
      let storming = true;
      const storm = (async () => {
        let n = 0;
        while (storming) {
          remote.server.expireVersions();
          n++;
          // A watch that times out gets a bookmark at the newest version first, so it restarts from
          // a version the compaction spared. Every half second the watches are cut off without one,
          // as when an API server's watch cache is reset: each restarts from the last version it saw,
          // which the churn and the compaction have made too old — 410 Gone.
          if (n % 5 === 0) remote.server.closeWatches();
          await sleep(100);
        }
        return n;
      })();
      let { written } = await remote.churn.run(Math.ceil(FIGURES.churnUpdates / 4), { spanMs: 3000 });
      // The storm and a trickle of changes go on until the connector has been told 410 at least once
      // (it always has by now in practice), so the scenario is never a storm nobody noticed.
      try {
        await waitFor(
          async () => {
            written += (await remote.churn.run(2)).written;
            return (await expired()) > before;
          },
          { timeout: TIMEOUTS.eventually, message: "the k8s connector to get 410 Gone on a watch" },
        );
      } finally {
        storming = false;
      }
      const compactions = await storm;
      const total = await exact("the view after the 410 storm");
      console.info(
        `k8s 410 storm: ${compactions} compactions, ${written} changes, ${(await expired()) - before} watches expired, ${total} exact`,
      );
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it("did it all within each service's NATS permissions", async () => {
    expect(await stack.bus.violations()).toEqual([]);
  });
});
