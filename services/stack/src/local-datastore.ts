/**
 * The local datastore: the embedded etcd by default (and always with the demo), or the one calicoctl's
 * environment names (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`, `KUBECONFIG`, …; each also as `CALICO_<NAME>`,
 * which wins, as calicoctl reads them). config-service is given those variables: it reads the RCCs there
 * and publishes the local cluster (`_local`) from the same settings.
 */
import { z } from "zod";
import { StackConfigError } from "./errors.js";

/** calicoctl's variables the stack passes on (config-service reads the same names). */
const CALICOCTL_VARIABLES = [
  "DATASTORE_TYPE",
  "ETCD_ENDPOINTS",
  "ETCD_USERNAME",
  "ETCD_PASSWORD",
  "ETCD_KEY_FILE",
  "ETCD_CERT_FILE",
  "ETCD_CA_CERT_FILE",
  "KUBECONFIG",
  "K8S_API_ENDPOINT",
  "K8S_API_TOKEN",
  "K8S_CA_FILE",
  "K8S_CERT_FILE",
  "K8S_KEY_FILE",
  "K8S_INSECURE_SKIP_TLS_VERIFY",
] as const;

type CalicoctlVariable = (typeof CALICOCTL_VARIABLES)[number];

/** The local datastore of a run. */
export type LocalDatastore =
  | { kind: "embedded"; secretsKubeconfig?: string }
  | { kind: "external"; datastoreType: "etcdv3" | "kubernetes"; env: Partial<Record<CalicoctlVariable, string>> };

const datastoreTypeSchema = z.enum(["etcdv3", "kubernetes"], {
  error: (issue) => `DATASTORE_TYPE must be etcdv3 or kubernetes, not "${String(issue.input)}"`,
});

/** calicoctl's variables as set in `env` (`CALICO_<NAME>` over `<NAME>`; empty means unset). */
function calicoctlEnv(env: Readonly<Record<string, string | undefined>>): Partial<Record<CalicoctlVariable, string>> {
  const out: Partial<Record<CalicoctlVariable, string>> = {};
  for (const name of CALICOCTL_VARIABLES) {
    const value = env[`CALICO_${name}`] ?? env[name];
    if (value !== undefined && value.trim() !== "") out[name] = value.trim();
  }
  return out;
}

/**
 * The local datastore for a run. With the demo it is the embedded etcd. Without, it is the one the
 * environment names by `DATASTORE_TYPE` or `ETCD_ENDPOINTS`; naming none means the embedded etcd
 * (calicoctl's own default is an etcd at 127.0.0.1:2379, which is where the embedded one listens when
 * the port is free). A `KUBECONFIG` next to an etcd datastore is where `clusterAccessSecret`s are read.
 */
export function chooseLocalDatastore(demo: boolean, env: Readonly<Record<string, string | undefined>>): LocalDatastore {
  const vars = calicoctlEnv(env);
  if (demo || (vars.DATASTORE_TYPE === undefined && vars.ETCD_ENDPOINTS === undefined)) {
    return demo || vars.KUBECONFIG === undefined
      ? { kind: "embedded" }
      : { kind: "embedded", secretsKubeconfig: vars.KUBECONFIG };
  }
  const parsed = datastoreTypeSchema.safeParse(vars.DATASTORE_TYPE ?? "etcdv3");
  if (!parsed.success) throw new StackConfigError(parsed.error.issues[0]?.message ?? "invalid DATASTORE_TYPE");
  if (parsed.data === "etcdv3" && (vars.ETCD_CERT_FILE === undefined) !== (vars.ETCD_KEY_FILE === undefined)) {
    throw new StackConfigError("ETCD_CERT_FILE and ETCD_KEY_FILE go together: set both or neither");
  }
  return { kind: "external", datastoreType: parsed.data, env: vars };
}

/** How the local datastore is described to a person, e.g. `etcdv3 at http://127.0.0.1:2379 (embedded)`. */
export function describeLocalDatastore(local: LocalDatastore, embeddedUrl: string | undefined): string {
  if (local.kind === "embedded") return `etcdv3 at ${embeddedUrl ?? "(not started)"} (embedded)`;
  if (local.datastoreType === "etcdv3") return `etcdv3 at ${local.env.ETCD_ENDPOINTS ?? "http://127.0.0.1:2379"}`;
  const where = local.env.K8S_API_ENDPOINT ?? (local.env.KUBECONFIG ? `kubeconfig ${local.env.KUBECONFIG}` : "");
  return `kubernetes ${where || "(in-cluster service account)"}`.trim();
}

/** config-service's view of the local datastore, as calicoctl variables. */
export function configServiceDatastoreEnv(
  local: LocalDatastore,
  embeddedUrl: string | undefined,
): Record<string, string> {
  if (local.kind === "embedded") {
    return {
      DATASTORE_TYPE: "etcdv3",
      ETCD_ENDPOINTS: embeddedUrl ?? "",
      ...(local.secretsKubeconfig !== undefined ? { KUBECONFIG: local.secretsKubeconfig } : {}),
    };
  }
  return { DATASTORE_TYPE: local.datastoreType, ...local.env };
}
