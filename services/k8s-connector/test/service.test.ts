/**
 * The Kubernetes connector service end to end: connection configs on a real NATS, the shared
 * runtime, and the Kubernetes API test server driven through unchanged client-node.
 */
import { compareVersions } from "@fedview/bus";
import { createManualClock } from "@fedview/sync";
import { type KubeApiServer, startKubeApiServer, uniqueName, waitFor } from "@fedview/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KubernetesConnectionMaterial } from "../src/index.js";
import {
  FEDVIEW_RULES,
  HOST_ENDPOINTS,
  hostEndpoint,
  KUBERNETES_NETWORK_POLICIES,
  kubernetesNetworkPolicy,
  LOCAL_POLICY_RULES,
  namespace,
  pod,
  rulesWithout,
  running,
  serviceAccount,
} from "./fixtures.js";
import { capturingLogger, clusterStatus, metricsText, readState, recordBus, type Stack, startStack } from "./stack.js";

describe("k8s connector service on NATS and the Kubernetes API test server", () => {
  let stack: Stack;
  let server: KubeApiServer;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
  });
  beforeEach(async () => {
    server = await startKubeApiServer();
  });
  afterEach(async () => {
    server.resumeWatches();
    await server[Symbol.asyncDispose]();
  });

  /** Token material of a ServiceAccount with `rules` (default: the ClusterRole calico.md asks for). */
  function fedviewToken(rules = FEDVIEW_RULES): KubernetesConnectionMaterial {
    const user = server.addServiceAccountUser("kube-system", uniqueName("fedview"));
    server.grant(user.name, rules);
    return { server: server.url, caCert: server.ca, token: user.token };
  }

  function seed(ns: string): void {
    server.create("namespaces", namespace(ns, { team: "a" }));
    server.create("serviceaccounts", serviceAccount(ns, "web"));
    server.create("pods", pod(ns, "web-1", { serviceAccount: "web", status: running("10.1.0.1") }));
    server.create("pods", pod(ns, "web-2", { status: { phase: "Pending" } }));
    server.create(HOST_ENDPOINTS, hostEndpoint(`${ns}-gw`, { node: "node-1", interfaceName: "eth0" }));
  }

  const inSync = (service: Parameters<typeof clusterStatus>[0], cluster: string, generation = 1) =>
    waitFor(
      () =>
        clusterStatus(service, cluster)?.status?.status === "InSync" &&
        clusterStatus(service, cluster)?.status?.generation === generation,
      { message: `${cluster} InSync at generation ${generation}` },
    );

  it("serves a kubernetes connection config: converted resources and an InSync status on the bus, live changes after", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    await stack.putConfig(cluster, 1, fedviewToken());
    await using service = await stack.startService();
    await inSync(service, cluster);

    const { resources, status } = await readState(stack.nc, cluster);
    expect([...resources.keys()].filter((k) => k.includes(ns)).sort()).toEqual([
      `HostEndpoint ${ns}-gw`,
      `Profile ${cluster}/kns.${ns}`,
      `Profile ${cluster}/ksa.${ns}.web`,
      `WorkloadEndpoint ${ns}/node--1-k8s-web--1-eth0`,
    ]);
    const wep = resources.get(`WorkloadEndpoint ${ns}/node--1-k8s-web--1-eth0`);
    expect(wep?.op === "upsert" && wep.resource.spec).toMatchObject({
      node: `${cluster}/node-1`,
      profiles: [`${cluster}/kns.${ns}`, `${cluster}/ksa.${ns}.web`],
      ipNetworks: ["10.1.0.1/32"],
    });
    expect(status).toMatchObject({ op: "upsert", status: "InSync", generation: 1, stale: false });

    await using bus = await recordBus(stack.nc, cluster);
    server.update("pods", pod(ns, "web-2", { status: running("10.1.0.2") }));
    await waitFor(() => bus.ops().includes(`upsert WorkloadEndpoint ${ns}/node--1-k8s-web--2-eth0`));
    server.delete("pods", "web-1", ns);
    await waitFor(() => bus.ops().includes(`delete WorkloadEndpoint ${ns}/node--1-k8s-web--1-eth0`));
    expect(bus.ops()).toEqual([
      `upsert WorkloadEndpoint ${ns}/node--1-k8s-web--2-eth0`,
      `delete WorkloadEndpoint ${ns}/node--1-k8s-web--1-eth0`,
    ]);

    const text = await metricsText(service);
    expect(text).toContain(
      `remote_cluster_connection_status{remote_cluster_name="${cluster}",connector="kubernetes"} 2`,
    );
    expect(text).toContain(
      `fedview_connector_relists_total{cluster="${cluster}",reason="initial",connector="kubernetes"} 1`,
    );
    expect(text).toMatch(new RegExp(`fedview_k8s_list_pages_total\\{cluster="${cluster}",resource="pods"\\} [1-9]`));
    await stack.configs.delete("kubernetes", cluster);
  });

  it("serves _local with its Kubernetes NetworkPolicies published as NetworkPolicy <ns>/knp.default.<name>", async () => {
    const ns = uniqueName("ns");
    seed(ns);
    server.create(
      KUBERNETES_NETWORK_POLICIES,
      kubernetesNetworkPolicy(ns, "web-ingress", {
        podSelector: { matchLabels: { app: "web" } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "a" } } }], ports: [{ port: 8080 }] }],
      }),
    );
    await stack.putConfig("_local", 1, fedviewToken([...FEDVIEW_RULES, ...LOCAL_POLICY_RULES]));
    await using service = await stack.startService();
    await inSync(service, "_local");

    const { resources } = await readState(stack.nc, "_local");
    const knp = resources.get(`NetworkPolicy ${ns}/knp.default.web-ingress`);
    expect(knp?.op === "upsert" && knp.resource).toMatchObject({
      kind: "NetworkPolicy",
      metadata: { name: "knp.default.web-ingress", namespace: ns },
      spec: {
        tier: "default",
        order: 1000,
        selector: "projectcalico.org/orchestrator == 'k8s' && app == 'web'",
        types: ["Ingress"],
        ingress: [
          {
            action: "Allow",
            protocol: "TCP",
            source: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "team == 'a'" },
            destination: { ports: [8080] },
          },
        ],
      },
    });

    await using bus = await recordBus(stack.nc, "_local");
    server.delete(KUBERNETES_NETWORK_POLICIES, "web-ingress", ns);
    await waitFor(() => bus.ops().includes(`delete NetworkPolicy ${ns}/knp.default.web-ingress`));
    expect(await metricsText(service)).toMatch(
      /fedview_k8s_list_pages_total\{cluster="_local",resource="networkpolicies\.networking\.k8s\.io"\} 1/,
    );
    await stack.configs.delete("kubernetes", "_local");
  });

  it("a namespace label change republishes only that namespace's profile, which its endpoints inherit", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    await stack.putConfig(cluster, 1, fedviewToken());
    await using service = await stack.startService();
    await inSync(service, cluster);
    await using bus = await recordBus(stack.nc, cluster);
    server.update("namespaces", namespace(ns, { team: "b" }));
    await waitFor(() => bus.events.length > 0);
    expect(bus.ops()).toEqual([`upsert Profile ${cluster}/kns.${ns}`]);
    const event = bus.events[0];
    expect(event?.op === "upsert" && event.resource.spec).toEqual({
      labelsToApply: {
        "pcns.team": "b",
        "pcns.kubernetes.io/metadata.name": ns,
        "pcns.projectcalico.org/name": ns,
      },
    });
    await stack.configs.delete("kubernetes", cluster);
  });

  it("a 410 relist publishes what the lost history held, deletes only after the new listing is complete", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    await stack.putConfig(cluster, 1, fedviewToken());
    await using service = await stack.startService();
    await inSync(service, cluster);
    await using bus = await recordBus(stack.nc, cluster);

    // Changes the watch never sees: held back, then their history compacted and the streams cut.
    server.hangWatches();
    server.delete("pods", "web-1", ns);
    server.create("pods", pod(ns, "web-3", { status: running("10.1.0.3") }));
    server.expireVersions();
    server.dropConnections();
    await waitFor(() => server.watches().length === 4, { message: "watches re-requested while hung" });
    server.resumeWatches();

    await waitFor(() => bus.ops().includes(`delete WorkloadEndpoint ${ns}/node--1-k8s-web--1-eth0`), {
      message: "the vanished pod deleted",
    });
    const ops = bus.ops();
    expect(ops).toEqual([
      `upsert WorkloadEndpoint ${ns}/node--1-k8s-web--3-eth0`,
      `delete WorkloadEndpoint ${ns}/node--1-k8s-web--1-eth0`,
    ]);
    expect(await metricsText(service)).toMatch(
      new RegExp(`fedview_connector_relists_total\\{cluster="${cluster}",reason="expired",connector="kubernetes"\\} 1`),
    );
    await inSync(service, cluster);
    await stack.configs.delete("kubernetes", cluster);
  });

  it("a silent watch is found by the watchdog, and a relist gets the data through while watches stay hung", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    const sourceClock = createManualClock();
    await stack.putConfig(cluster, 1, fedviewToken());
    await using service = await stack.startService({}, { sourceClock });
    await inSync(service, cluster);
    await waitFor(() => server.watches().length === 4, { message: "four watches open" });
    await using bus = await recordBus(stack.nc, cluster);

    server.hangWatches();
    const podListsBefore = server.requests().filter((r) => r.verb === "list" && r.path === "/api/v1/pods").length;
    server.create("pods", pod(ns, "late", { status: running("10.1.0.9") }));
    sourceClock.advance(59_999);
    expect(bus.events).toEqual([]);
    sourceClock.advance(1);
    await waitFor(() => bus.ops().includes(`upsert WorkloadEndpoint ${ns}/node--1-k8s-late-eth0`), {
      message: "the pod published by the relist",
    });
    // Every watch is still hung: the pod came through a new listing.
    expect(server.watches().every((w) => w.sent === 0)).toBe(true);
    expect(server.requests().filter((r) => r.verb === "list" && r.path === "/api/v1/pods").length).toBe(
      podListsBefore + 1,
    );
    const text = await metricsText(service);
    expect(text).toContain(
      `fedview_connector_relists_total{cluster="${cluster}",reason="silent",connector="kubernetes"} 1`,
    );
    expect(text).toMatch(
      new RegExp(`fedview_k8s_watch_restarts_total\\{cluster="${cluster}",resource="\\w+",reason="silent"\\} 1`),
    );
    expect(bus.events.filter((e) => e.op === "delete")).toEqual([]);
    await stack.configs.delete("kubernetes", cluster);
  });

  it("rotating to new credentials swaps without a gap: no deletes, generation 2, watches on the new credentials", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    const first = fedviewToken();
    await stack.putConfig(cluster, 1, first);
    await using service = await stack.startService();
    await inSync(service, cluster);
    const count = (await readState(stack.nc, cluster)).resources.size;
    await using bus = await recordBus(stack.nc, cluster);

    const second = server.addServiceAccountUser("kube-system", uniqueName("rotated"));
    server.grant(second.name, FEDVIEW_RULES);
    await stack.putConfig(cluster, 2, { server: server.url, caCert: server.ca, token: second.token });
    await inSync(service, cluster, 2);
    server.revokeToken(first.token ?? "");
    await waitFor(() => server.watches().length === 4 && server.watches().every((w) => w.user === second.name), {
      message: "only the new credentials' watches open",
    });
    server.create("pods", pod(ns, "after", { status: running("10.1.0.8") }));
    await waitFor(() => bus.ops().includes(`upsert WorkloadEndpoint ${ns}/node--1-k8s-after-eth0`));
    expect(bus.events.filter((e) => e.op === "delete")).toEqual([]);
    expect(bus.events.find((e) => e.id.includes("after"))?.generation).toBe(2);
    expect(bus.statuses.map((s) => (s.op === "upsert" ? s.status : "removed"))).not.toContain("ConnectionFailed");
    expect((await readState(stack.nc, cluster)).resources.size).toBe(count + 1);
    await stack.configs.delete("kubernetes", cluster);
  }, 120_000);

  it.each([
    [
      "a kubeconfig with a client certificate",
      async (s: KubeApiServer): Promise<KubernetesConnectionMaterial> => {
        await s.issueClientCertificate("fedview-cert", ["system:masters"]);
        return { kubeconfig: s.kubeconfig({ user: "fedview-cert", auth: "certificate" }) };
      },
    ],
    [
      "a kubeconfig whose wrong token the k8sAPIToken field overrides",
      async (s: KubeApiServer): Promise<KubernetesConnectionMaterial> => ({
        kubeconfig: s.kubeconfig({ token: "stale-token" }),
        token: s.adminToken,
      }),
    ],
  ])("authenticates with %s from the sealed secrets", async (_name, materialOf) => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    await stack.putConfig(cluster, 1, await materialOf(server));
    await using service = await stack.startService();
    await inSync(service, cluster);
    expect((await readState(stack.nc, cluster)).resources.has(`Profile ${cluster}/kns.${ns}`)).toBe(true);
    await stack.configs.delete("kubernetes", cluster);
  });

  it("a 403 reaches the cluster's status naming the missing permission", async () => {
    const cluster = uniqueName("c");
    await stack.putConfig(cluster, 1, fedviewToken(rulesWithout("", "serviceaccounts")));
    await using service = await stack.startService();
    const expected = `RBAC: the remote cluster's credentials cannot list serviceaccounts (API group "") at the cluster scope — add get/list/watch on "serviceaccounts" to the ClusterRole bound to fedview's ServiceAccount`;
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "ConnectionFailed");
    expect(clusterStatus(service, cluster)?.status?.error).toBe(expected);
    await waitFor(async () => {
      const { status } = await readState(stack.nc, cluster);
      return status?.op === "upsert" && status.status === "ConnectionFailed" && status.error === expected;
    });
    await stack.configs.delete("kubernetes", cluster);
  });

  it("losing the cluster keeps its data, marked stale, with the reason in the status", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    const material = fedviewToken();
    await stack.putConfig(cluster, 1, material);
    await using service = await stack.startService();
    await inSync(service, cluster);
    const before = (await readState(stack.nc, cluster)).resources.size;
    server.revokeToken(material.token ?? "");
    server.dropConnections();
    await waitFor(() => clusterStatus(service, cluster)?.status?.status === "ConnectionFailed");
    const status = clusterStatus(service, cluster)?.status;
    expect(status).toMatchObject({
      stale: true,
      error: `kubernetes ${server.url}: authentication failed: the API server rejected the credentials (401 Unauthorized)`,
    });
    const state = await readState(stack.nc, cluster);
    expect(state.resources.size).toBe(before);
    await stack.configs.delete("kubernetes", cluster);
  });

  it("deleting the config retracts every resource, then the status, and the cluster's metric series go", async () => {
    const cluster = uniqueName("c");
    seed(uniqueName("ns"));
    await stack.putConfig(cluster, 1, fedviewToken());
    await using service = await stack.startService();
    await inSync(service, cluster);
    const before = (await readState(stack.nc, cluster)).resources;
    expect(before.size).toBeGreaterThan(0);
    await using bus = await recordBus(stack.nc, cluster);
    await stack.configs.delete("kubernetes", cluster);
    await waitFor(() => bus.statuses.some((s) => s.op === "delete"), { message: "status removed" });
    expect(bus.events).toHaveLength(before.size);
    for (const e of bus.events) {
      expect(e.op).toBe("delete");
      expect(compareVersions(e, before.get(`${e.kind} ${e.id}`)!)).toBeGreaterThan(0);
    }
    expect((await readState(stack.nc, cluster)).resources.size).toBe(0);
    // Series go right after the status tombstone is acknowledged, which may be after it is seen here.
    await waitFor(async () => !(await metricsText(service)).includes(cluster), { message: "metric series removed" });
  });

  it("malformed objects are skipped, counted and logged once, and never stop the sync", async () => {
    const cluster = uniqueName("c");
    const ns = uniqueName("ns");
    seed(ns);
    server.create(HOST_ENDPOINTS, hostEndpoint(`${ns}-bad`, { ports: "eighty" }));
    await stack.putConfig(cluster, 1, fedviewToken());
    const { logger, lines } = capturingLogger();
    await using service = await stack.startService({}, { logger });
    await inSync(service, cluster);
    server.update(HOST_ENDPOINTS, hostEndpoint(`${ns}-bad`, { ports: "still not a list" }));
    server.create("pods", pod(ns, "after", { status: running("10.1.0.7") }));
    await waitFor(async () =>
      (await readState(stack.nc, cluster)).resources.has(`WorkloadEndpoint ${ns}/node--1-k8s-after-eth0`),
    );
    expect((await readState(stack.nc, cluster)).resources.has(`HostEndpoint ${ns}-bad`)).toBe(false);
    expect(clusterStatus(service, cluster)?.stats?.malformed).toBe(2);
    expect(clusterStatus(service, cluster)?.status?.status).toBe("InSync");
    const logged = lines().filter(
      (l) =>
        l["msg"] === "skipping malformed remote data" && l["ref"] === `hostendpoints.crd.projectcalico.org ${ns}-bad`,
    );
    expect(logged).toHaveLength(1);
    expect(await metricsText(service)).toContain(
      `fedview_connector_malformed_total{cluster="${cluster}",connector="kubernetes"} 2`,
    );
    await stack.configs.delete("kubernetes", cluster);
  });

  it("two replicas share the clusters; one stopping hands its clusters to the other without deletes", async () => {
    const clusters = [uniqueName("c"), uniqueName("c")];
    seed(uniqueName("ns"));
    for (const c of clusters) await stack.putConfig(c, 1, fedviewToken());
    const a = await stack.startService();
    await using b = await stack.startService();
    const owners = (c: string) => [clusterStatus(a, c)?.owned, clusterStatus(b, c)?.owned].filter(Boolean).length;
    await waitFor(
      () =>
        clusters.every((c) => owners(c) === 1) &&
        clusters.some((c) => clusterStatus(a, c)?.owned) &&
        clusters.some((c) => clusterStatus(b, c)?.owned),
      { message: "each cluster served by exactly one replica, both serving", timeout: 15_000 },
    );
    await using bus = await recordBus(stack.nc, clusters[0]!);
    await using bus2 = await recordBus(stack.nc, clusters[1]!);
    await a[Symbol.asyncDispose]();
    await waitFor(() => clusters.every((c) => clusterStatus(b, c)?.status?.status === "InSync"), {
      message: "the other replica serves both",
      timeout: 15_000,
    });
    expect([...bus.events, ...bus2.events].filter((e) => e.op === "delete")).toEqual([]);
    for (const c of clusters) await stack.configs.delete("kubernetes", c);
  });
});
