import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type LocalResolverOptions, resolveLocalConnection } from "../src/local-cluster.js";

const CA = "-----BEGIN CERTIFICATE-----\nLOCALCA\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nLOCALCERT\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nLOCALKEY\n-----END PRIVATE KEY-----\n";

describe("resolveLocalConnection", () => {
  let dir: string;
  /** Options under which no default kubeconfig or service account exists. */
  let bare: LocalResolverOptions;
  const path = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fedview-local-"));
    await Promise.all([
      writeFile(path("ca.pem"), CA),
      writeFile(path("cert.pem"), CERT),
      writeFile(path("key.pem"), KEY),
      mkdir(path("empty-home")),
      mkdir(path("home/.kube"), { recursive: true }),
    ]);
    await writeFile(
      path("home/.kube/config"),
      "current-context: x\ncontexts: [{name: x, context: {cluster: x, user: x}}]\nclusters: [{name: x, cluster: {server: 'https://home:6443'}}]\nusers: [{name: x, user: {token: home-token}}]\n",
    );
    bare = { homeDir: path("empty-home"), serviceAccountDir: path("no-service-account"), env: {} };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives an etcd datastore's endpoints in clear and its credentials and TLS file contents as secrets", async () => {
    const resolution = await resolveLocalConnection({
      datastoreType: "etcdv3",
      etcd: {
        endpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
        username: "calico",
        password: "pw",
        caCertFile: path("ca.pem"),
        certFile: path("cert.pem"),
        keyFile: path("key.pem"),
      },
    });
    expect(resolution.ok).toBe(true);
    if (!resolution.ok) return;
    expect(resolution.connection).toEqual({
      datastoreType: "etcdv3",
      spec: { etcdEndpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"] },
      secrets: { etcdUsername: "calico", etcdPassword: "pw", etcdCACert: CA, etcdCert: CERT, etcdKey: KEY },
    });
    expect([...resolution.dependencies.files.keys()].sort()).toEqual(
      [path("ca.pem"), path("cert.pem"), path("key.pem")].sort(),
    );
  });

  it("gives a plain etcd datastore nothing to seal", async () => {
    const resolution = await resolveLocalConnection({
      datastoreType: "etcdv3",
      etcd: { endpoints: ["http://127.0.0.1:2379"] },
    });
    expect(resolution).toMatchObject({
      ok: true,
      connection: { datastoreType: "etcdv3", spec: { etcdEndpoints: ["http://127.0.0.1:2379"] }, secrets: {} },
    });
  });

  it.each([
    [
      "an unreadable etcd CA file",
      { datastoreType: "etcdv3" as const, etcd: { endpoints: ["https://e:2379"], caCertFile: "/nonexistent/ca.pem" } },
      "ETCD_CA_CERT_FILE: cannot read /nonexistent/ca.pem: ENOENT (no such file)",
    ],
    [
      "no etcd endpoint",
      { datastoreType: "etcdv3" as const, etcd: { endpoints: [] } },
      "ETCD_ENDPOINTS: names no endpoint",
    ],
    [
      "an unreadable K8S_CA_FILE",
      {
        datastoreType: "kubernetes" as const,
        kubernetes: { apiEndpoint: "https://10.0.0.1:6443", caFile: "/nonexistent/k8s-ca.pem" },
      },
      "K8S_CA_FILE: cannot read /nonexistent/k8s-ca.pem: ENOENT (no such file)",
    ],
    [
      "no way to reach the Kubernetes API",
      { datastoreType: "kubernetes" as const, kubernetes: {} },
      "KUBECONFIG: no Kubernetes API for the local cluster: set KUBECONFIG or K8S_API_ENDPOINT, or run in a pod with a service account",
    ],
  ])("reports %s as invalid, naming the variable", async (_what, settings, error) => {
    const resolution = await resolveLocalConnection(settings, bare);
    expect(resolution).toMatchObject({ ok: false, datastoreType: settings.datastoreType, error });
  });

  it("inlines KUBECONFIG's current context with the files it references", async () => {
    const kubeconfig = path("kubeconfig");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: local",
        "contexts: [{name: local, context: {cluster: c, user: u}}, {name: other, context: {cluster: c, user: u}}]",
        "clusters: [{name: c, cluster: {server: 'https://10.0.0.1:6443', certificate-authority: ca.pem}}]",
        "users: [{name: u, user: {token: local-token}}]",
      ].join("\n"),
    );
    const resolution = await resolveLocalConnection(
      { datastoreType: "kubernetes", kubernetes: { kubeconfig: `${kubeconfig}:/ignored` } },
      bare,
    );
    expect(resolution.ok).toBe(true);
    if (!resolution.ok) return;
    expect(resolution.connection.spec).toEqual({});
    const inlined = parse(resolution.connection.secrets.kubeconfig ?? "");
    expect(inlined.contexts).toEqual([{ name: "local", context: { cluster: "c", user: "u" } }]);
    expect(inlined.clusters[0].cluster).toEqual({
      server: "https://10.0.0.1:6443",
      "certificate-authority-data": Buffer.from(CA).toString("base64"),
    });
    expect(inlined.users[0].user).toEqual({ token: "local-token" });
    expect([...resolution.dependencies.files.keys()].sort()).toEqual([path("ca.pem"), kubeconfig].sort());
  });

  it("uses the K8S_* settings alone when there is no KUBECONFIG", async () => {
    const resolution = await resolveLocalConnection(
      {
        datastoreType: "kubernetes",
        kubernetes: {
          apiEndpoint: "https://10.0.0.1:6443",
          token: "t0k",
          caFile: path("ca.pem"),
          certFile: path("cert.pem"),
          keyFile: path("key.pem"),
          insecureSkipTLSVerify: true,
        },
      },
      // The default kubeconfig is ignored, as the client ignores it when K8S_* settings are given.
      { ...bare, homeDir: path("home") },
    );
    expect(resolution).toEqual({
      ok: true,
      connection: {
        datastoreType: "kubernetes",
        spec: { k8sAPIEndpoint: "https://10.0.0.1:6443", k8sInsecureSkipTLSVerify: true },
        secrets: { k8sAPIToken: "t0k", k8sCACert: CA, k8sCert: CERT, k8sKey: KEY },
      },
      dependencies: expect.anything(),
    });
  });

  it("falls back to ~/.kube/config", async () => {
    const resolution = await resolveLocalConnection(
      { datastoreType: "kubernetes", kubernetes: {} },
      {
        ...bare,
        homeDir: path("home"),
      },
    );
    expect(resolution.ok).toBe(true);
    if (!resolution.ok) return;
    expect(parse(resolution.connection.secrets.kubeconfig ?? "").users[0].user).toEqual({ token: "home-token" });
  });

  it.each([
    ["10.96.0.1", "443", "https://10.96.0.1:443"],
    ["fd00::1", "6443", "https://[fd00::1]:6443"],
    ["kubernetes.default", "8080", "http://kubernetes.default:8080"],
  ])("in a pod, reaches the API at %s:%s with the service account's token and CA", async (host, port, endpoint) => {
    const sa = path("sa");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), "sa-token\n");
    await writeFile(join(sa, "ca.crt"), CA);
    const resolution = await resolveLocalConnection(
      { datastoreType: "kubernetes" },
      { ...bare, serviceAccountDir: sa, env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } },
    );
    expect(resolution).toMatchObject({
      ok: true,
      connection: { spec: { k8sAPIEndpoint: endpoint }, secrets: { k8sAPIToken: "sa-token", k8sCACert: CA } },
    });
    if (!resolution.ok) return;
    // A rotated token is noticed: the token file is watched.
    expect([...resolution.dependencies.files.keys()]).toContain(join(sa, "token"));
  });

  it("in a pod without KUBERNETES_SERVICE_HOST, says so", async () => {
    const sa = path("sa-alone");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), "sa-token");
    await writeFile(join(sa, "ca.crt"), CA);
    const resolution = await resolveLocalConnection(
      { datastoreType: "kubernetes" },
      { ...bare, serviceAccountDir: sa },
    );
    expect(resolution).toMatchObject({ ok: false, error: expect.stringMatching(/^KUBERNETES_SERVICE_HOST: /) });
  });
});
