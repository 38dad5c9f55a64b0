/**
 * `cluster-west`, the demo's Kubernetes remote: the Kubernetes API test server (no kube-apiserver can
 * be installed here) serving namespaces, service accounts, nodes, pods and a Calico HostEndpoint CRD.
 * The local cluster is given a kubeconfig for a dedicated ServiceAccount token, granted exactly the
 * read-only RBAC a remote grants Calico's federation (calico.md §5) — nothing else, no Secrets.
 *
 * The test server keeps objects in memory: every start recreates the same objects (same names, UIDs and
 * labels), and the ServiceAccount token is kept in the state dir, so the RCC's Secret stays valid.
 */

import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { toCrdResource } from "@fedview/model";
import { type KubeApiServer, type PolicyRule, startKubeApiServer } from "@fedview/testkit";
import {
  hostEndpointOf,
  namespaceObject,
  nodeObject,
  podObject,
  serviceAccountObject,
  WEST_CLUSTER,
  WEST_DEMO,
  WEST_REMOTE_ACCOUNT,
} from "./demo-data.js";
import { keptSecret } from "./state-dir.js";

/** The ClusterRole a remote grants the local cluster's connectors (calico.md §5): read-only, no Secrets. */
export const REMOTE_READER_RULES: PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["namespaces", "serviceaccounts", "pods", "nodes", "services", "endpoints"],
    verbs: ["get", "list", "watch"],
  },
  {
    apiGroups: ["crd.projectcalico.org"],
    resources: ["hostendpoints", "ippools", "ipamblocks"],
    verbs: ["get", "list", "watch"],
  },
];

/** The running `cluster-west`. */
export interface WestDemo extends AsyncDisposable {
  readonly kube: KubeApiServer;
  /** A kubeconfig for the `fedview/fedview-remote` ServiceAccount: what the clusterAccessSecret holds. */
  readonly kubeconfig: string;
}

/** Starts `cluster-west` on `port` and creates its objects; the token is kept in `dir`. */
export async function startWestDemo(options: { dir: string; port: number }): Promise<WestDemo> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const token = await keptSecret(join(options.dir, "fedview-remote.token"), () => randomBytes(32).toString("hex"));
  const kube = await startKubeApiServer({ port: options.port, clusterName: WEST_CLUSTER, namespaces: [] });
  try {
    for (const node of WEST_DEMO.nodes) kube.create("nodes", nodeObject(WEST_CLUSTER, node));
    for (const ns of WEST_DEMO.namespaces) kube.create("namespaces", namespaceObject(WEST_CLUSTER, ns));
    for (const sa of WEST_DEMO.serviceAccounts) kube.create("serviceaccounts", serviceAccountObject(WEST_CLUSTER, sa));
    for (const pod of WEST_DEMO.pods) kube.create("pods", podObject(WEST_CLUSTER, pod));
    for (const hep of WEST_DEMO.hostEndpoints) {
      kube.create({ group: "crd.projectcalico.org", plural: "hostendpoints" }, toCrdResource(hostEndpointOf(hep)));
    }
    const user = kube.addServiceAccountUser(WEST_REMOTE_ACCOUNT.namespace, WEST_REMOTE_ACCOUNT.name, token);
    kube.grant(user.name, REMOTE_READER_RULES);
    const kubeconfig = kube.kubeconfig({ user: user.name, clusterName: WEST_CLUSTER });
    return { kube, kubeconfig, [Symbol.asyncDispose]: () => kube[Symbol.asyncDispose]() };
  } catch (err) {
    await kube[Symbol.asyncDispose]();
    throw err;
  }
}
