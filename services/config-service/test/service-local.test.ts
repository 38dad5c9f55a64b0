import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConnectionConfig,
  type ConnectionConfigChange,
  createSealingKeyPair,
  LOCAL_CLUSTER,
  sealSecrets,
} from "@fedview/bus";
import { type EtcdServer, startEtcd, startKubeApiServer, startNats, waitFor } from "@fedview/testkit";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { Etcd3 } from "etcd3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ConfigServiceConfig } from "../src/config.js";
import { createKeys, runService, serviceConfig, watchConnections } from "./service-harness.js";

const KEY_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";

const localChanges = (changes: ConnectionConfigChange[]) =>
  changes.filter((c) => (c.type === "put" ? c.config.cluster : c.type === "delete" ? c.cluster : "") === LOCAL_CLUSTER);

describe("the local cluster (_local) on an etcd local datastore", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fedview-local-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A config reaching the etcd through copies of its TLS files (so a test can rotate them) and root's password. */
  const tlsConfig = async (etcd: EtcdServer, base: ConfigServiceConfig): Promise<ConfigServiceConfig> => {
    const tls = etcd.tls!;
    const files = { caCertFile: join(dir, "ca.pem"), certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") };
    await Promise.all([
      copyFile(tls.caFile, files.caCertFile),
      copyFile(tls.client.certFile, files.certFile),
      copyFile(tls.client.keyFile, files.keyFile),
    ]);
    return {
      ...base,
      etcd: { endpoints: etcd.endpoints, username: etcd.auth!.username, password: etcd.auth!.password, ...files },
    };
  };

  it("publishes the local endpoints and credentials, sealed, under etcdv3; a rotated certificate is a new generation", async () => {
    await using etcd = await startEtcd({ tls: true, auth: true });
    await using nats = await startNats();
    const keys = createKeys();
    const config = await tlsConfig(etcd, serviceConfig(nats, keys, { datastoreType: "etcdv3" }));
    await using running = await runService(config);
    await using view = await watchConnections(nats, keys);

    const first = await waitFor(() => view.latest(LOCAL_CLUSTER), { message: "the _local connection config" });
    expect(first).toMatchObject({ cluster: LOCAL_CLUSTER, datastoreType: "etcdv3", status: "valid" });
    expect(first.spec).toEqual({ etcdEndpoints: etcd.endpoints });
    const tls = etcd.tls!;
    const opened = view.open(first);
    expect(opened).toEqual({
      etcdUsername: etcd.auth!.username,
      etcdPassword: etcd.auth!.password,
      etcdCACert: tls.ca,
      etcdCert: tls.client.cert,
      etcdKey: tls.client.key,
    });
    expect(JSON.stringify(first)).not.toContain(etcd.auth!.password);
    expect(await view.store.get("kubernetes", LOCAL_CLUSTER)).toBeNull();
    // What a connector opens reaches the local etcd.
    await etcd.etcdctl("put", "/fedview-test/probe", "here");
    const client = new Etcd3({
      hosts: first.spec.etcdEndpoints as string[],
      credentials: {
        rootCertificate: Buffer.from(opened["etcdCACert"]!),
        certChain: Buffer.from(opened["etcdCert"]!),
        privateKey: Buffer.from(opened["etcdKey"]!),
      },
      auth: { username: opened["etcdUsername"]!, password: opened["etcdPassword"]! },
    });
    try {
      expect(await client.get("/fedview-test/probe").string()).toBe("here");
    } finally {
      client.close();
    }
    expect(running.service.status().reconciler?.local).toMatchObject({
      name: LOCAL_CLUSTER,
      state: "valid",
      generation: first.generation,
    });

    const rotated = await tls.authority.issue("root");
    await writeFile(join(dir, "cert.pem"), rotated.cert);
    await writeFile(join(dir, "key.pem"), rotated.key);
    const after = await waitFor(
      () => {
        const latest = view.latest(LOCAL_CLUSTER);
        return latest && view.open(latest)["etcdKey"] === rotated.key ? latest : undefined;
      },
      { message: "the rotated certificate and key in a new generation" },
    );
    expect(after.generation).toBeGreaterThan(first.generation);
    expect(view.open(after)).toMatchObject({ etcdCert: rotated.cert, etcdKey: rotated.key, etcdCACert: tls.ca });
  });

  it("does not republish an unchanged _local on restart, and never withdraws it for having no RCC", async () => {
    await using etcd = await startEtcd();
    await using nats = await startNats();
    const keys = createKeys();
    const config = serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } });
    const first = await runService(config);
    await using view = await watchConnections(nats, keys);
    await waitFor(() => first.service.status().ready, { message: "the first run to be ready" });
    const before = await waitFor(async () => (await view.store.get("etcdv3", LOCAL_CLUSTER)) ?? undefined, {
      message: "_local published",
    });
    expect(before.config.sealed).toBeUndefined();
    await first[Symbol.asyncDispose]();

    // While it is down: a config without an RCC appears (it must go), and an RCC named _local is written past
    // validation (it must not replace the local cluster).
    const stray: ConnectionConfig = {
      v: 1,
      cluster: "stray",
      datastoreType: "etcdv3",
      generation: 1,
      status: "valid",
      spec: { etcdEndpoints: ["https://10.0.0.9:2379"] },
    };
    await view.store.put(stray);
    await etcd.etcdctl(
      "put",
      `${KEY_PREFIX}${LOCAL_CLUSTER}`,
      JSON.stringify({
        apiVersion: "projectcalico.org/v3",
        kind: "RemoteClusterConfiguration",
        metadata: { name: LOCAL_CLUSTER },
        spec: { datastoreType: "etcdv3", etcdEndpoints: "https://10.6.6.6:2379" },
      }),
    );
    await waitFor(() => view.latest("stray"), { message: "the stray config" });
    const seen = view.changes.length;

    await using second = await runService(config);
    await waitFor(() => second.service.status().ready, { message: "the restarted service to be ready" });
    await waitFor(() => view.changes.some((c) => c.type === "delete" && c.cluster === "stray"), {
      message: "the config without an RCC to be withdrawn",
    });
    await view.nc.flush();
    expect(localChanges(view.changes.slice(seen))).toEqual([]);
    const now = await view.store.get("etcdv3", LOCAL_CLUSTER);
    expect(now?.revision).toBe(before.revision);
    expect(now?.config).toEqual(before.config);
    const status = second.service.status().reconciler;
    expect(status?.local).toMatchObject({ state: "valid", generation: before.config.generation });
    expect(status?.clusters.map((c) => c.name)).not.toContain(LOCAL_CLUSTER);
    expect(second.lines.some((line) => line.includes("ignoring a RemoteClusterConfiguration named _local"))).toBe(true);
  });

  it("withdraws the _local it published when FEDVIEW_FEDERATE_LOCAL is off, and leaves one sealed by another key", async () => {
    await using etcd = await startEtcd();
    await using nats = await startNats();
    const keys = createKeys();
    const config = serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } });
    const federating = await runService(config);
    await using view = await watchConnections(nats, keys);
    await waitFor(() => view.latest(LOCAL_CLUSTER), { message: "_local published" });
    await federating[Symbol.asyncDispose]();

    const off = await runService({ ...config, federateLocal: false });
    await waitFor(() => off.service.status().ready, { message: "the service to be ready" });
    await waitFor(() => view.changes.some((c) => c.type === "delete" && c.cluster === LOCAL_CLUSTER), {
      message: "_local to be withdrawn",
    });
    expect(await view.store.get("etcdv3", LOCAL_CLUSTER)).toBeNull();
    expect(off.service.status().reconciler?.local).toBeUndefined();
    await off[Symbol.asyncDispose]();

    // Someone else's _local (sealed by another key) is not this service's to withdraw.
    const other = createSealingKeyPair();
    const theirs: ConnectionConfig = {
      v: 1,
      cluster: LOCAL_CLUSTER,
      datastoreType: "etcdv3",
      generation: 7,
      status: "valid",
      spec: { etcdEndpoints: ["https://10.7.0.1:2379"] },
      sealed: sealSecrets({ etcdPassword: "theirs" }, other, keys.connector.getPublicKey()),
    };
    const revision = await view.store.put(theirs);
    await using again = await runService({ ...config, federateLocal: false });
    await waitFor(() => again.service.status().ready, { message: "the service to be ready again" });
    expect((await view.store.get("etcdv3", LOCAL_CLUSTER))?.revision).toBe(revision);
  });
});

describe("the local cluster (_local) on a Kubernetes local datastore", () => {
  it("publishes the local API's kubeconfig, sealed, under kubernetes, and a connector reaches the API with it", async () => {
    await using kube = await startKubeApiServer({ namespaces: ["default", "calico-system"] });
    await using nats = await startNats();
    const keys = createKeys();
    const kubeconfig = await kube.writeKubeconfig();
    await using running = await runService(
      serviceConfig(nats, keys, { datastoreType: "kubernetes", kubernetes: { kubeconfig } }),
    );
    await using view = await watchConnections(nats, keys);
    const config = await waitFor(() => view.latest(LOCAL_CLUSTER), { message: "the _local connection config" });
    expect(config).toMatchObject({ cluster: LOCAL_CLUSTER, datastoreType: "kubernetes", status: "valid", spec: {} });
    const opened = view.open(config);
    expect(Object.keys(opened)).toEqual(["kubeconfig"]);
    const inlined = parse(opened["kubeconfig"]!);
    expect(inlined.clusters[0].cluster.server).toBe(kube.url);
    expect(inlined.users[0].user.token).toBe(kube.adminToken);
    expect(JSON.stringify(config)).not.toContain(kube.adminToken);
    expect(await view.store.get("etcdv3", LOCAL_CLUSTER)).toBeNull();

    const client = new KubeConfig();
    client.loadFromString(opened["kubeconfig"]!);
    const namespaces = await client.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(["calico-system"]));
    expect(running.service.status().reconciler?.local).toMatchObject({ state: "valid" });
  });
});
