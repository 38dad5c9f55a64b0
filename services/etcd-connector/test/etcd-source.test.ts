import { encodeEtcdResource, LOCAL_CLUSTER, resourceId, resourceRef, toFederated } from "@fedview/model";
import type { ClusterSource, SourceChange, SourceSnapshot } from "@fedview/sync";
import { ResyncRequiredError } from "@fedview/sync";
import { createCertificateAuthority, type EtcdServer, startEtcd, uniqueName, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdSource, EtcdConfigError, etcdMaterialFromConnection, federatedId } from "../src/index.js";
import {
  CalicoWriter,
  globalNetworkPolicy,
  hep,
  ipPool,
  materialOf,
  networkPolicy,
  node,
  profile,
  wep,
} from "./fixtures.js";

/** The parts of a converted resource these tests look at. */
interface Converted {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & { node?: string; profiles?: string[]; ipNetworks?: string[] };
}

/** Collects watch batches in the background until stopped; `error` is what ended the watch. */
function collect(source: ClusterSource, after: string) {
  const abort = new AbortController();
  const changes: SourceChange[] = [];
  const state: { error?: unknown; ended: boolean } = { ended: false };
  const done = (async () => {
    try {
      for await (const batch of source.watch(after, abort.signal)) changes.push(...batch);
    } catch (err) {
      state.error = err;
    } finally {
      state.ended = true;
    }
  })();
  return {
    changes,
    state,
    real: () => changes.filter((c) => c.type !== "progress"),
    async stop() {
      abort.abort();
      await done;
    },
  };
}

const byId = (s: SourceSnapshot, token: string) =>
  Object.fromEntries(
    s.resources.filter((r) => r.id.includes(token)).map((r) => [`${r.kind} ${r.id}`, r.resource as Converted]),
  );

describe("etcd source on a plain etcd", () => {
  let etcd: EtcdServer;
  let writer: CalicoWriter;

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = await CalicoWriter.connect(etcd);
  });
  afterAll(async () => {
    writer?.close();
    await etcd?.[Symbol.asyncDispose]();
  });

  it("lists endpoints and profiles at one revision, converted and prefixed for a remote cluster", async () => {
    const ns = uniqueName("ns");
    const cluster = uniqueName("c");
    await writer.put(wep(ns, "pod-1", { ip: "10.0.0.1" }));
    await writer.put(wep(ns, "pod-2", { ip: null }));
    await writer.put(hep(`${ns}-hep`));
    await writer.put(profile(`kns.${ns}`));
    await writer.put(networkPolicy(ns, "never-pulled-from-remotes"));
    await writer.put(node(`${ns}-node`));
    const head = await writer.revision();
    await using source = createEtcdSource({ cluster, material: await materialOf(etcd), pageSize: 2 });
    await source.check(AbortSignal.timeout(10_000));
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    expect(BigInt(snapshot.revision)).toBeGreaterThanOrEqual(BigInt(head));
    expect(snapshot.origin).toMatch(/^\d+$/);
    const got = byId(snapshot, ns);
    // The WorkloadEndpoint without ipNetworks is dropped, the policy and the node are not pulled.
    expect(Object.keys(got).sort()).toEqual([
      `HostEndpoint ${ns}-hep`,
      `Profile ${cluster}/kns.${ns}`,
      `WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`,
    ]);
    const endpoint = got[`WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`]!;
    expect(endpoint.spec.node).toBe(`${cluster}/node1`);
    expect(endpoint.spec.profiles).toEqual([`${cluster}/kns.${ns}`]);
    expect(got[`HostEndpoint ${ns}-hep`]!.spec).toMatchObject({
      node: `${cluster}/node1`,
      profiles: [`${cluster}/host-profile`],
    });
    // Profiles keep only their labels.
    expect(got[`Profile ${cluster}/kns.${ns}`]!.spec).toEqual({ labelsToApply: { team: "a" } });
    for (const r of snapshot.resources) expect(BigInt(r.revision)).toBeLessThanOrEqual(BigInt(snapshot.revision));
  });

  it("pages through more keys than one range returns, at the first page's revision", async () => {
    const ns = uniqueName("ns");
    for (let i = 0; i < 7; i++) await writer.put(wep(ns, `pod-${i}`, { ip: `10.0.1.${i}` }));
    await using source = createEtcdSource({ cluster: uniqueName("c"), material: await materialOf(etcd), pageSize: 3 });
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    expect(Object.keys(byId(snapshot, ns))).toHaveLength(7);
    expect(new Set(snapshot.resources.map((r) => `${r.kind} ${r.id}`)).size).toBe(snapshot.resources.length);
  });

  it("serves the local cluster without prefixes and with its policies; overlay routing adds nodes and pools", async () => {
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "pod-1"));
    await writer.put(profile(`kns.${ns}`));
    await writer.put(networkPolicy(ns, `${ns}-np`));
    await writer.put(globalNetworkPolicy(`${ns}-gnp`));
    await writer.put(node(`${ns}-node`));
    await writer.put(ipPool(`${ns}-pool`));
    await using local = createEtcdSource({ cluster: LOCAL_CLUSTER, material: await materialOf(etcd) });
    const snap = await local.list(AbortSignal.timeout(10_000));
    expect(Object.keys(byId(snap, ns)).sort()).toEqual([
      `GlobalNetworkPolicy default.${ns}-gnp`,
      `NetworkPolicy ${ns}/default.${ns}-np`,
      `Profile kns.${ns}`,
      `WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`,
    ]);
    expect(byId(snap, ns)[`WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`]!.spec.node).toBe("node1");
    const cluster = uniqueName("c");
    await using overlay = createEtcdSource({ cluster, material: await materialOf(etcd), overlayRouting: true });
    const snap2 = await overlay.list(AbortSignal.timeout(10_000));
    expect(Object.keys(byId(snap2, ns)).sort()).toEqual([
      `IPPool ${cluster}/${ns}-pool`,
      `Node ${cluster}/${ns}-node`,
      `Profile ${cluster}/kns.${ns}`,
      `WorkloadEndpoint ${ns}/node1-k8s-pod--1-eth0`,
    ]);
  });

  it("skips malformed values with a reason, without quoting them, and keeps the rest", async () => {
    const ns = uniqueName("ns");
    const cluster = uniqueName("c");
    await writer.put(wep(ns, "good"));
    const prefix = "/calico/resources/v3/projectcalico.org/";
    await writer.putRaw(`${prefix}workloadendpoints/${ns}/bad-json`, '{"apiVersion": "projectcalico.org/v3", secret');
    await writer.putRaw(
      `${prefix}profiles/${ns}-wrong-shape`,
      JSON.stringify({ apiVersion: "x", kind: "Profile", spec: 7 }),
    );
    await writer.putRaw(`${prefix}hostendpoints/${ns}/too/deep`, "{}");
    await using source = createEtcdSource({ cluster, material: await materialOf(etcd) });
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    expect(Object.keys(byId(snapshot, ns))).toEqual([`WorkloadEndpoint ${ns}/node1-k8s-good-eth0`]);
    const bad = snapshot.malformed.filter((m) => m.ref.includes(ns));
    // In listing order: kind by kind (endpoints, host endpoints, profiles), keys sorted.
    expect(bad.map((m) => [m.ref.slice(prefix.length), m.kind, m.id])).toEqual([
      [`workloadendpoints/${ns}/bad-json`, "WorkloadEndpoint", `${ns}/bad-json`],
      [`hostendpoints/${ns}/too/deep`, undefined, undefined],
      [`profiles/${ns}-wrong-shape`, "Profile", `${cluster}/${ns}-wrong-shape`],
    ]);
    for (const m of bad) {
      expect(m.reason).not.toContain("secret");
      expect(m.reason.length).toBeGreaterThan(0);
    }
  });

  it("watches creates, updates and deletes from the listing revision, converted like the listing", async () => {
    const ns = uniqueName("ns");
    const cluster = uniqueName("c");
    await using source = createEtcdSource({ cluster, material: await materialOf(etcd) });
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    // Written after the listing, before the watch starts: must still be delivered.
    const r1 = await writer.put(wep(ns, "pod-1", { ip: "10.0.0.1" }));
    const w = collect(source, snapshot.revision);
    try {
      const r2 = await writer.put(wep(ns, "pod-1", { ip: "10.0.0.2" }));
      const r3 = await writer.put(profile(`kns.${ns}`, { team: "b" }));
      const r4 = await writer.put(wep(ns, "pod-1", { ip: null }));
      const r5 = await writer.delete(profile(`kns.${ns}`));
      await writer.putRaw(`/calico/resources/v3/projectcalico.org/profiles/${ns}-broken`, "not json");
      await waitFor(() => w.real().filter((c) => JSON.stringify(c).includes(ns)).length >= 6);
      // One watch per kind prefix: order holds within a kind, so compare in revision order.
      const revisionOf = (c: SourceChange) =>
        Number(
          c.type === "upsert"
            ? c.resource.revision
            : c.type === "delete"
              ? c.revision
              : c.type === "malformed"
                ? c.entry.revision
                : c.revision,
        );
      const mine = w
        .real()
        .filter((c) => JSON.stringify(c).includes(ns))
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      const id = `${ns}/node1-k8s-pod--1-eth0`;
      expect(
        mine.map((c) =>
          c.type === "upsert"
            ? ["upsert", c.resource.id, c.resource.revision]
            : c.type === "delete"
              ? ["delete", c.id, c.revision]
              : ["malformed", c.entry.id],
        ),
      ).toEqual([
        ["upsert", id, r1],
        ["upsert", id, r2],
        ["upsert", `${cluster}/kns.${ns}`, r3],
        // Losing its ipNetworks makes the endpoint invisible: a delete for the merged view.
        ["delete", id, r4],
        ["delete", `${cluster}/kns.${ns}`, r5],
        ["malformed", `${cluster}/${ns}-broken`],
      ]);
      const update = mine[1];
      expect(update?.type === "upsert" && (update.resource.resource as Converted).spec.ipNetworks).toEqual([
        "10.0.0.2/32",
      ]);
    } finally {
      await w.stop();
    }
    expect(w.state.error).toBeUndefined();
  });

  it("a watch from a compacted revision ends with ResyncRequiredError('compacted')", async () => {
    await using source = createEtcdSource({ cluster: uniqueName("c"), material: await materialOf(etcd) });
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    await writer.put(profile(uniqueName("p")));
    const head = await writer.put(profile(uniqueName("p")));
    await etcd.etcdctl("compaction", head);
    const w = collect(source, snapshot.revision);
    await waitFor(() => w.state.ended, { message: "the watch to end" });
    expect(w.state.error).toBeInstanceOf(ResyncRequiredError);
    expect((w.state.error as ResyncRequiredError).reason).toBe("compacted");
  });

  it("yields the events of one etcd watch response, and all that queued while the consumer was busy, as one batch", async () => {
    const ns = uniqueName("ns");
    await using source = createEtcdSource({ cluster: uniqueName("c"), material: await materialOf(etcd) });
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    const abort = new AbortController();
    const batches = source.watch(snapshot.revision, abort.signal)[Symbol.asyncIterator]();
    const mine = (batch: SourceChange[]) =>
      batch.filter((c) => c.type === "upsert" && c.resource.id.startsWith(`${ns}/`)).length;
    /** Pulls batches until one holds some of this test's changes. */
    const nextOfMine = async () => {
      for (;;) {
        const next = await batches.next();
        if (next.done) throw new Error("the watch ended");
        if (mine(next.value) > 0) return next.value;
      }
    };
    // An observer on its own stream says when etcd has sent the events out.
    const seen = new Set<string>();
    const observer = await writer.client
      .watch()
      .prefix(`/calico/resources/v3/projectcalico.org/workloadendpoints/${ns}/`)
      .create();
    observer.on("put", (kv) => seen.add(kv.key.toString()));
    try {
      // One transaction: one revision, one watch response holding three events.
      const [a, b, c] = ["pod-a", "pod-b", "pod-c"].map((pod) => encodeEtcdResource(wep(ns, pod)));
      await writer.client
        .if(a!.key, "Version", "==", 0)
        .then(...[a!, b!, c!].map((r) => writer.client.put(r.key).value(r.value)))
        .commit();
      expect(mine(await nextOfMine())).toBe(3);
      // Five separate writes (five responses) while nobody pulls: one batch when the consumer comes back.
      for (let i = 0; i < 5; i++) await writer.put(wep(ns, `busy-${i}`));
      await waitFor(() => seen.size === 8, { message: "etcd to send the five writes" });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(mine(await nextOfMine())).toBe(5);
    } finally {
      await observer.cancel();
      abort.abort();
      await batches.return?.();
    }
  });

  it("maps every kind's key to the same merged-view id as the model's conversion", () => {
    const cluster = "remote-a";
    for (const [resource, c] of [
      [wep("ns", "p"), cluster],
      [hep("h"), cluster],
      [profile("kns.ns"), cluster],
      [node("n"), cluster],
      [ipPool("pool"), cluster],
      [profile("kns.ns"), LOCAL_CLUSTER],
      [networkPolicy("ns", "np"), LOCAL_CLUSTER],
      [globalNetworkPolicy("gnp"), LOCAL_CLUSTER],
    ] as const) {
      const federated = toFederated(c, resource);
      expect(federated).not.toBeNull();
      const { name, namespace } = resource.metadata;
      expect(federatedId(c, { kind: resource.kind as never, name, ...(namespace ? { namespace } : {}) })).toBe(
        resourceId(resourceRef(federated!)),
      );
    }
  });
});

describe("etcd source failures", () => {
  it("a killed etcd ends the watch with ResyncRequiredError('disconnected'); check then fails clearly", async () => {
    await using etcd = await startEtcd();
    await using source = createEtcdSource({
      cluster: uniqueName("c"),
      material: await materialOf(etcd),
      requestTimeoutMs: 2000,
    });
    const snapshot = await source.list(AbortSignal.timeout(10_000));
    const w = collect(source, snapshot.revision);
    await waitFor(async () => {
      // The watch is up once a change shows through it.
      const writer = await CalicoWriter.connect(etcd);
      await writer.put(profile(uniqueName("p")));
      writer.close();
      return w.real().length > 0;
    });
    await etcd.kill();
    await waitFor(() => w.state.ended, { message: "the watch to end" });
    expect(w.state.error).toBeInstanceOf(ResyncRequiredError);
    expect((w.state.error as ResyncRequiredError).reason).toBe("disconnected");
    await expect(source.check(AbortSignal.timeout(10_000))).rejects.toThrow(
      new RegExp(`^etcd ${etcd.url.replace(/[.:/]/g, "\\$&")}: (UNAVAILABLE|DEADLINE_EXCEEDED)`),
    );
  });

  it("mTLS with the right material works; without a client certificate the error says so", async () => {
    await using etcd = await startEtcd({ tls: true });
    const writer = await CalicoWriter.connect(etcd);
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "pod-1"));
    writer.close();
    await using good = createEtcdSource({ cluster: uniqueName("c"), material: await materialOf(etcd) });
    expect(Object.keys(byId(await good.list(AbortSignal.timeout(10_000)), ns))).toHaveLength(1);
    const { cert: _c, key: _k, ...noClientCert } = await materialOf(etcd);
    await using bad = createEtcdSource({ cluster: uniqueName("c"), material: noClientCert, requestTimeoutMs: 3000 });
    await expect(bad.check(AbortSignal.timeout(10_000))).rejects.toThrow(
      /: UNAVAILABLE: TLS handshake failed: the server rejected the client certificate/,
    );
    await using wrongCa = createEtcdSource({
      cluster: uniqueName("c"),
      material: { ...(await materialOf(etcd)), caCert: (await createCertificateAuthority()).ca },
      requestTimeoutMs: 3000,
    });
    await expect(wrongCa.check(AbortSignal.timeout(10_000))).rejects.toThrow(
      /: UNAVAILABLE: TLS handshake failed: the server certificate is not signed by the configured CA/,
    );
  });

  it("username/password auth works; a wrong password and a user without read access are reported as such", async () => {
    await using etcd = await startEtcd({
      auth: {
        users: [
          { name: "reader", password: "pw-reader", read: ["/calico/"] },
          { name: "nobody", password: "pw-nobody" },
        ],
      },
    });
    const writer = await CalicoWriter.connect(etcd);
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "pod-1"));
    writer.close();
    const material = { endpoints: etcd.endpoints };
    await using reader = createEtcdSource({
      cluster: uniqueName("c"),
      material: { ...material, username: "reader", password: "pw-reader" },
    });
    expect(Object.keys(byId(await reader.list(AbortSignal.timeout(10_000)), ns))).toHaveLength(1);
    await using wrong = createEtcdSource({
      cluster: uniqueName("c"),
      material: { ...material, username: "reader", password: "not-it" },
    });
    const failure = wrong.check(AbortSignal.timeout(10_000));
    await expect(failure).rejects.toThrow(/authentication failed, invalid user ID or password/);
    await expect(failure).rejects.not.toThrow(/not-it/);
    await using nobody = createEtcdSource({
      cluster: uniqueName("c"),
      material: { ...material, username: "nobody", password: "pw-nobody" },
    });
    await expect(nobody.check(AbortSignal.timeout(10_000))).rejects.toThrow(/permission denied/);
  });

  it.each([
    [{ endpoints: [] }, /no etcd endpoints/],
    [{ endpoints: ["127.0.0.1:2379"] }, /is not a URL/],
    [{ endpoints: ["unix:///run/etcd.sock"] }, /must use http:\/\/ or https:\/\//],
    [{ endpoints: ["https://127.0.0.1:2379"], cert: "x" }, /needs its key/],
    [{ endpoints: ["http://127.0.0.1:2379"], caCert: "x" }, /no etcd endpoint uses https/],
    [{ endpoints: ["http://127.0.0.1:2379"], username: "u" }, /needs a password/],
  ])("rejects unusable material %j at once", (material, message) => {
    expect(() => createEtcdSource({ cluster: "c1", material })).toThrow(EtcdConfigError);
    expect(() => createEtcdSource({ cluster: "c1", material })).toThrow(message);
  });

  it("reads a connection config: spec fields, secrets, endpoints as list or comma string, overlay mode", () => {
    const base = { cluster: "c1", generation: 1, datastoreType: "etcdv3" };
    expect(
      etcdMaterialFromConnection({
        ...base,
        spec: {
          etcdEndpoints: ["https://a:2379", "https://b:2379"],
          etcdCACert: "CA",
          etcdCert: "CERT",
          overlayRoutingMode: "Enabled",
        },
        secrets: { etcdKey: "KEY", etcdUsername: "u", etcdPassword: "p" },
      }),
    ).toEqual({
      material: {
        endpoints: ["https://a:2379", "https://b:2379"],
        caCert: "CA",
        cert: "CERT",
        key: "KEY",
        username: "u",
        password: "p",
      },
      overlayRouting: true,
    });
    expect(
      etcdMaterialFromConnection({ ...base, spec: { etcdEndpoints: "http://a:2379, http://b:2379" }, secrets: {} }),
    ).toEqual({
      material: { endpoints: ["http://a:2379", "http://b:2379"] },
      overlayRouting: false,
    });
    expect(() => etcdMaterialFromConnection({ ...base, spec: {}, secrets: { etcdPassword: "hunter2" } })).toThrow(
      /etcdEndpoints/,
    );
    expect(() => etcdMaterialFromConnection({ ...base, spec: {}, secrets: { etcdPassword: "hunter2" } })).not.toThrow(
      /hunter2/,
    );
  });
});
