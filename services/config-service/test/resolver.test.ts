import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTlsMaterial, type KubeApiServer, startKubeApiServer, type TlsMaterial } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { fingerprintContent } from "../src/file-watcher.js";
import { createKubeConfig } from "../src/kube-client.js";
import { createKubeSecretSource, type SecretSource } from "../src/kube-secret-source.js";
import { resolveConnection } from "../src/resolver.js";

const SECRETS = { group: "", plural: "secrets" };

function rcc(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: "remote" }) {
  return { apiVersion: "projectcalico.org/v3", kind: "RemoteClusterConfiguration", metadata, spec };
}

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

describe("resolveConnection: every RCC validation rule becomes an error naming its field", () => {
  it.each([
    [
      "an invalid name",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379" }, { name: "Bad_Name" }),
      "metadata.name",
    ],
    [
      "a namespace",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379" }, { name: "remote", namespace: "default" }),
      "metadata.namespace",
    ],
    ["no datastoreType", rcc({ etcdEndpoints: "https://a:2379" }), "spec.datastoreType"],
    ["an unknown datastoreType", rcc({ datastoreType: "consul" }), "spec.datastoreType"],
    ["etcdv3 without etcdEndpoints", rcc({ datastoreType: "etcdv3" }), "spec.etcdEndpoints"],
    [
      "an etcd endpoint without scheme",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "10.0.0.1:2379" }),
      "spec.etcdEndpoints",
    ],
    [
      "an etcd endpoint with a path",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379/x" }),
      "spec.etcdEndpoints",
    ],
    [
      "a Kubernetes field on etcdv3",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", k8sAPIEndpoint: "https://k:6443" }),
      "spec.k8sAPIEndpoint",
    ],
    [
      "an etcd field on kubernetes",
      rcc({ datastoreType: "kubernetes", kubeconfig: "/k", etcdUsername: "u" }),
      "spec.etcdUsername",
    ],
    ["kubernetes without kubeconfig or endpoint", rcc({ datastoreType: "kubernetes" }), "spec.kubeconfig"],
    ["a bad k8sAPIEndpoint", rcc({ datastoreType: "kubernetes", k8sAPIEndpoint: "k8s:6443" }), "spec.k8sAPIEndpoint"],
    [
      "an etcd certificate without its key",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCertFile: "/c.pem" }),
      "spec.etcdCertFile",
    ],
    [
      "a Kubernetes key without its certificate",
      rcc({ datastoreType: "kubernetes", k8sAPIEndpoint: "https://k:6443", k8sKeyFile: "/k.pem" }),
      "spec.k8sKeyFile",
    ],
    [
      "file contents where a path belongs",
      rcc({
        datastoreType: "etcdv3",
        etcdEndpoints: "https://a:2379",
        etcdCACertFile: "-----BEGIN CERTIFICATE-----\nx",
      }),
      "spec.etcdCACertFile",
    ],
    [
      "clusterAccessSecret with a connection field",
      rcc({ clusterAccessSecret: { kind: "Secret", name: "s", namespace: "ns" }, etcdEndpoints: "https://a:2379" }),
      "spec.etcdEndpoints",
    ],
    [
      "clusterAccessSecret with datastoreType",
      rcc({ clusterAccessSecret: { kind: "Secret", name: "s", namespace: "ns" }, datastoreType: "etcdv3" }),
      "spec.datastoreType",
    ],
    [
      "clusterAccessSecret of another kind",
      rcc({ clusterAccessSecret: { kind: "ConfigMap", name: "s", namespace: "ns" } }),
      "spec.clusterAccessSecret.kind",
    ],
    [
      "clusterAccessSecret without a name",
      rcc({ clusterAccessSecret: { kind: "Secret", namespace: "ns" } }),
      "spec.clusterAccessSecret.name",
    ],
    [
      "clusterAccessSecret without a namespace",
      rcc({ clusterAccessSecret: { kind: "Secret", name: "s" } }),
      "spec.clusterAccessSecret.namespace",
    ],
    [
      "an unknown overlayRoutingMode",
      rcc({
        datastoreType: "etcdv3",
        etcdEndpoints: "https://a:2379",
        syncOptions: { overlayRoutingMode: "Sometimes" },
      }),
      "spec.syncOptions.overlayRoutingMode",
    ],
    [
      "a bad staleDataExpiry",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", syncOptions: { staleDataExpiry: "soon" } }),
      "spec.syncOptions.staleDataExpiry",
    ],
    ["a wrong kind", { ...rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379" }), kind: "Pod" }, "kind"],
    ["not an object", "datastoreType: etcdv3", "expected a RemoteClusterConfiguration"],
  ])("%s", async (_what, input, field) => {
    const result = await resolveConnection(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.startsWith(field) || result.error.includes(`; ${field}`)).toBe(true);
  });

  it("reports every issue of an RCC at once", async () => {
    const result = await resolveConnection(
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "nope", k8sAPIToken: "t" }, { name: "UPPER" }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("metadata.name:");
    expect(result.error).toContain("spec.etcdEndpoints:");
    expect(result.error).toContain("spec.k8sAPIToken:");
    expect(result.datastoreType).toBe("etcdv3");
  });
});

describe("resolveConnection: files", () => {
  let dir: string;
  let tls: TlsMaterial;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fedview-resolve-"));
    tls = await createTlsMaterial("remote-reader");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(tls.authority.dir, { recursive: true, force: true });
  });

  it("reads an etcd RCC's certificate and key files into contents, secrets apart from clear settings", async () => {
    const result = await resolveConnection(
      rcc({
        datastoreType: "etcdv3",
        etcdEndpoints: "https://10.0.0.1:2379, https://10.0.0.2:2379",
        etcdUsername: "reader",
        etcdPassword: "hunter2",
        etcdCertFile: tls.client.certFile,
        etcdKeyFile: tls.client.keyFile,
        etcdCACertFile: tls.caFile,
        syncOptions: { overlayRoutingMode: "Enabled", staleDataExpiry: "10m" },
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.connection).toEqual({
      datastoreType: "etcdv3",
      spec: {
        etcdEndpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
        overlayRoutingMode: "Enabled",
        staleDataExpiry: "10m",
      },
      secrets: {
        etcdUsername: "reader",
        etcdPassword: "hunter2",
        etcdCert: tls.client.cert,
        etcdKey: tls.client.key,
        etcdCACert: tls.ca,
      },
    });
    expect(result.dependencies.files.get(tls.client.keyFile)).toBe(fingerprintContent(tls.client.key));
    expect([...result.dependencies.files.keys()].sort()).toEqual(
      [tls.client.certFile, tls.client.keyFile, tls.caFile].sort(),
    );
  });

  it("names the field and the reason of a missing, unreadable or empty file, and still watches it", async () => {
    const empty = join(dir, "empty.pem");
    await writeFile(empty, "  \n");
    const locked = join(dir, "locked.pem");
    await writeFile(locked, "key");
    await chmod(locked, 0o000);
    const missing = join(dir, "missing.pem");
    const result = await resolveConnection(
      rcc({
        datastoreType: "etcdv3",
        etcdEndpoints: "https://a:2379",
        etcdCertFile: missing,
        etcdKeyFile: locked,
        etcdCACertFile: empty,
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain(`spec.etcdCertFile: cannot read ${missing}: ENOENT`);
    expect(result.error).toContain(`spec.etcdCACertFile: ${empty} is empty`);
    // root reads anything; elsewhere the locked file is refused.
    if (process.getuid?.() !== 0) expect(result.error).toContain(`spec.etcdKeyFile: cannot read ${locked}: EACCES`);
    expect(result.datastoreType).toBe("etcdv3");
    expect(result.dependencies.files.get(missing)).toBe("missing:ENOENT");
  });

  it("makes a kubeconfig self-contained: its current context only, with referenced files inlined", async () => {
    await writeFile(join(dir, "token"), "sa-token\n");
    const kubeconfigPath = join(dir, "remote.kubeconfig");
    await writeFile(
      kubeconfigPath,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: remote",
        `  cluster: {server: 'https://10.0.0.9:6443', certificate-authority: ${JSON.stringify(tls.caFile)}}`,
        "- name: other",
        "  cluster: {server: 'https://other:6443'}",
        "users:",
        "- name: reader",
        "  user: {tokenFile: token, client-certificate: " +
          JSON.stringify(tls.client.certFile) +
          ", client-key: " +
          JSON.stringify(tls.client.keyFile) +
          "}",
        "- name: admin",
        "  user: {token: admin-token}",
        "contexts:",
        "- name: remote",
        "  context: {cluster: remote, user: reader}",
        "- name: other",
        "  context: {cluster: other, user: admin}",
        "current-context: remote",
      ].join("\n"),
    );
    const result = await resolveConnection(
      rcc({ datastoreType: "kubernetes", kubeconfig: kubeconfigPath, k8sAPIToken: "override-token" }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.connection.secrets.k8sAPIToken).toBe("override-token");
    const inlined = parseYaml(result.connection.secrets.kubeconfig ?? "") as {
      clusters: { name: string; cluster: Record<string, string> }[];
      users: { name: string; user: Record<string, string> }[];
      "current-context": string;
    };
    expect(inlined.clusters).toEqual([
      { name: "remote", cluster: { server: "https://10.0.0.9:6443", "certificate-authority-data": b64(tls.ca) } },
    ]);
    expect(inlined.users).toEqual([
      {
        name: "reader",
        user: {
          token: "sa-token",
          "client-certificate-data": b64(tls.client.cert),
          "client-key-data": b64(tls.client.key),
        },
      },
    ]);
    expect(inlined["current-context"]).toBe("remote");
    expect(result.connection.secrets.kubeconfig).not.toContain("admin-token");
    expect([...result.dependencies.files.keys()]).toEqual(
      expect.arrayContaining([kubeconfigPath, join(dir, "token"), tls.caFile, tls.client.certFile, tls.client.keyFile]),
    );
  });

  it("reads the individual Kubernetes TLS files and keeps the API endpoint in clear", async () => {
    const result = await resolveConnection(
      rcc({
        datastoreType: "kubernetes",
        k8sAPIEndpoint: "https://10.0.0.9:6443",
        k8sCertFile: tls.client.certFile,
        k8sKeyFile: tls.client.keyFile,
        k8sCAFile: tls.caFile,
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.connection.spec).toEqual({ k8sAPIEndpoint: "https://10.0.0.9:6443", overlayRoutingMode: "Disabled" });
    expect(result.connection.secrets).toEqual({ k8sCert: tls.client.cert, k8sKey: tls.client.key, k8sCACert: tls.ca });
  });

  it("names the kubeconfig field when a file the kubeconfig references is missing", async () => {
    const kubeconfigPath = join(dir, "broken.kubeconfig");
    await writeFile(
      kubeconfigPath,
      "clusters: [{name: c, cluster: {server: 'https://k:6443', certificate-authority: nope.crt}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
    );
    const result = await resolveConnection(rcc({ datastoreType: "kubernetes", kubeconfig: kubeconfigPath }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("spec.kubeconfig (cluster.certificate-authority of");
    expect(result.error).toContain(`cannot read ${join(dir, "nope.crt")}: ENOENT`);
    expect(result.dependencies.files.has(join(dir, "nope.crt"))).toBe(true);
  });
});

describe("resolveConnection: clusterAccessSecret", () => {
  let server: KubeApiServer;
  let secrets: SecretSource;
  beforeAll(async () => {
    server = await startKubeApiServer({ namespaces: ["default", "calico-system"] });
    secrets = createKubeSecretSource({
      kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig() }),
    });
  });
  afterAll(async () => {
    await secrets?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  const ref = (name: string) => ({ clusterAccessSecret: { kind: "Secret", name, namespace: "calico-system" } });

  it("takes an etcd cluster's connection from the Secret's data keys, as contents", async () => {
    const tls = await createTlsMaterial("from-secret");
    server.create(SECRETS, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "etcd-access", namespace: "calico-system" },
      data: {
        datastoreType: b64("etcdv3\n"),
        etcdEndpoints: b64("https://10.1.0.1:2379"),
        etcdUsername: b64("fed"),
        etcdPassword: b64("s3cret-pw"),
        etcdCert: b64(tls.client.cert),
        etcdKey: b64(tls.client.key),
        etcdCACert: b64(tls.ca),
      },
    });
    const result = await resolveConnection(
      rcc({ ...ref("etcd-access"), syncOptions: { overlayRoutingMode: "Enabled" } }),
      {
        secrets,
      },
    );
    await rm(tls.authority.dir, { recursive: true, force: true });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.connection).toEqual({
      datastoreType: "etcdv3",
      spec: { etcdEndpoints: ["https://10.1.0.1:2379"], overlayRoutingMode: "Enabled" },
      secrets: {
        etcdUsername: "fed",
        etcdPassword: "s3cret-pw",
        etcdCert: tls.client.cert,
        etcdKey: tls.client.key,
        etcdCACert: tls.ca,
      },
    });
    expect(result.dependencies.secrets).toEqual([{ namespace: "calico-system", name: "etcd-access" }]);
  });

  it("takes a Kubernetes cluster's kubeconfig from the Secret", async () => {
    const kubeconfig = server.kubeconfig({ server: "https://10.2.0.1:6443" });
    server.create(SECRETS, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "k8s-access", namespace: "calico-system" },
      data: { datastoreType: b64("kubernetes"), kubeconfig: b64(kubeconfig) },
    });
    const result = await resolveConnection(rcc(ref("k8s-access")), { secrets });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.connection.datastoreType).toBe("kubernetes");
    expect(result.connection.secrets).toEqual({ kubeconfig });
  });

  it("names clusterAccessSecret when the Secret is missing", async () => {
    const result = await resolveConnection(rcc(ref("absent")), { secrets });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBe(
      "spec.clusterAccessSecret: Secret calico-system/absent not found; create it or fix the reference",
    );
    expect(result.dependencies.secrets).toEqual([{ namespace: "calico-system", name: "absent" }]);
  });

  it("names clusterAccessSecret and each bad data key of an invalid Secret", async () => {
    server.create(SECRETS, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bad-access", namespace: "calico-system" },
      data: { datastoreType: b64("etcdv3"), etcdCertFile: b64("/etc/cert.pem") },
    });
    const result = await resolveConnection(rcc(ref("bad-access")), { secrets });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("spec.clusterAccessSecret: Secret calico-system/bad-access: data.etcdCertFile:");
    expect(result.error).toContain("spec.clusterAccessSecret: Secret calico-system/bad-access: data.etcdEndpoints:");
  });

  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const kubeconfigText = "apiVersion: v1\nclusters:\n- name: c\n  cluster: {server: 'https://k:6443'}\n";
  it.each([
    ["no datastoreType", { etcdEndpoints: "https://a:2379" }, "datastoreType"],
    ["an unknown datastoreType", { datastoreType: "consul" }, "datastoreType"],
    ["etcdv3 without etcdEndpoints", { datastoreType: "etcdv3" }, "etcdEndpoints"],
    ["a bad etcd endpoint", { datastoreType: "etcdv3", etcdEndpoints: "a:2379" }, "etcdEndpoints"],
    [
      "a path-style key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCertFile: "/c.pem" },
      "etcdCertFile",
    ],
    [
      "a misspelled key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdpassword: "x" },
      "etcdpassword",
    ],
    ["a Kubernetes key", { datastoreType: "kubernetes", kubeconfig: kubeconfigText, k8sAPIToken: "t" }, "k8sAPIToken"],
    ["kubernetes without kubeconfig", { datastoreType: "kubernetes" }, "kubeconfig"],
    ["a kubeconfig path", { datastoreType: "kubernetes", kubeconfig: "/root/.kube/config" }, "kubeconfig"],
    [
      "an etcd key on kubernetes",
      { datastoreType: "kubernetes", kubeconfig: kubeconfigText, etcdUsername: "u" },
      "etcdUsername",
    ],
    [
      "a key that is not PEM",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCert: pem, etcdKey: "nope" },
      "etcdKey",
    ],
    [
      "a certificate without its key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCert: pem },
      "etcdCert",
    ],
    [
      "a kubeconfig on etcdv3",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", kubeconfig: kubeconfigText },
      "kubeconfig",
    ],
  ])("names the Secret's data key for %s", async (_what, data, field) => {
    const name = `rule-${Math.random().toString(36).slice(2, 10)}`;
    server.create(SECRETS, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: "calico-system" },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    });
    const result = await resolveConnection(rcc(ref(name)), { secrets });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain(`spec.clusterAccessSecret: Secret calico-system/${name}: data.${field}: `);
  });

  it("names clusterAccessSecret with the API server's reason when reading is forbidden", async () => {
    const user = server.addTokenUser("no-secrets");
    const forbidden = createKubeSecretSource({
      kubeConfig: createKubeConfig({ kubeconfig: await server.writeKubeconfig({ user: user.name }) }),
    });
    try {
      const result = await resolveConnection(rcc(ref("etcd-access")), { secrets: forbidden });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toMatch(
        /^spec\.clusterAccessSecret: cannot read Secret calico-system\/etcd-access: .*forbidden/i,
      );
    } finally {
      await forbidden[Symbol.asyncDispose]();
    }
  });

  it("explains that Secrets need a Kubernetes API when none is configured", async () => {
    const result = await resolveConnection(rcc(ref("etcd-access")));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^spec\.clusterAccessSecret: cannot read Secret .*set KUBECONFIG or K8S_API_ENDPOINT/);
  });
});
