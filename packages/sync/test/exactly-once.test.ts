import { waitFor } from "@fedview/testkit";
import fc from "fast-check";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ClusterSync, createManualClock, createMemoryPublisher, ResyncRequiredError } from "../src/index.js";
import { MemoryDatastore } from "./memory-datastore.js";

const KIND = "WorkloadEndpoint";
const command = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("put" as const), id: fc.constantFrom("a", "b", "c", "d") }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), id: fc.constantFrom("a", "b", "c", "d") }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("malformed" as const), id: fc.constantFrom("a", "b", "c", "d") }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("break" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("compact" as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("replay" as const), n: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("yield" as const) }) },
);
/** The same, plus stores the bus acknowledges as failed only after the watch moved on. */
const commandWithLoss = fc.oneof(
  { weight: 12, arbitrary: command },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("lose" as const), n: fc.integer({ min: 1, max: 3 }) }) },
);

const CASES = [
  {
    name: "for any interleaving of writes, replayed events, dropped watches and compactions, the bus converges to the datastore without duplicates or phantom deletes",
    commands: command,
    pipelined: false,
  },
  {
    name: "with acknowledgements arriving after the watch moved on (pipelined), the same interleavings converge without duplicates or phantom deletes",
    commands: command,
    pipelined: true,
  },
  {
    name: "when stores fail asynchronously (the ack arrives after later changes were sent), the cluster is re-read and resynced: the bus converges without duplicates, and the only deletes of keys not held are of keys whose store failed",
    commands: commandWithLoss,
    pipelined: true,
  },
] as const;

describe("ClusterSync exactly-once view", () => {
  it.each(CASES)("$name", async ({ commands: arbitrary, pipelined }) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbitrary, { maxLength: 30 }), async (commands) => {
        const cluster = `prop${run++}`;
        const store = new MemoryDatastore();
        const publisher = createMemoryPublisher({ pipelined });
        const clock = createManualClock();
        const sync = new ClusterSync({
          config: {
            valid: true,
            connection: { cluster, generation: 1, datastoreType: "memory", spec: {}, secrets: {} },
          },
          createSource: () => store.source(),
          publisher,
          logger: pino({ level: "silent" }),
          clock,
          random: () => 0,
          statusIntervalMs: 0,
        });
        try {
          sync.start();
          for (const c of commands) {
            if (c.op === "put") store.put(KIND, c.id, { n: store.revision });
            else if (c.op === "delete") {
              if (store.data.has(`${KIND}/${c.id}`) || store.malformed.has(`${KIND}/${c.id}`)) store.delete(KIND, c.id);
            } else if (c.op === "malformed") store.putMalformed(KIND, c.id);
            else if (c.op === "break") store.breakWatches(new ResyncRequiredError("disconnected", "dropped"));
            else if (c.op === "compact") store.compact();
            else if (c.op === "replay") store.replayRecent(c.n);
            else if (c.op === "lose") publisher.failNextStores(c.n);
            else await new Promise((r) => setImmediate(r));
          }
          const expected = () =>
            JSON.stringify(
              Object.fromEntries([...store.data.values()].map((r) => [`${r.kind}/${r.id}`, r.revision]).sort()),
            );
          const actual = () =>
            JSON.stringify(
              Object.fromEntries([...publisher.resources(cluster)].map(([k, v]) => [k, v.revision]).sort()),
            );
          const converged = () => {
            if (sync.status().status === "InSync" && store.activeWatches > 0 && expected() === actual()) return true;
            // A failed store waits out a backoff before the cluster is re-read: move time on.
            if (sync.status().status === "ConnectionFailed") {
              const next = clock.nextDeadline();
              if (next !== undefined) clock.advance(next - clock.now());
            }
            return false;
          };
          await waitFor(converged, { message: "the bus to equal the datastore" });
          // Replay the publications: every upsert changes what the bus holds, every delete removes something held.
          const held = new Map<string, string>();
          // A change sent after a store that failed, before its ack came back, may retract a key the
          // bus never held (a tombstone consumers ignore); none other may.
          const lost = new Set(publisher.notStored.map((e) => (e.type === "upsert" ? e.id : "")));
          for (const e of publisher.log) {
            if (e.type === "upsert") {
              expect(held.get(e.id), `duplicate upsert of ${e.id}@${e.revision}`).not.toBe(e.revision);
              held.set(e.id, e.revision);
            } else if (e.type === "delete") {
              if (!held.has(e.id) && lost.has(e.id)) continue;
              expect(held.has(e.id), `delete of ${e.id}, which the bus did not hold`).toBe(true);
              held.delete(e.id);
            }
          }
        } finally {
          await sync.stop();
        }
      }),
      { numRuns: 40 },
    );
  });
});
