import { startNats, TIMEOUTS, waitFor } from "@fedview/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import {
  connectBus,
  DEFAULT_STATE_STREAM,
  ensureStateStream,
  openStateReader,
  publishResourceEvent,
  type StateItem,
  type StateReader,
} from "../src/index.js";
import { wepUpsert } from "./fixtures.js";

describe("state reader failover", () => {
  it("keeps reading live events after the NATS node holding its consumer dies", async () => {
    await using nats = await startNats({ cluster: 3 });
    await using setup = await connectBus({ servers: nats.urls });
    await ensureStateStream(setup, { replicas: 3 });
    const jsm = await jetstreamManager(setup);

    // Like the query service, the reader opens a new reader when one fails.
    await using readerConnection = await connectBus({ servers: nats.urls, reconnect: { waitMs: 100 } });
    const items: StateItem[] = [];
    let stopped = false;
    let current: StateReader | undefined;
    const reading = (async () => {
      while (!stopped) {
        try {
          current = await openStateReader(readerConnection);
          for await (const item of current) items.push(item);
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    await publishResourceEvent(jetstream(setup), wepUpsert("east", "ns/before", "1"));
    await waitFor(() => items.some((i) => i.type === "resource" && i.event.id === "ns/before"));

    // The node the reader's (single-replica) consumer lives on: the client alone never recreates a
    // consumer that is neither served nor reported missing.
    const consumers = await jsm.consumers.list(DEFAULT_STATE_STREAM).next();
    const host = consumers[0]?.cluster?.leader;
    const victim = nats.nodes.find((n) => n.name === host)!;
    const others = nats.nodes.filter((n) => n !== victim).map((n) => n.url);
    await victim.kill();
    await using writer = await connectBus({ servers: others });
    await waitFor(() => publishResourceEvent(jetstream(writer), wepUpsert("east", "ns/after", "2")).then(() => true), {
      message: "a new stream leader accepting publishes",
    });
    // With the client's defaults the reader never read again: nothing recreated the lost consumer.
    // By design the replay notices within 11–13.5 s (missed heartbeats, then the stall deadline), and
    // the reopened reader's first consumer request can still land on the dead node and wait out its
    // 5 s timeout: twice the usual wait keeps that worst case inside the bound on a busy machine.
    await waitFor(() => items.some((i) => i.type === "resource" && i.event.id === "ns/after"), {
      timeout: TIMEOUTS.eventually * 2,
      message: "the event published after the failover",
    });
    const ids = items.flatMap((i) => (i.type === "resource" ? [i.event.id] : []));
    expect(ids.slice(ids.lastIndexOf("ns/before"))).toContain("ns/after");
    stopped = true;
    await current?.close();
    await reading;
  }, 120_000);
});
