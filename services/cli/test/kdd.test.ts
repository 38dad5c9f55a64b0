/**
 * In-process mode on a Kubernetes local datastore (`DATASTORE_TYPE=kubernetes`, `KUBECONFIG`), as
 * calicoq runs against a KDD cluster: pods, namespaces and service accounts on testkit's Kubernetes API
 * server, Calico host endpoints, tiers and policies as CRDs, and RCC CRDs naming a remote etcd and a
 * remote Kubernetes API server. The answers equal the golden view's for every query that neither
 * relies on etcd-only data (the KDD datastore has no `hep-base` profile) nor sees the extra remote.
 */
import { type CalicoResource, toCrdResource } from "@fedview/model";
import { type EtcdServer, type KubeApiServer, startEtcd, startKubeApiServer } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { putResources, rcc } from "./federation.js";
import {
  eastResources,
  kubePod,
  LOCAL_NAMESPACES,
  LOCAL_PODS,
  LOCAL_SERVICE_ACCOUNTS,
  localCalicoResources,
} from "./fixtures.js";
import { Capture, type CliRun, runOn } from "./harness.js";

const CALICO_GROUP = "crd.projectcalico.org";
const PLURALS: Record<string, string> = {
  HostEndpoint: "hostendpoints",
  NetworkPolicy: "networkpolicies",
  GlobalNetworkPolicy: "globalnetworkpolicies",
  Tier: "tiers",
  RemoteClusterConfiguration: "remoteclusterconfigurations",
};

let kube: KubeApiServer;
let north: KubeApiServer;
let east: EtcdServer;
let kubeconfig: string;

function createCrd(resource: CalicoResource): void {
  const plural = PLURALS[resource.kind];
  if (plural === undefined) throw new Error(`no CRD for ${resource.kind}`);
  kube.create({ group: CALICO_GROUP, version: "v1", plural }, toCrdResource(resource));
}

beforeAll(async () => {
  kube = await startKubeApiServer();
  east = await startEtcd();
  await putResources(east, eastResources());
  kube.registerResource({ group: CALICO_GROUP, version: "v1", plural: "tiers", kind: "Tier", namespaced: false });
  for (const [name, labels] of LOCAL_NAMESPACES) {
    kube.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
  }
  for (const [namespace, name, labels] of LOCAL_SERVICE_ACCOUNTS) {
    kube.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels } });
  }
  for (const spec of LOCAL_PODS) kube.create("pods", kubePod(spec));
  for (const resource of localCalicoResources()) createCrd(resource);
  createCrd(rcc("east", east.url));
  // A remote Kubernetes cluster, reached through the kubeconfig file its RCC names.
  north = await startKubeApiServer();
  north.create("namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "web", labels: { env: "production" } },
  });
  north.create("pods", kubePod({ ns: "web", name: "web-n1", node: "node-n", labels: { app: "api" }, ip: "10.3.0.5" }));
  createCrd({
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name: "north" },
    spec: { datastoreType: "kubernetes", kubeconfig: await north.writeKubeconfig() },
  } as CalicoResource);
  kubeconfig = await kube.writeKubeconfig();
});

afterAll(async () => {
  await north?.[Symbol.asyncDispose]();
  await east?.[Symbol.asyncDispose]();
  await kube?.[Symbol.asyncDispose]();
});

async function kdd(argv: string[]): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(["-c", "/absent", ...argv], {
    invokedAs: "calicoq",
    stdout,
    stderr,
    env: { DATASTORE_TYPE: "kubernetes", KUBECONFIG: kubeconfig },
    cwd: "/",
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe("in-process on a Kubernetes datastore", () => {
  it.each([
    [["eval", "projectcalico.org/serviceaccount == 'api'", "-o", "json"]],
    [["policy", "prod/default.allow-api"]],
    [["policy", "security.block-external", "-r", "-o", "json"]],
    [["endpoint", "api-5f9", "-o", "yaml"]],
    [["host", "east/node-a", "-s"]],
  ])("%j equals the golden output", async (argv) => {
    const [run, golden] = await Promise.all([kdd(argv), runOn(argv)]);
    expect(run).toEqual(golden);
    expect(run.code).toBe(0);
  });

  it("lists remote clusters of both datastore types: east (etcd) and north (Kubernetes)", async () => {
    const run = await kdd(["eval", 'app == "api"']);
    expect(run).toEqual({
      code: 0,
      stdout: `Endpoints matching selector app == "api":
  Workload endpoint east/node-a/k8s/prod.api-e1/eth0
  Workload endpoint node-1/k8s/prod.api-5f9/eth0
  Workload endpoint node-2/k8s/dev.api-6c1/eth0
  Workload endpoint north/node-n/k8s/web.web-n1/eth0
`,
      stderr: "",
    });
    const inherited = await kdd(["eval", "pcns.env == 'production'", "-o", "yaml"]);
    expect(inherited.stdout).toContain(
      "  - name: eth0\n    node: north/node-n\n    orchestrator: k8s\n    remote_cluster: north\n    workload: web/web-n1\n",
    );
  });

  it("reads the RCCs from the CRD and reports a remote that is down", async () => {
    createCrd(rcc("west", "http://127.0.0.1:1"));
    try {
      const run = await kdd(["eval", "app == 'db'"]);
      expect(run.stdout).toBe(
        "Endpoints matching selector app == 'db':\n  Workload endpoint node-2/k8s/prod.db-0/eth0\n",
      );
      expect(run.stderr).toMatch(
        /^The following problems .*\n.*\n- {2}RemoteClusterConfiguration\(west\): connection to remote cluster failed: /,
      );
      expect(run.code).toBe(1);
    } finally {
      kube.delete({ group: CALICO_GROUP, version: "v1", plural: "remoteclusterconfigurations" }, "west");
    }
  });

  it("a kubeconfig pointing nowhere is a clear error", async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const nowhere = await kube.writeKubeconfig({ server: "https://127.0.0.1:1", path: `${kubeconfig}.nowhere` });
    const code = await runCli(["--sync-timeout", "5s", "-c", "/absent", "eval", "all()"], {
      invokedAs: "calicoq",
      stdout,
      stderr,
      env: { DATASTORE_TYPE: "kubernetes", KUBECONFIG: nowhere },
      cwd: "/",
    });
    expect(code).toBe(1);
    expect(stdout.text).toBe("");
    expect(stderr.text).toMatch(/^cannot read RemoteClusterConfigurations from the local datastore \(kubernetes /);
  });
});
