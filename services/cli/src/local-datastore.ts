/**
 * The local datastore as calicoctl's config names it, turned into what the pipeline needs: the local
 * cluster's connection (cluster `_local`), the RCC store of config-service, and a Secret source for
 * `clusterAccessSecret` (Kubernetes datastores only).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import {
  createEtcdRccStore,
  createKubeConfig,
  createKubeRccStore,
  createKubeSecretSource,
  type RccStore,
  type SecretSource,
} from "@fedview/config-service";
import { etcdClientOptions, etcdMaterialFromConnection } from "@fedview/etcd-connector";
import { LOCAL_CLUSTER, splitEtcdEndpoints } from "@fedview/model";
import type { ClusterConnection } from "@fedview/sync";
import { type DatastoreConfig, describeDatastore } from "./calico-config.js";
import { CalicoConfigError } from "./errors.js";

const REQUEST_TIMEOUT_MS = 10_000;

async function readPem(file: string | undefined, variable: string): Promise<string | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new CalicoConfigError(`cannot read ${variable} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** `~/.kube/config` when it exists (what kubectl and calicoctl fall back to). */
function defaultKubeconfig(): string | undefined {
  const path = join(homedir(), ".kube", "config");
  return existsSync(path) ? path : undefined;
}

/** The local cluster as a connection for a `ClusterSource` (files read into contents). */
export async function localConnection(config: DatastoreConfig): Promise<ClusterConnection> {
  if (config.datastoreType === "kubernetes") {
    // Contents, as a connection carries them: the kubeconfig (KUBECONFIG's first entry, else
    // ~/.kube/config when it exists) and the K8S_* files.
    const kubeconfigPath = config.kubeconfig?.split(delimiter)[0] || defaultKubeconfig();
    const [kubeconfig, caCert, cert, key] = await Promise.all([
      readPem(kubeconfigPath, "KUBECONFIG"),
      readPem(config.k8sCAFile, "K8S_CA_FILE"),
      readPem(config.k8sCertFile, "K8S_CERT_FILE"),
      readPem(config.k8sKeyFile, "K8S_KEY_FILE"),
    ]);
    if (kubeconfig === undefined && config.k8sAPIEndpoint === undefined) {
      throw new CalicoConfigError(
        "the kubernetes datastore needs KUBECONFIG (or a kubeconfig in ~/.kube/config) or K8S_API_ENDPOINT",
      );
    }
    const secrets: Record<string, string> = {};
    if (kubeconfig !== undefined) secrets["kubeconfig"] = kubeconfig;
    if (config.k8sAPIToken !== undefined) secrets["k8sAPIToken"] = config.k8sAPIToken;
    if (caCert !== undefined) secrets["k8sCACert"] = caCert;
    if (cert !== undefined) secrets["k8sCert"] = cert;
    if (key !== undefined) secrets["k8sKey"] = key;
    return {
      cluster: LOCAL_CLUSTER,
      generation: 1,
      datastoreType: "kubernetes",
      spec: {
        ...(config.k8sAPIEndpoint === undefined ? {} : { k8sAPIEndpoint: config.k8sAPIEndpoint }),
        ...(config.k8sInsecureSkipTLSVerify ? { k8sInsecureSkipTLSVerify: true } : {}),
      },
      secrets,
    };
  }
  if (config.etcdEndpoints === undefined) {
    throw new CalicoConfigError("ETCD_DISCOVERY_SRV is not supported by fedview: set ETCD_ENDPOINTS instead");
  }
  const [caCert, cert, key] = await Promise.all([
    readPem(config.etcdCACertFile, "ETCD_CA_CERT_FILE"),
    readPem(config.etcdCertFile, "ETCD_CERT_FILE"),
    readPem(config.etcdKeyFile, "ETCD_KEY_FILE"),
  ]);
  const secrets: Record<string, string> = {};
  if (config.etcdUsername !== undefined) secrets["etcdUsername"] = config.etcdUsername;
  if (config.etcdPassword !== undefined) secrets["etcdPassword"] = config.etcdPassword;
  if (key !== undefined) secrets["etcdKey"] = key;
  return {
    cluster: LOCAL_CLUSTER,
    generation: 1,
    datastoreType: "etcdv3",
    spec: {
      etcdEndpoints: splitEtcdEndpoints(config.etcdEndpoints).filter((e) => e !== ""),
      ...(caCert === undefined ? {} : { etcdCACert: caCert }),
      ...(cert === undefined ? {} : { etcdCert: cert }),
    },
    secrets,
  };
}

/** Where the RCCs live and, for Kubernetes, where their Secrets are read. */
export interface LocalStores extends AsyncDisposable {
  rccs: RccStore;
  secrets?: SecretSource;
  description: string;
}

/** Opens config-service's RCC store on the local datastore. */
export async function openLocalStores(config: DatastoreConfig, local: ClusterConnection): Promise<LocalStores> {
  const description = describeDatastore(config);
  if (config.datastoreType === "kubernetes") {
    const kubeConfig = createKubeConfig({
      ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
      ...(config.k8sAPIEndpoint === undefined ? {} : { apiEndpoint: config.k8sAPIEndpoint }),
      ...(config.k8sAPIToken === undefined ? {} : { token: config.k8sAPIToken }),
      ...(config.k8sCAFile === undefined ? {} : { caFile: config.k8sCAFile }),
      ...(config.k8sCertFile === undefined ? {} : { certFile: config.k8sCertFile }),
      ...(config.k8sKeyFile === undefined ? {} : { keyFile: config.k8sKeyFile }),
      ...(config.k8sInsecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
    });
    const rccs = createKubeRccStore({ kubeConfig });
    const secrets = createKubeSecretSource({ kubeConfig });
    return {
      rccs,
      secrets,
      description,
      async [Symbol.asyncDispose]() {
        await secrets[Symbol.asyncDispose]();
        await rccs[Symbol.asyncDispose]();
      },
    };
  }
  let material: ReturnType<typeof etcdMaterialFromConnection>["material"];
  try {
    material = etcdMaterialFromConnection(local).material;
  } catch (err) {
    throw new CalicoConfigError(`the local datastore configuration is not usable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const rccs = createEtcdRccStore({ etcd: etcdClientOptions(material, REQUEST_TIMEOUT_MS) });
  return {
    rccs,
    description,
    async [Symbol.asyncDispose]() {
      await rccs[Symbol.asyncDispose]();
    },
  };
}
