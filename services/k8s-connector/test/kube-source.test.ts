/**
 * The Kubernetes `ClusterSource` through the unchanged client-node library: conformance tests run
 * against testkit's Kubernetes API test server and, where a Docker engine answers, against K3s; the
 * fault tests (410, hung watches, server-side ends, injected failures) need the test server's
 * fault injection.
 */

import type { SourceChange, SourceResource, SourceSnapshot } from "@fedview/sync";
import { dockerAvailable, uniqueName } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubernetesSource, KubeRbacError, type KubernetesConnectionMaterial } from "../src/index.js";
import { startTestServerCluster, type TestCluster } from "./clusters.js";
import {
  collect,
  FEDVIEW_RULES,
  HOST_ENDPOINTS,
  hostEndpoint,
  logger,
  namespace,
  pod,
  resourceOf,
  rulesWithout,
  running,
  serviceAccount,
} from "./fixtures.js";
import { startK3sCluster } from "./k3s-cluster.js";

const CLUSTER = "east";

function find(snapshot: SourceSnapshot, kind: string, id: string): SourceResource | undefined {
  return snapshot.resources.find((r) => r.kind === kind && r.id === id);
}

/** `<cluster>/` prefixed profile and node names, as calico.md §3 asks. */
const remote = (name: string) => `${CLUSTER}/${name}`;

/** Tests every Kubernetes API server must pass. */
function conformance(start: () => Promise<TestCluster>): void {
  let cluster: TestCluster;
  let material: KubernetesConnectionMaterial;
  const signal = () => AbortSignal.timeout(30_000);

  beforeAll(async () => {
    cluster = await start();
    material = await cluster.tokenMaterial(FEDVIEW_RULES);
  });
  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
  });

  it("lists pods, namespaces, service accounts and host endpoints at one revision with the exact converted output", async () => {
    const ns = uniqueName("ns");
    const hep = uniqueName("hep");
    await cluster.create("namespaces", namespace(ns, { team: "a" }));
    await cluster.create("serviceaccounts", serviceAccount(ns, "web", { tier: "front" }));
    await cluster.create(
      "pods",
      pod(ns, "web-1", {
        serviceAccount: "web",
        labels: { app: "web", "pcns.fake": "dropped" },
        status: running("10.1.0.5", "fd00::5"),
        ports: [{ name: "http", containerPort: 8080 }, { containerPort: 9000 }],
      }),
    );
    await cluster.create(
      HOST_ENDPOINTS,
      hostEndpoint(
        hep,
        { node: "node-1", interfaceName: "eth0", expectedIPs: ["192.168.1.1"], profiles: ["kns.other"] },
        { role: "gw" },
      ),
    );
    await using source = createKubernetesSource({ cluster: CLUSTER, material, logger });
    await source.check(signal());
    const snapshot = await source.list(signal());
    expect(snapshot.revision).toMatch(/^\d+$/);
    expect(snapshot.malformed).toEqual([]);
    const meta = (r: SourceResource | undefined) => {
      const m = resourceOf<{ metadata: Record<string, unknown> }>(r).metadata;
      expect(m["resourceVersion"]).toBe(r?.revision);
      expect(BigInt(r?.revision ?? "0")).toBeLessThanOrEqual(BigInt(snapshot.revision));
      return { uid: m["uid"], resourceVersion: m["resourceVersion"], creationTimestamp: m["creationTimestamp"] };
    };

    const nsProfile = find(snapshot, "Profile", remote(`kns.${ns}`));
    expect(nsProfile?.resource).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "Profile",
      metadata: { name: remote(`kns.${ns}`), ...meta(nsProfile) },
      spec: {
        labelsToApply: {
          "pcns.team": "a",
          "pcns.kubernetes.io/metadata.name": ns,
          "pcns.projectcalico.org/name": ns,
        },
      },
    });
    const saProfile = find(snapshot, "Profile", remote(`ksa.${ns}.web`));
    expect(saProfile?.resource).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "Profile",
      metadata: { name: remote(`ksa.${ns}.web`), ...meta(saProfile) },
      spec: { labelsToApply: { "pcsa.tier": "front", "pcsa.projectcalico.org/name": "web" } },
    });
    const wep = find(snapshot, "WorkloadEndpoint", `${ns}/node--1-k8s-web--1-eth0`);
    expect(wep?.resource).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "WorkloadEndpoint",
      metadata: {
        name: "node--1-k8s-web--1-eth0",
        namespace: ns,
        labels: {
          app: "web",
          "projectcalico.org/namespace": ns,
          "projectcalico.org/orchestrator": "k8s",
          "projectcalico.org/serviceaccount": "web",
        },
        ...meta(wep),
      },
      spec: {
        orchestrator: "k8s",
        node: remote("node-1"),
        pod: "web-1",
        endpoint: "eth0",
        ipNetworks: ["10.1.0.5/32", "fd00::5/128"],
        profiles: [remote(`kns.${ns}`), remote(`ksa.${ns}.web`)],
        serviceAccountName: "web",
        ports: [{ name: "http", protocol: "TCP", port: 8080 }],
      },
    });
    const hostEp = find(snapshot, "HostEndpoint", hep);
    expect(hostEp?.resource).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "HostEndpoint",
      metadata: { name: hep, labels: { role: "gw" }, generation: 1, ...meta(hostEp) },
      spec: {
        node: remote("node-1"),
        interfaceName: "eth0",
        expectedIPs: ["192.168.1.1"],
        profiles: [remote("kns.other")],
      },
    });
  });

  describe("pod phases and IP sources", () => {
    let ns: string;
    beforeAll(async () => {
      ns = uniqueName("ips");
      await cluster.create("namespaces", namespace(ns));
    });

    it.each([
      ["status.podIPs, dual stack", { status: running("10.2.0.1", "fd00::1") }, ["10.2.0.1/32", "fd00::1/128"]],
      ["status.podIP alone", { status: { phase: "Running", podIP: "10.2.0.2" } }, ["10.2.0.2/32"]],
      [
        "the cni.projectcalico.org/podIPs annotation",
        { annotations: { "cni.projectcalico.org/podIPs": "10.2.0.3/32,fd00::3/128" }, status: { phase: "Pending" } },
        ["10.2.0.3/32", "fd00::3/128"],
      ],
      [
        "the cni.projectcalico.org/podIP annotation",
        { annotations: { "cni.projectcalico.org/podIP": "10.2.0.4/32" }, status: { phase: "Pending" } },
        ["10.2.0.4/32"],
      ],
      [
        "status before the annotations",
        { annotations: { "cni.projectcalico.org/podIPs": "10.9.9.9/32" }, status: running("10.2.0.5") },
        ["10.2.0.5/32"],
      ],
      ["Succeeded: no IPs, no endpoint", { status: { ...running("10.2.0.6"), phase: "Succeeded" } }, null],
      ["Failed: no IPs, no endpoint", { status: { ...running("10.2.0.7"), phase: "Failed" } }, null],
      ["Pending without any IP: no endpoint", { status: { phase: "Pending" } }, null],
      ["host network: no endpoint", { hostNetwork: true, status: running("192.168.7.7") }, null],
    ] as const)("%s", async (_name, options, expected) => {
      const name = uniqueName("p");
      await cluster.create("pods", pod(ns, name, options));
      await using source = createKubernetesSource({ cluster: CLUSTER, material, kinds: ["WorkloadEndpoint"], logger });
      const snapshot = await source.list(signal());
      const wep = find(snapshot, "WorkloadEndpoint", `${ns}/node--1-k8s-${name}-eth0`);
      if (expected === null) expect(wep).toBeUndefined();
      else expect(resourceOf<{ spec: { ipNetworks: string[] } }>(wep).spec.ipNetworks).toEqual(expected);
      expect(snapshot.malformed).toEqual([]);
    });

    it("an unscheduled pod has no endpoint until it is bound to a node", async () => {
      const name = uniqueName("p");
      await cluster.create("pods", pod(ns, name, { node: "", status: { phase: "Pending" } }));
      await using source = createKubernetesSource({ cluster: CLUSTER, material, kinds: ["WorkloadEndpoint"], logger });
      const snapshot = await source.list(signal());
      expect(snapshot.resources.filter((r) => r.id.startsWith(`${ns}/`) && r.id.includes(name))).toEqual([]);
    });
  });

  it("a namespace or service account label change republishes only its profile, which every endpoint inherits", async () => {
    const ns = uniqueName("lbl");
    await cluster.create("namespaces", namespace(ns, { team: "a" }));
    await cluster.create("serviceaccounts", serviceAccount(ns, "api"));
    await cluster.create("pods", pod(ns, "api-1", { serviceAccount: "api", status: running("10.3.0.1") }));
    await using source = createKubernetesSource({ cluster: CLUSTER, material, logger });
    const snapshot = await source.list(signal());
    const wep = find(snapshot, "WorkloadEndpoint", `${ns}/node--1-k8s-api--1-eth0`);
    expect(resourceOf<{ spec: { profiles: string[] } }>(wep).spec.profiles).toEqual([
      remote(`kns.${ns}`),
      remote(`ksa.${ns}.api`),
    ]);

    const stop = new AbortController();
    const changes = collect(source.watch(snapshot.revision, stop.signal), (all) =>
      all.some((c) => c.type === "upsert" && c.resource.id === remote(`ksa.${ns}.api`)),
    );
    await cluster.update("namespaces", namespace(ns, { team: "b", env: "prod" }));
    await cluster.update("serviceaccounts", serviceAccount(ns, "api", { tier: "back" }));
    const mine = (await changes).filter((c) => c.type !== "progress" && JSON.stringify(c).includes(ns));
    stop.abort();
    expect(mine.map((c) => (c.type === "upsert" ? [c.resource.kind, c.resource.id] : c.type))).toEqual([
      ["Profile", remote(`kns.${ns}`)],
      ["Profile", remote(`ksa.${ns}.api`)],
    ]);
    const labels = (c: SourceChange | undefined) =>
      c?.type === "upsert"
        ? (c.resource.resource as { spec: { labelsToApply: unknown } }).spec.labelsToApply
        : undefined;
    expect(labels(mine[0])).toEqual({
      "pcns.team": "b",
      "pcns.env": "prod",
      "pcns.kubernetes.io/metadata.name": ns,
      "pcns.projectcalico.org/name": ns,
    });
    expect(labels(mine[1])).toEqual({ "pcsa.tier": "back", "pcsa.projectcalico.org/name": "api" });
  });

  it("a pod's life reaches the watch: no IP yet, running, finished, deleted", async () => {
    const ns = uniqueName("life");
    await cluster.create("namespaces", namespace(ns));
    await using source = createKubernetesSource({ cluster: CLUSTER, material, kinds: ["WorkloadEndpoint"], logger });
    const snapshot = await source.list(signal());
    const id = `${ns}/node--1-k8s-w-eth0`;
    const stop = new AbortController();
    const about = (c: SourceChange) => (c.type === "upsert" ? c.resource.id : c.type === "delete" ? c.id : undefined);
    const changes = collect(source.watch(snapshot.revision, stop.signal), (all) => {
      const mine = all.filter((c) => about(c) === id);
      const upsert = mine.findIndex((c) => c.type === "upsert");
      // Running, then finished, then deleted: two deletes after the upsert.
      return upsert >= 0 && mine.slice(upsert).filter((c) => c.type === "delete").length >= 2;
    });
    await cluster.create("pods", pod(ns, "w", { status: { phase: "Pending" } }));
    await cluster.update("pods", pod(ns, "w", { status: running("10.4.0.1") }));
    await cluster.update("pods", pod(ns, "w", { status: { ...running("10.4.0.1"), phase: "Succeeded" } }));
    await cluster.remove("pods", "w", ns);
    const seen = (await changes).filter((c) => c.type !== "progress");
    stop.abort();
    const ops = seen.map((c) =>
      c.type === "upsert" ? `upsert ${c.resource.id}` : c.type === "delete" ? `delete ${c.id}` : c.type,
    );
    // A real API server may write a new pod's status once more before the kubelet-like update: the
    // same state twice gives the same change twice, which ClusterSync drops as a replay.
    const transitions = ops.filter((op, i) => i === 0 || op !== ops[i - 1] || i === ops.length - 1);
    expect(transitions).toEqual([`delete ${id}`, `upsert ${id}`, `delete ${id}`, `delete ${id}`]);
    const revisions = seen.map((c) =>
      BigInt(c.type === "upsert" ? c.resource.revision : c.type === "delete" ? c.revision : "0"),
    );
    expect([...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(revisions);
  });

  it.each([
    ["a ServiceAccount bearer token", (c: TestCluster) => c.tokenMaterial(FEDVIEW_RULES)],
    ["a client certificate", (c: TestCluster) => c.certificateMaterial()],
  ])("authenticates with %s from the connection fields", async (_name, materialOf) => {
    const ns = uniqueName("auth");
    await cluster.create("namespaces", namespace(ns));
    await using source = createKubernetesSource({ cluster: CLUSTER, material: await materialOf(cluster), logger });
    await source.check(signal());
    const snapshot = await source.list(signal());
    expect(find(snapshot, "Profile", remote(`kns.${ns}`))).toBeDefined();
  });

  it("a 403 names the missing permission and the ClusterRole rule to add", async () => {
    const limited = await cluster.tokenMaterial(rulesWithout("crd.projectcalico.org", "hostendpoints"));
    await using source = createKubernetesSource({ cluster: CLUSTER, material: limited, logger });
    await source.check(signal());
    const error = await source.list(signal()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(KubeRbacError);
    expect((error as Error).message).toBe(
      `RBAC: the remote cluster's credentials cannot list hostendpoints (API group "crd.projectcalico.org") at the cluster scope — add get/list/watch on "hostendpoints" in API group "crd.projectcalico.org" to the ClusterRole bound to fedview's ServiceAccount`,
    );
  });
}

describe("on the Kubernetes API test server", () => {
  conformance(() => startTestServerCluster());
});

describe.skipIf(!(await dockerAvailable()))("on K3s", () => {
  conformance(startK3sCluster);
});
