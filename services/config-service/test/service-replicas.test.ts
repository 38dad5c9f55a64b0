import { type BusConnection, connectBus, type Timers } from "@fedview/bus";
import { type EtcdServer, type NatsServer, startEtcd, startNats, uniqueName, waitFor } from "@fedview/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConfigServiceConfig } from "../src/config.js";
import type { ApplyResponse } from "../src/handlers/apply.js";
import type { ListResponse } from "../src/handlers/list.js";
import type { ConfigService } from "../src/service.js";
import {
  callConfig,
  createKeys,
  type Keys,
  type RunningService,
  runService,
  serviceConfig,
  watchConnections,
} from "./service-harness.js";

/** The real timers, until `pause()`: then no callback runs any more, as in a process that hangs. */
function pausableTimers(): Timers & { pause(): void } {
  let paused = false;
  return {
    setTimeout: (callback, ms) =>
      setTimeout(() => {
        if (!paused) callback();
      }, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    pause() {
      paused = true;
    },
  };
}

function rcc(name: string, endpoint: string) {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name },
    spec: { datastoreType: "etcdv3", etcdEndpoints: endpoint },
  };
}

async function metric(service: ConfigService, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${service.status().httpUrl}/metrics`)).text();
  const match = text.match(pattern);
  return match ? Number(match[1]) : 0;
}

const leading = (running: RunningService) => running.service.status().leadership?.leading === true;

describe("two config-service replicas", () => {
  let etcd: EtcdServer;
  let nats: NatsServer;
  let keys: Keys;
  let client: BusConnection;
  const started: RunningService[] = [];

  /** A replica; both share the datastore, NATS and the sealing seed, and the lease lives 2 s. */
  const replica = async (id: string, timers?: Timers): Promise<RunningService> => {
    const config: ConfigServiceConfig = {
      ...serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } }),
      replicaId: id,
      leaseTtlMs: 2_000,
    };
    const running = await runService(config, undefined, timers ? { timers } : {});
    started.push(running);
    return running;
  };

  beforeEach(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = createKeys();
  });
  afterEach(async () => {
    await client?.[Symbol.asyncDispose]();
    for (const running of started.splice(0)) await running[Symbol.asyncDispose]();
    await Promise.all([etcd?.[Symbol.asyncDispose](), nats?.[Symbol.asyncDispose]()]);
  });

  it("only the leader publishes; the standby is ready, serves the config RPC and says who leads", async () => {
    const a = await replica("replica-a");
    const b = await replica("replica-b");
    client = await connectBus({ servers: nats.url, name: "cli" });
    await using view = await watchConnections(nats, keys);

    expect(a.service.status().leadership).toMatchObject({ leading: true, leader: "replica-a", replicaId: "replica-a" });
    expect(b.service.status().leadership).toMatchObject({
      leading: false,
      leader: "replica-a",
      replicaId: "replica-b",
    });
    const readyz = await fetch(`${b.service.status().httpUrl}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({
      ready: true,
      reasons: [],
      leadership: { leading: false, replicaId: "replica-b", leader: "replica-a" },
    });
    expect(await metric(a.service, /^fedview_config_leader (\d+)$/m)).toBe(1);
    expect(await metric(b.service, /^fedview_config_leader (\d+)$/m)).toBe(0);

    // The RPC is one queue group: keep asking until the standby has answered too.
    await waitFor(
      async () => {
        await callConfig<ListResponse>(client, "list");
        return (await metric(b.service, /fedview_config_rpc_requests_total\{endpoint="list",code="200"\} (\d+)/)) > 0;
      },
      { message: "the standby to answer a config RPC" },
    );

    const name = uniqueName("one");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, "https://10.8.0.1:2379")] });
    const config = await waitFor(() => view.latest(name), { message: "the config to be published" });
    expect(a.service.status().reconciler?.clusters.find((c) => c.name === name)?.generation).toBe(config.generation);
    expect(b.service.status().reconciler).toBeUndefined();
    expect(await metric(b.service, /fedview_config_publishes_total\{outcome="published"\} (\d+)/)).toBe(0);
    await view.nc.flush();
    expect(view.changes.filter((c) => c.type === "put" && c.config.cluster === name)).toHaveLength(1);
  });

  it("when the leader stops, the standby takes over at once, keeps what is unchanged and publishes later changes", async () => {
    const a = await replica("replica-a");
    const b = await replica("replica-b");
    client = await connectBus({ servers: nats.url, name: "cli" });
    await using view = await watchConnections(nats, keys);
    const before = uniqueName("before");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(before, "https://10.8.0.2:2379")] });
    await waitFor(() => view.latest(before), { message: "the config published by the first leader" });
    const published = await view.store.get("etcdv3", before);

    await a[Symbol.asyncDispose]();
    await waitFor(() => leading(b), { message: "the standby to take the lease" });
    await waitFor(() => b.service.status().ready, { message: "the new leader to have listed and published" });
    expect(b.service.status().leadership).toMatchObject({ leading: true, leader: "replica-b" });
    expect((await view.store.get("etcdv3", before))?.revision).toBe(published?.revision);

    const after = uniqueName("after");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(after, "https://10.8.0.3:2379")] });
    const config = await waitFor(() => view.latest(after), { message: "the change made after the takeover" });
    expect(config.spec["etcdEndpoints"]).toEqual(["https://10.8.0.3:2379"]);
    expect(b.service.status().reconciler?.clusters.find((c) => c.name === after)?.generation).toBe(config.generation);
  });

  it("when the leader hangs and stops renewing, the standby takes over after the TTL and the hung one writes nothing", async () => {
    const timers = pausableTimers();
    const a = await replica("replica-a", timers);
    const b = await replica("replica-b");
    client = await connectBus({ servers: nats.url, name: "cli" });
    await using view = await watchConnections(nats, keys);
    expect(leading(a)).toBe(true);

    timers.pause();
    await waitFor(() => leading(b), { message: "the standby to take the lease once it expires" });
    expect(leading(a)).toBe(false);
    await waitFor(() => b.service.status().ready, { message: "the new leader to have listed and published" });

    const name = uniqueName("late");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, "https://10.8.0.4:2379")] });
    const config = await waitFor(() => view.latest(name), { message: "the change made after the takeover" });
    expect(b.service.status().reconciler?.clusters.find((c) => c.name === name)?.generation).toBe(config.generation);
    // The hung replica was never told, so it still watches and tries; each of its writes is refused.
    const refused = await waitFor(
      () => a.service.status().reconciler?.clusters.find((c) => c.name === name)?.lastFailure?.message,
      { message: "the hung replica's attempt to be refused" },
    );
    expect(refused).toMatch(/not the leader/);
    expect(await metric(a.service, /fedview_config_publishes_total\{outcome="fenced"\} (\d+)/)).toBeGreaterThan(0);
    await view.nc.flush();
    expect(view.changes.filter((c) => c.type === "put" && c.config.cluster === name)).toHaveLength(1);
  });
});
