/**
 * Builds the `@kubernetes/client-node` configuration of one cluster from its connection material:
 * the kubeconfig's current context, with each individual field replacing its counterpart.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { ClusterConnection } from "@fedview/sync";
import { type Cluster, KubeConfig, type User } from "@kubernetes/client-node";
import { z } from "zod";
import { KubeConfigError } from "./errors.js";
import type { KubernetesConnectionMaterial } from "./types.js";

const base64 = (pem: string) => Buffer.from(pem, "utf8").toString("base64");

/** The first line of a parser's message: later lines of YAML errors quote the document (secrets). */
function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim();
}

function checkCertificate(pem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new KubeConfigError(`${field} is not a PEM certificate: ${firstLine(err)}`, { cause: err });
  }
}

function checkMaterial(material: KubernetesConnectionMaterial): void {
  if (material.caCert !== undefined) checkCertificate(material.caCert, "the CA certificate (k8sCACert)");
  if ((material.cert === undefined) !== (material.key === undefined)) {
    throw new KubeConfigError(
      "a client certificate needs both k8sCert and k8sKey; only one of them is set in the connection config",
    );
  }
  if (material.cert !== undefined && material.key !== undefined) {
    const cert = checkCertificate(material.cert, "the client certificate (k8sCert)");
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(material.key);
    } catch (err) {
      throw new KubeConfigError(`the client key (k8sKey) is not a PEM private key: ${firstLine(err)}`, { cause: err });
    }
    if (!cert.checkPrivateKey(key)) {
      throw new KubeConfigError("the client key (k8sKey) does not belong to the client certificate (k8sCert)");
    }
  }
}

function loadKubeconfig(text: string): KubeConfig {
  const config = new KubeConfig();
  try {
    config.loadFromString(text);
  } catch (err) {
    throw new KubeConfigError(`the kubeconfig cannot be read: ${firstLine(err)}`, { cause: err });
  }
  if (config.getCurrentCluster() === null) {
    throw new KubeConfigError(
      config.currentContext
        ? `the kubeconfig's current context "${config.currentContext}" names no cluster it defines`
        : "the kubeconfig has no current-context",
    );
  }
  return config;
}

function checkServer(server: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    throw new KubeConfigError(`the API server URL "${server}" is not a URL`, { cause: err });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeConfigError(`the API server URL "${server}" must start with https://`);
  }
}

/**
 * The client configuration of one cluster. Throws `KubeConfigError` for material that cannot work —
 * no server, a kubeconfig without current context, a certificate or key that does not parse, half of
 * a key pair — naming the field, never its value.
 */
export function buildKubeConfig(material: KubernetesConnectionMaterial): KubeConfig {
  checkMaterial(material);
  const base = material.kubeconfig !== undefined ? loadKubeconfig(material.kubeconfig) : undefined;
  const cluster = base?.getCurrentCluster() ?? undefined;
  const user = base?.getCurrentUser() ?? undefined;
  const server = material.server ?? cluster?.server;
  if (server === undefined || server === "") {
    throw new KubeConfigError("no Kubernetes API server: set k8sAPIEndpoint or a kubeconfig with a current context");
  }
  checkServer(server);
  const overrides =
    material.server !== undefined ||
    material.token !== undefined ||
    material.caCert !== undefined ||
    material.cert !== undefined ||
    material.insecureSkipTLSVerify !== undefined;
  if (base && !overrides) return base;

  const mergedCluster: Cluster = {
    name: "fedview",
    server,
    skipTLSVerify: material.insecureSkipTLSVerify ?? cluster?.skipTLSVerify ?? false,
    ...(material.caCert !== undefined
      ? { caData: base64(material.caCert) }
      : {
          ...(cluster?.caData !== undefined ? { caData: cluster.caData } : {}),
          ...(cluster?.caFile !== undefined ? { caFile: cluster.caFile } : {}),
        }),
    ...(cluster?.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
    ...(cluster?.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
  };
  const { certFile: _certFile, keyFile: _keyFile, ...keptUser } = user ?? { name: "fedview" };
  const ownCertificate = material.cert !== undefined && material.key !== undefined;
  const mergedUser: User = {
    ...(ownCertificate ? keptUser : (user ?? {})),
    name: "fedview",
    ...(material.token !== undefined ? { token: material.token } : {}),
    ...(ownCertificate ? { certData: base64(material.cert!), keyData: base64(material.key!) } : {}),
  };
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [mergedCluster],
    users: [mergedUser],
    contexts: [{ name: "fedview", cluster: "fedview", user: "fedview" }],
    currentContext: "fedview",
  });
  return config;
}

/** `kubernetes <server>`, for logs and errors: never credentials. */
export function describeKubeConfig(config: KubeConfig): string {
  return `kubernetes ${config.getCurrentCluster()?.server ?? "(no server)"}`;
}

const nonEmpty = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/** The fields of a connection config the Kubernetes connector reads (validated at the edge). */
const KubernetesSpecSchema = z.looseObject({
  kubeconfig: nonEmpty,
  k8sAPIEndpoint: nonEmpty,
  k8sAPIToken: nonEmpty,
  k8sCACert: nonEmpty,
  k8sCert: nonEmpty,
  k8sKey: nonEmpty,
  k8sInsecureSkipTLSVerify: z.boolean().optional(),
  overlayRoutingMode: z.enum(["Enabled", "Disabled"]).optional(),
});

/**
 * The Kubernetes material and options of a connection config: fields from `spec` and from the opened
 * `secrets` (which win; config-service seals the kubeconfig, token, key, certificate and CA).
 * Throws `KubeConfigError` naming the field at fault, never its value.
 */
export function kubernetesMaterialFromConnection(connection: ClusterConnection): {
  material: KubernetesConnectionMaterial;
  overlayRouting: boolean;
} {
  const parsed = KubernetesSpecSchema.safeParse({ ...connection.spec, ...connection.secrets });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KubeConfigError(
      `the Kubernetes connection config is invalid: ${issue ? `${issue.path.join(".") || "spec"}: ${issue.message}` : "unknown problem"}`,
    );
  }
  const s = parsed.data;
  if (s.kubeconfig === undefined && s.k8sAPIEndpoint === undefined) {
    throw new KubeConfigError("the Kubernetes connection config has neither a kubeconfig nor k8sAPIEndpoint");
  }
  const material: KubernetesConnectionMaterial = {
    ...(s.kubeconfig !== undefined ? { kubeconfig: s.kubeconfig } : {}),
    ...(s.k8sAPIEndpoint !== undefined ? { server: s.k8sAPIEndpoint } : {}),
    ...(s.k8sAPIToken !== undefined ? { token: s.k8sAPIToken } : {}),
    ...(s.k8sCACert !== undefined ? { caCert: s.k8sCACert } : {}),
    ...(s.k8sCert !== undefined ? { cert: s.k8sCert } : {}),
    ...(s.k8sKey !== undefined ? { key: s.k8sKey } : {}),
    ...(s.k8sInsecureSkipTLSVerify !== undefined ? { insecureSkipTLSVerify: s.k8sInsecureSkipTLSVerify } : {}),
  };
  return { material, overlayRouting: s.overlayRoutingMode === "Enabled" };
}
