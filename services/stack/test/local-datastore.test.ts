import { describe, expect, it } from "vitest";
import { StackConfigError } from "../src/index.js";
import { chooseLocalDatastore, configServiceDatastoreEnv } from "../src/local-datastore.js";

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
    expect(() => chooseLocalDatastore(false, env)).toThrow(StackConfigError);
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
