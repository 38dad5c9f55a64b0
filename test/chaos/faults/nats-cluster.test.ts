/**
 * A 3-node NATS cluster with replicated streams loses one node under churn: no loss, and no older
 * event applied after a newer one — the view, the state stream and a rebuilt view equal the remotes
 * exactly, whatever the redeliveries on the wire during the failover.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIGURES, scenarioTimeout } from "../lib/figures.js";
import { ADMIN } from "../lib/secure-bus.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";
import { auditWire, diffStoredState } from "../lib/state-audit.js";

const CLUSTERS = ["east", "west"];
/** A new stream leader, reconnected clients and readers that reopened: no bound in the issue; generous. */
const FAILOVER_MS = 30_000;
let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({
    bus: { cluster: 3 },
    remotes: Object.fromEntries(CLUSTERS.map((c, i) => [c, { seed: 500 + i, tls: false }])),
    initialResources: FIGURES.initialResources,
  });
  await stack.expectExact(TIMEOUTS.eventually * 2, "the first sync");
}, TIMEOUTS.serverStart * 6);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe("NATS cluster node loss", () => {
  it(
    "loses one of three nodes under churn: no loss, nothing older applied over newer",
    async () => {
      await using admin = await stack.bus.connect(ADMIN);
      const audit = auditWire(admin);
      const churns = [...stack.remotes.values()].map((r) =>
        r.churn.run(Math.ceil(FIGURES.churnUpdates / 4), { spanMs: 4000 }),
      );
      await sleep(1200);
      // The node most clients talk to first, and quite possibly the stream leader.
      await stack.bus.nats.nodes[0]!.kill();
      await Promise.all(churns);
      // What the stream holds says whether a miss is the connectors' (not stored) or the reader's.
      const stored = await waitFor(
        async () => {
          const diff = await diffStoredState(admin, await stack.truth(), CLUSTERS);
          return diff.lost.length + diff.stale.length + diff.extra.length === 0 ? diff : undefined;
        },
        { timeout: FAILOVER_MS, message: "the state stream to equal the remotes" },
      );
      expect(stored).toEqual({ lost: [], stale: [], extra: [] });
      const total = await stack.expectExact(FAILOVER_MS, "the view after losing a node");
      audit.stop();
      console.info(
        `nats cluster: node 1 killed, ${total} exact; ${audit.received} events on the wire, ${audit.regressions} redelivered or out of order (dropped by the view)`,
      );
    },
    scenarioTimeout(FAILOVER_MS * 2),
  );

  it(
    "a query service rebuilt from the two remaining nodes holds the same exact view",
    async () => {
      const query = stack.service("query-service");
      await query.kill();
      await query.start();
      await stack.expectExact(TIMEOUTS.eventually, "the view rebuilt on two nodes");
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it(
    "takes the node back and stays exact through more churn",
    async () => {
      await stack.bus.nats.nodes[0]!.start();
      await Promise.all(
        [...stack.remotes.values()].map((r) => r.churn.run(Math.ceil(FIGURES.churnUpdates / 8), { spanMs: 1000 })),
      );
      await stack.expectExact(TIMEOUTS.eventually, "the view with the node back");
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it("did it all within each service's NATS permissions", async () => {
    expect(await stack.bus.violations()).toEqual([]);
  });
});
