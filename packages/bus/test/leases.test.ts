import { type NatsServer, startNats, uniqueName, waitFor } from "@fedview/testkit";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import {
  BusConfigError,
  connectBus,
  DEFAULT_LEASES_BUCKET,
  decodeLeaseRecord,
  ensureLeasesBucket,
  type LeaseLossReason,
  LeaseManager,
  leaseKey,
  TopologyError,
} from "../src/index.js";
import { ManualClock, ManualTimers } from "./fixtures.js";

// Short enough that a real expiry on the server takes a couple of seconds; the managers' own timers
// and clocks are manual, so the test never waits for them.
const TTL_MS = 2000;

async function leaseBus(ttlMs = TTL_MS): Promise<{ nats: NatsServer; nc: NatsConnection } & AsyncDisposable> {
  const nats = await startNats();
  const nc = await connectBus({ servers: nats.url });
  await ensureLeasesBucket(nc, { leaseTtlMs: ttlMs });
  return {
    nats,
    nc,
    async [Symbol.asyncDispose]() {
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

interface Recorded {
  events: string[];
  manager: LeaseManager;
  timers: ManualTimers;
  clock: ManualClock;
}

async function replica(nc: NatsConnection, holder: string): Promise<Recorded> {
  const events: string[] = [];
  const timers = new ManualTimers();
  const clock = new ManualClock();
  const manager = await LeaseManager.open(nc, {
    holder,
    timers,
    now: clock.now,
    onAcquired: (name) => events.push(`acquired ${name}`),
    onLost: (name, reason: LeaseLossReason) => events.push(`lost ${name} ${reason}`),
  });
  return { events, manager, timers, clock };
}

describe("LeaseManager", () => {
  it("gives a cluster to one replica only, and moves it when the holder dies", async () => {
    await using bus = await leaseBus();
    const a = await replica(bus.nc, uniqueName("a"));
    const b = await replica(bus.nc, uniqueName("b"));

    expect(await a.manager.claim("c1")).toBe(true);
    expect(await b.manager.claim("c1")).toBe(false);
    expect(a.events).toEqual(["acquired c1"]);

    // A renews on its timer while alive; B keeps trying and keeps failing.
    a.manager.start();
    expect(a.timers.fireAll()).toBe(1);
    await a.manager.tick();
    await b.manager.tick();
    expect(b.manager.isHeld("c1")).toBe(false);

    // A dies: it stops renewing without releasing. The server expires its key; B's next round takes it.
    a.manager.stop();
    await waitFor(
      async () => {
        await b.manager.tick();
        return b.manager.isHeld("c1");
      },
      { message: "replica B to take over the lease" },
    );
    expect(b.events).toEqual(["acquired c1"]);

    // If A comes back to life, its next renewal fails the compare-and-set: it learns it lost the lease.
    await a.manager.tick();
    expect(a.events).toEqual(["acquired c1", "lost c1 taken"]);
    expect(a.manager.isHeld("c1")).toBe(false);
    expect(a.manager.status()).toMatchObject({ held: [], wanted: ["c1"] });
  });

  it("declares a lease lost when it could not be renewed before the local deadline", async () => {
    await using bus = await leaseBus();
    const a = await replica(bus.nc, uniqueName("a"));
    await a.manager.claim("c1");
    a.clock.advance(TTL_MS);
    expect(a.manager.isHeld("c1")).toBe(false);
    await a.manager.tick();
    // Lost first; then, the key still being its own on the server, taken back at once.
    expect(a.events).toEqual(["acquired c1", "lost c1 expired", "acquired c1"]);
    expect(a.manager.isHeld("c1")).toBe(true);
  });

  it("hands a released lease to the next replica at once", async () => {
    await using bus = await leaseBus();
    const a = await replica(bus.nc, uniqueName("a"));
    const b = await replica(bus.nc, uniqueName("b"));
    await a.manager.claim("c1");
    await a.manager.claim("c2");
    await b.manager.claim("c1");
    await a.manager.release("c1");
    await b.manager.tick();
    expect(b.manager.held()).toEqual(["c1"]);
    expect(a.manager.held()).toEqual(["c2"]);

    await a.manager.close();
    expect(a.manager.held()).toEqual([]);
    expect(await b.manager.claim("c2")).toBe(true);
    expect(await a.manager.claim("c3")).toBe(false);
  });

  it("renews on its timer with a compare-and-set write of its own record", async () => {
    await using bus = await leaseBus();
    const a = await replica(bus.nc, uniqueName("a"));
    const kv = await new Kvm(bus.nc).open(DEFAULT_LEASES_BUCKET);
    await a.manager.claim("c 1");
    const before = await kv.get(leaseKey("c 1"));

    a.manager.start();
    a.clock.advance(500);
    expect(a.timers.fireAll()).toBe(1);
    await a.manager.tick();
    const after = await kv.get(leaseKey("c 1"));

    expect(after!.revision).toBeGreaterThan(before!.revision);
    const record = decodeLeaseRecord(after!.value);
    expect(record.holder).toBe(a.manager.status().holder);
    expect(Date.parse(record.renewedAt) - Date.parse(record.acquiredAt)).toBe(500);
    // The timer is armed again for the next round.
    expect(a.timers.armed).toBe(1);
    a.manager.stop();
    expect(a.timers.armed).toBe(0);
  });

  it("renews every held lease before it tries any lease it does not hold", async () => {
    // A TTL far longer than the test, so nothing expires on the server while it sets up.
    await using bus = await leaseBus(60_000);
    const kv = await new Kvm(bus.nc).open(DEFAULT_LEASES_BUCKET);
    const a = await replica(bus.nc, uniqueName("a"));
    const b = await replica(bus.nc, uniqueName("b"));
    // A wants its held leases and B's interleaved, so a round walking the wanted leases in order
    // would alternate renewals and acquisitions.
    const heldNames = Array.from({ length: 20 }, (_, i) => `held-${i}`);
    const freedNames = heldNames.map((_, i) => `freed-${i}`);
    for (const [i, name] of heldNames.entries()) {
      expect(await a.manager.claim(name)).toBe(true);
      expect(await b.manager.claim(freedNames[i]!)).toBe(true);
      expect(await a.manager.claim(freedNames[i]!)).toBe(false);
    }
    for (const name of freedNames) await b.manager.release(name);

    await a.manager.tick();

    const revisionOf = async (name: string): Promise<number> => (await kv.get(leaseKey(name)))!.revision;
    const renewed = await Promise.all(heldNames.map(revisionOf));
    const acquired = await Promise.all(freedNames.map(revisionOf));
    expect(a.manager.held().sort()).toEqual([...heldNames, ...freedNames].sort());
    expect(Math.max(...renewed)).toBeLessThan(Math.min(...acquired));
  });

  it("keeps renewing on its timer while a long round of acquisitions is still running", async () => {
    await using bus = await leaseBus(60_000);
    const kv = await new Kvm(bus.nc).open(DEFAULT_LEASES_BUCKET);
    const a = await replica(bus.nc, uniqueName("a"));
    const b = await replica(bus.nc, uniqueName("b"));
    const heldNames = Array.from({ length: 10 }, (_, i) => `held-${i}`);
    for (const name of heldNames) expect(await a.manager.claim(name)).toBe(true);
    // Many leases A wants and B holds: each round A tries them all (a create and a get each), one at
    // a time. The last one B gives up, so A acquiring it marks the end of a round's acquisitions.
    const takenNames = Array.from({ length: 1500 }, (_, i) => `taken-${i}`);
    for (const name of [...takenNames, "last"]) await b.manager.claim(name);
    for (const name of [...takenNames, "last"]) expect(await a.manager.claim(name)).toBe(false);
    await b.manager.release("last");

    const revisions = async (): Promise<number[]> =>
      Promise.all(heldNames.map(async (name) => (await kv.get(leaseKey(name)))!.revision));
    const sweepDone = (): boolean => a.events.includes("acquired last");
    let before = await revisions();
    a.manager.start();
    for (let round = 1; round <= 3; round++) {
      expect(a.timers.fireAll()).toBe(1);
      // The next round's timer is armed as soon as this round's renewals are done.
      await waitFor(() => a.timers.armed === 1, { message: `round ${round}'s renewals to finish` });
      const after = await revisions();
      for (const [i, revision] of after.entries()) expect(revision).toBeGreaterThan(before[i]!);
      before = after;
      expect(sweepDone(), `the first round's acquisitions still running after round ${round}'s renewals`).toBe(false);
    }
    await waitFor(sweepDone, { message: "the acquisitions to reach the free lease" });
    a.manager.stop();
    expect(a.events.filter((event) => event.startsWith("lost"))).toEqual([]);
    expect(a.manager.held().sort()).toEqual([...heldNames, "last"].sort());
  });

  it("never loses a held lease on a short TTL while it keeps failing to acquire many taken ones", async () => {
    // Real clocks and timers: a round every 666 ms, a held lease lost 1667 ms after its last renewal
    // was sent. One round's failed acquisitions take seconds here, far longer than that.
    await using bus = await leaseBus(TTL_MS);
    const replicaOnTimers = (holder: string, events: string[]): Promise<LeaseManager> =>
      LeaseManager.open(bus.nc, {
        holder,
        onAcquired: (name) => events.push(`acquired ${name}`),
        onLost: (name, reason) => events.push(`lost ${name} ${reason}`),
      });
    const aEvents: string[] = [];
    const bEvents: string[] = [];
    await using a = await replicaOnTimers(uniqueName("a"), aEvents);
    await using b = await replicaOnTimers(uniqueName("b"), bEvents);
    b.start();
    const takenNames = Array.from({ length: 1500 }, (_, i) => `taken-${i}`);
    // Claimed all at once, so the claims queue up together rather than each behind a round.
    await Promise.all(takenNames.map((name) => b.claim(name)));
    a.start();
    const heldNames = Array.from({ length: 10 }, (_, i) => `held-${i}`);
    expect(await Promise.all(heldNames.map((name) => a.claim(name)))).toEqual(heldNames.map(() => true));
    expect(await Promise.all(takenNames.map((name) => a.claim(name)))).not.toContain(true);
    await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));

    expect(aEvents.filter((event) => event.startsWith("lost held-"))).toEqual([]);
    for (const name of heldNames) expect(a.isHeld(name)).toBe(true);
    // Whether B, renewing 1,500 leases 32 at a time, keeps them all within a 1.7 s margin depends on
    // how busy the machine is (a whole-suite run at load 18 lost some); it is not what this test is
    // about, so B's losses are only reported.
    const bLost = bEvents.filter((event) => event.startsWith("lost")).length;
    if (bLost > 0) console.info(`replica B lost ${bLost} of its 1500 leases on this machine`);
  });

  it("refuses a renewal concurrency that is not a positive integer", () => {
    expect(() => new LeaseManager({} as never, { holder: "x", ttlMs: 1000, renewConcurrency: 0 })).toThrow(
      /renewConcurrency must be a positive integer/,
    );
  });

  it("takes its TTL from the bucket and refuses a bucket without one", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    await expect(LeaseManager.open(nc, { holder: "x" })).rejects.toBeInstanceOf(TopologyError);
    expect(() => new LeaseManager({} as never, { holder: "x", ttlMs: 1000, renewIntervalMs: 900 })).toThrow(
      BusConfigError,
    );
  });
});
