import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../src/index.js";
import { chooseLocalDatastore, configServiceDatastoreEnv, localConnection } from "../src/local-datastore.js";

describe("chooseLocalDatastore", () => {
  it.each([
    ["the demo always uses the embedded etcd", true, { ETCD_ENDPOINTS: "http://10.0.0.1:2379" }, { kind: "embedded" }],
    ["no datastore named: the embedded etcd", false, {}, { kind: "embedded" }],
    [
      "KUBECONFIG alone: the embedded etcd, Secrets from that cluster",
      false,
      { KUBECONFIG: "/k/config" },
      { kind: "embedded", secretsKubeconfig: "/k/config" },
    ],
    [
      "ETCD_ENDPOINTS names an etcd",
      false,
      { ETCD_ENDPOINTS: "https://10.0.0.1:2379", ETCD_CA_CERT_FILE: "/ca.pem" },
      {
        kind: "external",
        datastoreType: "etcdv3",
        env: { ETCD_ENDPOINTS: "https://10.0.0.1:2379", ETCD_CA_CERT_FILE: "/ca.pem" },
      },
    ],
    [
      "CALICO_ variables win, as in calicoctl",
      false,
      { DATASTORE_TYPE: "etcdv3", CALICO_DATASTORE_TYPE: "kubernetes", KUBECONFIG: "/k" },
      { kind: "external", datastoreType: "kubernetes", env: { DATASTORE_TYPE: "kubernetes", KUBECONFIG: "/k" } },
    ],
  ])("%s", (_name, demo, env, expected) => {
    expect(chooseLocalDatastore(demo, env)).toEqual(expected);
  });

  it.each([
    ["an unknown type", { DATASTORE_TYPE: "consul" }, /DATASTORE_TYPE must be etcdv3 or kubernetes, not "consul"/],
    ["a certificate without its key", { ETCD_ENDPOINTS: "https://e:2379", ETCD_CERT_FILE: "/c" }, /go together/],
  ])("refuses %s", (_name, env, message) => {
    expect(() => chooseLocalDatastore(false, env)).toThrow(message);
  });

  it("gives config-service calicoctl's variables for the chosen datastore", () => {
    expect(
      configServiceDatastoreEnv({ kind: "embedded", secretsKubeconfig: "/s/kc" }, "http://127.0.0.1:2379"),
    ).toEqual({
      DATASTORE_TYPE: "etcdv3",
      ETCD_ENDPOINTS: "http://127.0.0.1:2379",
      KUBECONFIG: "/s/kc",
    });
    const external = chooseLocalDatastore(false, { DATASTORE_TYPE: "kubernetes", K8S_API_ENDPOINT: "https://k:6443" });
    expect(configServiceDatastoreEnv(external, undefined)).toEqual({
      DATASTORE_TYPE: "kubernetes",
      K8S_API_ENDPOINT: "https://k:6443",
    });
  });
});

describe("localConnection", () => {
  it("reads an etcd's files into contents, every credential apart from the endpoints", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fedview-local-"));
    try {
      await writeFile(join(dir, "ca.pem"), "CA PEM");
      await writeFile(join(dir, "cert.pem"), "CERT PEM");
      await writeFile(join(dir, "key.pem"), "KEY PEM");
      const local = chooseLocalDatastore(false, {
        ETCD_ENDPOINTS: "https://10.0.0.1:2379, https://10.0.0.2:2379",
        ETCD_CA_CERT_FILE: join(dir, "ca.pem"),
        ETCD_CERT_FILE: join(dir, "cert.pem"),
        ETCD_KEY_FILE: join(dir, "key.pem"),
        ETCD_USERNAME: "calico",
        ETCD_PASSWORD: "s3cret",
      });
      expect(await localConnection(local, undefined)).toEqual({
        datastoreType: "etcdv3",
        spec: { etcdEndpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"] },
        secrets: {
          etcdCACert: "CA PEM",
          etcdCert: "CERT PEM",
          etcdKey: "KEY PEM",
          etcdUsername: "calico",
          etcdPassword: "s3cret",
        },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("connects the embedded etcd by its URL, and a Kubernetes datastore by its kubeconfig", async () => {
    expect(await localConnection({ kind: "embedded" }, "http://127.0.0.1:2379")).toEqual({
      datastoreType: "etcdv3",
      spec: { etcdEndpoints: ["http://127.0.0.1:2379"] },
      secrets: {},
    });
    const dir = await mkdtemp(join(tmpdir(), "fedview-local-"));
    try {
      await writeFile(join(dir, "config"), "apiVersion: v1\nkind: Config\n");
      const local = chooseLocalDatastore(false, {
        DATASTORE_TYPE: "kubernetes",
        KUBECONFIG: `${join(dir, "config")}:/other`,
        K8S_INSECURE_SKIP_TLS_VERIFY: "true",
      });
      expect(await localConnection(local, undefined)).toEqual({
        datastoreType: "kubernetes",
        spec: { k8sInsecureSkipTLSVerify: true },
        secrets: { kubeconfig: "apiVersion: v1\nkind: Config\n" },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      "a missing file, naming the variable",
      { ETCD_ENDPOINTS: "https://e:2379", ETCD_CA_CERT_FILE: "/nonexistent/ca.pem" },
      /ETCD_CA_CERT_FILE: cannot read \/nonexistent\/ca.pem: ENOENT/,
    ],
    [
      "a Kubernetes datastore it cannot reach",
      { DATASTORE_TYPE: "kubernetes" },
      /needs KUBECONFIG or K8S_API_ENDPOINT/,
    ],
  ])("refuses %s", async (_name, env, message) => {
    const local = chooseLocalDatastore(false, env);
    await expect(localConnection(local, undefined)).rejects.toThrow(StackConfigError);
    await expect(localConnection(local, undefined)).rejects.toThrow(message);
  });
});
