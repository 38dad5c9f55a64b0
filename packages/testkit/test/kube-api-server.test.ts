import { readFile, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  VersionApi,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  createCertificateAuthority,
  type KubeApiServer,
  type KubeconfigOptions,
  type KubeStatus,
  KubeStatusError,
  type PolicyRule,
  startKubeApiServer,
} from "../src/index.js";

const CALICO = "crd.projectcalico.org";
const REMOTE_SA = "system:serviceaccount:calico:remote";

/** The ClusterRole a remote cluster grants the federation ServiceAccount (calico.md §5). */
const REMOTE_CLUSTER_RULES: PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["namespaces", "serviceaccounts", "pods", "nodes", "services", "endpoints"],
    verbs: ["get", "list", "watch"],
  },
  { apiGroups: [CALICO], resources: ["hostendpoints", "ippools", "ipamblocks"], verbs: ["get", "list", "watch"] },
];

function clients(server: KubeApiServer, options?: KubeconfigOptions) {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig(options));
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

async function rejection(promise: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return err;
    throw err;
  }
  throw new Error("expected the request to fail");
}

/** The Status an ApiException carries; client-node hands it over as the raw JSON text. */
function statusOf(err: ApiException<unknown>): KubeStatus {
  return (typeof err.body === "string" ? JSON.parse(err.body) : err.body) as KubeStatus;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface RawOptions {
  method?: string;
  token?: string;
  body?: string;
  contentType?: string;
  cert?: { cert: string; key: string };
}

/** One HTTPS request without client-node, to check what exactly travels on the wire. */
function raw(server: KubeApiServer, path: string, options: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers["Authorization"] = `Bearer ${options.token}`;
    if (options.contentType !== undefined) headers["Content-Type"] = options.contentType;
    const req = request(
      `${server.url}${path}`,
      { method: options.method ?? "GET", ca: server.ca, headers, ...(options.cert ?? {}) },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

function pod(name: string, namespace: string, extra: { labels?: Record<string, string>; nodeName?: string } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  };
}

function names(items: { metadata?: { name?: string } }[]): string[] {
  return items.map((i) => i.metadata?.name ?? "");
}

describe("startKubeApiServer: TLS and discovery", () => {
  it("serves HTTPS on loopback with a generated CA that client-node trusts from the kubeconfig", async () => {
    await using server = await startKubeApiServer();
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const config = parseYaml(server.kubeconfig()) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    };
    expect(Buffer.from(config.clusters[0]!.cluster["certificate-authority-data"], "base64").toString()).toBe(server.ca);
    const { core } = clients(server);
    const namespaces = await core.listNamespace();
    expect(names(namespaces.items)).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    expect(namespaces.metadata?.resourceVersion).toBe(server.resourceVersion());
  });

  it("answers /version, /api, /apis and per-group resource discovery like kube-apiserver", async () => {
    await using server = await startKubeApiServer();
    const { kc } = clients(server);
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    const token = server.adminToken;
    expect(JSON.parse((await raw(server, "/api", { token })).body)).toMatchObject({
      kind: "APIVersions",
      versions: ["v1"],
    });
    const groups = JSON.parse((await raw(server, "/apis", { token })).body);
    expect(groups.kind).toBe("APIGroupList");
    expect(groups.groups).toContainEqual({
      name: CALICO,
      versions: [{ groupVersion: `${CALICO}/v1`, version: "v1" }],
      preferredVersion: { groupVersion: `${CALICO}/v1`, version: "v1" },
    });
    const core = JSON.parse((await raw(server, "/api/v1", { token })).body);
    expect(core).toMatchObject({ kind: "APIResourceList", groupVersion: "v1" });
    expect(core.resources).toContainEqual(expect.objectContaining({ name: "pods", namespaced: true, kind: "Pod" }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: "pods/status", kind: "Pod" }));
    const calico = await kc.makeApiClient(CustomObjectsApi).getAPIResources({ group: CALICO, version: "v1" });
    const served = Object.fromEntries(calico.resources.map((r) => [r.name, r.namespaced]));
    expect(served).toEqual({
      hostendpoints: false,
      ippools: false,
      ipamblocks: false,
      remoteclusterconfigurations: false,
      networkpolicies: true,
      globalnetworkpolicies: false,
      profiles: false,
    });
  });
});

describe("authentication and RBAC", () => {
  it("authenticates a bearer-token user and allows only what it was granted", async () => {
    await using server = await startKubeApiServer();
    const reader = server.addTokenUser("reader");
    expect(reader.groups).toEqual(["system:authenticated"]);
    server.grant("reader", [{ apiGroups: [""], resources: ["pods"], verbs: ["list"], namespaces: ["default"] }]);
    server.create("pods", pod("a", "default"));
    const { core } = clients(server, { user: "reader" });
    expect(names((await core.listNamespacedPod({ namespace: "default" })).items)).toEqual(["a"]);
    expect((await rejection(core.listNamespacedPod({ namespace: "kube-system" }))).code).toBe(403);
    expect((await rejection(core.listPodForAllNamespaces())).code).toBe(403);
    expect(server.requests().at(-1)).toMatchObject({ user: "reader", verb: "list", path: "/api/v1/pods", status: 403 });
  });

  it("authenticates a client certificate as user CN in groups O", async () => {
    await using server = await startKubeApiServer();
    const cert = await server.issueClientCertificate("alice", ["net-readers"]);
    expect(cert.cert).toContain("BEGIN CERTIFICATE");
    server.grantGroup("net-readers", [{ apiGroups: [CALICO], resources: ["hostendpoints"], verbs: ["list"] }]);
    const { custom } = clients(server, { user: "alice" });
    const list = await custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "hostendpoints" });
    expect(list).toMatchObject({ kind: "HostEndpointList", apiVersion: `${CALICO}/v1`, items: [] });
    expect(server.requests().at(-1)).toMatchObject({ user: "alice", status: 200 });
    const denied = statusOf(
      await rejection(custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "ippools" })),
    );
    expect(denied.message).toBe(
      `ippools.${CALICO} is forbidden: User "alice" cannot list resource "ippools" in API group "${CALICO}" at the cluster scope`,
    );
  });

  it("answers 401 with the Unauthorized Status for an unknown bearer token", async () => {
    await using server = await startKubeApiServer();
    const { core } = clients(server, { token: "not-a-token" });
    expect((await rejection(core.listNamespace())).code).toBe(401);
    const response = await raw(server, "/api/v1/namespaces", { token: "not-a-token" });
    expect(response.status).toBe(401);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(response.body)).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Unauthorized",
      reason: "Unauthorized",
      code: 401,
    });
  });

  it("answers 401 for a client certificate signed by another CA", async () => {
    await using server = await startKubeApiServer();
    const other = await createCertificateAuthority("other-ca");
    const foreign = await other.issue("mallory", { organizations: ["system:masters"] });
    const response = await raw(server, "/api/v1/namespaces", { cert: foreign }).finally(() =>
      rm(other.dir, { recursive: true, force: true }),
    );
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).reason).toBe("Unauthorized");
  });

  it("answers 401 without credentials, or 403 as system:anonymous when anonymous auth is on", async () => {
    await using closed = await startKubeApiServer();
    expect((await raw(closed, "/api/v1/pods")).status).toBe(401);
    expect((await raw(closed, "/version")).status).toBe(401);
    await using open = await startKubeApiServer({ anonymousAuth: true });
    expect((await raw(open, "/version")).status).toBe(200);
    const denied = await raw(open, "/api/v1/pods");
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).message).toBe(
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope',
    );
    // A wrong token is still a 401: only requests without credentials become anonymous.
    expect((await raw(open, "/api/v1/pods", { token: "wrong" })).status).toBe(401);
  });

  it("answers 403 with the real apiserver's wording and details at cluster scope, in a namespace and by name", async () => {
    await using server = await startKubeApiServer();
    server.addServiceAccountUser("calico", "remote");
    const { core, custom } = clients(server, { user: REMOTE_SA });
    const cluster = statusOf(await rejection(core.listPodForAllNamespaces()));
    expect(cluster).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `pods is forbidden: User "${REMOTE_SA}" cannot list resource "pods" in API group "" at the cluster scope`,
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
    expect(statusOf(await rejection(core.listNamespacedPod({ namespace: "x" }))).message).toBe(
      `pods is forbidden: User "${REMOTE_SA}" cannot list resource "pods" in API group "" in the namespace "x"`,
    );
    const named = statusOf(await rejection(core.readNamespacedPod({ namespace: "x", name: "p" })));
    expect(named.message).toBe(
      `pods "p" is forbidden: User "${REMOTE_SA}" cannot get resource "pods" in API group "" in the namespace "x"`,
    );
    expect(named.details).toEqual({ name: "p", kind: "pods" });
    const crd = statusOf(
      await rejection(custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "hostendpoints" })),
    );
    expect(crd.details).toEqual({ group: CALICO, kind: "hostendpoints" });
  });

  it("lets the Calico remote-cluster ClusterRole get/list/watch the KDD kinds and nothing more", async () => {
    await using server = await startKubeApiServer();
    const sa = server.addServiceAccountUser("calico", "remote");
    expect(sa.groups).toEqual(["system:serviceaccounts", "system:serviceaccounts:calico", "system:authenticated"]);
    server.grant(REMOTE_SA, REMOTE_CLUSTER_RULES);
    const { core, custom } = clients(server, { user: REMOTE_SA });
    await core.listNamespace();
    await core.listPodForAllNamespaces();
    await core.listNode();
    await core.listServiceAccountForAllNamespaces();
    await custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "ipamblocks" });
    const create = statusOf(
      await rejection(core.createNamespacedPod({ namespace: "default", body: pod("x", "default") })),
    );
    expect(create.message).toContain(`cannot create resource "pods" in API group "" in the namespace "default"`);
    expect((await rejection(core.listSecretForAllNamespaces())).code).toBe(403);
  });
});

describe("objects over HTTP", () => {
  it("creates, reads and deletes a pod with uid, resourceVersion, generation and creationTimestamp", async () => {
    await using server = await startKubeApiServer({ clock: () => new Date("2024-05-06T07:08:09.123Z") });
    const { core } = clients(server);
    const before = Number(server.resourceVersion());
    const created = await core.createNamespacedPod({ namespace: "default", body: pod("web", "default") });
    expect(created.metadata?.resourceVersion).toBe(String(before + 1));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.namespace).toBe("default");
    expect(created.metadata?.creationTimestamp?.toISOString()).toBe("2024-05-06T07:08:09.000Z");
    expect(created.status?.phase).toBe("Pending");
    const read = await core.readNamespacedPod({ namespace: "default", name: "web" });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    const deleted = await core.deleteNamespacedPod({ namespace: "default", name: "web" });
    expect(deleted.metadata?.name).toBe("web");
    expect(server.resourceVersion()).toBe(String(before + 2));
    const missing = await rejection(core.deleteNamespacedPod({ namespace: "default", name: "web" }));
    expect(missing.code).toBe(404);
    expect(statusOf(missing)).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "web" not found',
      reason: "NotFound",
      details: { name: "web", kind: "pods" },
      code: 404,
    });
  });

  it("refuses a second create of the same name with 409 AlreadyExists", async () => {
    await using server = await startKubeApiServer();
    const { core } = clients(server);
    await core.createNamespacedPod({ namespace: "default", body: pod("dup", "default") });
    const err = await rejection(core.createNamespacedPod({ namespace: "default", body: pod("dup", "default") }));
    expect(err.code).toBe(409);
    expect(statusOf(err)).toMatchObject({ reason: "AlreadyExists", message: 'pods "dup" already exists' });
  });

  it("refuses a replace carrying a stale resourceVersion with 409 Conflict and the real message", async () => {
    await using server = await startKubeApiServer();
    const { core } = clients(server);
    const first = await core.createNamespacedPod({ namespace: "default", body: pod("p", "default") });
    const second = await core.replaceNamespacedPod({
      namespace: "default",
      name: "p",
      body: { ...first, metadata: { ...first.metadata, labels: { v: "2" } } },
    });
    expect(Number(second.metadata?.resourceVersion)).toBeGreaterThan(Number(first.metadata?.resourceVersion));
    expect(second.metadata?.generation).toBe(1);
    const stale: V1Pod = { ...first, metadata: { ...first.metadata, labels: { v: "3" } } };
    const err = await rejection(core.replaceNamespacedPod({ namespace: "default", name: "p", body: stale }));
    expect(err.code).toBe(409);
    expect(statusOf(err)).toMatchObject({
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: "p", kind: "pods" },
    });
    const specChange = await core.replaceNamespacedPod({
      namespace: "default",
      name: "p",
      body: { ...second, spec: { ...second.spec!, nodeName: "node-1" } },
    });
    expect(specChange.metadata?.generation).toBe(2);
  });

  it("refuses a create into a missing namespace with that namespace's 404", async () => {
    await using server = await startKubeApiServer();
    const err = await rejection(
      clients(server).core.createNamespacedPod({ namespace: "nope", body: pod("a", "nope") }),
    );
    expect(statusOf(err)).toMatchObject({
      code: 404,
      message: 'namespaces "nope" not found',
      details: { name: "nope", kind: "namespaces" },
    });
  });

  it("rejects an invalid object name with 422 Invalid and a field cause", async () => {
    await using server = await startKubeApiServer();
    const err = await rejection(
      clients(server).core.createNamespacedPod({ namespace: "default", body: pod("Bad_Name", "default") }),
    );
    const status = statusOf(err);
    expect(status).toMatchObject({ code: 422, reason: "Invalid", details: { name: "Bad_Name", kind: "Pod" } });
    expect(status.message).toMatch(
      /^Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    expect(status.details?.causes).toEqual([
      expect.objectContaining({ reason: "FieldValueInvalid", field: "metadata.name" }),
    ]);
  });

  it("applies JSON patches (client-node's default) and JSON merge patches", async () => {
    await using server = await startKubeApiServer();
    const { core } = clients(server);
    await core.createNamespacedPod({ namespace: "default", body: pod("p", "default", { labels: { a: "1" } }) });
    const jsonPatched = await core.patchNamespacedPod({
      namespace: "default",
      name: "p",
      body: [{ op: "add", path: "/metadata/labels/b", value: "2" }],
    });
    expect(jsonPatched.metadata?.labels).toEqual({ a: "1", b: "2" });
    const merged = await core.patchNamespacedPod(
      { namespace: "default", name: "p", body: { metadata: { labels: { a: null, c: "3" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ b: "2", c: "3" });
    const failed = await rejection(
      core.patchNamespacedPod({
        namespace: "default",
        name: "p",
        body: [{ op: "replace", path: "/spec/missing/x", value: 1 }],
      }),
    );
    expect(statusOf(failed)).toMatchObject({ code: 422, reason: "Invalid" });
  });

  it("keeps pod status on main-resource writes and changes it only through /status", async () => {
    await using server = await startKubeApiServer();
    const { core } = clients(server);
    const created = await core.createNamespacedPod({
      namespace: "default",
      body: { ...pod("p", "default"), status: { phase: "Running", podIP: "10.0.0.1" } },
    });
    expect(created.status).toEqual({ phase: "Pending" });
    const replaced = await core.replaceNamespacedPod({
      namespace: "default",
      name: "p",
      body: { ...created, status: { phase: "Running" } },
    });
    expect(replaced.status).toEqual({ phase: "Pending" });
    const status = await core.replaceNamespacedPodStatus({
      namespace: "default",
      name: "p",
      body: { ...replaced, status: { phase: "Running", podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.1" }] } },
    });
    expect(status.status?.podIP).toBe("10.0.0.1");
    expect(server.get("pods", "p")?.["status"]).toEqual({
      phase: "Running",
      podIP: "10.0.0.1",
      podIPs: [{ ip: "10.0.0.1" }],
    });
  });

  it("serves HostEndpoints and RemoteClusterConfigurations through CustomObjectsApi", async () => {
    await using server = await startKubeApiServer();
    const { custom } = clients(server);
    const hep = await custom.createClusterCustomObject({
      group: CALICO,
      version: "v1",
      plural: "hostendpoints",
      body: {
        apiVersion: `${CALICO}/v1`,
        kind: "HostEndpoint",
        metadata: { name: "h1", labels: { role: "edge" } },
        spec: { node: "n1" },
      },
    });
    expect(hep).toMatchObject({ kind: "HostEndpoint", metadata: { name: "h1", generation: 1 } });
    expect(hep.metadata.namespace).toBeUndefined();
    await custom.createClusterCustomObject({
      group: CALICO,
      version: "v1",
      plural: "remoteclusterconfigurations",
      body: {
        apiVersion: `${CALICO}/v1`,
        kind: "RemoteClusterConfiguration",
        metadata: { name: "cluster-b" },
        spec: { datastoreType: "kubernetes", kubeconfig: "/etc/b.kubeconfig" },
      },
    });
    const list = await custom.listClusterCustomObject({
      group: CALICO,
      version: "v1",
      plural: "remoteclusterconfigurations",
    });
    expect(list.items).toEqual([
      expect.objectContaining({ apiVersion: `${CALICO}/v1`, kind: "RemoteClusterConfiguration" }),
    ]);
    const patched = await custom.patchClusterCustomObject(
      { group: CALICO, version: "v1", plural: "hostendpoints", name: "h1", body: { spec: { node: "n2" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(patched).toMatchObject({ spec: { node: "n2" }, metadata: { generation: 2 } });
    const deleted = await custom.deleteClusterCustomObject({
      group: CALICO,
      version: "v1",
      plural: "hostendpoints",
      name: "h1",
    });
    expect(deleted).toMatchObject({
      kind: "Status",
      status: "Success",
      details: { name: "h1", group: CALICO, kind: "hostendpoints" },
    });
    const gone = statusOf(
      await rejection(
        custom.getClusterCustomObject({ group: CALICO, version: "v1", plural: "hostendpoints", name: "h1" }),
      ),
    );
    expect(gone.message).toBe(`hostendpoints.${CALICO} "h1" not found`);
  });

  it("filters lists by labelSelector and by fieldSelector on metadata.name, metadata.namespace and spec.nodeName", async () => {
    await using server = await startKubeApiServer();
    server.create("namespaces", { metadata: { name: "other" } });
    server.create("pods", pod("a", "default", { labels: { app: "web", tier: "1" }, nodeName: "n1" }));
    server.create("pods", pod("b", "default", { labels: { app: "db" }, nodeName: "n2" }));
    server.create("pods", pod("c", "other", { labels: { app: "web" } }));
    const { core } = clients(server);
    const list = async (labelSelector?: string, fieldSelector?: string) =>
      names(
        (
          await core.listPodForAllNamespaces({
            ...(labelSelector ? { labelSelector } : {}),
            ...(fieldSelector ? { fieldSelector } : {}),
          })
        ).items,
      );
    expect(await list("app=web")).toEqual(["a", "c"]);
    expect(await list("app in (db, web),tier")).toEqual(["a"]);
    expect(await list("!tier")).toEqual(["b", "c"]);
    expect(await list("app!=web")).toEqual(["b"]);
    expect(await list(undefined, "spec.nodeName=n2")).toEqual(["b"]);
    expect(await list(undefined, "spec.nodeName=")).toEqual(["c"]);
    expect(await list(undefined, "metadata.namespace=other")).toEqual(["c"]);
    expect(await list("app=web", "metadata.name!=a")).toEqual(["c"]);
    const bad = statusOf(await rejection(core.listPodForAllNamespaces({ fieldSelector: "spec.bogus=x" })));
    expect(bad).toMatchObject({ code: 400, reason: "BadRequest", message: "field label not supported: spec.bogus" });
  });

  it("labels each namespace with kubernetes.io/metadata.name and empties a deleted namespace", async () => {
    await using server = await startKubeApiServer();
    const { core } = clients(server);
    const ns = await core.createNamespace({ body: { metadata: { name: "team" } } });
    expect(ns.metadata?.labels).toEqual({ "kubernetes.io/metadata.name": "team" });
    expect(ns.status?.phase).toBe("Active");
    await core.createNamespacedPod({ namespace: "team", body: pod("p", "team") });
    await core.deleteNamespace({ name: "team" });
    expect(server.list("pods", { namespace: "team" })).toEqual([]);
  });
});

describe("lists: resourceVersion and pagination", () => {
  it("pages a namespaced list with limit and opaque continue tokens", async () => {
    await using server = await startKubeApiServer();
    for (const n of ["p1", "p2", "p3", "p4", "p5", "p6", "p7"]) server.create("pods", pod(n, "default"));
    const { core } = clients(server);
    const first = await core.listNamespacedPod({ namespace: "default", limit: 3 });
    expect(names(first.items)).toEqual(["p1", "p2", "p3"]);
    expect(first.metadata?.remainingItemCount).toBe(4);
    expect(first.metadata?._continue).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await core.listNamespacedPod({
      namespace: "default",
      limit: 3,
      _continue: first.metadata!._continue!,
    });
    expect(names(second.items)).toEqual(["p4", "p5", "p6"]);
    const third = await core.listNamespacedPod({
      namespace: "default",
      limit: 3,
      _continue: second.metadata!._continue!,
    });
    expect(names(third.items)).toEqual(["p7"]);
    expect(third.metadata?._continue).toBeUndefined();
    const typed = third.items[0] as unknown as Record<string, unknown>;
    expect(typed["kind"]).toBeUndefined();
    const bad = statusOf(
      await rejection(core.listNamespacedPod({ namespace: "default", limit: 3, _continue: "garbage" })),
    );
    expect(bad.code).toBe(400);
  });

  it("serves every page from the first page's snapshot while objects change between pages", async () => {
    await using server = await startKubeApiServer();
    server.create("namespaces", { metadata: { name: "b" } });
    const original = new Map<string, string>();
    for (const [ns, n] of [
      ["b", "x1"],
      ["b", "x2"],
      ["default", "a1"],
      ["default", "a2"],
      ["default", "a3"],
      ["default", "a4"],
    ] as const) {
      original.set(`${ns}/${n}`, server.create("pods", pod(n, ns)).metadata.resourceVersion!);
    }
    const { core } = clients(server);
    const seen = new Map<string, string>();
    const versions = new Set<string>();
    let token: string | undefined;
    let page = 0;
    do {
      const list = await core.listPodForAllNamespaces({ limit: 2, ...(token ? { _continue: token } : {}) });
      versions.add(list.metadata!.resourceVersion!);
      for (const item of list.items)
        seen.set(`${item.metadata?.namespace}/${item.metadata?.name}`, item.metadata!.resourceVersion!);
      token = list.metadata?._continue;
      // Churn after each page: delete a pod still to come, add one that sorts later, modify another.
      if (page === 0) {
        server.delete("pods", "a3", "default");
        server.create("pods", pod("a9", "default"));
        server.update("pods", {
          ...server.get("pods", "a4")!,
          metadata: { ...server.get("pods", "a4")!.metadata, labels: { changed: "yes" } },
        });
      }
      page++;
    } while (token);
    expect(seen).toEqual(original);
    expect(versions.size).toBe(1);
    expect(names(server.list("pods"))).toEqual(["x1", "x2", "a1", "a2", "a4", "a9"]);
  });

  it("answers 410 Expired for a continue token whose snapshot was compacted, with an inconsistent token to go on", async () => {
    await using server = await startKubeApiServer();
    for (const n of ["p1", "p2", "p3", "p4"]) server.create("pods", pod(n, "default"));
    const { core } = clients(server);
    const first = await core.listNamespacedPod({ namespace: "default", limit: 2 });
    server.create("pods", pod("p5", "default"));
    server.expireVersions();
    const err = await rejection(
      core.listNamespacedPod({ namespace: "default", limit: 2, _continue: first.metadata!._continue! }),
    );
    expect(err.code).toBe(410);
    const status = statusOf(err);
    expect(status).toMatchObject({ kind: "Status", status: "Failure", reason: "Expired", code: 410 });
    expect(status.message).toMatch(/^The provided continue parameter is too old to display a consistent list result\./);
    const rest = await core.listNamespacedPod({
      namespace: "default",
      limit: 10,
      _continue: status.metadata.continue!,
    });
    expect(names(rest.items)).toEqual(["p3", "p4", "p5"]);
    expect(rest.metadata?.resourceVersion).toBe(server.resourceVersion());
  });

  it("lists at an exact past resourceVersion and 410s once that version leaves the history", async () => {
    await using server = await startKubeApiServer();
    server.create("pods", pod("old", "default"));
    const at = server.resourceVersion();
    server.create("pods", pod("new", "default"));
    const { core } = clients(server);
    const exact = await core.listNamespacedPod({
      namespace: "default",
      resourceVersion: at,
      resourceVersionMatch: "Exact",
    });
    expect(names(exact.items)).toEqual(["old"]);
    expect(exact.metadata?.resourceVersion).toBe(at);
    const notOlder = await core.listNamespacedPod({
      namespace: "default",
      resourceVersion: at,
      resourceVersionMatch: "NotOlderThan",
    });
    expect(names(notOlder.items)).toEqual(["new", "old"]);
    server.setHistoryLimit(0);
    const err = statusOf(
      await rejection(
        core.listNamespacedPod({ namespace: "default", resourceVersion: at, resourceVersionMatch: "Exact" }),
      ),
    );
    expect(err).toMatchObject({
      code: 410,
      reason: "Expired",
      message: "The resourceVersion for the provided list is too old.",
    });
  });
});

describe("direct object API and lifecycle", () => {
  it("creates, updates, gets, lists and deletes without HTTP, with resourceVersions and conflicts", async () => {
    await using server = await startKubeApiServer();
    const created = server.create({ plural: "pods" }, pod("p", "default", { labels: { app: "a" } }));
    expect(created.metadata.resourceVersion).toBe(server.resourceVersion());
    const updated = server.update("pods", { ...created, status: { phase: "Running", podIP: "10.1.1.1" } });
    expect(updated.status).toEqual({ phase: "Running", podIP: "10.1.1.1" });
    expect(Number(updated.metadata.resourceVersion)).toBe(Number(created.metadata.resourceVersion) + 1);
    const unchanged = server.update("pods", updated);
    expect(unchanged.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
    let conflict: unknown;
    try {
      server.update("pods", { ...created, metadata: { ...created.metadata, labels: { app: "b" } } });
    } catch (err) {
      conflict = err;
    }
    expect(conflict).toBeInstanceOf(KubeStatusError);
    expect((conflict as KubeStatusError).code).toBe(409);
    expect(server.list("pods", { labelSelector: "app=a" })).toHaveLength(1);
    expect(server.get({ group: CALICO, plural: "hostendpoints" }, "none")).toBeUndefined();
    server.delete("pods", "p", "default");
    expect(server.get("pods", "p")).toBeUndefined();
    expect(() => server.delete("pods", "p")).toThrow(KubeStatusError);
    expect(() => server.create("widgets", { metadata: { name: "w" } })).toThrow(/no resource "widgets"/);
  });

  it("serves a kind added with registerResource at its paths and in discovery", async () => {
    await using server = await startKubeApiServer();
    server.registerResource({
      group: "example.io",
      version: "v1alpha1",
      plural: "widgets",
      kind: "Widget",
      namespaced: true,
    });
    const { custom } = clients(server);
    await custom.createNamespacedCustomObject({
      group: "example.io",
      version: "v1alpha1",
      namespace: "default",
      plural: "widgets",
      body: { apiVersion: "example.io/v1alpha1", kind: "Widget", metadata: { name: "w1" } },
    });
    expect(server.get("widgets", "w1")?.metadata.namespace).toBe("default");
    const discovery = await custom.getAPIResources({ group: "example.io", version: "v1alpha1" });
    expect(discovery.resources.map((r) => r.name)).toEqual(["widgets"]);
  });

  it("writes a kubeconfig file that KubeConfig.loadFromFile accepts, for token and certificate users", async () => {
    await using server = await startKubeApiServer();
    await server.issueClientCertificate("bob", ["system:masters"]);
    const path = await server.writeKubeconfig({ user: "bob", namespace: "kube-system" });
    expect(await readFile(path, "utf8")).toContain("client-certificate-data");
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe("kube-system");
    expect(names((await kc.makeApiClient(CoreV1Api).listNamespace()).items)).toContain("kube-system");
    expect(() => server.kubeconfig({ user: "nobody" })).toThrow(/no token or certificate credentials/);
  });

  it("bumps one global resourceVersion per write across kinds", async () => {
    await using server = await startKubeApiServer();
    const start = Number(server.resourceVersion());
    const p = server.create("pods", pod("p", "default"));
    const h = server.create("hostendpoints", { metadata: { name: "h" }, spec: { node: "n" } });
    server.delete("pods", "p");
    expect([p.metadata.resourceVersion, h.metadata.resourceVersion, server.resourceVersion()]).toEqual([
      String(start + 1),
      String(start + 2),
      String(start + 3),
    ]);
  });

  it("closes its listener and sockets on dispose", async () => {
    const server = await startKubeApiServer();
    await clients(server).core.listNamespace();
    await server[Symbol.asyncDispose]();
    await expect(raw(server, "/version", { token: server.adminToken })).rejects.toThrow(/ECONNREFUSED/);
  });
});
