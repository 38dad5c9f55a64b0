/**
 * An RCC's client certificate rotated under churn: the config service sees the new files and publishes
 * a new generation, the connector builds the new client, lists, and swaps. No gap: a watcher of every
 * endpoint never sees one stop and come back, and the view stays exact.
 */
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openServiceStream, querySubject } from "@fedview/bus";
import type { WatchMessage } from "@fedview/query-service";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIGURES, scenarioTimeout } from "../lib/figures.js";
import type { RemoteEtcd } from "../lib/remote-etcd.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";

const CLUSTER = "east";
let stack: ChaosStack;
let remote: RemoteEtcd;

beforeAll(async () => {
  stack = await startChaosStack({
    remotes: { [CLUSTER]: { seed: 21, tls: true } },
    initialResources: FIGURES.initialResources,
  });
  remote = stack.remotes.get(CLUSTER)!;
  await stack.expectExact(TIMEOUTS.eventually * 2, "the first sync");
}, TIMEOUTS.serverStart * 4);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** Replaces a file in one step, as a secret volume does. */
async function replace(path: string, contents: string): Promise<void> {
  await writeFile(`${path}.new`, contents, { mode: 0o600 });
  await rename(`${path}.new`, path);
}

describe("RCC rotation", () => {
  it(
    "rotates the client certificate twice under churn: no endpoint stops and comes back, the view stays exact",
    async () => {
      await using watch = await openServiceStream<WatchMessage>(stack.client, querySubject("watch"), {
        selector: "all()",
      });
      const events: { type: "start" | "stop"; name: string }[] = [];
      let synced = false;
      const reading = (async () => {
        for await (const message of watch) {
          if (message.type === "synced") synced = true;
          else if (synced && (message.type === "start" || message.type === "stop")) {
            if (message.endpoint.cluster === CLUSTER)
              events.push({ type: message.type, name: message.endpoint.display_name });
          }
        }
      })().catch(() => {});
      await waitFor(() => synced, { message: "the watch to be synced" });
      const generation = (await stack.clusterStatus(CLUSTER))!.generation!;

      const churn = remote.churn.run(Math.ceil(FIGURES.churnUpdates / 2), { spanMs: 6000 });
      for (let rotation = 1; rotation <= 2; rotation++) {
        await sleep(1500);
        const pair = await remote.etcd.tls!.authority.issue("root");
        await replace(join(remote.dir, "cert.pem"), pair.cert);
        await replace(join(remote.dir, "key.pem"), pair.key);
      }
      const { written } = await churn;
      // The new certificate is in use: a newer generation is InSync.
      const row = await waitFor(async () => {
        const r = await stack.clusterStatus(CLUSTER);
        return r?.status === "InSync" && (r.generation ?? 0) > generation ? r : undefined;
      });
      const total = await stack.expectExact(TIMEOUTS.eventually, "the view after the rotations");

      // A transient delete is a stop followed by a start of the same endpoint; churn never recreates one.
      const stoppedAt = new Map<string, number>();
      const flickers: string[] = [];
      events.forEach((e, i) => {
        if (e.type === "stop") stoppedAt.set(e.name, i);
        else if (stoppedAt.has(e.name)) flickers.push(e.name);
      });
      expect(flickers).toEqual([]);
      expect(events.some((e) => e.type === "start")).toBe(true);
      console.info(
        `rotation: generation ${generation} → ${row.generation}, ${written} changes, ${events.length} watch events, 0 transient deletes, ${total} exact`,
      );
      await watch.close();
      await reading;
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );
});
