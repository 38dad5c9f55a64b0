/** The client configuration built from connection material: overrides, and material that cannot work. */

import type { ClusterConnection } from "@fedview/sync";
import { createCertificateAuthority } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  buildKubeConfig,
  KubeConfigError,
  type KubernetesConnectionMaterial,
  kubernetesMaterialFromConnection,
  rbacMessage,
} from "../src/index.js";

let ca: Awaited<ReturnType<typeof createCertificateAuthority>>;
let client: { cert: string; key: string };
let other: { cert: string; key: string };

beforeAll(async () => {
  ca = await createCertificateAuthority("client-test-ca");
  client = await ca.issue("fedview");
  other = await ca.issue("someone-else");
});
afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await rm(ca.dir, { recursive: true, force: true });
});

function kubeconfig(user: Record<string, unknown>, server = "https://kube.example:6443"): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "ctx",
    clusters: [{ name: "c", cluster: { server, "certificate-authority-data": Buffer.from(ca.ca).toString("base64") } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
  });
}

describe("buildKubeConfig", () => {
  it("uses the kubeconfig's current context as it is without overrides", () => {
    const config = buildKubeConfig({ kubeconfig: kubeconfig({ token: "from-file" }) });
    expect(config.getCurrentCluster()?.server).toBe("https://kube.example:6443");
    expect(config.getCurrentUser()?.token).toBe("from-file");
  });

  it("lets each individual field override its counterpart in the kubeconfig", () => {
    const config = buildKubeConfig({
      kubeconfig: kubeconfig({ token: "from-file" }),
      server: "https://10.0.0.1:6443",
      token: "from-field",
    });
    expect(config.getCurrentCluster()).toMatchObject({
      server: "https://10.0.0.1:6443",
      caData: Buffer.from(ca.ca).toString("base64"),
    });
    expect(config.getCurrentUser()?.token).toBe("from-field");
  });

  it("replaces the kubeconfig's client certificate with the fields' pair", () => {
    const config = buildKubeConfig({
      kubeconfig: kubeconfig({
        "client-certificate-data": Buffer.from(other.cert).toString("base64"),
        "client-key-data": Buffer.from(other.key).toString("base64"),
      }),
      cert: client.cert,
      key: client.key,
    });
    expect(config.getCurrentUser()).toMatchObject({
      certData: Buffer.from(client.cert).toString("base64"),
      keyData: Buffer.from(client.key).toString("base64"),
    });
  });

  it.each([
    ["nothing at all", {}, "no Kubernetes API server: set k8sAPIEndpoint or a kubeconfig with a current context"],
    ["a kubeconfig that is not YAML", { kubeconfig: "{{{" }, /^the kubeconfig cannot be read: /],
    [
      "a kubeconfig without current context",
      { kubeconfig: stringify({ apiVersion: "v1", kind: "Config", clusters: [] }) },
      "the kubeconfig has no current-context",
    ],
    [
      "a URL without scheme",
      { server: "kube.example:6443" },
      'the API server URL "kube.example:6443" must start with https://',
    ],
    [
      "a certificate without key",
      () => ({ server: "https://k:6443", cert: client.cert }),
      /needs both k8sCert and k8sKey/,
    ],
    [
      "a key that is not the certificate's",
      () => ({ server: "https://k:6443", cert: client.cert, key: other.key }),
      "the client key (k8sKey) does not belong to the client certificate (k8sCert)",
    ],
    [
      "a CA that is not PEM",
      { server: "https://k:6443", caCert: "nope" },
      /^the CA certificate \(k8sCACert\) is not a PEM certificate/,
    ],
  ] as [string, KubernetesConnectionMaterial | (() => KubernetesConnectionMaterial), string | RegExp][])(
    "refuses %s with a KubeConfigError naming the field",
    (_name, material, message) => {
      const m = typeof material === "function" ? material() : material;
      expect(() => buildKubeConfig(m)).toThrow(KubeConfigError);
      expect(() => buildKubeConfig(m)).toThrow(message);
    },
  );

  it("never quotes the kubeconfig in its error", () => {
    const secret = "token: super-secret-value\n  bad: [";
    expect(() => buildKubeConfig({ kubeconfig: secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("super-secret-value") }),
    );
  });
});

describe("kubernetesMaterialFromConnection", () => {
  const connection = (spec: Record<string, unknown>, secrets: Record<string, string>): ClusterConnection => ({
    cluster: "east",
    generation: 1,
    datastoreType: "kubernetes",
    spec,
    secrets,
  });

  it("reads spec and opened secrets, the secrets winning", () => {
    expect(
      kubernetesMaterialFromConnection(
        connection(
          {
            k8sAPIEndpoint: "https://k:6443",
            k8sInsecureSkipTLSVerify: true,
            overlayRoutingMode: "Enabled",
            k8sCACert: "a",
          },
          { k8sAPIToken: "t", k8sCACert: "b", kubeconfig: "k" },
        ),
      ),
    ).toEqual({
      material: { kubeconfig: "k", server: "https://k:6443", token: "t", caCert: "b", insecureSkipTLSVerify: true },
      overlayRouting: true,
    });
  });

  it("refuses a config with neither kubeconfig nor endpoint", () => {
    expect(() => kubernetesMaterialFromConnection(connection({}, { k8sAPIToken: "t" }))).toThrow(
      "the Kubernetes connection config has neither a kubeconfig nor k8sAPIEndpoint",
    );
  });
});

describe("rbacMessage", () => {
  it.each([
    [
      "east",
      "list",
      { plural: "pods", group: "" },
      `RBAC: the remote cluster's credentials cannot list pods (API group "") at the cluster scope — add get/list/watch on "pods" to the ClusterRole bound to fedview's ServiceAccount`,
    ],
    [
      "_local",
      "watch",
      { plural: "ippools", group: "crd.projectcalico.org" },
      `RBAC: the local cluster's credentials cannot watch ippools (API group "crd.projectcalico.org") at the cluster scope — add get/list/watch on "ippools" in API group "crd.projectcalico.org" to the ClusterRole bound to fedview's ServiceAccount`,
    ],
  ])("%s %s %o", (cluster, verb, type, message) => {
    expect(rbacMessage(cluster, verb, type)).toBe(message);
  });
});
