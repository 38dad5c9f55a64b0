/**
 * The RBAC that deploy/k8s grants: the remote ClusterRole is exactly calico.md §5, and the grants work
 * as intended when a Kubernetes API server enforces them — here testkit's Kubernetes API test server,
 * given the rules the manifests' bindings resolve to, driven by @kubernetes/client-node.
 */
import { kindsFor, OVERLAY_KINDS, resourceTypesFor } from "@fedview/k8s-connector";
import { type KubeApiServer, startKubeApiServer } from "@fedview/testkit";
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { find, loadManifests, MANIFEST_SETS, ofKind, rulesOf, ruleTriples } from "./support/manifests.js";

const local = loadManifests(MANIFEST_SETS.local);
const remote = loadManifests(MANIFEST_SETS.remote);
const CALICO = "crd.projectcalico.org";
const LOCAL_READ_ROLE = "fedview-config-service-local-cluster-read";
/**
 * What the k8s-connector lists for `_local`, straight from its own tables. config-service publishes
 * `_local` without overlay routing, so no nodes or IP pools.
 */
const LOCAL_LIST = resourceTypesFor(kindsFor("_local", false));
const READ_VERBS = ["get", "list", "watch"];
const localReadTriples = [
  ...new Set(LOCAL_LIST.flatMap((t) => READ_VERBS.map((verb) => `${t.group || "core"}/${t.plural}:${verb}`))),
].sort();

/** calico.md §5: what a remote cluster grants, verbs get/list/watch. */
const CALICO_REMOTE_RBAC = [
  { apiGroups: [""], resources: ["namespaces", "serviceaccounts", "pods", "nodes", "services", "endpoints"] },
  { apiGroups: [CALICO], resources: ["hostendpoints", "ippools", "ipamblocks"] },
].map((rule) => ({ ...rule, verbs: ["get", "list", "watch"] }));

async function statusCode(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe("the remote cluster's RBAC (deploy/k8s/remote)", () => {
  it("has one ClusterRole whose rules are exactly those of calico.md §5", () => {
    const roles = ofKind(remote, "ClusterRole");
    expect(roles.map((r) => r.metadata.name)).toEqual(["fedview-remote"]);
    expect(roles[0]!["rules"]).toEqual(CALICO_REMOTE_RBAC);
    expect(ruleTriples(rulesOf(remote, "fedview", "fedview-remote"))).toEqual(ruleTriples(CALICO_REMOTE_RBAC));
  });

  it("grants list and watch on every resource the k8s connector reads from a remote, and no policy", () => {
    const granted = ruleTriples(rulesOf(remote, "fedview", "fedview-remote"));
    const read = resourceTypesFor(kindsFor("remote-a", true));
    expect(read.length).toBeGreaterThan(0);
    for (const type of read) {
      for (const verb of ["list", "watch"]) expect(granted).toContain(`${type.group || "core"}/${type.plural}:${verb}`);
    }
    const localOnly = resourceTypesFor(kindsFor("_local", false)).filter((t) => !read.includes(t));
    expect(localOnly.map((t) => t.plural)).toContain("globalnetworkpolicies");
    for (const type of localOnly)
      expect(granted.some((g) => g.startsWith(`${type.group || "core"}/${type.plural}:`))).toBe(false);
  });

  it("binds it to the ServiceAccount fedview/fedview-remote and to nothing else", () => {
    const bindings = [...ofKind(remote, "ClusterRoleBinding"), ...ofKind(remote, "RoleBinding")];
    expect(bindings).toHaveLength(1);
    expect(bindings[0]).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "fedview-remote" },
      subjects: [{ kind: "ServiceAccount", name: "fedview-remote", namespace: "fedview" }],
    });
    expect(find(remote, "ServiceAccount", "fedview-remote", "fedview")).toBeDefined();
    expect(ofKind(remote, "Role")).toEqual([]);
  });

  it("asks Kubernetes for a long-lived token of that ServiceAccount", () => {
    expect(find(remote, "Secret", "fedview-remote-token", "fedview")).toMatchObject({
      type: "kubernetes.io/service-account-token",
      metadata: { annotations: { "kubernetes.io/service-account.name": "fedview-remote" } },
    });
  });
});

describe("the local Role and ClusterRole of config-service (deploy/k8s/local)", () => {
  it("lets config-service read Secrets in its namespace only, manage RCCs and read what _local lists", () => {
    expect(ruleTriples(rulesOf(local, "fedview", "fedview-config-service"))).toEqual(
      [
        ...ruleTriples([
          { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
          {
            apiGroups: [CALICO],
            resources: ["remoteclusterconfigurations"],
            verbs: ["get", "list", "watch", "create", "update", "delete"],
          },
        ]),
        ...localReadTriples,
      ].sort(),
    );
    expect(
      rulesOf(local, "fedview", "fedview-config-service").find((r) => r.resources.includes("secrets")),
    ).toMatchObject({ namespaces: ["fedview"] });
  });

  it("grants, in a ClusterRole of its own, read access to exactly the resources the k8s-connector lists for _local", () => {
    expect(LOCAL_LIST.map((t) => t.plural)).toEqual(expect.arrayContaining(["pods", "globalnetworkpolicies"]));
    const role = find(local, "ClusterRole", LOCAL_READ_ROLE);
    expect(role).toBeDefined();
    expect(ruleTriples(role!["rules"] as Parameters<typeof ruleTriples>[0])).toEqual(localReadTriples);
    const bindings = ofKind(local, "ClusterRoleBinding").filter(
      (b) => (b["roleRef"] as { name: string }).name === LOCAL_READ_ROLE,
    );
    expect(bindings).toHaveLength(1);
    expect(bindings[0]).toMatchObject({
      metadata: { name: LOCAL_READ_ROLE },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: LOCAL_READ_ROLE },
      subjects: [{ kind: "ServiceAccount", name: "fedview-config-service", namespace: "fedview" }],
    });
    // Overlay-only kinds are not read for `_local`, so they are not granted.
    for (const type of resourceTypesFor(OVERLAY_KINDS)) {
      expect(localReadTriples.some((t) => t.startsWith(`${type.group || "core"}/${type.plural}:`))).toBe(false);
    }
  });

  it("grants nothing to the connectors and the query service", () => {
    for (const account of ["fedview-etcd-connector", "fedview-k8s-connector", "fedview-query-service"]) {
      expect(rulesOf(local, "fedview", account)).toEqual([]);
    }
  });
});

describe("the grants, enforced by a Kubernetes API server", () => {
  let server: KubeApiServer;

  beforeAll(async () => {
    server = await startKubeApiServer({ namespaces: ["default", "kube-system", "fedview"] });
    server.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", namespace: "default" },
      spec: { nodeName: "node1", containers: [{ name: "web", image: "nginx" }] },
    });
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  /** client-node as a ServiceAccount that has exactly the rules the manifests bind to it. */
  function clientFor(manifests: typeof local, namespace: string, name: string) {
    const user = server.addServiceAccountUser(namespace, name);
    server.grant(user.name, rulesOf(manifests, namespace, name));
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig({ user: user.name }));
    return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
  }

  it("let the remote ServiceAccount list what KDD reads, and nothing secret or writable", async () => {
    const { core, custom } = clientFor(remote, "fedview", "fedview-remote");
    const pods = await core.listPodForAllNamespaces();
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(["web-1"]);
    for (const call of [
      core.listNamespace(),
      core.listServiceAccountForAllNamespaces(),
      core.listNode(),
      core.listServiceForAllNamespaces(),
      core.listEndpointsForAllNamespaces(),
      custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "hostendpoints" }),
      custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "ippools" }),
      custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "ipamblocks" }),
    ]) {
      expect(await statusCode(call)).toBe(200);
    }
    expect(await statusCode(core.listSecretForAllNamespaces())).toBe(403);
    expect(await statusCode(core.listNamespacedSecret({ namespace: "fedview" }))).toBe(403);
    expect(
      await statusCode(
        core.createNamespacedPod({
          namespace: "default",
          body: { metadata: { name: "x" }, spec: { containers: [{ name: "x", image: "x" }] } },
        }),
      ),
    ).toBe(403);
    expect(
      await statusCode(
        custom.listClusterCustomObject({ group: CALICO, version: "v1", plural: "globalnetworkpolicies" }),
      ),
    ).toBe(403);
  });

  it("let config-service read access Secrets in fedview, not elsewhere, and manage RCCs", async () => {
    const { core, custom } = clientFor(local, "fedview", "fedview-config-service");
    expect(await statusCode(core.listNamespacedSecret({ namespace: "fedview" }))).toBe(200);
    expect(await statusCode(core.listNamespacedSecret({ namespace: "kube-system" }))).toBe(403);
    expect(await statusCode(core.listSecretForAllNamespaces())).toBe(403);
    const rcc = { group: CALICO, version: "v1", plural: "remoteclusterconfigurations" };
    const body = {
      apiVersion: `${CALICO}/v1`,
      kind: "RemoteClusterConfiguration",
      metadata: { name: "remote-a" },
      spec: { datastoreType: "etcdv3", etcdEndpoints: "http://10.0.0.1:2379" },
    };
    expect(await statusCode(custom.createClusterCustomObject({ ...rcc, body }))).toBe(200);
    expect(await statusCode(custom.listClusterCustomObject(rcc))).toBe(200);
    expect(await statusCode(custom.deleteClusterCustomObject({ ...rcc, name: "remote-a" }))).toBe(200);
    expect(await statusCode(core.listNode())).toBe(403);
  });

  it("let config-service list every resource the k8s-connector lists for _local, and write none of them", async () => {
    const { core, custom } = clientFor(local, "fedview", "fedview-config-service");
    const coreLists: Record<string, () => Promise<unknown>> = {
      namespaces: () => core.listNamespace(),
      serviceaccounts: () => core.listServiceAccountForAllNamespaces(),
      pods: () => core.listPodForAllNamespaces(),
    };
    for (const type of LOCAL_LIST) {
      const list =
        type.group === ""
          ? coreLists[type.plural]
          : () => custom.listClusterCustomObject({ group: type.group, version: type.version, plural: type.plural });
      if (list === undefined) throw new Error(`no list call for core/${type.plural}: add one here`);
      const code = await statusCode(list());
      // An optional type (tiers) may be absent from a cluster, as from this test server: 404, never 403.
      if (type.optional) expect([200, 404], type.plural).toContain(code);
      else expect(code, `${type.group || "core"}/${type.plural}`).toBe(200);
    }
    expect(
      await statusCode(
        core.createNamespacedPod({
          namespace: "default",
          body: { metadata: { name: "x" }, spec: { containers: [{ name: "x", image: "x" }] } },
        }),
      ),
    ).toBe(403);
    expect(
      await statusCode(
        custom.deleteClusterCustomObject({ group: CALICO, version: "v1", plural: "globalnetworkpolicies", name: "x" }),
      ),
    ).toBe(403);
  });
});
