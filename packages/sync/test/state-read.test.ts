import { waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  type ClusterConfig,
  type ClusterPublisher,
  ClusterSync,
  createMemoryPublisher,
  Semaphore,
} from "../src/index.js";
import { MemoryDatastore } from "./memory-datastore.js";

const logger = pino({ level: "silent" });

function config(cluster: string): ClusterConfig {
  return { valid: true, connection: { cluster, generation: 1, datastoreType: "memory", spec: {}, secrets: {} } };
}

/**
 * The in-memory bus, except that reading a cluster's state back never answers the first `hangs`
 * times, ignoring the signal — as the bus's inventory read did when its ordered consumer could not be
 * recreated (the client retries that for good, and its resets looked like signs of life).
 */
function busWithStuckReads(hangs: number): ClusterPublisher & { reads: number } {
  const bus = createMemoryPublisher();
  const publisher = Object.create(bus) as ClusterPublisher & { reads: number };
  publisher.reads = 0;
  publisher.readState = (cluster, signal) => {
    publisher.reads++;
    if (publisher.reads <= hangs) return new Promise(() => {});
    return bus.readState(cluster, signal);
  };
  return publisher;
}

describe("reading a cluster's state back from the bus under the relist permits", () => {
  // Issue #10 scale-out: clusters stayed ResyncInProgress for minutes at low CPU with both replicas
  // up. A state read that never ended kept its relist permit: the clusters queued behind it never
  // listed, and stopping the cluster (lease lost, handover) waited for the read too.
  it("a read that never answers gives its permit up after the timeout and is retried", async () => {
    const permits = new Semaphore(1);
    const bus = busWithStuckReads(1);
    const options = (cluster: string, store: MemoryDatastore) => ({
      config: config(cluster),
      createSource: () => store.source(),
      publisher: bus,
      logger,
      relistPermits: permits,
      stateReadTimeoutMs: 300,
      backoff: { initialMs: 10, maxMs: 50 },
    });
    const storeA = new MemoryDatastore();
    storeA.put("Profile", "a");
    const storeB = new MemoryDatastore();
    storeB.put("Profile", "b");
    await using a = new ClusterSync(options("a", storeA));
    a.start();
    await waitFor(() => bus.reads === 1 && permits.active === 1, { message: "a's read holding the only permit" });
    await using b = new ClusterSync(options("b", storeB));
    b.start();
    await waitFor(() => a.status().status === "InSync" && b.status().status === "InSync", {
      timeout: 5_000,
      message: "both clusters InSync",
    });
    expect(a.stats().failures).toBeGreaterThanOrEqual(1);
    expect(a.stats().lastFailure?.error).toMatch(/did not return the cluster's state within 300 ms/);
    expect(permits.active).toBe(0);
  });

  it("stop() does not wait for a read that never answers, and frees its permit", async () => {
    const permits = new Semaphore(1);
    const bus = busWithStuckReads(Number.POSITIVE_INFINITY);
    const store = new MemoryDatastore();
    const sync = new ClusterSync({
      config: config("c"),
      createSource: () => store.source(),
      publisher: bus,
      logger,
      relistPermits: permits,
      stateReadTimeoutMs: 600_000,
    });
    sync.start();
    await waitFor(() => bus.reads === 1 && permits.active === 1, { message: "the read holding the permit" });
    const stopped = sync.stop().then(() => "stopped");
    const late = new Promise((resolve) => setTimeout(() => resolve("still waiting"), 2_000));
    expect(await Promise.race([stopped, late])).toBe("stopped");
    expect(permits.active).toBe(0);
  });
});
