import { type ClusterStatusMessage, connectBus, subscribeClusterStatus } from "@fedview/bus";
import { startEtcd, startNats, waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { realDelay } from "../src/backoff.js";
import type { ApplyResponse } from "../src/handlers/apply.js";
import { collect } from "./helpers.js";
import { callConfig, createKeys, runService, serviceConfig, watchConnections } from "./service-harness.js";

const KEY_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";

function rcc(name: string, spec: Record<string, unknown>) {
  return { apiVersion: "projectcalico.org/v3", kind: "RemoteClusterConfiguration", metadata: { name }, spec };
}

describe("config service restart", () => {
  it("resumes without republishing unchanged configs, and withdraws RCCs deleted while it was down", async () => {
    await using etcd = await startEtcd();
    await using nats = await startNats();
    const keys = createKeys();
    const config = serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } });
    await using client = await connectBus({ servers: nats.url });

    const first = await runService(config);
    await callConfig<ApplyResponse>(client, "apply", {
      objects: [
        rcc("kept", { datastoreType: "etcdv3", etcdEndpoints: "https://10.1.0.1:2379", etcdPassword: "pw" }),
        rcc("broken", { datastoreType: "etcdv3", etcdEndpoints: "https://10.1.0.2:2379", etcdCACertFile: "/nope" }),
        rcc("edited", { datastoreType: "etcdv3", etcdEndpoints: "https://10.1.0.3:2379" }),
        rcc("removed", { datastoreType: "etcdv3", etcdEndpoints: "https://10.1.0.4:2379" }),
      ],
    });
    await using view = await watchConnections(nats, keys);
    for (const name of ["kept", "broken", "edited", "removed"]) {
      await waitFor(() => view.latest(name), { message: `the config of ${name}` });
    }
    const before = new Map(
      await Promise.all(
        ["kept", "broken", "edited"].map(async (name) => [name, await view.store.get("etcdv3", name)] as const),
      ),
    );
    await first[Symbol.asyncDispose]();

    // While the service is down: one RCC changes, one is deleted.
    await etcd.etcdctl(
      "put",
      `${KEY_PREFIX}edited`,
      JSON.stringify(rcc("edited", { datastoreType: "etcdv3", etcdEndpoints: "https://10.1.0.33:2379" })),
    );
    await etcd.etcdctl("del", `${KEY_PREFIX}removed`);

    const seenBeforeRestart = view.changes.length;
    const statuses: ClusterStatusMessage[] = collect(subscribeClusterStatus(client));
    await client.flush();
    await using second = await runService(config);
    await waitFor(() => second.service.status().ready, { message: "the restarted service to be ready" });
    await waitFor(() => view.changes.length >= seenBeforeRestart + 2, { message: "the edit and the removal" });
    await client.flush();

    const afterRestart = view.changes.slice(seenBeforeRestart);
    expect(
      afterRestart.map((c) =>
        c.type === "put" ? `put ${c.config.cluster}` : c.type === "delete" ? `delete ${c.cluster}` : c.type,
      ),
    ).toEqual(expect.arrayContaining(["put edited", "delete removed"]));
    expect(afterRestart).toHaveLength(2);
    for (const name of ["kept", "broken"]) {
      const now = await view.store.get("etcdv3", name);
      expect(now?.revision).toBe(before.get(name)?.revision);
      expect(now?.config.generation).toBe(before.get(name)?.config.generation);
    }
    const edited = await view.store.get("etcdv3", "edited");
    expect(edited?.config.generation).toBeGreaterThan(before.get("edited")?.config.generation ?? Infinity);
    expect(edited?.config.spec["etcdEndpoints"]).toEqual(["https://10.1.0.33:2379"]);
    expect(statuses.filter((s) => s.cluster === "broken")).toEqual([]);
  });

  it("keeps retrying while NATS is away, reports it, and publishes what changed meanwhile once it is back", async () => {
    await using etcd = await startEtcd();
    await using nats = await startNats();
    const keys = createKeys();
    const config = serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } });
    // Real waits, but short, so the retries come quickly.
    await using running = await runService(config, (ms, signal) => realDelay(Math.min(ms, 100), signal));
    const url = running.service.status().httpUrl;

    await nats.stop();
    await waitFor(() => !running.service.status().natsConnected, { message: "the service to notice NATS is gone" });
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reasons: string[] }).reasons).toContain("not connected to NATS");

    await etcd.etcdctl(
      "put",
      `${KEY_PREFIX}during`,
      JSON.stringify(rcc("during", { datastoreType: "etcdv3", etcdEndpoints: "https://10.2.0.1:2379" })),
    );
    await waitFor(
      () => (running.service.status().reconciler?.clusters.find((c) => c.name === "during")?.failures ?? 0) > 0,
      { message: "a failed publish to be recorded" },
    );

    for (const node of nats.nodes) await node.start();
    await waitFor(() => running.service.status().ready, { message: "the service to be ready again" });
    await using view = await watchConnections(nats, keys);
    const config2 = await waitFor(() => view.latest("during"), { message: "the config published after the outage" });
    expect(config2).toMatchObject({ status: "valid", spec: { etcdEndpoints: ["https://10.2.0.1:2379"] } });
    expect(
      running.service.status().reconciler?.clusters.find((c) => c.name === "during")?.lastFailure?.message,
    ).toEqual(expect.any(String));
  });
});
