import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSealingKeyPair } from "@fedview/bus";
import { describe, expect, it } from "vitest";
import { readConfigServiceConfig } from "../src/config.js";
import { ConfigurationError } from "../src/errors.js";

const CONNECTOR = createSealingKeyPair().getPublicKey();
const SEED = new TextDecoder().decode(createSealingKeyPair().getSeed());

describe("readConfigServiceConfig", () => {
  it("defaults to calicoctl's etcdv3 datastore on localhost, NATS on localhost and metrics on 9465", () => {
    const config = readConfigServiceConfig({ FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR });
    expect(config.datastoreType).toBe("etcdv3");
    expect(config.etcd).toEqual({ endpoints: ["http://127.0.0.1:2379"] });
    expect(config.kubernetes).toBeUndefined();
    expect(config.bus.servers).toEqual(["nats://127.0.0.1:4222"]);
    expect(config.metrics).toEqual({ host: "0.0.0.0", port: 9465 });
    expect(config.sealing).toEqual({ connectorPublicKey: CONNECTOR });
    expect(config.connectionsBucket).toBe("fedview-connections");
    expect(config.filePollIntervalMs).toBe(10_000);
    expect(config.leasesBucket).toBe("fedview-leases");
    expect(config.leaseTtlMs).toBe(6_000);
    expect(config.jetstreamReplicas).toBe(1);
    expect(config.federateLocal).toBe(true);
  });

  it.each([
    ["false", false],
    ["0", false],
    ["true", true],
    ["", true],
  ])("reads FEDVIEW_FEDERATE_LOCAL=%j as %s", (value, federateLocal) => {
    const env = { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_FEDERATE_LOCAL: value };
    expect(readConfigServiceConfig(env).federateLocal).toBe(federateLocal);
  });

  it.each([
    [undefined, 1],
    ["", 1],
    ["1", 1],
    ["3", 3],
    [" 5 ", 5],
  ])("reads FEDVIEW_JETSTREAM_REPLICAS=%j as %i replicas", (value, replicas) => {
    const env = { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_JETSTREAM_REPLICAS: value };
    expect(readConfigServiceConfig(env).jetstreamReplicas).toBe(replicas);
  });

  it.each(["0", "6", "2.5", "three", "-1", "1e1"])(
    "refuses FEDVIEW_JETSTREAM_REPLICAS=%j, naming the variable and the allowed range",
    (value) => {
      const env = { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_JETSTREAM_REPLICAS: value };
      expect(() => readConfigServiceConfig(env)).toThrow(ConfigurationError);
      expect(() => readConfigServiceConfig(env)).toThrow(
        `FEDVIEW_JETSTREAM_REPLICAS: expected a whole number from 1 to 5 (JetStream replicas of the stream and buckets, at most the NATS cluster size), got "${value}"`,
      );
    },
  );

  it("reads the ETCD_* variables as calicoctl does", () => {
    const config = readConfigServiceConfig({
      FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR,
      DATASTORE_TYPE: "etcdv3",
      ETCD_ENDPOINTS: "https://10.0.0.1:2379, https://10.0.0.2:2379",
      ETCD_USERNAME: "calico",
      ETCD_PASSWORD: "pw",
      ETCD_CERT_FILE: "/etc/calico/cert.pem",
      ETCD_KEY_FILE: "/etc/calico/key.pem",
      ETCD_CA_CERT_FILE: "/etc/calico/ca.pem",
    });
    expect(config.etcd).toEqual({
      endpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
      username: "calico",
      password: "pw",
      certFile: "/etc/calico/cert.pem",
      keyFile: "/etc/calico/key.pem",
      caCertFile: "/etc/calico/ca.pem",
    });
  });

  it("reads KUBECONFIG and the K8S_* overrides for the kubernetes datastore", () => {
    const config = readConfigServiceConfig({
      FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR,
      DATASTORE_TYPE: "kubernetes",
      KUBECONFIG: "/root/.kube/config",
      K8S_API_ENDPOINT: "https://10.0.0.1:6443",
      K8S_API_TOKEN: "t",
      K8S_CA_FILE: "/ca.crt",
      K8S_INSECURE_SKIP_TLS_VERIFY: "true",
    });
    expect(config.datastoreType).toBe("kubernetes");
    expect(config.etcd).toBeUndefined();
    expect(config.kubernetes).toEqual({
      kubeconfig: "/root/.kube/config",
      apiEndpoint: "https://10.0.0.1:6443",
      token: "t",
      caFile: "/ca.crt",
      insecureSkipTLSVerify: true,
    });
  });

  it("uses a kubeconfig next to an etcd datastore for reading clusterAccessSecrets", () => {
    const config = readConfigServiceConfig({ FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, KUBECONFIG: "/k" });
    expect(config.datastoreType).toBe("etcdv3");
    expect(config.kubernetes).toEqual({ kubeconfig: "/k" });
  });

  it("reads the service's xkey seed from a file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fedview-config-"));
    try {
      await writeFile(join(dir, "seed"), `${SEED}\n`);
      const config = readConfigServiceConfig({
        FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR,
        FEDVIEW_CONFIG_XKEY_SEED_FILE: join(dir, "seed"),
      });
      expect(config.sealing.seed).toBe(SEED);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{}, /FEDVIEW_CONNECTOR_XKEY_PUBLIC: is required/],
    [{ FEDVIEW_CONNECTOR_XKEY_PUBLIC: "UABC" }, /FEDVIEW_CONNECTOR_XKEY_PUBLIC: is not a curve/],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, DATASTORE_TYPE: "consul" },
      /DATASTORE_TYPE: must be "etcdv3" or "kubernetes"/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, ETCD_CERT_FILE: "/c" },
      /ETCD_CERT_FILE and ETCD_KEY_FILE go together/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_METRICS_PORT: "99999" },
      /FEDVIEW_METRICS_PORT: expected a port/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_CONFIG_XKEY_SEED: "SUABC" },
      /must be a curve seed starting with SX/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_CONFIG_XKEY_SEED_FILE: "/nonexistent/seed" },
      /FEDVIEW_CONFIG_XKEY_SEED_FILE: cannot read \/nonexistent\/seed: ENOENT/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_NATS_TOKEN: "t", FEDVIEW_NATS_USER: "u" },
      /invalid NATS settings: .*choose one authentication method/,
    ],
    [{ FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_LOG_LEVEL: "loud" }, /FEDVIEW_LOG_LEVEL/],
    [
      { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_FEDERATE_LOCAL: "maybe" },
      /FEDVIEW_FEDERATE_LOCAL: expected true or false, got "maybe"/,
    ],
  ])("refuses %j, naming the variable", (env, message) => {
    expect(() => readConfigServiceConfig(env)).toThrow(ConfigurationError);
    expect(() => readConfigServiceConfig(env)).toThrow(message);
  });

  it("never puts a secret value into its error", () => {
    const env = { FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, ETCD_PASSWORD: "hunter2", FEDVIEW_METRICS_PORT: "nope" };
    expect(() => readConfigServiceConfig(env)).toThrow(ConfigurationError);
    try {
      readConfigServiceConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
    }
  });

  it("turns the metrics endpoint off", () => {
    expect(
      readConfigServiceConfig({ FEDVIEW_CONNECTOR_XKEY_PUBLIC: CONNECTOR, FEDVIEW_METRICS_PORT: "off" }).metrics,
    ).toBeNull();
  });
});
