/**
 * NATS restarted under churn: a single nats-server with JetStream on disk goes down and comes back on
 * the same store. Nothing is lost — the view, the durable state stream, and a query service rebuilt
 * from JetStream alone all equal the remotes exactly.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TIMEOUTS } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIGURES, scenarioTimeout } from "../lib/figures.js";
import { ADMIN } from "../lib/secure-bus.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";
import { auditWire, diffStoredState } from "../lib/state-audit.js";

const CLUSTERS = ["east", "west"];
let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({
    remotes: Object.fromEntries(CLUSTERS.map((c, i) => [c, { seed: 300 + i, tls: false }])),
    initialResources: FIGURES.initialResources,
  });
  await stack.expectExact(TIMEOUTS.eventually * 2, "the first sync");
}, TIMEOUTS.serverStart * 4);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe("NATS restart", () => {
  it(
    "restarts the single server with JetStream on disk during churn: nothing lost, view and stream exact",
    async () => {
      const churns = [...stack.remotes.values()].map((r) =>
        r.churn.run(Math.ceil(FIGURES.churnUpdates / 4), { spanMs: 4000 }),
      );
      await sleep(1000);
      await stack.bus.nats.restart();
      await Promise.all(churns);
      const total = await stack.expectExact(TIMEOUTS.eventually, "the view after the NATS restart");
      await using admin = await stack.bus.connect(ADMIN);
      const stored = await diffStoredState(admin, await stack.truth(), CLUSTERS);
      expect(stored).toEqual({ lost: [], stale: [], extra: [] });
      console.info(`nats restart: ${total} exact in the view and in the state stream`);
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it(
    "a query service restarted afterwards rebuilds the same exact view from JetStream alone",
    async () => {
      await using admin = await stack.bus.connect(ADMIN);
      const audit = auditWire(admin);
      const connectors = stack.service("etcd-connector");
      // Nothing but JetStream: no connector runs while the query service rebuilds.
      await connectors.stop();
      const query = stack.service("query-service");
      await query.kill();
      await query.start();
      const total = await stack.expectExact(TIMEOUTS.eventually, "the rebuilt view");
      audit.stop();
      expect(audit.received).toBe(0);
      await connectors.start();
      console.info(`nats restart: ${total} exact after a rebuild from JetStream alone`);
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it("did it all within each service's NATS permissions", async () => {
    expect(await stack.bus.violations()).toEqual([]);
  });
});
