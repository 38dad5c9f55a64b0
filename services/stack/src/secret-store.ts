/**
 * The local Kubernetes API that holds `clusterAccessSecret` Secrets. Calico reads an RCC's Secret from
 * the local cluster's Kubernetes API even when its datastore is etcd, and config-service does the same
 * (its `KUBECONFIG` next to an etcd datastore). The demo has no local Kubernetes cluster, so the
 * Kubernetes API test server stands in for it, serving only what config-service needs: the Secrets, to
 * a ServiceAccount allowed to get, list and watch Secrets in their namespace and nothing else.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type KubeApiServer, startKubeApiServer } from "@fedview/testkit";
import { SECRET_READER_ACCOUNT } from "./demo-data.js";

/** A Secret to serve: its data in clear (stored base64-encoded, as the API does). */
export interface StoredSecret {
  namespace: string;
  name: string;
  data: Record<string, string>;
}

/** The running Secret store. */
export interface SecretStore extends AsyncDisposable {
  readonly kube: KubeApiServer;
  /** A kubeconfig (mode 0600) for the ServiceAccount config-service reads Secrets as. */
  readonly kubeconfigFile: string;
}

/** Starts the store on `port`, creates `secrets`, and writes config-service's kubeconfig into `dir`. */
export async function startSecretStore(options: {
  dir: string;
  port: number;
  secrets: StoredSecret[];
}): Promise<SecretStore> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const namespaces = [...new Set(["default", "kube-system", ...options.secrets.map((s) => s.namespace)])];
  const kube = await startKubeApiServer({ port: options.port, clusterName: "fedview-local", namespaces });
  try {
    for (const secret of options.secrets) {
      kube.create("secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: secret.name,
          namespace: secret.namespace,
          labels: { "app.kubernetes.io/part-of": "fedview" },
        },
        type: "Opaque",
        data: Object.fromEntries(
          Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value).toString("base64")]),
        ),
      });
    }
    const reader = kube.addServiceAccountUser(
      SECRET_READER_ACCOUNT.namespace,
      SECRET_READER_ACCOUNT.name,
      randomBytes(32).toString("hex"),
    );
    kube.grant(reader.name, [
      {
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get", "list", "watch"],
        namespaces: [...new Set(options.secrets.map((s) => s.namespace))],
      },
    ]);
    const kubeconfigFile = join(options.dir, "kubeconfig");
    await writeFile(kubeconfigFile, kube.kubeconfig({ user: reader.name }), { mode: 0o600 });
    return { kube, kubeconfigFile, [Symbol.asyncDispose]: () => kube[Symbol.asyncDispose]() };
  } catch (err) {
    await kube[Symbol.asyncDispose]();
    throw err;
  }
}
