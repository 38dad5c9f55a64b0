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

async function leaseBus(): Promise<{ nats: NatsServer; nc: NatsConnection } & AsyncDisposable> {
  const nats = await startNats();
  const nc = await connectBus({ servers: nats.url });
  await ensureLeasesBucket(nc, { leaseTtlMs: TTL_MS });
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

  it("takes its TTL from the bucket and refuses a bucket without one", async () => {
    await using nats = await startNats();
    await using nc = await connectBus({ servers: nats.url });
    await expect(LeaseManager.open(nc, { holder: "x" })).rejects.toBeInstanceOf(TopologyError);
    expect(() => new LeaseManager({} as never, { holder: "x", ttlMs: 1000, renewIntervalMs: 900 })).toThrow(
      BusConfigError,
    );
  });
});
