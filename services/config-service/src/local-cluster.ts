import { access } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import type { EtcdSettings } from "./config.js";
import type { KubeConnectionSettings } from "./kube-client.js";
import {
  type ConnectionSecrets,
  type ConnectionSpecFields,
  definedOnly,
  FieldProblem,
  fileReader,
  inlineKubeconfig,
  type Resolution,
  type ResolutionDependencies,
  type ResolvedConnection,
} from "./resolver.js";
import type { DatastoreType } from "./types.js";

/** The local datastore as config-service reaches it: calicoctl's `DATASTORE_TYPE`, `ETCD_*`, `KUBECONFIG`, `K8S_*`. */
export interface LocalDatastoreSettings {
  datastoreType: DatastoreType;
  etcd?: EtcdSettings;
  kubernetes?: KubeConnectionSettings;
}

/** Where the Kubernetes client's defaults are looked for; tests point them at their own files. */
export interface LocalResolverOptions {
  /** For `KUBERNETES_SERVICE_HOST` and `…_PORT` in a pod; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whose `.kube/config` is the default kubeconfig; default the user's home. */
  homeDir?: string;
  /** Where a pod's service account token and CA are mounted. */
  serviceAccountDir?: string;
}

/** Where Kubernetes mounts a pod's service account credentials. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The local cluster's connection (`_local`), resolved from the settings config-service itself reaches the
 * local datastore with, split as an RCC's is: endpoints and switches in clear, every credential and
 * certificate (file contents, never paths) to be sealed. The files read are dependencies, so a rotated
 * certificate or service account token gives a new resolution. The Kubernetes defaults follow the client
 * config-service uses: `KUBECONFIG`, else the `K8S_*` settings alone, else `~/.kube/config`, else the
 * pod's service account. Never throws: problems come back in `error`, each naming its variable.
 */
export async function resolveLocalConnection(
  settings: LocalDatastoreSettings,
  options: LocalResolverOptions = {},
): Promise<Resolution> {
  const dependencies: ResolutionDependencies = { files: new Map(), secrets: [] };
  const problems: FieldProblem[] = [];
  const connection =
    settings.datastoreType === "etcdv3"
      ? await etcdConnection(settings.etcd ?? { endpoints: [] }, fileReader(dependencies, problems), problems)
      : await kubernetesConnection(settings.kubernetes ?? {}, fileReader(dependencies, problems), problems, options);
  if (problems.length > 0) {
    return {
      ok: false,
      datastoreType: settings.datastoreType,
      error: problems.map(String).join("; "),
      dependencies,
    };
  }
  return { ok: true, connection, dependencies };
}

async function etcdConnection(
  etcd: EtcdSettings,
  read: ReturnType<typeof fileReader>,
  problems: FieldProblem[],
): Promise<ResolvedConnection> {
  if (etcd.endpoints.length === 0) problems.push(new FieldProblem("ETCD_ENDPOINTS", "names no endpoint"));
  const file = (variable: string, path: string | undefined) =>
    path === undefined ? Promise.resolve(undefined) : read(variable, path);
  const [etcdKey, etcdCert, etcdCACert] = await Promise.all([
    file("ETCD_KEY_FILE", etcd.keyFile),
    file("ETCD_CERT_FILE", etcd.certFile),
    file("ETCD_CA_CERT_FILE", etcd.caCertFile),
  ]);
  return {
    datastoreType: "etcdv3",
    // The local cluster has no RCC, hence no sync options: only where to connect.
    spec: { etcdEndpoints: [...etcd.endpoints] } as ConnectionSpecFields,
    secrets: definedOnly<ConnectionSecrets>({
      etcdUsername: etcd.username,
      // calicoctl ignores a password without a user name; so does the connector.
      etcdPassword: etcd.username !== undefined ? etcd.password : undefined,
      etcdKey,
      etcdCert,
      etcdCACert,
    }),
  };
}

async function kubernetesConnection(
  k8s: KubeConnectionSettings,
  read: ReturnType<typeof fileReader>,
  problems: FieldProblem[],
  options: LocalResolverOptions,
): Promise<ResolvedConnection> {
  const file = (variable: string, path: string | undefined) =>
    path === undefined ? Promise.resolve(undefined) : read(variable, path);
  const kubeconfigPath = k8s.kubeconfig?.split(":").find((entry) => entry !== "");
  const overrides =
    k8s.apiEndpoint !== undefined ||
    k8s.token !== undefined ||
    k8s.caFile !== undefined ||
    k8s.certFile !== undefined ||
    k8s.keyFile !== undefined ||
    k8s.insecureSkipTLSVerify !== undefined;

  let kubeconfig: string | undefined;
  let inCluster: { k8sAPIEndpoint?: string; k8sAPIToken?: string; k8sCACert?: string } = {};
  if (kubeconfigPath !== undefined) {
    kubeconfig = await inlineKubeconfig(kubeconfigPath, read, problems, "KUBECONFIG");
  } else if (!overrides) {
    // The client's own defaults, in its order: ~/.kube/config, then the pod's service account.
    const home = join(options.homeDir ?? homedir(), ".kube", "config");
    const serviceAccount = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    if (await exists(home)) {
      kubeconfig = await inlineKubeconfig(home, read, problems, "KUBECONFIG (default ~/.kube/config)");
    } else if (await exists(join(serviceAccount, "token"))) {
      inCluster = await serviceAccountConnection(serviceAccount, read, problems, options.env ?? process.env);
    } else {
      problems.push(
        new FieldProblem(
          "KUBECONFIG",
          "no Kubernetes API for the local cluster: set KUBECONFIG or K8S_API_ENDPOINT, or run in a pod with a service account",
        ),
      );
    }
  }
  const [k8sCACert, k8sCert, k8sKey] = await Promise.all([
    file("K8S_CA_FILE", k8s.caFile),
    file("K8S_CERT_FILE", k8s.certFile),
    file("K8S_KEY_FILE", k8s.keyFile),
  ]);
  return {
    datastoreType: "kubernetes",
    spec: definedOnly({
      k8sAPIEndpoint: k8s.apiEndpoint ?? inCluster.k8sAPIEndpoint,
      k8sInsecureSkipTLSVerify: k8s.insecureSkipTLSVerify === true ? true : undefined,
    }) as ConnectionSpecFields,
    secrets: definedOnly<ConnectionSecrets>({
      kubeconfig,
      k8sAPIToken: k8s.token ?? inCluster.k8sAPIToken,
      k8sCACert: k8sCACert ?? inCluster.k8sCACert,
      k8sCert,
      k8sKey,
    }),
  };
}

/** The API server and credentials of the pod's service account, as the Kubernetes client builds them in a pod. */
async function serviceAccountConnection(
  dir: string,
  read: ReturnType<typeof fileReader>,
  problems: FieldProblem[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ k8sAPIEndpoint?: string; k8sAPIToken?: string; k8sCACert?: string }> {
  const host = env["KUBERNETES_SERVICE_HOST"]?.trim();
  const port = env["KUBERNETES_SERVICE_PORT"]?.trim();
  if (!host || !port) {
    problems.push(
      new FieldProblem(
        "KUBERNETES_SERVICE_HOST",
        "the pod's service account is mounted but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; set KUBECONFIG or K8S_API_ENDPOINT",
      ),
    );
  }
  const [token, ca] = await Promise.all([
    read("service account token", join(dir, "token")),
    read("service account CA", join(dir, "ca.crt")),
  ]);
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  return definedOnly({
    k8sAPIEndpoint: host && port ? `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}` : undefined,
    k8sAPIToken: token?.trim(),
    k8sCACert: ca,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
