import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClusterStatusMessage,
  connectBus,
  createSealingKeyPair,
  InvalidRequestError,
  sealSecrets,
  subscribeClusterStatus,
} from "@fedview/bus";
import { createTlsMaterial, startEtcd, startKubeApiServer, startNats, waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ApplyResponse } from "../src/handlers/apply.js";
import { collect, tapBus } from "./helpers.js";
import { callConfig, createKeys, runService, serviceConfig, watchConnections } from "./service-harness.js";

const KEY_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";
const ETCD_PASSWORD = "etcd-pw-a1b2c3d4";
const K8S_TOKEN = "k8s-token-e5f6a7b8";
const SECRET_PASSWORD = "secret-pw-c9d0e1f2";
const ROTATED_PASSWORD = "secret-pw-rotated-77";
const NUMERIC_PASSWORD = 86420975;

function rcc(name: string, spec: Record<string, unknown>) {
  return { apiVersion: "projectcalico.org/v3", kind: "RemoteClusterConfiguration", metadata: { name }, spec };
}

/** The middle line of a PEM block: key bytes that appear nowhere else. */
function pemBody(pem: string): string {
  const lines = pem.trim().split("\n");
  return lines[Math.floor(lines.length / 2)] ?? "";
}

describe("secrets stay out of logs and off the bus", () => {
  it("no password, token or key appears in any log line or bus message, while connectors still get them", async () => {
    await using etcd = await startEtcd();
    await using nats = await startNats();
    await using kube = await startKubeApiServer({ namespaces: ["default", "calico-system"] });
    const tls = await createTlsMaterial("hygiene");
    const secretTls = await tls.authority.issue("from-secret");
    const dir = await mkdtemp(join(tmpdir(), "fedview-hygiene-"));
    try {
      const keys = createKeys();
      const config = serviceConfig(nats, keys, {
        datastoreType: "etcdv3",
        etcd: { endpoints: etcd.endpoints },
        kubernetes: { kubeconfig: await kube.writeKubeconfig() },
      });
      await using client = await connectBus({ servers: nats.url, name: "cli" });
      await using tap = tapBus(client);
      await using running = await runService(config);
      await using view = await watchConnections(nats, keys);
      const statuses: ClusterStatusMessage[] = collect(subscribeClusterStatus(client));

      const info = await client.request("$SRV.INFO.fedview-config", undefined, { timeout: 5000 });
      const announced = (info.json() as { metadata?: Record<string, string> }).metadata?.["sealingPublicKey"];
      expect(announced).toBe(running.service.status().sealingPublicKey);
      const cli = createSealingKeyPair();
      const sealedApply = (documents: string) =>
        callConfig<ApplyResponse>(client, "apply", { sealed: sealSecrets({ documents }, cli, announced!) });

      const secretData = (password: string) => ({
        datastoreType: Buffer.from("etcdv3").toString("base64"),
        etcdEndpoints: Buffer.from("https://10.8.0.1:2379").toString("base64"),
        etcdPassword: Buffer.from(password).toString("base64"),
        etcdCert: Buffer.from(secretTls.cert).toString("base64"),
        etcdKey: Buffer.from(secretTls.key).toString("base64"),
      });
      kube.create(
        { group: "", plural: "secrets" },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "access", namespace: "calico-system" },
          data: secretData(SECRET_PASSWORD),
        },
      );

      const applied = await sealedApply(
        [
          rcc("files", {
            datastoreType: "etcdv3",
            etcdEndpoints: "https://10.7.0.1:2379",
            etcdUsername: "fed",
            etcdPassword: ETCD_PASSWORD,
            etcdCertFile: tls.client.certFile,
            etcdKeyFile: tls.client.keyFile,
          }),
          rcc("token", {
            datastoreType: "kubernetes",
            k8sAPIEndpoint: "https://10.7.0.2:6443",
            k8sAPIToken: K8S_TOKEN,
          }),
          rcc("secret", { clusterAccessSecret: { kind: "Secret", name: "access", namespace: "calico-system" } }),
        ]
          .map((o) => stringify(o))
          .join("---\n"),
      );
      expect(applied.created).toBe(3);

      // An invalid password (a number) is reported without quoting it.
      const refused = await sealedApply(
        stringify(
          rcc("numeric", { datastoreType: "etcdv3", etcdEndpoints: "https://a:2379", etcdPassword: NUMERIC_PASSWORD }),
        ),
      ).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(InvalidRequestError);
      expect((refused as InvalidRequestError).issues.map((i) => i.path)).toEqual(["spec.etcdPassword"]);
      await etcd.etcdctl(
        "put",
        `${KEY_PREFIX}rawnumeric`,
        JSON.stringify(rcc("rawnumeric", { datastoreType: "etcdv3", etcdPassword: NUMERIC_PASSWORD })),
      );

      const files = await waitFor(() => view.latest("files"), { message: "files" });
      const token = await waitFor(() => view.latest("token"), { message: "token" });
      const secret = await waitFor(() => view.latest("secret"), { message: "secret" });
      await waitFor(() => statuses.some((s) => s.cluster === "rawnumeric"), { message: "rawnumeric's status" });
      expect(view.open(files)["etcdPassword"]).toBe(ETCD_PASSWORD);
      expect(view.open(files)["etcdKey"]).toBe(tls.client.key);
      expect(view.open(token)["k8sAPIToken"]).toBe(K8S_TOKEN);
      expect(view.open(secret)["etcdPassword"]).toBe(SECRET_PASSWORD);

      // Rotate the Secret's password; then read everything back through get and list.
      kube.update(
        { group: "", plural: "secrets" },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "access", namespace: "calico-system" },
          data: secretData(ROTATED_PASSWORD),
        },
      );
      await waitFor(() => view.open(view.latest("secret")!)["etcdPassword"] === ROTATED_PASSWORD, {
        message: "the rotated password",
      });
      await callConfig(client, "get", { name: "files" });
      await callConfig(client, "get", { name: "token" });
      await callConfig(client, "list");
      await client.flush();

      const forbidden = [
        ETCD_PASSWORD,
        K8S_TOKEN,
        SECRET_PASSWORD,
        ROTATED_PASSWORD,
        String(NUMERIC_PASSWORD),
        pemBody(tls.client.key),
        pemBody(secretTls.key),
      ];
      expect(running.lines.length).toBeGreaterThan(10);
      expect(tap.texts.length).toBeGreaterThan(10);
      for (const secretText of forbidden) {
        expect(running.lines.filter((line) => line.includes(secretText))).toEqual([]);
        expect(tap.texts.filter((text) => text.includes(secretText))).toEqual([]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(tls.authority.dir, { recursive: true, force: true });
    }
  });
});
