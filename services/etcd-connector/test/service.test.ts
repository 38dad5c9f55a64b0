import { compareVersions, connectBus } from "@fedview/bus";
import {
  type ClusterSource,
  ClusterSync,
  createBusPublisher,
  createConnectorRuntime,
  createManualClock,
} from "@fedview/sync";
import { createCertificateAuthority, type EtcdServer, startEtcd, uniqueName, waitFor } from "@fedview/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdSource, createEtcdSourceFactory } from "../src/index.js";
import { CalicoWriter, hep, materialOf, networkPolicy, profile, wep } from "./fixtures.js";
import { capturingLogger, clusterStatus, readState, recordBus, type Stack, startStack } from "./harness.js";

const silent = pino({ level: "silent" });

async function metricsText(url: string | undefined): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

describe("etcd connector service on real etcd and NATS", () => {
  let stack: Stack;
  let etcd: EtcdServer;
  let writer: CalicoWriter;

  beforeAll(async () => {
    stack = await startStack();
    etcd = await startEtcd();
    writer = await CalicoWriter.connect(etcd);
  });
  afterAll(async () => {
    writer?.close();
    await etcd?.[Symbol.asyncDispose]();
    await stack?.[Symbol.asyncDispose]();
  });

  it("initial sync: endpoints, host endpoints and profiles are published converted, InSync, with per-cluster metrics", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "pod-1", { ip: "10.1.0.1" }));
    await writer.put(wep(ns, "pod-2", { ip: null }));
    await writer.put(hep(`${ns}-gw`));
    await writer.put(profile(`kns.${ns}`));
    await writer.put(networkPolicy(ns, "remote-policies-are-never-pulled"));
    await stack.putConfig(cluster, 1, await materialOf(etcd));
    await using service = await stack.startService();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync", { message: "InSync" });

    const { resources, status } = await readState(stack.nc, cluster);
    const mine = [...resources.keys()].filter((k) => k.includes(ns)).sort();
    expect(mine).toEqual([
      `HostEndpoint ${ns}-gw`,
      `Profile ${cluster}/kns.${ns}`,
      `WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`,
    ]);
    const endpoint = resources.get(`WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`);
    expect(endpoint?.op === "upsert" && endpoint.resource.spec).toMatchObject({
      node: `${cluster}/node1`,
      profiles: [`${cluster}/kns.${ns}`],
      ipNetworks: ["10.1.0.1/32"],
    });
    const prof = resources.get(`Profile ${cluster}/kns.${ns}`);
    expect(prof?.op === "upsert" && prof.resource.spec).toEqual({ labelsToApply: { team: "a" } });
    expect(status).toMatchObject({ op: "upsert", status: "InSync", generation: 1, stale: false });
    expect(status?.op === "upsert" && status.counts["WorkloadEndpoint"]).toBeGreaterThanOrEqual(1);

    const text = await metricsText(service.status().httpUrl);
    expect(text).toContain(`remote_cluster_connection_status{remote_cluster_name="${cluster}",connector="etcdv3"} 2`);
    expect(text).toMatch(
      new RegExp(`fedview_connector_resources\\{cluster="${cluster}",kind="HostEndpoint",connector="etcdv3"\\} [1-9]`),
    );
    expect(text).toContain(
      `fedview_connector_relists_total{cluster="${cluster}",reason="initial",connector="etcdv3"} 1`,
    );
    expect(text).toContain(`fedview_connector_sync_duration_seconds_count{cluster="${cluster}",connector="etcdv3"} 1`);
    await stack.configs.delete("etcdv3", cluster);
  });

  it("live creates, updates and deletes reach the bus once each, in order", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await stack.putConfig(cluster, 1, await materialOf(etcd));
    await using service = await stack.startService();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    await using bus = await recordBus(stack.nc, cluster);
    await writer.put(wep(ns, "pod-1", { ip: "10.2.0.1" }));
    await writer.put(wep(ns, "pod-1", { ip: "10.2.0.2" }));
    await writer.put(profile(`kns.${ns}`));
    await writer.delete(wep(ns, "pod-1"));
    await writer.put(wep(ns, "pod-2", { ip: "10.2.0.3" }));
    await writer.put(wep(ns, "pod-2", { ip: null }));
    const id1 = `${ns}/node1-k8s-pod--1-eth0`;
    const id2 = `${ns}/node1-k8s-pod--2-eth0`;
    await waitFor(() => bus.ops().filter((o) => o.includes(ns)).length >= 6, { message: "six events" });
    const mine = bus.ops().filter((o) => o.includes(ns));
    // Kinds are watched separately: compare each kind's sequence.
    expect(mine.filter((o) => o.includes("WorkloadEndpoint"))).toEqual([
      `upsert WorkloadEndpoint ${id1}`,
      `upsert WorkloadEndpoint ${id1}`,
      `delete WorkloadEndpoint ${id1}`,
      `upsert WorkloadEndpoint ${id2}`,
      // Losing its ipNetworks takes it out of the merged view.
      `delete WorkloadEndpoint ${id2}`,
    ]);
    expect(mine.filter((o) => o.includes("Profile"))).toEqual([`upsert Profile ${cluster}/kns.${ns}`]);
    const revisions = bus.events.filter((e) => e.id === id1).map((e) => BigInt(e.revision));
    expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
    await stack.configs.delete("etcdv3", cluster);
  });

  it("a delete made while disconnected is published after reconnecting; unchanged data is not republished", async () => {
    await using own = await startEtcd();
    const w = await CalicoWriter.connect(own);
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await w.put(wep(ns, "stays"));
    await w.put(wep(ns, "goes"));
    await w.put(profile(`kns.${ns}`, { v: "1" }));
    w.close();
    await stack.putConfig(cluster, 1, await materialOf(own));
    // The connector's retries wait on a clock the test moves: the datastore changes in between.
    const clock = createManualClock(Date.now());
    // The lease is renewed in real time: with the stack's 2 s TTL, a test process starved for about 2 s
    // under load lost it, and the sync started anew reconnected at once, without waiting for the clock,
    // so the changes below came through its watch before they were looked for. A lease bucket of its
    // own with a TTL no stall reaches keeps the connector waiting for the clock.
    await using service = await stack.startService(
      {
        FEDVIEW_BACKOFF_INITIAL_MS: "1000",
        FEDVIEW_BACKOFF_MAX_MS: "1000",
        FEDVIEW_LEASES_BUCKET: uniqueName("leases"),
        FEDVIEW_LEASE_TTL_MS: "120000",
      },
      { clock },
    );
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    await using bus = await recordBus(stack.nc, cluster);

    await own.kill();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "ConnectionFailed");
    const failed = clusterStatus(service, cluster)?.status;
    expect(failed?.error).toMatch(/^etcd http:\/\/127\.0\.0\.1:\d+: UNAVAILABLE: /);
    expect(failed).toMatchObject({ stale: true, counts: { WorkloadEndpoint: 2, Profile: 1 } });
    expect((await readState(stack.nc, cluster)).resources.size).toBe(3);

    await own.start();
    const w2 = await CalicoWriter.connect(own);
    await w2.delete(wep(ns, "goes"));
    await w2.put(profile(`kns.${ns}`, { v: "2" }));
    w2.close();
    const mark = bus.events.length;
    clock.advance(1000);
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync", { message: "InSync again" });
    // InSync follows the acks on the connector's connection; the recording subscription is another
    // connection, which may be read later. The relist publishes the delete last, in order.
    const deleted = `delete WorkloadEndpoint ${ns}/node1-k8s-goes-eth0`;
    await waitFor(() => bus.ops(mark).includes(deleted), { message: "the relist's events recorded" });
    expect(bus.ops(mark)).toEqual([`upsert Profile ${cluster}/kns.${ns}`, deleted]);
    expect(clusterStatus(service, cluster)?.status).toMatchObject({ stale: false });
    await stack.configs.delete("etcdv3", cluster);
  });

  it("compaction past the watch revision: the watch ends, the relist publishes what the lost history held", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "a"));
    await writer.put(wep(ns, "b"));
    const real = createEtcdSource({ cluster, material: await materialOf(etcd) });
    // Holds the first watch back until the history it must start from has been compacted away.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let watches = 0;
    const delayed: ClusterSource = {
      description: real.description,
      check: (s) => real.check(s),
      list: (s) => real.list(s),
      async *watch(after, s) {
        if (watches++ === 0) await held;
        yield* real.watch(after, s);
      },
      [Symbol.asyncDispose]: () => real[Symbol.asyncDispose](),
    };
    const sync = new ClusterSync({
      config: { valid: true, connection: { cluster, generation: 1, datastoreType: "etcdv3", spec: {}, secrets: {} } },
      createSource: () => delayed,
      publisher: createBusPublisher(stack.nc),
      logger: silent,
    });
    await using _ = sync;
    sync.start();
    await waitFor(() => sync.status().status === "InSync");
    await writer.delete(wep(ns, "a"));
    const head = await writer.put(wep(ns, "c"));
    await etcd.etcdctl("compaction", head);
    release();
    await waitFor(async () => {
      const keys = [...(await readState(stack.nc, cluster)).resources.keys()].filter((k) => k.includes(ns));
      return keys.length === 2 && !keys.some((k) => k.includes("-a-"));
    });
    expect(sync.stats().relists).toBe(2);
    expect(sync.status().status).toBe("InSync");
  });

  it("etcd restart: the watch drops, the connector relists without republishing, then serves new changes", async () => {
    await using own = await startEtcd();
    const w = await CalicoWriter.connect(own);
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await w.put(wep(ns, "a"));
    w.close();
    await stack.putConfig(cluster, 1, await materialOf(own));
    await using service = await stack.startService();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    await using bus = await recordBus(stack.nc, cluster);
    const relists = () => clusterStatus(service, cluster)?.stats?.relists ?? 0;
    const before = relists();
    await own.restart();
    await waitFor(() => relists() > before && clusterStatus(service, cluster)?.status?.status === "InSync", {
      message: "relisted after the restart",
    });
    expect(bus.events).toEqual([]);
    const w2 = await CalicoWriter.connect(own);
    await w2.put(wep(ns, "b"));
    w2.close();
    await waitFor(() => bus.ops().includes(`upsert WorkloadEndpoint ${ns}/node1-k8s-b-eth0`));
    await stack.configs.delete("etcdv3", cluster);
  });

  it("a liveness check finds an etcd that stopped answering, drops that client, and a new one resumes", async () => {
    await using own = await startEtcd();
    const w = await CalicoWriter.connect(own);
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await w.put(wep(ns, "a"));
    await stack.putConfig(cluster, 1, await materialOf(own));
    await using service = await stack.startService({
      FEDVIEW_LIVENESS_INTERVAL_MS: "300",
      FEDVIEW_LIVENESS_TIMEOUT_MS: "1000",
      FEDVIEW_ETCD_REQUEST_TIMEOUT_MS: "1000",
    });
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    const relists = clusterStatus(service, cluster)?.stats?.relists ?? 0;
    // Frozen, not dead: connections stay open, the watch just goes silent.
    process.kill(own.process.pid!, "SIGSTOP");
    try {
      await waitFor(() => clusterStatus(service, cluster)?.status?.status === "ConnectionFailed", {
        message: "the liveness check to fail",
      });
      expect(clusterStatus(service, cluster)?.status?.error).toMatch(/^liveness check failed: /);
      expect(clusterStatus(service, cluster)?.status?.stale).toBe(true);
    } finally {
      process.kill(own.process.pid!, "SIGCONT");
    }
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync", { message: "InSync again" });
    expect(clusterStatus(service, cluster)?.stats?.relists).toBeGreaterThan(relists);
    await w.put(wep(ns, "b"));
    w.close();
    await waitFor(async () =>
      (await readState(stack.nc, cluster)).resources.has(`WorkloadEndpoint ${ns}/node1-k8s-b-eth0`),
    );
    await stack.configs.delete("etcdv3", cluster);
  });

  it("serves the local cluster: no prefixes, and its policies too", async () => {
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "a"));
    await writer.put(networkPolicy(ns, `${ns}-np`));
    await stack.putConfig("_local", 1, await materialOf(etcd));
    await using service = await stack.startService();
    await waitFor(() => clusterStatus(service, "_local")?.status?.status === "InSync");
    const { resources } = await readState(stack.nc, "_local");
    const endpoint = resources.get(`WorkloadEndpoint ${ns}/node1-k8s-a-eth0`);
    expect(endpoint?.op === "upsert" && endpoint.resource.spec).toMatchObject({
      node: "node1",
      profiles: [`kns.${ns}`],
    });
    expect(resources.has(`NetworkPolicy ${ns}/default.${ns}-np`)).toBe(true);
    await stack.configs.delete("etcdv3", "_local");
    await waitFor(async () => (await readState(stack.nc, "_local")).status?.op === "delete");
  });

  it("config rotation to a new client certificate swaps without a gap: no deletes, generation 2", async () => {
    await using tls = await startEtcd({ tls: true });
    const w = await CalicoWriter.connect(tls);
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await w.put(wep(ns, "a"));
    await w.put(profile(`kns.${ns}`));
    await stack.putConfig(cluster, 1, await materialOf(tls));
    await using service = await stack.startService();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    await using bus = await recordBus(stack.nc, cluster);
    const rotated = await tls.tls!.authority.issue("root");
    await stack.putConfig(cluster, 2, { ...(await materialOf(tls)), cert: rotated.cert, key: rotated.key });
    await waitFor(() => clusterStatus(service, cluster)?.status?.generation === 2, { message: "generation 2 serving" });
    await w.put(wep(ns, "b"));
    w.close();
    await waitFor(() => bus.events.some((e) => e.id.includes(`${ns}/node1-k8s-b`)));
    expect(bus.events.filter((e) => e.op === "delete")).toEqual([]);
    expect(bus.events.find((e) => e.id.includes(`${ns}/node1-k8s-b`))?.generation).toBe(2);
    expect(bus.statuses.map((s) => (s.op === "upsert" ? s.status : "removed"))).not.toContain("ConnectionFailed");
    expect((await readState(stack.nc, cluster)).resources.size).toBe(3);
    await stack.configs.delete("etcdv3", cluster);
  });

  it("mTLS and auth: the right material syncs; a wrong CA or a wrong password give a clear ConnectionFailed", async () => {
    await using tls = await startEtcd({ tls: true });
    await using auth = await startEtcd({ auth: { users: [{ name: "reader", password: "pw", read: ["/calico/"] }] } });
    const [good, wrongCa, wrongPassword, goodAuth] = [
      uniqueName("c"),
      uniqueName("c"),
      uniqueName("c"),
      uniqueName("c"),
    ];
    const stranger = await createCertificateAuthority();
    await stack.putConfig(good, 1, await materialOf(tls));
    await stack.putConfig(wrongCa, 1, { ...(await materialOf(tls)), caCert: stranger.ca });
    await stack.putConfig(goodAuth, 1, { endpoints: auth.endpoints, username: "reader", password: "pw" });
    await stack.putConfig(wrongPassword, 1, { endpoints: auth.endpoints, username: "reader", password: "nope" });
    await using service = await stack.startService();
    await waitFor(
      () =>
        clusterStatus(service, good)?.status?.status === "InSync" &&
        clusterStatus(service, goodAuth)?.status?.status === "InSync" &&
        clusterStatus(service, wrongCa)?.status?.status === "ConnectionFailed" &&
        clusterStatus(service, wrongPassword)?.status?.status === "ConnectionFailed",
      { message: "two in sync, two failed" },
    );
    expect(clusterStatus(service, wrongCa)?.status?.error).toMatch(
      /^etcd https:\/\/127\.0\.0\.1:\d+: UNAVAILABLE: TLS handshake failed: the server certificate is not signed by the configured CA/,
    );
    expect(clusterStatus(service, wrongPassword)?.status?.error).toMatch(
      /authentication failed, invalid user ID or password/,
    );
    const { status } = await readState(stack.nc, wrongPassword);
    expect(status).toMatchObject({ status: "ConnectionFailed", stale: false });
    expect(status?.op === "upsert" && status.error).not.toContain("nope");
    for (const c of [good, wrongCa, wrongPassword, goodAuth]) await stack.configs.delete("etcdv3", c);
  });

  it("RCC delete: every resource is retracted, then the status, and the cluster's metric series go", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "a"));
    await stack.putConfig(cluster, 1, await materialOf(etcd));
    await using service = await stack.startService();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    const before = (await readState(stack.nc, cluster)).resources;
    const count = before.size;
    expect(count).toBeGreaterThan(0);
    await using bus = await recordBus(stack.nc, cluster);
    await stack.configs.delete("etcdv3", cluster);
    await waitFor(() => bus.statuses.some((s) => s.op === "delete"), { message: "status removed" });
    expect(bus.events).toHaveLength(count);
    expect(bus.events.every((e) => e.op === "delete")).toBe(true);
    // Each delete is newer than its upsert, so consumers ordering by (generation, revision) apply it.
    for (const e of bus.events) {
      const upsert = before.get(`${e.kind} ${e.id}`)!;
      expect(compareVersions(e, upsert)).toBeGreaterThan(0);
    }
    const state = await readState(stack.nc, cluster);
    expect(state.resources.size).toBe(0);
    expect(state.status?.op).toBe("delete");
    expect(await metricsText(service.status().httpUrl)).not.toContain(cluster);
  });

  it("malformed values are skipped, counted, logged once per key, and never stop the sync", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    const key = `/calico/resources/v3/projectcalico.org/workloadendpoints/${ns}/broken`;
    await writer.put(wep(ns, "fine"));
    await writer.putRaw(key, "{ not json");
    await stack.putConfig(cluster, 1, await materialOf(etcd));
    const { logger, lines } = capturingLogger();
    await using service = await stack.startService({}, { logger });
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "InSync");
    await writer.putRaw(
      key,
      JSON.stringify({ apiVersion: "projectcalico.org/v3", kind: "WorkloadEndpoint", spec: [] }),
    );
    await writer.put(wep(ns, "after"));
    await waitFor(async () =>
      (await readState(stack.nc, cluster)).resources.has(`WorkloadEndpoint ${ns}/node1-k8s-after-eth0`),
    );
    expect(clusterStatus(service, cluster)?.stats?.malformed).toBe(2);
    expect(clusterStatus(service, cluster)?.status?.status).toBe("InSync");
    const logged = lines().filter((l) => l["msg"] === "skipping malformed remote data" && l["ref"] === key);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).not.toContain("not json");
    expect(await metricsText(service.status().httpUrl)).toContain(
      `fedview_connector_malformed_total{cluster="${cluster}",connector="etcdv3"} 2`,
    );
    await stack.configs.delete("etcdv3", cluster);
  });

  it("two replicas: each cluster is served by one; a killed replica's clusters move to the other within seconds", async () => {
    const clusters = [uniqueName("c"), uniqueName("c"), uniqueName("c"), uniqueName("c")];
    for (const c of clusters) await stack.putConfig(c, 1, await materialOf(etcd));
    // Replica A is the service's runtime on its own connection, so the test can cut it off like a crash.
    const ncA = await connectBus({ servers: stack.nats.url, reconnect: { enabled: false } });
    const a = createConnectorRuntime({
      nc: ncA,
      datastoreType: "etcdv3",
      createSource: createEtcdSourceFactory({ requestTimeoutMs: 3000 }),
      sealingSeed: stack.connectorSeed,
      replicaId: uniqueName("a"),
      logger: silent,
      rebalanceIntervalMs: 500,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    try {
      await a.start();
      await using b = await stack.startService();
      const owner = (c: string) =>
        [
          a.status().clusters.some((x) => x.cluster === c && x.owned) ? "a" : "",
          clusterStatus(b, c)?.owned ? "b" : "",
        ].join("");
      await waitFor(
        () =>
          clusters.every((c) => owner(c).length === 1) &&
          clusters.some((c) => owner(c) === "a") &&
          clusters.some((c) => owner(c) === "b"),
        { message: "every cluster served by exactly one replica, both serving", timeout: 15_000 },
      );
      await ncA.close();
      const killedAt = Date.now();
      await waitFor(() => clusters.every((c) => clusterStatus(b, c)?.status?.status === "InSync"), {
        message: "B serving every cluster",
        timeout: 15_000,
      });
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      await waitFor(() => clusters.every((c) => !a.status().clusters.some((x) => x.cluster === c && x.owned)));
    } finally {
      await a[Symbol.asyncDispose]();
      for (const c of clusters) await stack.configs.delete("etcdv3", c);
    }
  });
});
