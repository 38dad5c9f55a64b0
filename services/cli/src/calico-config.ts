/**
 * calicoctl's datastore configuration, read the way calicoctl and calicoq read it: the `-c` file (a
 * `CalicoAPIConfig`, default `/etc/calico/calicoctl.cfg`) when it exists, else the environment
 * (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`, …; each also as `CALICO_<NAME>`, which wins, as libcalico-go's
 * envconfig lookup does). A missing file falls back to the environment silently, like calicoctl.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CalicoConfigError } from "./errors.js";

/** calicoq's default `-c`. */
export const DEFAULT_CALICO_CONFIG_FILE = "/etc/calico/calicoctl.cfg";

/** The local datastore as calicoctl's config names it (paths, not contents). */
export interface DatastoreConfig {
  datastoreType: "etcdv3" | "kubernetes";
  etcdEndpoints?: string;
  etcdDiscoverySrv?: string;
  etcdUsername?: string;
  etcdPassword?: string;
  etcdKeyFile?: string;
  etcdCertFile?: string;
  etcdCACertFile?: string;
  kubeconfig?: string;
  k8sAPIEndpoint?: string;
  k8sKeyFile?: string;
  k8sCertFile?: string;
  k8sCAFile?: string;
  k8sAPIToken?: string;
  k8sInsecureSkipTLSVerify?: boolean;
  /** Where it came from: `file /etc/calico/calicoctl.cfg` or `environment` (for `--debug`). */
  origin: string;
}

/** calicoctl's default etcd endpoint when none is configured. */
export const DEFAULT_ETCD_ENDPOINTS = "http://127.0.0.1:2379";

/** Spec field → environment variable (without the optional `CALICO_` prefix). */
export const CALICO_ENV_VARS = {
  datastoreType: "DATASTORE_TYPE",
  etcdEndpoints: "ETCD_ENDPOINTS",
  etcdDiscoverySrv: "ETCD_DISCOVERY_SRV",
  etcdUsername: "ETCD_USERNAME",
  etcdPassword: "ETCD_PASSWORD",
  etcdKeyFile: "ETCD_KEY_FILE",
  etcdCertFile: "ETCD_CERT_FILE",
  etcdCACertFile: "ETCD_CA_CERT_FILE",
  kubeconfig: "KUBECONFIG",
  k8sAPIEndpoint: "K8S_API_ENDPOINT",
  k8sKeyFile: "K8S_KEY_FILE",
  k8sCertFile: "K8S_CERT_FILE",
  k8sCAFile: "K8S_CA_FILE",
  k8sAPIToken: "K8S_API_TOKEN",
  k8sInsecureSkipTLSVerify: "K8S_INSECURE_SKIP_TLS_VERIFY",
} as const;

const text = z.string().optional();
const specSchema = z.looseObject({
  datastoreType: z.enum(["etcdv3", "kubernetes"]).optional(),
  etcdEndpoints: text,
  etcdDiscoverySrv: text,
  etcdUsername: text,
  etcdPassword: text,
  etcdKeyFile: text,
  etcdCertFile: text,
  etcdCACertFile: text,
  kubeconfig: text,
  k8sAPIEndpoint: text,
  k8sKeyFile: text,
  k8sCertFile: text,
  k8sCAFile: text,
  k8sAPIToken: text,
  k8sInsecureSkipTLSVerify: z.boolean().optional(),
});

const fileSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal("CalicoAPIConfig", { error: 'kind must be "CalicoAPIConfig"' }).optional(),
  spec: specSchema.nullish(),
});

type Spec = z.infer<typeof specSchema>;

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`).join("; ");
}

function fromSpec(spec: Spec, origin: string, baseDir: string): DatastoreConfig {
  const config: DatastoreConfig = { datastoreType: spec.datastoreType ?? "etcdv3", origin };
  for (const key of Object.keys(CALICO_ENV_VARS) as (keyof typeof CALICO_ENV_VARS)[]) {
    const value = spec[key];
    if (value === undefined || value === "" || key === "datastoreType") continue;
    (config as unknown as Record<string, unknown>)[key] =
      typeof value === "string" && key.endsWith("File") && !isAbsolute(value) ? resolve(baseDir, value) : value;
  }
  if (
    config.datastoreType === "etcdv3" &&
    config.etcdEndpoints === undefined &&
    config.etcdDiscoverySrv === undefined
  ) {
    config.etcdEndpoints = DEFAULT_ETCD_ENDPOINTS;
  }
  return config;
}

/** Reads calicoctl's environment variables into a config. */
export function datastoreConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): DatastoreConfig {
  const spec: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(CALICO_ENV_VARS)) {
    const value = env[`CALICO_${name}`] ?? env[name];
    if (value === undefined || value === "") continue;
    if (key === "k8sInsecureSkipTLSVerify") spec[key] = /^(1|t|true|yes)$/i.test(value);
    else spec[key] = value;
  }
  const parsed = specSchema.safeParse(spec);
  if (!parsed.success) {
    throw new CalicoConfigError(
      `invalid datastore configuration in the environment: ${issuesText(parsed.error).replace("datastoreType", "DATASTORE_TYPE")} (use etcdv3 or kubernetes)`,
    );
  }
  return fromSpec(parsed.data, "environment", cwd);
}

/**
 * The datastore config as calicoq resolves it: the file at `path` (default
 * `/etc/calico/calicoctl.cfg`) when it exists, otherwise the environment.
 */
export async function loadDatastoreConfig(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<DatastoreConfig> {
  const file = resolve(cwd, path ?? DEFAULT_CALICO_CONFIG_FILE);
  let content: string;
  try {
    content = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return datastoreConfigFromEnv(env, cwd);
    throw new CalicoConfigError(`cannot read the config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let document: unknown;
  try {
    document = parseYaml(content);
  } catch (err) {
    throw new CalicoConfigError(`the config file ${file} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const parsed = fileSchema.safeParse(document ?? {});
  if (!parsed.success) {
    throw new CalicoConfigError(`the config file ${file} is not a valid CalicoAPIConfig: ${issuesText(parsed.error)}`);
  }
  return fromSpec(parsed.data.spec ?? {}, `file ${file}`, resolve(file, ".."));
}

/** A one-line description without secrets, for `--debug` and error messages. */
export function describeDatastore(config: DatastoreConfig): string {
  if (config.datastoreType === "kubernetes") {
    return `kubernetes ${config.k8sAPIEndpoint ?? config.kubeconfig ?? "(in-cluster)"}`;
  }
  return `etcdv3 ${config.etcdEndpoints ?? `srv ${config.etcdDiscoverySrv}`}`;
}
