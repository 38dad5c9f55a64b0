/**
 * RemoteClusterConfiguration (RCC): schema, the full validation an operator sees on apply, and the
 * validation of the data keys of the Secret an RCC may reference.
 *
 * fedview extension: `spec.syncOptions.staleDataExpiry` (a duration such as `"10m"`). Calico has no
 * such field. By default a disconnected cluster's data is kept and marked stale; with this field
 * set, fedview deletes that data once the cluster has been disconnected for the duration.
 */
import { z } from "zod";
import { CALICO_API_VERSION, ObjectMetaSchema } from "./calico-v3.js";
import { parseDuration } from "./duration.js";
import { describeValue, fromZodIssues, SECRET_VALUE_FIELDS, withoutUserInfo } from "./issues.js";
import { isValidClusterName, MAX_CLUSTER_NAME_LENGTH } from "./naming.js";
import { isRecord } from "./objects.js";
import type {
  ClusterAccessSecretData,
  RemoteClusterConfiguration,
  RemoteClusterValidationOptions,
  ValidationIssue,
  ValidationResult,
} from "./types.js";

/** The kind name of an RCC. */
export const REMOTE_CLUSTER_CONFIGURATION_KIND = "RemoteClusterConfiguration";

/** The datastore a remote cluster uses. */
export const DatastoreTypeSchema = z.enum(["etcdv3", "kubernetes"]);

/** Whether Nodes, IPPools and IPAM blocks are pulled too (for cross-cluster overlay routing). */
export const OverlayRoutingModeSchema = z.enum(["Enabled", "Disabled"]);

/** Default of `spec.syncOptions.overlayRoutingMode`. */
export const DEFAULT_OVERLAY_ROUTING_MODE = "Disabled";

/** `spec.clusterAccessSecret`: a Kubernetes ObjectReference to a Secret. */
export const ClusterAccessSecretRefSchema = z.looseObject({
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
});

/** `spec.syncOptions`. `staleDataExpiry` is a fedview extension (see the module comment). */
export const RemoteClusterSyncOptionsSchema = z.looseObject({
  overlayRoutingMode: OverlayRoutingModeSchema.default(DEFAULT_OVERLAY_ROUTING_MODE),
  staleDataExpiry: z.string().optional(),
});

/** `RemoteClusterConfiguration.spec`: types only; the rules are in `validateRemoteClusterConfiguration`. */
export const RemoteClusterConfigurationSpecSchema = z.looseObject({
  clusterAccessSecret: ClusterAccessSecretRefSchema.optional(),
  datastoreType: DatastoreTypeSchema.optional(),
  etcdEndpoints: z.string().optional(),
  etcdUsername: z.string().optional(),
  etcdPassword: z.string().optional(),
  etcdKeyFile: z.string().optional(),
  etcdCertFile: z.string().optional(),
  etcdCACertFile: z.string().optional(),
  kubeconfig: z.string().optional(),
  k8sAPIEndpoint: z.string().optional(),
  k8sKeyFile: z.string().optional(),
  k8sCertFile: z.string().optional(),
  k8sCAFile: z.string().optional(),
  k8sAPIToken: z.string().optional(),
  k8sInsecureSkipTLSVerify: z.boolean().optional(),
  syncOptions: RemoteClusterSyncOptionsSchema.prefault({}),
});

/**
 * A RemoteClusterConfiguration (cluster-scoped). This schema checks shape and types and fills in
 * defaults; use `validateRemoteClusterConfiguration` for every rule.
 */
export const RemoteClusterConfigurationSchema = z.looseObject({
  apiVersion: z.literal(CALICO_API_VERSION),
  kind: z.literal(REMOTE_CLUSTER_CONFIGURATION_KIND),
  metadata: ObjectMetaSchema,
  spec: RemoteClusterConfigurationSpecSchema,
});

/** The data keys a cluster access Secret may hold; values are file contents, not paths. */
export const CLUSTER_ACCESS_SECRET_KEYS = [
  "datastoreType",
  "etcdEndpoints",
  "etcdUsername",
  "etcdPassword",
  "etcdKey",
  "etcdCert",
  "etcdCACert",
  "kubeconfig",
] as const;

const RCC_FILE_FIELDS = [
  "etcdKeyFile",
  "etcdCertFile",
  "etcdCACertFile",
  "kubeconfig",
  "k8sKeyFile",
  "k8sCertFile",
  "k8sCAFile",
];

/** Secret keys that name a file where the Secret must hold contents, with the key to use instead. */
const SECRET_PATH_KEYS: Record<string, string> = {
  etcdKeyFile: "etcdKey",
  etcdCertFile: "etcdCert",
  etcdCACertFile: "etcdCACert",
  kubeconfigFile: "kubeconfig",
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const isEtcdField = (key: string) => key.startsWith("etcd");
const isKubernetesField = (key: string) => key.startsWith("k8s") || key.startsWith("kube");
const isConnectionField = (key: string) => key === "datastoreType" || isEtcdField(key) || isKubernetesField(key);
/** Calico treats empty values as unset (its fields are `omitempty`). */
const isSet = (value: unknown) => value !== undefined && value !== null && value !== "" && value !== false;

/**
 * Why `text` is not a usable endpoint URL, or null when it is. etcd endpoints are bare
 * `scheme://host[:port]`; a Kubernetes API endpoint may carry a path (API proxies use one).
 */
function urlProblem(text: string, allowPath: boolean): string | null {
  if (text === "") return "it is empty (check for a stray comma)";
  if (/\s/.test(text)) return "it contains spaces";
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return "it has no http:// or https:// scheme";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "it is not a valid URL (check the host name and port)";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `the scheme must be http or https, not ${url.protocol.slice(0, -1)}`;
  }
  if (url.hostname === "") return "it has no host";
  if (url.username !== "" || url.password !== "") return "it must not contain a user name or password";
  if (url.search !== "" || url.hash !== "") return "it must not contain a query (?) or fragment (#)";
  if (!allowPath && url.pathname !== "/") return "an etcd endpoint has no path";
  return null;
}

/** Splits `etcdEndpoints` into its URLs (comma-separated; blanks around commas are ignored). */
export function splitEtcdEndpoints(endpoints: string): string[] {
  return endpoints.split(",").map((entry) => entry.trim());
}

function etcdEndpointIssues(path: string, endpoints: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const entry of splitEtcdEndpoints(endpoints)) {
    const problem = urlProblem(entry, false);
    if (problem !== null) {
      issues.push({
        path,
        message: `etcdEndpoints entry ${JSON.stringify(withoutUserInfo(entry))} is not valid: ${problem}; use http:// or https:// URLs separated by commas, e.g. "https://10.0.0.1:2379,https://10.0.0.2:2379"`,
      });
    }
  }
  return issues;
}

/** A value meant to be a path that holds file contents instead. */
function looksLikeContents(value: string): boolean {
  return value.includes("\n") || value.includes("-----BEGIN") || /^\s*(apiVersion:|\{)/.test(value);
}

/** A value meant to be file contents that is a single-line path instead. */
function looksLikePath(value: string): boolean {
  const text = value.trim();
  if (text.includes("\n")) return false;
  return /^(\/|\.\.?\/|~\/|[A-Za-z]:\\)/.test(text) || /\.(pem|crt|cer|key|ya?ml|conf|kubeconfig|json)$/i.test(text);
}

/** Reports the second field of a pair (client certificate and key) set without the first. */
function pairIssue(
  path: (key: string) => string,
  fields: Record<string, unknown>,
  a: string,
  b: string,
): ValidationIssue[] {
  if (isSet(fields[a]) && !isSet(fields[b])) {
    return [
      {
        path: path(a),
        message: `${a} is set without ${b}: a client certificate and its private key go together; set both or neither`,
      },
    ];
  }
  if (isSet(fields[b]) && !isSet(fields[a])) {
    return [
      {
        path: path(b),
        message: `${b} is set without ${a}: a client certificate and its private key go together; set both or neither`,
      },
    ];
  }
  return [];
}

function metadataIssues(metadata: unknown): ValidationIssue[] {
  if (!isRecord(metadata)) return [];
  const issues: ValidationIssue[] = [];
  const name = metadata["name"];
  if (typeof name === "string" && name !== "" && !isValidClusterName(name)) {
    issues.push({
      path: "metadata.name",
      message: `name ${JSON.stringify(name)} is not valid: use only lower-case letters, digits and "-", starting and ending with a letter or digit, at most ${MAX_CLUSTER_NAME_LENGTH} characters (the name becomes the "<name>/" prefix of the cluster's endpoints)`,
    });
  }
  if (isSet(metadata["namespace"])) {
    issues.push({
      path: "metadata.namespace",
      message:
        "a RemoteClusterConfiguration applies to the whole cluster and has no namespace; remove metadata.namespace",
    });
  }
  return issues;
}

function secretReferenceIssues(ref: Record<string, unknown>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { kind, name, namespace } = ref;
  if (kind !== "Secret" && (kind === undefined || typeof kind === "string")) {
    issues.push({
      path: "spec.clusterAccessSecret.kind",
      message:
        kind === undefined
          ? 'clusterAccessSecret.kind is required and must be "Secret"'
          : `clusterAccessSecret.kind must be "Secret", not ${JSON.stringify(kind)}`,
    });
  }
  if (name === undefined || name === "") {
    issues.push({
      path: "spec.clusterAccessSecret.name",
      message: "clusterAccessSecret.name is required: the name of the Secret holding the connection settings",
    });
  } else if (typeof name === "string" && (name.length > 253 || !DNS_SUBDOMAIN.test(name))) {
    issues.push({
      path: "spec.clusterAccessSecret.name",
      message: `${JSON.stringify(name)} is not a valid Secret name: use lower-case letters, digits, "-" and ".", starting and ending with a letter or digit`,
    });
  }
  if (namespace === undefined || namespace === "") {
    issues.push({
      path: "spec.clusterAccessSecret.namespace",
      message:
        "clusterAccessSecret.namespace is required: the namespace of the Secret (a RemoteClusterConfiguration has no namespace of its own)",
    });
  } else if (typeof namespace === "string" && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    issues.push({
      path: "spec.clusterAccessSecret.namespace",
      message: `${JSON.stringify(namespace)} is not a valid namespace: use lower-case letters, digits and "-", starting and ending with a letter or digit`,
    });
  }
  return issues;
}

function specIssues(spec: Record<string, unknown>, options: RemoteClusterValidationOptions): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const at = (key: string) => `spec.${key}`;
  const ref = spec["clusterAccessSecret"];
  const datastoreType = spec["datastoreType"];

  if (isSet(ref)) {
    for (const [key, value] of Object.entries(spec)) {
      if (isConnectionField(key) && isSet(value)) {
        issues.push({
          path: at(key),
          message: `${key} cannot be set together with clusterAccessSecret: all connection settings then come from the Secret (only syncOptions may be set alongside it); remove ${key} or clusterAccessSecret`,
        });
      }
    }
    if (isRecord(ref)) issues.push(...secretReferenceIssues(ref));
  } else {
    if (!isSet(datastoreType)) {
      issues.push({
        path: at("datastoreType"),
        message:
          'datastoreType is required: set "etcdv3" or "kubernetes", or reference a Secret holding the connection settings with clusterAccessSecret',
      });
    }
    if (datastoreType === "etcdv3") {
      if (!isSet(spec["etcdEndpoints"])) {
        issues.push({
          path: at("etcdEndpoints"),
          message:
            'etcdEndpoints is required when datastoreType is "etcdv3": a comma-separated list of URLs such as "https://10.0.0.1:2379"',
        });
      }
      if (!options.allowKubernetesFieldsWithEtcd) {
        for (const [key, value] of Object.entries(spec)) {
          if (isKubernetesField(key) && isSet(value)) {
            issues.push({
              path: at(key),
              message: `${key} is a Kubernetes setting and only valid with datastoreType "kubernetes", not "etcdv3"; remove it`,
            });
          }
        }
      }
      issues.push(...pairIssue(at, spec, "etcdCertFile", "etcdKeyFile"));
    }
    if (datastoreType === "kubernetes") {
      if (!isSet(spec["kubeconfig"]) && !isSet(spec["k8sAPIEndpoint"])) {
        issues.push({
          path: at("kubeconfig"),
          message:
            'a "kubernetes" datastore needs kubeconfig (the path of a kubeconfig file) or k8sAPIEndpoint (the API server URL, e.g. "https://10.0.0.1:6443")',
        });
      }
      for (const [key, value] of Object.entries(spec)) {
        if (isEtcdField(key) && isSet(value)) {
          issues.push({
            path: at(key),
            message: `${key} is an etcd setting and only valid with datastoreType "etcdv3", not "kubernetes"; remove it`,
          });
        }
      }
      issues.push(...pairIssue(at, spec, "k8sCertFile", "k8sKeyFile"));
    }
    const endpoints = spec["etcdEndpoints"];
    if (typeof endpoints === "string" && endpoints !== "")
      issues.push(...etcdEndpointIssues(at("etcdEndpoints"), endpoints));
    const apiEndpoint = spec["k8sAPIEndpoint"];
    if (typeof apiEndpoint === "string" && apiEndpoint !== "") {
      const problem = urlProblem(apiEndpoint, true);
      if (problem !== null) {
        issues.push({
          path: at("k8sAPIEndpoint"),
          message: `k8sAPIEndpoint ${JSON.stringify(withoutUserInfo(apiEndpoint))} is not valid: ${problem}; use the API server URL, e.g. "https://10.0.0.1:6443"`,
        });
      }
    }
    for (const key of RCC_FILE_FIELDS) {
      const value = spec[key];
      if (typeof value === "string" && looksLikeContents(value)) {
        issues.push({
          path: at(key),
          message: `${key} must be the path of a file, but it looks like the file's contents; to pass contents, put them in a Secret and reference it with clusterAccessSecret`,
        });
      }
    }
  }

  const syncOptions = spec["syncOptions"];
  if (isRecord(syncOptions)) {
    const expiry = syncOptions["staleDataExpiry"];
    if (typeof expiry === "string") {
      const ms = parseDuration(expiry);
      if (ms === null || ms <= 0) {
        issues.push({
          path: "spec.syncOptions.staleDataExpiry",
          message: `staleDataExpiry ${JSON.stringify(expiry)} is not a positive duration: use a number with a unit, e.g. "90s", "10m" or "1h30m" (units ms, s, m, h); leave it out to keep a disconnected cluster's data`,
        });
      }
    }
  }
  return issues;
}

/** Keeps the first issue per path: a type error explains a field better than a rule about it. */
function firstPerPath(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    if (seen.has(issue.path)) return false;
    seen.add(issue.path);
    return true;
  });
}

/**
 * Validates a RemoteClusterConfiguration against every rule of the RCC reference: name format,
 * `datastoreType`, etcd-only and Kubernetes-only fields, `clusterAccessSecret` exclusivity (only
 * `syncOptions` may accompany it) and `kind: Secret`, endpoint URL syntax, `overlayRoutingMode`
 * values (default `Disabled`, filled into `data`) and the fedview `staleDataExpiry` extension.
 * Empty strings count as unset, as in Calico. Reports every issue found, never throws.
 */
export function validateRemoteClusterConfiguration(
  input: unknown,
  options: RemoteClusterValidationOptions = {},
): ValidationResult<RemoteClusterConfiguration> {
  if (!isRecord(input)) {
    return {
      success: false,
      issues: [
        {
          path: "",
          message: `expected a RemoteClusterConfiguration (a map with apiVersion, kind, metadata and spec), not ${describeValue(input)}`,
        },
      ],
    };
  }
  // Calico omits empty fields; an explicit empty datastoreType means the same as none.
  const spec = input["spec"];
  let cleaned = input;
  if (isRecord(spec) && spec["datastoreType"] === "") {
    const cleanedSpec = { ...spec };
    delete cleanedSpec["datastoreType"];
    cleaned = { ...input, spec: cleanedSpec };
  }
  const parsed = RemoteClusterConfigurationSchema.safeParse(cleaned);
  const issues = parsed.success ? [] : fromZodIssues(parsed.error.issues, cleaned);
  issues.push(...metadataIssues(cleaned["metadata"]));
  const cleanedSpec = cleaned["spec"];
  if (isRecord(cleanedSpec)) issues.push(...specIssues(cleanedSpec, options));
  if (issues.length > 0 || !parsed.success) return { success: false, issues: firstPerPath(issues) };
  return { success: true, data: parsed.data };
}

/**
 * Validates the data of the Secret named by `clusterAccessSecret`. Values must already be
 * base64-decoded; they are file contents (PEM, kubeconfig YAML), not paths. Surrounding whitespace
 * of `datastoreType` and `etcdEndpoints` is trimmed (files often end in a newline). Keys fedview does
 * not use are ignored, except path-style keys and misspellings of the expected keys, which are
 * reported. Issue paths are `secret.data.<key>`.
 */
export function validateClusterAccessSecret(
  data: unknown,
  options: RemoteClusterValidationOptions = {},
): ValidationResult<ClusterAccessSecretData> {
  const at = (key: string) => `secret.data.${key}`;
  if (!isRecord(data)) {
    return {
      success: false,
      issues: [{ path: "secret.data", message: `the Secret must have data keys, not ${describeValue(data)}` }],
    };
  }
  const issues: ValidationIssue[] = [];
  const values: Record<string, string> = {};
  const known = new Set<string>(CLUSTER_ACCESS_SECRET_KEYS);
  const byLowerCase = new Map(CLUSTER_ACCESS_SECRET_KEYS.map((key) => [key.toLowerCase(), key]));
  for (const [key, value] of Object.entries(data)) {
    if (!known.has(key)) {
      const contentKey = SECRET_PATH_KEYS[key];
      const nearMiss = byLowerCase.get(key.toLowerCase());
      if (contentKey !== undefined) {
        issues.push({
          path: at(key),
          message: `a Secret holds file contents, not paths: put the file's contents under ${contentKey} instead of ${key}`,
        });
      } else if (nearMiss !== undefined) {
        issues.push({
          path: at(key),
          message: `unknown key ${key}; did you mean ${nearMiss}? (key names are case-sensitive)`,
        });
      } else if (isKubernetesField(key)) {
        issues.push({
          path: at(key),
          message: `${key} is not a Secret key: for a Kubernetes cluster the Secret holds only kubeconfig; put the API server, token and certificates inside that kubeconfig`,
        });
      }
      continue;
    }
    if (typeof value !== "string") {
      issues.push({
        path: at(key),
        message: `${key} must be text, not ${describeValue(value, { secret: SECRET_VALUE_FIELDS.has(key) })}`,
      });
      continue;
    }
    if (value.trim() !== "") values[key] = key === "datastoreType" || key === "etcdEndpoints" ? value.trim() : value;
  }

  const datastoreType = values["datastoreType"];
  if (datastoreType === undefined) {
    if (!issues.some((issue) => issue.path === at("datastoreType"))) {
      issues.push({ path: at("datastoreType"), message: 'datastoreType is required: "etcdv3" or "kubernetes"' });
    }
  } else if (datastoreType !== "etcdv3" && datastoreType !== "kubernetes") {
    issues.push({
      path: at("datastoreType"),
      message: `datastoreType must be "etcdv3" or "kubernetes", not ${JSON.stringify(datastoreType)}`,
    });
  }

  if (datastoreType === "etcdv3") {
    const endpoints = values["etcdEndpoints"];
    if (endpoints === undefined) {
      issues.push({
        path: at("etcdEndpoints"),
        message:
          'etcdEndpoints is required when datastoreType is "etcdv3": a comma-separated list of URLs such as "https://10.0.0.1:2379"',
      });
    } else {
      issues.push(...etcdEndpointIssues(at("etcdEndpoints"), endpoints));
    }
    if (values["kubeconfig"] !== undefined && !options.allowKubernetesFieldsWithEtcd) {
      issues.push({
        path: at("kubeconfig"),
        message: 'kubeconfig is only valid with datastoreType "kubernetes", not "etcdv3"; remove it',
      });
    }
    issues.push(...pairIssue(at, values, "etcdCert", "etcdKey"));
    issues.push(...pemIssues(at, values));
  }

  if (datastoreType === "kubernetes") {
    const kubeconfig = values["kubeconfig"];
    if (kubeconfig === undefined) {
      issues.push({
        path: at("kubeconfig"),
        message:
          'kubeconfig is required when datastoreType is "kubernetes": the contents of a kubeconfig file for the remote cluster',
      });
    } else if (looksLikePath(kubeconfig)) {
      issues.push({
        path: at("kubeconfig"),
        message: "kubeconfig looks like a file path; a Secret holds the kubeconfig file's contents, not its path",
      });
    } else if (!/\bclusters\b/.test(kubeconfig)) {
      issues.push({
        path: at("kubeconfig"),
        message: "kubeconfig does not look like a kubeconfig: it has no clusters section naming the remote API server",
      });
    }
    for (const key of Object.keys(values)) {
      if (isEtcdField(key)) {
        issues.push({
          path: at(key),
          message: `${key} is an etcd setting and only valid with datastoreType "etcdv3", not "kubernetes"; remove it`,
        });
      }
    }
  }

  if (issues.length > 0) return { success: false, issues: firstPerPath(issues) };
  const result: ClusterAccessSecretData = { datastoreType: datastoreType as ClusterAccessSecretData["datastoreType"] };
  for (const key of CLUSTER_ACCESS_SECRET_KEYS) {
    const value = values[key];
    if (key !== "datastoreType" && value !== undefined) result[key] = value;
  }
  return { success: true, data: result };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** etcd TLS material in a Secret must be PEM contents. */
function pemIssues(at: (key: string) => string, values: Record<string, string>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const checks: [string, RegExp, string][] = [
    ["etcdCert", PEM_CERTIFICATE, "a PEM certificate (-----BEGIN CERTIFICATE-----)"],
    ["etcdCACert", PEM_CERTIFICATE, "one or more PEM certificates (-----BEGIN CERTIFICATE-----)"],
    ["etcdKey", PEM_PRIVATE_KEY, "a PEM private key (-----BEGIN ... PRIVATE KEY-----)"],
  ];
  for (const [key, pattern, expected] of checks) {
    const value = values[key];
    if (value === undefined || pattern.test(value)) continue;
    issues.push({
      path: at(key),
      message: looksLikePath(value)
        ? `${key} looks like a file path; a Secret holds the file's contents: ${expected}`
        : `${key} must contain ${expected}`,
    });
  }
  return issues;
}

/** The fedview `staleDataExpiry` of an RCC in milliseconds, or undefined to keep stale data. */
export function staleDataExpiryMs(rcc: RemoteClusterConfiguration): number | undefined {
  const text = rcc.spec.syncOptions.staleDataExpiry;
  if (text === undefined) return undefined;
  return parseDuration(text) ?? undefined;
}
