import { stringify } from "yaml";

/** Credentials a kubeconfig user entry carries. */
export type KubeconfigCredentials = { token: string } | { cert: string; key: string };

/** Everything needed to write one single-context kubeconfig. */
export interface KubeconfigSpec {
  server: string;
  /** PEM of the CA that signed the server certificate; embedded as `certificate-authority-data`. */
  ca: string;
  clusterName: string;
  userName: string;
  credentials: KubeconfigCredentials;
  namespace?: string;
}

function base64(pem: string): string {
  return Buffer.from(pem, "utf8").toString("base64");
}

/** A kubeconfig YAML document like `kubectl config view --raw --minify` prints. */
export function buildKubeconfig(spec: KubeconfigSpec): string {
  const contextName = `${spec.userName}@${spec.clusterName}`;
  const user =
    "token" in spec.credentials
      ? { token: spec.credentials.token }
      : {
          "client-certificate-data": base64(spec.credentials.cert),
          "client-key-data": base64(spec.credentials.key),
        };
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: spec.clusterName, cluster: { "certificate-authority-data": base64(spec.ca), server: spec.server } },
    ],
    users: [{ name: spec.userName, user }],
    contexts: [
      {
        name: contextName,
        context: {
          cluster: spec.clusterName,
          user: spec.userName,
          ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}),
        },
      },
    ],
    "current-context": contextName,
    preferences: {},
  });
}
