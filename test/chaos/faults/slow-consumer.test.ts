/**
 * Slow consumers: a NATS subscriber of every resource event that stops reading, and a watch caller
 * that goes silent. Neither stalls the pipeline or any other reader: the view stays exact, another
 * subscriber gets every event, and nats-server cuts the stalled client off.
 */
import { openServiceStream, querySubject, RESOURCE_SUBJECTS, requestService } from "@fedview/bus";
import type { QueryAnswer, StatusResult, WatchMessage } from "@fedview/query-service";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Versioned } from "../lib/exact.js";
import { BOUNDS, FIGURES, scenarioTimeout } from "../lib/figures.js";
import { stalledSubscriber } from "../lib/raw-nats.js";
import type { RemoteEtcd } from "../lib/remote-etcd.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";
import { auditWire, wireKey } from "../lib/state-audit.js";

const CLUSTER = "east";
let stack: ChaosStack;
let remote: RemoteEtcd;

beforeAll(async () => {
  stack = await startChaosStack({
    // A client that takes more than 5 s to take its data is cut off (nats-server's default: 10 s);
    // short enough for the test, long enough for a busy but reading subscriber on a loaded machine.
    bus: { extraConfig: 'write_deadline: "5s"' },
    remotes: { [CLUSTER]: { seed: 31, tls: false } },
    initialResources: FIGURES.initialResources,
  });
  remote = stack.remotes.get(CLUSTER)!;
  await stack.expectExact(TIMEOUTS.eventually * 2, "the first sync");
}, TIMEOUTS.serverStart * 4);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

function maxRevision(resources: readonly Versioned[]): bigint {
  let max = 0n;
  for (const r of resources) if (BigInt(r.revision) > max) max = BigInt(r.revision);
  return max;
}

async function slowConsumers(): Promise<number> {
  const response = await fetch(`${stack.bus.nats.nodes[0]!.monitorUrl}/varz`);
  return ((await response.json()) as { slow_consumers: number }).slow_consumers;
}

describe("slow consumers", () => {
  it(
    "a subscriber that stops reading does not stall the pipeline or another subscriber",
    async () => {
      const tls = stack.bus.nats.tls!;
      const options = stack.bus.options("query-client");
      await using _stalled = await stalledSubscriber({
        url: stack.bus.nats.url,
        user: options.user!,
        password: options.password!,
        tls: { ca: tls.ca, cert: tls.client.cert, key: tls.client.key },
        subject: RESOURCE_SUBJECTS,
      });
      const reader = await stack.bus.connect("query-client");
      const audit = auditWire(reader);
      const before = await slowConsumers();
      // etcd revisions are global: whatever the truth holds above this one was written after the
      // other subscriber started listening, so it must have heard of it.
      const listening = maxRevision(await stack.truth());

      // About 9 MB of events, far more than the stalled client's socket buffers hold, while the remote
      // itself stays small (its listing fits one etcd response; see oversized.test.ts for larger).
      let bloated = 0;
      for (let pass = 0; pass < 3; pass++) bloated += await remote.churn.bloat(100, 30_000);
      const { written } = await remote.churn.run(Math.ceil(FIGURES.churnUpdates / 4), { spanMs: 2000 });
      const total = await stack.expectExact(BOUNDS.convergeAfterRestartMs, "the view with a stalled subscriber");
      // Every resource written since it subscribed reaches the other subscriber at its current
      // revision, and whatever it last heard of a resource is the truth (a relist may coalesce
      // versions, so the event count is not the measure; the state it ends with is).
      const truth = await stack.truth();
      const expected = truth.filter((r) => BigInt(r.revision) > listening);
      expect(expected.length).toBeGreaterThan(0);
      const missing = await waitFor(
        () => {
          const heard = audit.latest();
          const behind = expected.filter((r) => heard.get(wireKey(r))?.revision !== r.revision);
          return behind.length === 0 ? behind : undefined;
        },
        { message: `the other subscriber to hear the current revision of all ${expected.length} changed resources` },
      );
      expect(missing).toEqual([]);
      const current = new Map(truth.map((r) => [wireKey(r), r.revision]));
      const wrong = [...audit.latest()].filter(([key, v]) =>
        v.deleted ? current.has(key) : current.get(key) !== v.revision,
      );
      expect(wrong).toEqual([]);
      await waitFor(async () => (await slowConsumers()) > before, {
        message: "nats-server to cut off the stalled subscriber",
      });
      audit.stop();
      await reader.close();
      console.info(
        `slow consumer: cut off by nats-server; ${bloated} 30 kB events and ${written} changes; the other subscriber got ${audit.received} events, current on all ${expected.length} changed resources; ${total} exact`,
      );
    },
    scenarioTimeout(TIMEOUTS.eventually * 3),
  );

  it(
    "a watch caller that stops answering is dropped, and other watches and queries go on",
    async () => {
      const silent = await stack.bus.connect("query-client");
      await openServiceStream<WatchMessage>(silent, querySubject("watch"), { selector: "all()" });
      // Gone without a word: its heartbeats go unanswered.
      await silent.close();
      await using healthy = await openServiceStream<WatchMessage>(stack.client, querySubject("watch"), {
        selector: "all()",
      });
      const events: WatchMessage[] = [];
      const reading = (async () => {
        for await (const message of healthy) events.push(message);
      })().catch(() => {});
      await waitFor(() => events.some((e) => e.type === "synced"));
      const startsBefore = events.filter((e) => e.type === "start").length;
      const { written } = await remote.churn.run(40, { spanMs: 1000 });
      await stack.expectExact(TIMEOUTS.eventually, "the view with a silent watch caller");
      await waitFor(() => events.filter((e) => e.type === "start").length > startsBefore, {
        message: "the healthy watch to see new endpoints",
      });
      // The silent caller's stream was ended by the service; the healthy one is the only watch left.
      const watches = await waitFor(
        async () => {
          const answer = await requestService<QueryAnswer<StatusResult>>(stack.client, querySubject("status"), {});
          return answer.result.service.watches === 1 ? answer.result.service.watches : undefined;
        },
        { message: "the service to drop the silent caller's watch" },
      );
      expect(watches).toBe(1);
      console.info(`silent watch caller: ${written} changes, the healthy watch got ${events.length} messages`);
      await healthy.close();
      await reading;
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );
});
