import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiException, CoreV1Api, KubeConfig, makeInformer, type V1Pod, Watch } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { type KubeApiServer, type KubeObject, startKubeApiServer, waitFor } from "../src/index.js";

const PODS = "/api/v1/namespaces/default/pods";

interface WatchEvent {
  type: string;
  object: KubeObject;
}

interface OpenWatch {
  events: WatchEvent[];
  /** Resolves with the error given to client-node's done callback (null for a clean end). */
  done: Promise<unknown>;
  types(): string[];
  stop(): void;
}

function kubeConfig(server: KubeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return kc;
}

/** Opens a watch through client-node's `Watch`, exactly as a connector would. */
async function openWatch(
  server: KubeApiServer,
  path: string,
  query: Record<string, string | number | boolean> = {},
): Promise<OpenWatch> {
  const events: WatchEvent[] = [];
  let finish: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => {
    finish = resolve;
  });
  const controller = await new Watch(kubeConfig(server)).watch(
    path,
    query,
    (type: string, object: KubeObject) => events.push({ type, object }),
    (err: unknown) => finish(err ?? null),
  );
  return { events, done, types: () => events.map((e) => e.type), stop: () => controller.abort() };
}

function pod(name: string, labels?: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", ...(labels ? { labels } : {}) },
    spec: { containers: [] },
  };
}

function withLabels(object: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...object, metadata: { ...object.metadata, labels } };
}

async function rejection(promise: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return err as ApiException<string>;
    throw err;
  }
  throw new Error("expected the request to fail");
}

async function watchesOpen(server: KubeApiServer, count: number): Promise<void> {
  await waitFor(() => server.watches().length === count, { message: `${count} open watches` });
}

describe("watch over HTTP", () => {
  it("streams chunked newline-delimited JSON events with kube-apiserver's headers", async () => {
    await using server = await startKubeApiServer();
    server.create("pods", pod("a"));
    server.create("pods", pod("b"));
    const { headers, lines } = await new Promise<{ headers: IncomingHttpHeaders; lines: string[] }>(
      (resolve, reject) => {
        const req = request(
          `${server.url}${PODS}?watch=1&resourceVersion=0`,
          { ca: server.ca, headers: { Authorization: `Bearer ${server.adminToken}` } },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => {
              text += chunk.toString();
              const complete = text.split("\n").slice(0, -1);
              if (complete.length >= 2) {
                resolve({ headers: res.headers, lines: complete });
                req.destroy();
              }
            });
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    expect(headers["transfer-encoding"]).toBe("chunked");
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["content-length"]).toBeUndefined();
    const events = lines.map((l) => JSON.parse(l) as WatchEvent);
    expect(events.map((e) => [e.type, e.object.kind, e.object.metadata.name])).toEqual([
      ["ADDED", "Pod", "a"],
      ["ADDED", "Pod", "b"],
    ]);
  });

  it("replays every change after a list's resourceVersion — ADDED, MODIFIED, DELETED — then goes live", async () => {
    await using server = await startKubeApiServer();
    const list = await kubeConfig(server).makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "default" });
    const created = server.create("pods", pod("p"));
    server.update("pods", withLabels(created, { v: "2" }));
    server.delete("pods", "p");
    const deletedAt = server.resourceVersion();
    const watch = await openWatch(server, PODS, { resourceVersion: list.metadata!.resourceVersion! });
    await waitFor(() => watch.events.length === 3);
    expect(watch.types()).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(watch.events[1]?.object.metadata.labels).toEqual({ v: "2" });
    // A DELETED event carries the object's last state at the deletion's resourceVersion.
    expect(watch.events[2]?.object.metadata).toMatchObject({
      name: "p",
      labels: { v: "2" },
      resourceVersion: deletedAt,
    });
    server.create("pods", pod("live"));
    await waitFor(() => watch.events.length === 4);
    expect(watch.events[3]).toMatchObject({ type: "ADDED", object: { metadata: { name: "live" } } });
    watch.stop();
  });

  it("sends synthetic ADDED events for existing objects when resourceVersion is 0 or absent", async () => {
    await using server = await startKubeApiServer();
    server.create("pods", pod("a"));
    server.create("pods", pod("b"));
    const fromZero = await openWatch(server, PODS, { resourceVersion: "0" });
    const fromNothing = await openWatch(server, PODS);
    await waitFor(() => fromZero.events.length === 2 && fromNothing.events.length === 2);
    for (const w of [fromZero, fromNothing]) {
      expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED a", "ADDED b"]);
      w.stop();
    }
  });

  it("sends BOOKMARKs with only the current resourceVersion, and only to watches that allow them", async () => {
    await using server = await startKubeApiServer({ bookmarkIntervalMs: 50 });
    server.create("hostendpoints", { metadata: { name: "h" } });
    const rv = server.resourceVersion();
    const withBookmarks = await openWatch(server, PODS, { resourceVersion: rv, allowWatchBookmarks: true });
    const without = await openWatch(server, PODS, { resourceVersion: rv });
    await waitFor(() => withBookmarks.types().includes("BOOKMARK"), { message: "a bookmark" });
    expect(withBookmarks.events[0]?.object).toEqual({
      kind: "Pod",
      apiVersion: "v1",
      metadata: { resourceVersion: rv },
    });
    server.sendBookmarks();
    server.create("pods", pod("after"));
    // Events on one stream are ordered, so a bookmark sent before this ADDED would already be here.
    await waitFor(() => without.events.length === 1);
    expect(without.types()).toEqual(["ADDED"]);
    withBookmarks.stop();
    without.stop();
  });

  it("turns label-selector transitions into ADDED and DELETED events, as the watch cache does", async () => {
    await using server = await startKubeApiServer();
    const watch = await openWatch(server, PODS, {
      resourceVersion: server.resourceVersion(),
      labelSelector: "app=web",
    });
    const p = server.create("pods", pod("p", { app: "web" }));
    const moved = server.update("pods", withLabels(p, { app: "db" }));
    server.create("pods", pod("q", { app: "db" }));
    server.update("pods", withLabels(moved, { app: "web" }));
    await waitFor(() => watch.events.length === 3);
    expect(watch.events.map((e) => `${e.type} ${e.object.metadata.labels?.["app"]}`)).toEqual([
      "ADDED web",
      "DELETED web",
      "ADDED web",
    ]);
    expect(watch.events[1]?.object.metadata.resourceVersion).toBe(moved.metadata.resourceVersion);
    watch.stop();
  });

  it("watches custom resources, and a single object by name", async () => {
    await using server = await startKubeApiServer();
    const watch = await openWatch(server, "/apis/crd.projectcalico.org/v1/hostendpoints", {
      resourceVersion: server.resourceVersion(),
      fieldSelector: "metadata.name=h1",
    });
    server.create("hostendpoints", { metadata: { name: "h2" } });
    server.create("hostendpoints", { metadata: { name: "h1" }, spec: { node: "n1" } });
    await waitFor(() => watch.events.length === 1);
    expect(watch.events[0]).toMatchObject({
      type: "ADDED",
      object: { apiVersion: "crd.projectcalico.org/v1", kind: "HostEndpoint", metadata: { name: "h1" } },
    });
    watch.stop();
  });

  it("streams the current state then a bookmark annotated k8s.io/initial-events-end for sendInitialEvents", async () => {
    await using server = await startKubeApiServer();
    server.create("pods", pod("a"));
    const watch = await openWatch(server, PODS, {
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
      allowWatchBookmarks: true,
    });
    await waitFor(() => watch.events.length === 2);
    expect(watch.types()).toEqual(["ADDED", "BOOKMARK"]);
    expect(watch.events[1]?.object.metadata).toEqual({
      resourceVersion: server.resourceVersion(),
      annotations: { "k8s.io/initial-events-end": "true" },
    });
    watch.stop();
  });
});

describe("watch expiry and server-side close", () => {
  it("delivers 410 Expired as an ERROR event, then closes, for a compacted resourceVersion", async () => {
    await using server = await startKubeApiServer();
    const old = server.resourceVersion();
    server.create("pods", pod("p"));
    server.expireVersions();
    const watch = await openWatch(server, PODS, { resourceVersion: old });
    expect(await watch.done).toBeNull();
    expect(watch.events).toEqual([
      {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `too old resource version: ${old} (${server.resourceVersion()})`,
          reason: "Expired",
          code: 410,
        },
      },
    ]);
  });

  it("410s a watch whose resourceVersion fell out of the bounded history, but replays a retained one", async () => {
    await using server = await startKubeApiServer();
    server.setHistoryLimit(2);
    const start = Number(server.resourceVersion());
    for (const name of ["a", "b", "c"]) server.create("pods", pod(name));
    const tooOld = await openWatch(server, PODS, { resourceVersion: String(start) });
    await tooOld.done;
    expect(tooOld.events).toEqual([
      { type: "ERROR", object: expect.objectContaining({ code: 410, reason: "Expired" }) },
    ]);
    const retained = await openWatch(server, PODS, { resourceVersion: String(start + 1) });
    await waitFor(() => retained.events.length === 2);
    expect(retained.events.map((e) => e.object.metadata.name)).toEqual(["b", "c"]);
    retained.stop();
  });

  it("makes a watch from a resourceVersion the store has not reached wait for it, then 504 ResourceVersionTooLarge", async () => {
    await using server = await startKubeApiServer({ resourceVersionWaitMs: 300 });
    const next = String(Number(server.resourceVersion()) + 1);
    const waiting = await openWatch(server, PODS, { resourceVersion: next });
    // Once the store reaches `next`, the watch sends what comes after it (not the write at `next` itself).
    server.create("pods", pod("at-next"));
    server.create("pods", pod("after-next"));
    await waitFor(() => waiting.events.length === 1);
    expect(waiting.events.map((e) => e.object.metadata.name)).toEqual(["after-next"]);
    waiting.stop();
    const future = Number(server.resourceVersion()) + 100;
    const failed = await openWatch(server, PODS, { resourceVersion: String(future) });
    await failed.done;
    expect(failed.events[0]).toMatchObject({
      type: "ERROR",
      object: {
        code: 504,
        reason: "Timeout",
        message: `Timeout: Too large resource version: ${future}, current: ${server.resourceVersion()}`,
        details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }] },
      },
    });
  });

  it("ends a watch at its timeoutSeconds with a final bookmark", async () => {
    await using server = await startKubeApiServer();
    const watch = await openWatch(server, PODS, {
      resourceVersion: server.resourceVersion(),
      allowWatchBookmarks: true,
      timeoutSeconds: 1,
    });
    expect(await watch.done).toBeNull();
    expect(watch.types()).toEqual(["BOOKMARK"]);
    expect(server.requests().at(-1)).toMatchObject({ verb: "watch", query: { timeoutSeconds: "1" }, status: 200 });
  });

  it("ends watches without timeoutSeconds after the server's own watch timeout", async () => {
    await using server = await startKubeApiServer({ watchTimeoutMs: 200 });
    const watch = await openWatch(server, PODS, { resourceVersion: server.resourceVersion() });
    expect(await watch.done).toBeNull();
    expect(server.watches()).toEqual([]);
  });

  it("closeWatches ends every open watch cleanly from the server side", async () => {
    await using server = await startKubeApiServer();
    const a = await openWatch(server, PODS);
    const b = await openWatch(server, "/api/v1/nodes");
    await watchesOpen(server, 2);
    server.closeWatches();
    expect(await a.done).toBeNull();
    expect(await b.done).toBeNull();
  });
});

describe("fault injection", () => {
  it("dropConnections destroys open watches so the client's done callback gets an error", async () => {
    await using server = await startKubeApiServer();
    const watch = await openWatch(server, PODS, { resourceVersion: server.resourceVersion() });
    await watchesOpen(server, 1);
    expect(server.dropConnections()).toBeGreaterThanOrEqual(1);
    const err = await watch.done;
    expect(err).toBeInstanceOf(Error);
    expect(server.watches()).toEqual([]);
  });

  it("hangWatches keeps sockets open but sends nothing — no events, no bookmarks — until resumeWatches", async () => {
    await using server = await startKubeApiServer({ bookmarkIntervalMs: 50 });
    const watch = await openWatch(server, PODS, {
      resourceVersion: server.resourceVersion(),
      allowWatchBookmarks: true,
    });
    await waitFor(() => watch.types().includes("BOOKMARK"));
    server.hangWatches();
    const [info] = server.watches();
    const seen = watch.events.length;
    server.create("pods", pod("held"));
    server.sendBookmarks();
    expect(server.watches()).toEqual([{ ...info!, sent: info!.sent, pending: 1 }]);
    // Silence is what is under test: give the stream several bookmark intervals in which to (not) speak.
    await sleep(300);
    expect(watch.events.length).toBe(seen);
    expect(server.watches()[0]?.sent).toBe(info!.sent);
    server.resumeWatches();
    await waitFor(() => watch.events.some((e) => e.type === "ADDED"));
    expect(watch.events[seen]).toMatchObject({ type: "ADDED", object: { metadata: { name: "held" } } });
    await waitFor(() => watch.types().lastIndexOf("BOOKMARK") > seen, { message: "bookmarks after resume" });
    watch.stop();
  });

  it("failNext answers matching requests with injected 503, 429 and 500 Statuses, count times", async () => {
    await using server = await startKubeApiServer();
    const core = kubeConfig(server).makeApiClient(CoreV1Api);
    server.failNext(/\/namespaces\/default\/pods$/, 503, 2);
    for (let i = 0; i < 2; i++) {
      const err = await rejection(core.listNamespacedPod({ namespace: "default" }));
      expect(err.code).toBe(503);
      expect(JSON.parse(err.body)).toMatchObject({ reason: "ServiceUnavailable", code: 503 });
      await core.listNamespace();
    }
    await core.listNamespacedPod({ namespace: "default" });

    server.failNext("/api/v1/nodes", 429);
    const throttled = await rejection(core.listNode());
    expect(throttled.code).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("1");
    expect(JSON.parse(throttled.body)).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 1 } });

    server.failNext(/watch=true/, 500);
    const watch = await openWatch(server, PODS);
    expect(await watch.done).toMatchObject({ statusCode: 500 });
  });
});

describe("informers", () => {
  function podInformer(server: KubeApiServer) {
    const core = kubeConfig(server).makeApiClient(CoreV1Api);
    return makeInformer<V1Pod>(kubeConfig(server), PODS, () => core.listNamespacedPod({ namespace: "default" }));
  }

  function podLists(server: KubeApiServer): number {
    return server.requests().filter((r) => r.verb === "list" && r.path === PODS).length;
  }

  it("makeInformer syncs from a list and then sees adds, updates and deletes through its watch", async () => {
    await using server = await startKubeApiServer();
    server.create("pods", pod("existing"));
    const informer = podInformer(server);
    const log: string[] = [];
    informer.on("add", (p) => log.push(`add ${p.metadata?.name}`));
    informer.on("update", (p) => log.push(`update ${p.metadata?.name} ${p.metadata?.labels?.["v"]}`));
    informer.on("delete", (p) => log.push(`delete ${p.metadata?.name}`));
    await informer.start();
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(["existing"]);
    await watchesOpen(server, 1);
    const created = server.create("pods", pod("new"));
    server.update("pods", withLabels(created, { v: "2" }));
    server.delete("pods", "existing");
    await waitFor(() => log.length === 4);
    expect(log).toEqual(["add existing", "add new", "update new 2", "delete existing"]);
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(["new"]);
    await informer.stop();
  });

  it("an informer relists after its watch is answered with 410 Expired, and keeps syncing", async () => {
    await using server = await startKubeApiServer();
    const informer = podInformer(server);
    await informer.start();
    await watchesOpen(server, 1);
    // A write the pod watch never sees moves the compaction point past the informer's version.
    server.create("hostendpoints", { metadata: { name: "h" } });
    server.expireVersions();
    server.closeWatches();
    await waitFor(() => podLists(server) === 2, { message: "a relist" });
    await watchesOpen(server, 1);
    server.create("pods", pod("after-relist"));
    await waitFor(() => informer.get("after-relist", "default"));
    await informer.stop();
  });

  it("an informer resumes from its resourceVersion after a server-side watch timeout without relisting", async () => {
    await using server = await startKubeApiServer({ watchTimeoutMs: 150 });
    const informer = podInformer(server);
    await informer.start();
    await waitFor(() => server.requests().filter((r) => r.verb === "watch").length >= 3, { message: "two re-watches" });
    expect(podLists(server)).toBe(1);
    server.create("pods", pod("seen"));
    await waitFor(() => informer.get("seen", "default"));
    await informer.stop();
  });
});
