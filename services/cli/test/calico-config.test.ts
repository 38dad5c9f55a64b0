/**
 * calicoctl's datastore configuration: the `-c` CalicoAPIConfig file, the environment (with the
 * `CALICO_` prefix winning), the silent fallback when the file is missing, clear errors otherwise —
 * and a TLS etcd reached in-process through ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEtcdResource } from "@fedview/model";
import { startEtcd } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CalicoConfigError, datastoreConfigFromEnv, loadDatastoreConfig, runCli } from "../src/index.js";
import { localResources } from "./fixtures.js";
import { Capture } from "./harness.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedview-cli-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("environment", () => {
  it("reads calicoctl's variables, defaults to etcdv3 on 127.0.0.1:2379", () => {
    expect(datastoreConfigFromEnv({}, "/")).toEqual({
      datastoreType: "etcdv3",
      etcdEndpoints: "http://127.0.0.1:2379",
      origin: "environment",
    });
    expect(
      datastoreConfigFromEnv(
        {
          DATASTORE_TYPE: "etcdv3",
          ETCD_ENDPOINTS: "https://a:2379,https://b:2379",
          ETCD_USERNAME: "calico",
          ETCD_PASSWORD: "pw",
          ETCD_CA_CERT_FILE: "certs/ca.pem",
          ETCD_CERT_FILE: "/etc/cert.pem",
          ETCD_KEY_FILE: "/etc/key.pem",
        },
        "/work",
      ),
    ).toEqual({
      datastoreType: "etcdv3",
      etcdEndpoints: "https://a:2379,https://b:2379",
      etcdUsername: "calico",
      etcdPassword: "pw",
      etcdCACertFile: "/work/certs/ca.pem",
      etcdCertFile: "/etc/cert.pem",
      etcdKeyFile: "/etc/key.pem",
      origin: "environment",
    });
  });

  it("CALICO_-prefixed variables win; kubernetes settings are read", () => {
    expect(
      datastoreConfigFromEnv(
        {
          DATASTORE_TYPE: "etcdv3",
          CALICO_DATASTORE_TYPE: "kubernetes",
          KUBECONFIG: "/root/.kube/config",
          K8S_API_ENDPOINT: "https://10.0.0.1:6443",
          K8S_INSECURE_SKIP_TLS_VERIFY: "true",
        },
        "/",
      ),
    ).toEqual({
      datastoreType: "kubernetes",
      kubeconfig: "/root/.kube/config",
      k8sAPIEndpoint: "https://10.0.0.1:6443",
      k8sInsecureSkipTLSVerify: true,
      origin: "environment",
    });
  });

  it("an unknown DATASTORE_TYPE is an error naming the variable", () => {
    expect(() => datastoreConfigFromEnv({ DATASTORE_TYPE: "consul" }, "/")).toThrow(CalicoConfigError);
    expect(() => datastoreConfigFromEnv({ DATASTORE_TYPE: "consul" }, "/")).toThrow(/DATASTORE_TYPE/);
  });
});

describe("-c file", () => {
  it("a CalicoAPIConfig file is used instead of the environment; relative paths resolve beside it", async () => {
    const file = join(dir, "calicoctl.cfg");
    await writeFile(
      file,
      `apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata:
spec:
  datastoreType: "etcdv3"
  etcdEndpoints: "http://10.0.0.1:2379"
  etcdCACertFile: "ca.pem"
`,
    );
    expect(await loadDatastoreConfig(file, { ETCD_ENDPOINTS: "http://ignored:2379" }, "/")).toEqual({
      datastoreType: "etcdv3",
      etcdEndpoints: "http://10.0.0.1:2379",
      etcdCACertFile: join(dir, "ca.pem"),
      origin: `file ${file}`,
    });
  });

  it("a missing file falls back to the environment, as calicoctl does", async () => {
    const config = await loadDatastoreConfig(join(dir, "absent.cfg"), { ETCD_ENDPOINTS: "http://e:2379" }, "/");
    expect(config).toEqual({ datastoreType: "etcdv3", etcdEndpoints: "http://e:2379", origin: "environment" });
  });

  it.each([
    ["not yaml", "spec: [unclosed", /is not valid YAML/],
    ["wrong kind", "kind: Pod\nspec: {}\n", /kind must be "CalicoAPIConfig"/],
    ["wrong type", "kind: CalicoAPIConfig\nspec:\n  datastoreType: mysql\n", /spec.datastoreType/],
  ])("%s is an error", async (name, content, message) => {
    const file = join(dir, `${name.replace(/ /g, "-")}.cfg`);
    await writeFile(file, content);
    await expect(loadDatastoreConfig(file, {}, "/")).rejects.toThrow(message);
  });

  it("the CLI prints the config error on stderr and exits 1", async () => {
    const file = join(dir, "bad.cfg");
    await writeFile(file, "kind: Pod\n");
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["-c", file, "eval", "all()"], {
      invokedAs: "calicoq",
      stdout,
      stderr,
      env: {},
      cwd: "/",
    });
    expect(code).toBe(1);
    expect(stdout.text).toBe("");
    expect(stderr.text).toMatch(/is not a valid CalicoAPIConfig: kind: kind must be "CalicoAPIConfig"\n$/);
  });
});

describe("in-process against a TLS etcd", () => {
  it("reads the CA, client certificate and key files named by the config", async () => {
    await using etcd = await startEtcd({ tls: true });
    const tls = etcd.tls!;
    for (const resource of localResources()) {
      const { key, value } = encodeEtcdResource(resource);
      await etcd.etcdctl("put", key, value);
    }
    const file = join(dir, "tls.cfg");
    await writeFile(
      file,
      `kind: CalicoAPIConfig
spec:
  datastoreType: etcdv3
  etcdEndpoints: ${etcd.url}
  etcdCACertFile: ${tls.caFile}
  etcdCertFile: ${tls.client.certFile}
  etcdKeyFile: ${tls.client.keyFile}
`,
    );
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["-c", file, "eval", "app == 'db'"], {
      invokedAs: "calicoq",
      stdout,
      stderr,
      env: {},
      cwd: "/",
    });
    expect(stderr.text).toBe("");
    expect(stdout.text).toBe(
      "Endpoints matching selector app == 'db':\n  Workload endpoint node-2/k8s/prod.db-0/eth0\n",
    );
    expect(code).toBe(0);
  });

  it("an unreachable local datastore is a clear error, exit 1", async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["--sync-timeout", "5s", "-c", "/absent", "eval", "all()"], {
      invokedAs: "calicoq",
      stdout,
      stderr,
      env: { ETCD_ENDPOINTS: "http://127.0.0.1:1" },
      cwd: "/",
    });
    expect(code).toBe(1);
    expect(stdout.text).toBe("");
    expect(stderr.text).toMatch(
      /^cannot read RemoteClusterConfigurations from the local datastore \(etcdv3 http:\/\/127\.0\.0\.1:1\): /,
    );
  });
});
