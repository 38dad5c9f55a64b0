import { describe, expect, it } from "vitest";
import {
  CLUSTER_ACCESS_SECRET_KEYS,
  type RemoteClusterConfiguration,
  RemoteClusterConfigurationSchema,
  staleDataExpiryMs,
  validateClusterAccessSecret,
  validateRemoteClusterConfiguration,
} from "../src/index.js";

function rcc(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: "cluster-b" }) {
  return { apiVersion: "projectcalico.org/v3", kind: "RemoteClusterConfiguration", metadata, spec };
}

const etcdSpec = {
  datastoreType: "etcdv3",
  etcdEndpoints: "https://10.0.0.1:2379,https://10.0.0.2:2379",
  etcdKeyFile: "/etc/fedview/remote/etcd-key.pem",
  etcdCertFile: "/etc/fedview/remote/etcd-cert.pem",
  etcdCACertFile: "/etc/fedview/remote/etcd-ca.pem",
};
const kubernetesSpec = { datastoreType: "kubernetes", kubeconfig: "/etc/fedview/remote/kubeconfig" };
const secretRef = { kind: "Secret", name: "remote-cluster-b", namespace: "calico-system" };

/** The issues of a failed validation (fails the test if it succeeded). */
function issuesOf(input: unknown) {
  const result = validateRemoteClusterConfiguration(input);
  if (result.success) throw new Error(`expected validation to fail: ${JSON.stringify(input)}`);
  return result.issues;
}

describe("validateRemoteClusterConfiguration: valid configurations", () => {
  it.each<[string, Record<string, unknown>]>([
    ["etcd with mutual TLS", etcdSpec],
    [
      "etcd over plain http with a user",
      {
        datastoreType: "etcdv3",
        etcdEndpoints: "http://etcd.remote:2379",
        etcdUsername: "calico",
        etcdPassword: "s3cret",
      },
    ],
    ["etcd with spaces after commas", { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379, https://b:2379" }],
    ["etcd with an IPv6 endpoint", { datastoreType: "etcdv3", etcdEndpoints: "https://[fd00::10]:2379" }],
    ["a kubeconfig", kubernetesSpec],
    [
      "an API endpoint, token and CA",
      {
        datastoreType: "kubernetes",
        k8sAPIEndpoint: "https://10.0.0.1:6443",
        k8sAPIToken: "eyJhbGciOi",
        k8sCAFile: "/ca.crt",
      },
    ],
    [
      "an API endpoint behind a proxy path",
      { datastoreType: "kubernetes", k8sAPIEndpoint: "https://rancher.example.com/k8s/clusters/c-m-abc" },
    ],
    [
      "a kubeconfig with overrides",
      { ...kubernetesSpec, k8sAPIEndpoint: "https://10.0.0.1:6443", k8sCertFile: "/c.crt", k8sKeyFile: "/c.key" },
    ],
    ["a cluster access Secret", { clusterAccessSecret: secretRef }],
    ["a Secret with syncOptions", { clusterAccessSecret: secretRef, syncOptions: { overlayRoutingMode: "Enabled" } }],
    [
      "a Secret with empty connection fields (Calico omits empty ones)",
      { clusterAccessSecret: secretRef, etcdEndpoints: "", datastoreType: "" },
    ],
    ["overlay routing enabled", { ...etcdSpec, syncOptions: { overlayRoutingMode: "Enabled" } }],
    ["the fedview staleDataExpiry extension", { ...kubernetesSpec, syncOptions: { staleDataExpiry: "1h30m" } }],
  ])("accepts %s", (_label, spec) => {
    const result = validateRemoteClusterConfiguration(rcc(spec));
    expect(result).toMatchObject({ success: true });
  });

  it("defaults overlayRoutingMode to Disabled", () => {
    const result = validateRemoteClusterConfiguration(rcc(kubernetesSpec));
    expect(result.success && result.data.spec.syncOptions.overlayRoutingMode).toBe("Disabled");
  });

  it("keeps unknown fields", () => {
    const input = { ...rcc({ ...etcdSpec, futureField: { a: 1 } }), status: { x: 1 } };
    const result = validateRemoteClusterConfiguration(input);
    expect(result.success && result.data.spec["futureField"]).toEqual({ a: 1 });
    expect(result.success && result.data["status"]).toEqual({ x: 1 });
  });

  it("accepts k8s fields on etcdv3 when asked to behave like Calico", () => {
    const input = rcc({ ...etcdSpec, kubeconfig: "/kc" });
    expect(validateRemoteClusterConfiguration(input).success).toBe(false);
    expect(validateRemoteClusterConfiguration(input, { allowKubernetesFieldsWithEtcd: true }).success).toBe(true);
  });
});

describe("validateRemoteClusterConfiguration: rule violations", () => {
  it.each<[string, unknown, string, RegExp]>([
    ["not an object", "cluster-b", "", /expected a RemoteClusterConfiguration/],
    [
      "the wrong apiVersion",
      { ...rcc(etcdSpec), apiVersion: "crd.projectcalico.org/v1" },
      "apiVersion",
      /must be "projectcalico.org\/v3", not the text "crd.projectcalico.org\/v1"/,
    ],
    ["the wrong kind", { ...rcc(etcdSpec), kind: "RemoteCluster" }, "kind", /must be "RemoteClusterConfiguration"/],
    [
      "no apiVersion",
      { ...rcc(etcdSpec), apiVersion: undefined },
      "apiVersion",
      /apiVersion is required and must be "projectcalico.org\/v3"/,
    ],
    ["no spec", { ...rcc(etcdSpec), spec: undefined }, "spec", /spec is required/],
    ["no name", rcc(etcdSpec, {}), "metadata.name", /name is required/],
    ["an upper-case name", rcc(etcdSpec, { name: "Cluster-B" }), "metadata.name", /lower-case letters, digits and "-"/],
    ["an underscore in the name", rcc(etcdSpec, { name: "cluster_b" }), "metadata.name", /is not valid/],
    ["a dot in the name", rcc(etcdSpec, { name: "cluster.b" }), "metadata.name", /is not valid/],
    [
      "a trailing dash in the name",
      rcc(etcdSpec, { name: "cluster-" }),
      "metadata.name",
      /starting and ending with a letter or digit/,
    ],
    ["a 64-character name", rcc(etcdSpec, { name: "a".repeat(64) }), "metadata.name", /at most 63 characters/],
    [
      "a namespace",
      rcc(etcdSpec, { name: "cluster-b", namespace: "default" }),
      "metadata.namespace",
      /has no namespace/,
    ],
    [
      "no datastoreType",
      rcc({ etcdEndpoints: "https://a:2379" }),
      "spec.datastoreType",
      /datastoreType is required: set "etcdv3" or "kubernetes", or reference a Secret/,
    ],
    [
      "an unknown datastoreType",
      rcc({ datastoreType: "etcd", etcdEndpoints: "https://a:2379" }),
      "spec.datastoreType",
      /must be one of "etcdv3" or "kubernetes", not the text "etcd"/,
    ],
    [
      "etcdv3 without endpoints",
      rcc({ datastoreType: "etcdv3" }),
      "spec.etcdEndpoints",
      /etcdEndpoints is required when datastoreType is "etcdv3"/,
    ],
    [
      "kubernetes without kubeconfig or endpoint",
      rcc({ datastoreType: "kubernetes", k8sAPIToken: "t" }),
      "spec.kubeconfig",
      /needs kubeconfig .* or k8sAPIEndpoint/,
    ],
    [
      "an etcd field with kubernetes",
      rcc({ ...kubernetesSpec, etcdCertFile: "/c.pem" }),
      "spec.etcdCertFile",
      /etcd setting and only valid with datastoreType "etcdv3", not "kubernetes"/,
    ],
    [
      "etcdEndpoints with kubernetes",
      rcc({ ...kubernetesSpec, etcdEndpoints: "https://a:2379" }),
      "spec.etcdEndpoints",
      /only valid with datastoreType "etcdv3"/,
    ],
    [
      "a k8s field with etcdv3",
      rcc({ ...etcdSpec, k8sAPIToken: "t" }),
      "spec.k8sAPIToken",
      /Kubernetes setting and only valid with datastoreType "kubernetes", not "etcdv3"/,
    ],
    ["kubeconfig with etcdv3", rcc({ ...etcdSpec, kubeconfig: "/kc" }), "spec.kubeconfig", /Kubernetes setting/],
    [
      "a Secret and a datastoreType",
      rcc({ clusterAccessSecret: secretRef, datastoreType: "etcdv3" }),
      "spec.datastoreType",
      /cannot be set together with clusterAccessSecret.*only syncOptions may be set alongside it/,
    ],
    [
      "a Secret and etcd fields",
      rcc({ clusterAccessSecret: secretRef, etcdEndpoints: "https://a:2379" }),
      "spec.etcdEndpoints",
      /cannot be set together with clusterAccessSecret/,
    ],
    [
      "a Secret and a kubeconfig",
      rcc({ clusterAccessSecret: secretRef, kubeconfig: "/kc" }),
      "spec.kubeconfig",
      /cannot be set together with clusterAccessSecret/,
    ],
    [
      "a Secret reference of another kind",
      rcc({ clusterAccessSecret: { ...secretRef, kind: "ConfigMap" } }),
      "spec.clusterAccessSecret.kind",
      /must be "Secret", not "ConfigMap"/,
    ],
    [
      "a Secret reference without kind",
      rcc({ clusterAccessSecret: { name: "s", namespace: "ns" } }),
      "spec.clusterAccessSecret.kind",
      /is required and must be "Secret"/,
    ],
    [
      "a Secret reference without name",
      rcc({ clusterAccessSecret: { kind: "Secret", namespace: "ns" } }),
      "spec.clusterAccessSecret.name",
      /name is required/,
    ],
    [
      "a Secret reference without namespace",
      rcc({ clusterAccessSecret: { kind: "Secret", name: "s" } }),
      "spec.clusterAccessSecret.namespace",
      /namespace is required/,
    ],
    [
      "a Secret reference with a bad name",
      rcc({ clusterAccessSecret: { ...secretRef, name: "My_Secret" } }),
      "spec.clusterAccessSecret.name",
      /not a valid Secret name/,
    ],
    [
      "an endpoint without a scheme",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "10.0.0.1:2379" }),
      "spec.etcdEndpoints",
      /"10.0.0.1:2379" is not valid: it has no http:\/\/ or https:\/\/ scheme/,
    ],
    [
      "an endpoint with another scheme",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "unix:///run/etcd.sock" }),
      "spec.etcdEndpoints",
      /scheme must be http or https, not unix/,
    ],
    [
      "an endpoint with a path",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379/v3" }),
      "spec.etcdEndpoints",
      /an etcd endpoint has no path/,
    ],
    [
      "an endpoint with a bad port",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:99999" }),
      "spec.etcdEndpoints",
      /not a valid URL/,
    ],
    [
      "a stray comma",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379,," }),
      "spec.etcdEndpoints",
      /it is empty \(check for a stray comma\)/,
    ],
    [
      "credentials in an endpoint",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://u:p@a:2379" }),
      "spec.etcdEndpoints",
      /user name or password/,
    ],
    [
      "a bad API endpoint",
      rcc({ datastoreType: "kubernetes", k8sAPIEndpoint: "10.0.0.1:6443" }),
      "spec.k8sAPIEndpoint",
      /k8sAPIEndpoint "10.0.0.1:6443" is not valid/,
    ],
    [
      "an API endpoint with a query",
      rcc({ datastoreType: "kubernetes", k8sAPIEndpoint: "https://a:6443/?x=1" }),
      "spec.k8sAPIEndpoint",
      /query/,
    ],
    [
      "an unknown overlayRoutingMode",
      rcc({ ...etcdSpec, syncOptions: { overlayRoutingMode: "On" } }),
      "spec.syncOptions.overlayRoutingMode",
      /must be one of "Enabled" or "Disabled", not the text "On"/,
    ],
    [
      "a lower-case overlayRoutingMode",
      rcc({ ...etcdSpec, syncOptions: { overlayRoutingMode: "enabled" } }),
      "spec.syncOptions.overlayRoutingMode",
      /"Enabled" or "Disabled"/,
    ],
    [
      "certificate contents in a file field",
      rcc({ ...etcdSpec, etcdCACertFile: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }),
      "spec.etcdCACertFile",
      /must be the path of a file, but it looks like the file's contents.*clusterAccessSecret/,
    ],
    [
      "kubeconfig contents in kubeconfig",
      rcc({ datastoreType: "kubernetes", kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n" }),
      "spec.kubeconfig",
      /looks like the file's contents/,
    ],
    [
      "a client certificate without its key",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCertFile: "/c.pem" }),
      "spec.etcdCertFile",
      /set without etcdKeyFile/,
    ],
    [
      "a client key without its certificate",
      rcc({ ...kubernetesSpec, k8sKeyFile: "/c.key" }),
      "spec.k8sKeyFile",
      /set without k8sCertFile/,
    ],
    [
      "a stale data expiry without a unit",
      rcc({ ...etcdSpec, syncOptions: { staleDataExpiry: "600" } }),
      "spec.syncOptions.staleDataExpiry",
      /not a positive duration: use a number with a unit, e\.g\. "90s", "10m"/,
    ],
    [
      "a zero stale data expiry",
      rcc({ ...etcdSpec, syncOptions: { staleDataExpiry: "0s" } }),
      "spec.syncOptions.staleDataExpiry",
      /not a positive duration/,
    ],
    [
      "a number for etcdEndpoints",
      rcc({ datastoreType: "etcdv3", etcdEndpoints: 2379 }),
      "spec.etcdEndpoints",
      /etcdEndpoints must be text \(a string\), not the number 2379/,
    ],
    [
      "a string for syncOptions",
      rcc({ ...etcdSpec, syncOptions: "Enabled" }),
      "spec.syncOptions",
      /must be a map of fields, not the text "Enabled"/,
    ],
    [
      "a string for clusterAccessSecret",
      rcc({ clusterAccessSecret: "remote" }),
      "spec.clusterAccessSecret",
      /must be a map of fields/,
    ],
    [
      "a boolean for k8sInsecureSkipTLSVerify given as text",
      rcc({ ...kubernetesSpec, k8sInsecureSkipTLSVerify: "yes" }),
      "spec.k8sInsecureSkipTLSVerify",
      /true or false/,
    ],
  ])("rejects %s", (_label, input, path, message) => {
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toMatch(message);
  });

  it("reports every problem at once, one per field", () => {
    const issues = issuesOf(
      rcc(
        { clusterAccessSecret: { kind: "ConfigMap", name: "s" }, datastoreType: "etcdv3", k8sAPIToken: "t" },
        { name: "Bad_Name" },
      ),
    );
    expect(issues.map((i) => i.path)).toEqual([
      "metadata.name",
      "spec.datastoreType",
      "spec.k8sAPIToken",
      "spec.clusterAccessSecret.kind",
      "spec.clusterAccessSecret.namespace",
    ]);
  });

  it("prefers a type error over a rule about the same field", () => {
    const issues = issuesOf(rcc({ datastoreType: "etcdv3", etcdEndpoints: ["https://a:2379"] }));
    expect(issues).toEqual([
      { path: "spec.etcdEndpoints", message: "etcdEndpoints must be text (a string), not a list" },
    ]);
  });
});

describe("validateRemoteClusterConfiguration: secrets stay out of issues", () => {
  // YAML reads an unquoted all-digit password as a number; the issue must still not quote it.
  it.each<[string, Record<string, unknown>, string, string]>([
    ["a numeric etcdPassword", { ...etcdSpec, etcdPassword: 918273645 }, "spec.etcdPassword", "918273645"],
    ["a numeric etcdUsername", { ...etcdSpec, etcdUsername: 55501234 }, "spec.etcdUsername", "55501234"],
    ["a numeric k8sAPIToken", { ...kubernetesSpec, k8sAPIToken: 123456789 }, "spec.k8sAPIToken", "123456789"],
    ["a list k8sAPIToken", { ...kubernetesSpec, k8sAPIToken: ["tok-3141"] }, "spec.k8sAPIToken", "tok-3141"],
    [
      "a password in an etcd endpoint",
      { ...etcdSpec, etcdEndpoints: "https://10.0.0.1:2379,https://reader:hunter2@10.0.0.2:2379" },
      "spec.etcdEndpoints",
      "hunter2",
    ],
    [
      "a password in an etcd endpoint without a scheme",
      { ...etcdSpec, etcdEndpoints: "reader:hunter2@10.0.0.2:2379" },
      "spec.etcdEndpoints",
      "hunter2",
    ],
    [
      "a token as the user of the API endpoint",
      { ...kubernetesSpec, k8sAPIEndpoint: "https://tok-2718@10.0.0.1:6443" },
      "spec.k8sAPIEndpoint",
      "tok-2718",
    ],
  ])("names the problem of %s without its value", (_label, spec, path, secret) => {
    const issues = issuesOf(rcc(spec));
    expect(issues.map((i) => i.path)).toContain(path);
    expect(JSON.stringify(issues)).not.toContain(secret);
  });

  it("still quotes the rest of an endpoint with credentials, to say which entry is wrong", () => {
    const issues = issuesOf(rcc({ ...etcdSpec, etcdEndpoints: "https://reader:pw@10.0.0.9:2379" }));
    expect(issues[0]?.message).toContain('"https://[REDACTED]@10.0.0.9:2379"');
  });

  it("says what kind of value a secret field holds", () => {
    const issues = issuesOf(rcc({ ...etcdSpec, etcdPassword: 918273645 }));
    expect(issues).toEqual([
      { path: "spec.etcdPassword", message: "etcdPassword must be text (a string), not a number" },
    ]);
  });
});

describe("RemoteClusterConfigurationSchema", () => {
  it("checks types only, so stored RCCs can be read before the rules are applied", () => {
    expect(RemoteClusterConfigurationSchema.safeParse(rcc({ datastoreType: "etcdv3" })).success).toBe(true);
    expect(RemoteClusterConfigurationSchema.safeParse(rcc({ datastoreType: 3 })).success).toBe(false);
  });
});

describe("staleDataExpiryMs", () => {
  it.each([
    [{}, undefined],
    [{ staleDataExpiry: "10m" }, 600_000],
    [{ staleDataExpiry: "1h30m" }, 5_400_000],
  ])("reads %o as %s ms", (syncOptions, expected) => {
    const result = validateRemoteClusterConfiguration(rcc({ ...etcdSpec, syncOptions }));
    expect(result.success).toBe(true);
    if (result.success) expect(staleDataExpiryMs(result.data as RemoteClusterConfiguration)).toBe(expected);
  });
});

const CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----\n";
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: cluster-b
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTg==
users:
- name: fedview
  user:
    token: eyJhbGciOiJSUzI1NiIs
contexts:
- name: fedview@cluster-b
  context: {cluster: cluster-b, user: fedview}
current-context: fedview@cluster-b
`;

describe("validateClusterAccessSecret", () => {
  it.each(["etcdPassword", "etcdUsername", "etcdKey", "kubeconfig"])("never quotes a non-text %s", (key) => {
    const result = validateClusterAccessSecret({
      datastoreType: "etcdv3",
      etcdEndpoints: "https://a:2379",
      [key]: 8675309,
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result)).not.toContain("8675309");
  });

  it("names the keys Calico reads", () => {
    expect(CLUSTER_ACCESS_SECRET_KEYS).toEqual([
      "datastoreType",
      "etcdEndpoints",
      "etcdUsername",
      "etcdPassword",
      "etcdKey",
      "etcdCert",
      "etcdCACert",
      "kubeconfig",
    ]);
  });

  it.each<[string, Record<string, string>, Record<string, string>]>([
    [
      "a kubeconfig Secret",
      { datastoreType: "kubernetes", kubeconfig: KUBECONFIG },
      { datastoreType: "kubernetes", kubeconfig: KUBECONFIG },
    ],
    [
      "an etcd Secret with mutual TLS",
      { datastoreType: "etcdv3", etcdEndpoints: "https://10.0.0.1:2379", etcdCACert: CA, etcdCert: CA, etcdKey: KEY },
      { datastoreType: "etcdv3", etcdEndpoints: "https://10.0.0.1:2379", etcdCACert: CA, etcdCert: CA, etcdKey: KEY },
    ],
    [
      "values written from files with a trailing newline",
      { datastoreType: "etcdv3\n", etcdEndpoints: "http://etcd:2379\n", etcdUsername: "calico", etcdPassword: "pw" },
      { datastoreType: "etcdv3", etcdEndpoints: "http://etcd:2379", etcdUsername: "calico", etcdPassword: "pw" },
    ],
    [
      "extra keys fedview does not use",
      { datastoreType: "kubernetes", kubeconfig: KUBECONFIG, "owner.txt": "platform team" },
      { datastoreType: "kubernetes", kubeconfig: KUBECONFIG },
    ],
  ])("accepts %s", (_label, data, expected) => {
    expect(validateClusterAccessSecret(data)).toEqual({ success: true, data: expected });
  });

  it.each<[string, unknown, string, RegExp]>([
    ["no data", null, "secret.data", /must have data keys/],
    [
      "no datastoreType",
      { kubeconfig: KUBECONFIG },
      "secret.data.datastoreType",
      /datastoreType is required: "etcdv3" or "kubernetes"/,
    ],
    [
      "a bad datastoreType",
      { datastoreType: "k8s", kubeconfig: KUBECONFIG },
      "secret.data.datastoreType",
      /must be "etcdv3" or "kubernetes", not "k8s"/,
    ],
    ["etcd without endpoints", { datastoreType: "etcdv3" }, "secret.data.etcdEndpoints", /etcdEndpoints is required/],
    [
      "a bad etcd endpoint",
      { datastoreType: "etcdv3", etcdEndpoints: "etcd:2379" },
      "secret.data.etcdEndpoints",
      /no http:\/\/ or https:\/\/ scheme/,
    ],
    [
      "a path instead of a CA",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCACert: "/etc/ssl/etcd-ca.pem" },
      "secret.data.etcdCACert",
      /looks like a file path; a Secret holds the file's contents/,
    ],
    [
      "garbage instead of a certificate",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCert: "hello", etcdKey: KEY },
      "secret.data.etcdCert",
      /must contain a PEM certificate/,
    ],
    [
      "a certificate instead of a key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCert: CA, etcdKey: CA },
      "secret.data.etcdKey",
      /PEM private key/,
    ],
    [
      "a client certificate without a key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCert: CA },
      "secret.data.etcdCert",
      /without etcdKey/,
    ],
    [
      "a path-style key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCACertFile: "/ca.pem" },
      "secret.data.etcdCACertFile",
      /holds file contents, not paths: put the file's contents under etcdCACert instead of etcdCACertFile/,
    ],
    [
      "a misspelt key",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdCaCert: CA },
      "secret.data.etcdCaCert",
      /did you mean etcdCACert\?/,
    ],
    [
      "a Kubernetes field as a key",
      { datastoreType: "kubernetes", kubeconfig: KUBECONFIG, k8sAPIToken: "t" },
      "secret.data.k8sAPIToken",
      /holds only kubeconfig/,
    ],
    [
      "kubernetes without kubeconfig",
      { datastoreType: "kubernetes" },
      "secret.data.kubeconfig",
      /kubeconfig is required when datastoreType is "kubernetes"/,
    ],
    [
      "a kubeconfig path",
      { datastoreType: "kubernetes", kubeconfig: "/root/.kube/config" },
      "secret.data.kubeconfig",
      /looks like a file path/,
    ],
    [
      "something that is not a kubeconfig",
      { datastoreType: "kubernetes", kubeconfig: "hello world" },
      "secret.data.kubeconfig",
      /does not look like a kubeconfig/,
    ],
    [
      "etcd keys with kubernetes",
      { datastoreType: "kubernetes", kubeconfig: KUBECONFIG, etcdEndpoints: "https://a:2379" },
      "secret.data.etcdEndpoints",
      /only valid with datastoreType "etcdv3"/,
    ],
    [
      "a kubeconfig with etcd",
      { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", kubeconfig: KUBECONFIG },
      "secret.data.kubeconfig",
      /only valid with datastoreType "kubernetes"/,
    ],
    [
      "a non-text value",
      { datastoreType: "kubernetes", kubeconfig: 42 },
      "secret.data.kubeconfig",
      /must be text, not a number$/,
    ],
  ])("rejects %s", (_label, data, path, message) => {
    const result = validateClusterAccessSecret(data);
    expect(result.success).toBe(false);
    const issue = result.success ? undefined : result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result)).toBeDefined();
    expect(issue?.message).toMatch(message);
  });
});
