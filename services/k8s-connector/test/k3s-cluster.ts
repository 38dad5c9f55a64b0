/**
 * K3s through testcontainers, for the conformance tests. Needs a Docker engine and the dev
 * dependency `@testcontainers/k3s`; it is imported only when a K3s test runs, so the package
 * typechecks and the other tests run without it.
 *
 * Pods are bound to a node that does not exist, so no kubelet ever touches their status: the tests
 * write it through `/status` as a kubelet would. Calico's host endpoint CRD is installed with an
 * open schema.
 */

import { type PolicyRule, uniqueName, waitFor } from "@fedview/testkit";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import type { KubernetesConnectionMaterial } from "../src/index.js";
import type { Ref, TestCluster } from "./clusters.js";

const K3S_IMAGE = "rancher/k3s:v1.31.2-k3s1";
const K3S_MODULE = "@testcontainers/k3s";

interface StartedK3s {
  getKubeConfig(): string;
  stop(): Promise<unknown>;
}

function apiVersionOf(ref: Ref): string {
  return typeof ref === "string" ? "v1" : `${ref.group}/${ref.version}`;
}

const KINDS: Record<string, string> = {
  namespaces: "Namespace",
  serviceaccounts: "ServiceAccount",
  pods: "Pod",
  nodes: "Node",
  hostendpoints: "HostEndpoint",
  ippools: "IPPool",
};

const CALICO_CRDS = [
  { plural: "hostendpoints", kind: "HostEndpoint" },
  { plural: "ippools", kind: "IPPool" },
];

async function installCalicoCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of CALICO_CRDS) {
    await api.createCustomResourceDefinition({
      body: {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${crd.plural}.crd.projectcalico.org` },
        spec: {
          group: "crd.projectcalico.org",
          scope: "Cluster",
          names: { plural: crd.plural, singular: crd.kind.toLowerCase(), kind: crd.kind, listKind: `${crd.kind}List` },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
  }
  await waitFor(
    async () => {
      for (const crd of CALICO_CRDS) {
        const got = await api.readCustomResourceDefinition({ name: `${crd.plural}.crd.projectcalico.org` });
        if (!got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return false;
      }
      return true;
    },
    { message: "Calico CRDs established" },
  );
}

/** Starts K3s and installs what the connector reads. */
export async function startK3sCluster(): Promise<TestCluster> {
  let mod: { K3sContainer: new (image: string) => { start(): Promise<StartedK3s> } };
  try {
    mod = (await import(/* @vite-ignore */ K3S_MODULE)) as typeof mod;
  } catch (err) {
    throw new Error(
      `a Docker engine answers but ${K3S_MODULE} is not installed: add it (and testcontainers) as dev dependencies of @fedview/k8s-connector to run the K3s tests`,
      { cause: err },
    );
  }
  const container = await new mod.K3sContainer(K3S_IMAGE).start();
  const kc = new KubeConfig();
  kc.loadFromString(container.getKubeConfig());
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const ca = Buffer.from(cluster.caData ?? "", "base64").toString("utf8");
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await installCalicoCrds(kc);

  const spec = (ref: Ref, object: object): KubernetesObject => ({ apiVersion: apiVersionOf(ref), ...object });

  const writeStatus = async (object: KubernetesObject & { status?: unknown }) => {
    if (object.kind !== "Pod" || object.status === undefined) return;
    const { name, namespace } = object.metadata ?? {};
    const current = await core.readNamespacedPodStatus({ name: name!, namespace: namespace! });
    await core.replaceNamespacedPodStatus({
      name: name!,
      namespace: namespace!,
      body: { ...current, status: object.status as never },
    });
  };

  return {
    name: "K3s",
    async create(ref, object) {
      const body = spec(ref, object);
      // A new namespace's ServiceAccount admission needs a moment before pods may be created in it.
      await waitFor(async () => {
        await objects.create(body);
        return true;
      });
      await writeStatus(body);
    },
    async update(ref, object) {
      const body = spec(ref, object) as KubernetesObject & { metadata: { name: string }; spec?: unknown };
      const current = await objects.read(body);
      // Labels replace the current ones (a merge patch removes a key set to null).
      const labels: Record<string, string | null> = { ...(body.metadata.labels ?? {}) };
      for (const key of Object.keys(current.metadata?.labels ?? {})) if (!(key in labels)) labels[key] = null;
      // A pod's spec is immutable after creation: only its labels and status change here.
      const patch = {
        apiVersion: body.apiVersion,
        kind: body.kind,
        metadata: { name: body.metadata.name, namespace: body.metadata.namespace, labels },
        ...(body.kind !== "Pod" && body.spec !== undefined ? { spec: body.spec } : {}),
      };
      await objects.patch(
        patch as KubernetesObject,
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      );
      await writeStatus(body);
    },
    async remove(ref, name, namespace) {
      const plural = typeof ref === "string" ? ref : ref.plural;
      const target = {
        apiVersion: apiVersionOf(ref),
        kind: KINDS[plural] ?? plural,
        metadata: { name, ...(namespace ? { namespace } : {}) },
      };
      // Grace period 0: gone at once, as on the test server (no kubelet will ever confirm it).
      await objects.delete(target, undefined, undefined, 0);
    },
    async tokenMaterial(rules: PolicyRule[]): Promise<KubernetesConnectionMaterial> {
      const name = uniqueName("fedview");
      await core.createNamespacedServiceAccount({ namespace: "kube-system", body: { metadata: { name } } });
      await rbac.createClusterRole({
        body: {
          metadata: { name },
          rules: rules.map((r) => ({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs })),
        },
      });
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
          subjects: [{ kind: "ServiceAccount", name, namespace: "kube-system" }],
        },
      });
      const token = await core.createNamespacedServiceAccountToken({
        name,
        namespace: "kube-system",
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      return { server: cluster.server, caCert: ca, token: token.status?.token ?? "" };
    },
    async certificateMaterial(): Promise<KubernetesConnectionMaterial> {
      return {
        server: cluster.server,
        caCert: ca,
        cert: Buffer.from(user.certData ?? "", "base64").toString("utf8"),
        key: Buffer.from(user.keyData ?? "", "base64").toString("utf8"),
      };
    },
    async [Symbol.asyncDispose]() {
      await container.stop();
    },
  };
}
