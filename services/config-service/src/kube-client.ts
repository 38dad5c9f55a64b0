import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { ConfigurationError } from "./errors.js";

/**
 * How to reach the local Kubernetes API, as calicoctl's variables name it: a kubeconfig file, and/or the
 * individual settings, which override what the kubeconfig says.
 */
export interface KubeConnectionSettings {
  /** Path of a kubeconfig file (`KUBECONFIG`; the first entry of a `:`-separated list). */
  kubeconfig?: string;
  /** API server URL (`K8S_API_ENDPOINT`). */
  apiEndpoint?: string;
  /** Bearer token (`K8S_API_TOKEN`). */
  token?: string;
  /** CA bundle path (`K8S_CA_FILE`). */
  caFile?: string;
  /** Client certificate and key paths (`K8S_CERT_FILE`, `K8S_KEY_FILE`). */
  certFile?: string;
  keyFile?: string;
  /** `K8S_INSECURE_SKIP_TLS_VERIFY`. */
  insecureSkipTLSVerify?: boolean;
}

/**
 * Builds a client configuration from the settings: the kubeconfig's current context, with any individual
 * setting replacing its counterpart; without either, the in-cluster service account or `~/.kube/config`.
 */
export function createKubeConfig(settings: KubeConnectionSettings): KubeConfig {
  const config = new KubeConfig();
  const kubeconfig = settings.kubeconfig?.split(":").find((entry) => entry !== "");
  const overrides =
    settings.apiEndpoint !== undefined ||
    settings.token !== undefined ||
    settings.caFile !== undefined ||
    settings.certFile !== undefined ||
    settings.keyFile !== undefined ||
    settings.insecureSkipTLSVerify !== undefined;
  try {
    if (kubeconfig !== undefined) config.loadFromFile(kubeconfig);
    else if (!overrides) config.loadFromDefault();
  } catch (error) {
    throw new ConfigurationError(
      `cannot load the kubeconfig ${kubeconfig ?? "(default)"}: ${(error as Error).message}; check KUBECONFIG`,
      { cause: error },
    );
  }
  if (!overrides) return config;

  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  const server = settings.apiEndpoint ?? cluster?.server;
  if (server === undefined) {
    throw new ConfigurationError("no Kubernetes API server: set K8S_API_ENDPOINT or KUBECONFIG");
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: [
      {
        name: "local",
        server,
        skipTLSVerify: settings.insecureSkipTLSVerify ?? cluster?.skipTLSVerify ?? false,
        ...(settings.caFile !== undefined
          ? { caFile: settings.caFile }
          : { caData: cluster?.caData, caFile: cluster?.caFile }),
        ...(cluster?.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
      },
    ],
    users: [
      {
        ...(user ?? {}),
        name: "local",
        ...(settings.token !== undefined ? { token: settings.token } : {}),
        ...(settings.certFile !== undefined ? { certFile: settings.certFile, certData: undefined } : {}),
        ...(settings.keyFile !== undefined ? { keyFile: settings.keyFile, keyData: undefined } : {}),
      },
    ],
    contexts: [{ name: "local", cluster: "local", user: "local" }],
    currentContext: "local",
  });
  return merged;
}

/** The HTTP status of a failed Kubernetes API call, when it has one. */
export function kubeStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The server's message of a failed call (the Status `message`), or the error's own. */
export function kubeErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body;
    let parsed: unknown = body;
    if (typeof body === "string") {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    const message = (parsed as { message?: unknown } | undefined)?.message;
    if (typeof message === "string" && message !== "") return `${message} (HTTP ${error.code})`;
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}
