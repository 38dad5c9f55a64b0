import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import {
  type ClusterAccessSecretData,
  type RemoteClusterConfiguration,
  type RemoteClusterValidationOptions,
  splitEtcdEndpoints,
  type ValidationIssue,
  validateClusterAccessSecret,
  validateRemoteClusterConfiguration,
} from "@fedview/model";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { type FileFingerprint, fingerprintContent } from "./file-watcher.js";
import type { SecretRef, SecretSource } from "./kube-secret-source.js";
import type { DatastoreType } from "./types.js";

/** Connection settings that are not secret; they travel in clear in the connection config's `spec`. */
export interface ConnectionSpecFields {
  etcdEndpoints?: string[];
  k8sAPIEndpoint?: string;
  k8sInsecureSkipTLSVerify?: boolean;
  overlayRoutingMode: "Enabled" | "Disabled";
  /** fedview extension: how long a disconnected cluster's data is kept (a duration such as `10m`). */
  staleDataExpiry?: string;
}

/**
 * Credentials and TLS material, as contents (never paths). They travel only sealed to the connectors' key.
 * The individual `k8s*` fields override what `kubeconfig` says; the connector merges them.
 */
export interface ConnectionSecrets {
  etcdUsername?: string;
  etcdPassword?: string;
  etcdKey?: string;
  etcdCert?: string;
  etcdCACert?: string;
  kubeconfig?: string;
  k8sAPIToken?: string;
  k8sKey?: string;
  k8sCert?: string;
  k8sCACert?: string;
}

/** A remote cluster's connection material, ready to publish. */
export interface ResolvedConnection {
  datastoreType: DatastoreType;
  spec: ConnectionSpecFields;
  secrets: ConnectionSecrets;
}

/** What a resolution read, so that a change to any of it triggers a new resolution. */
export interface ResolutionDependencies {
  /** Absolute path → fingerprint of the content read (or `missing:<code>`). */
  files: Map<string, FileFingerprint>;
  secrets: SecretRef[];
}

/** The outcome of resolving one RCC. */
export type Resolution =
  | { ok: true; connection: ResolvedConnection; dependencies: ResolutionDependencies }
  | {
      ok: false;
      /** The datastore type the RCC names, when it names a valid one. */
      datastoreType?: DatastoreType;
      /** Every problem, each naming its field: `spec.etcdCertFile: cannot read /x: ENOENT (…)`. */
      error: string;
      dependencies: ResolutionDependencies;
    };

export interface ResolverOptions {
  /** Where `clusterAccessSecret` Secrets are read; absent when no Kubernetes API is configured. */
  secrets?: SecretSource;
  validation?: RemoteClusterValidationOptions;
}

/** A field that could not be resolved; collected so one resolution reports every problem. */
export class FieldProblem {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    this.field = field;
    this.reason = reason;
  }
  toString(): string {
    return `${this.field}: ${this.reason}`;
  }
}

/** Reads a file named by `field`; an unreadable or empty one is a problem of that field. */
export type FileReader = (field: string, path: string) => Promise<string | undefined>;

/**
 * A reader that records each file it reads (its fingerprint, or `missing:<code>`) as a dependency, so
 * the file is watched, and every failure as a problem naming the field.
 */
export function fileReader(dependencies: ResolutionDependencies, problems: FieldProblem[]): FileReader {
  return async (field, path) => {
    const absolute = resolve(path);
    try {
      const content = await readFile(absolute, "utf8");
      dependencies.files.set(absolute, fingerprintContent(content));
      if (content.trim() === "") {
        problems.push(new FieldProblem(field, `${path} is empty`));
        return undefined;
      }
      return content;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "EIO";
      dependencies.files.set(absolute, `missing:${code}`);
      problems.push(new FieldProblem(field, `cannot read ${path}: ${describeFsError(error)}`));
      return undefined;
    }
  };
}

/**
 * Validates an RCC with `@fedview/model` and turns it into connection material: files named by the RCC are
 * read (and a kubeconfig's own file references inlined), a `clusterAccessSecret` is read from the local
 * Kubernetes API and its data validated. Never throws: every problem comes back in `error`, naming its field.
 */
export async function resolveConnection(input: unknown, options: ResolverOptions = {}): Promise<Resolution> {
  const dependencies: ResolutionDependencies = { files: new Map(), secrets: [] };
  const validation = validateRemoteClusterConfiguration(input, options.validation);
  if (!validation.success) {
    return { ok: false, ...declaredType(input), error: formatIssues(validation.issues), dependencies };
  }
  const rcc = validation.data;
  const problems: FieldProblem[] = [];
  const read = fileReader(dependencies, problems);

  const syncOptions: Pick<ConnectionSpecFields, "overlayRoutingMode" | "staleDataExpiry"> = {
    overlayRoutingMode: rcc.spec.syncOptions.overlayRoutingMode,
    ...(rcc.spec.syncOptions.staleDataExpiry !== undefined
      ? { staleDataExpiry: rcc.spec.syncOptions.staleDataExpiry }
      : {}),
  };

  let connection: ResolvedConnection | undefined;
  const ref = rcc.spec.clusterAccessSecret;
  if (ref?.name !== undefined && ref.namespace !== undefined) {
    const secretRef = { namespace: ref.namespace, name: ref.name };
    dependencies.secrets.push(secretRef);
    const data = await readSecretData(secretRef, options, problems);
    if (data !== undefined) connection = fromSecret(data, syncOptions);
  } else {
    connection = await fromSpec(rcc, syncOptions, read, problems);
  }

  if (problems.length > 0 || connection === undefined) {
    const datastoreType = connection?.datastoreType ?? rcc.spec.datastoreType;
    return {
      ok: false,
      ...(datastoreType !== undefined ? { datastoreType } : {}),
      error: problems.map(String).join("; "),
      dependencies,
    };
  }
  return { ok: true, connection, dependencies };
}

async function readSecretData(
  ref: SecretRef,
  options: ResolverOptions,
  problems: FieldProblem[],
): Promise<ClusterAccessSecretData | undefined> {
  const field = "spec.clusterAccessSecret";
  const which = `Secret ${ref.namespace}/${ref.name}`;
  if (options.secrets === undefined) {
    problems.push(
      new FieldProblem(
        field,
        `cannot read ${which}: no Kubernetes API is configured for Secrets; set KUBECONFIG or K8S_API_ENDPOINT for the config service`,
      ),
    );
    return undefined;
  }
  let raw: Record<string, string> | undefined;
  try {
    raw = await options.secrets.read(ref);
  } catch (error) {
    problems.push(new FieldProblem(field, `cannot read ${which}: ${(error as Error).message}`));
    return undefined;
  }
  if (raw === undefined) {
    problems.push(new FieldProblem(field, `${which} not found; create it or fix the reference`));
    return undefined;
  }
  const validated = validateClusterAccessSecret(raw, options.validation);
  if (!validated.success) {
    for (const issue of validated.issues) {
      const shown = hideSecretValue(issue);
      problems.push(new FieldProblem(field, `${which}: ${shown.path.replace(/^secret\./, "")}: ${shown.message}`));
    }
    return undefined;
  }
  return validated.data;
}

function fromSecret(
  data: ClusterAccessSecretData,
  syncOptions: Pick<ConnectionSpecFields, "overlayRoutingMode" | "staleDataExpiry">,
): ResolvedConnection {
  if (data.datastoreType === "etcdv3") {
    return {
      datastoreType: "etcdv3",
      spec: { etcdEndpoints: splitEtcdEndpoints(data.etcdEndpoints ?? ""), ...syncOptions },
      secrets: definedOnly({
        etcdUsername: data.etcdUsername,
        etcdPassword: data.etcdPassword,
        etcdKey: data.etcdKey,
        etcdCert: data.etcdCert,
        etcdCACert: data.etcdCACert,
      }),
    };
  }
  return {
    datastoreType: "kubernetes",
    spec: { ...syncOptions },
    secrets: definedOnly({ kubeconfig: data.kubeconfig }),
  };
}

async function fromSpec(
  rcc: RemoteClusterConfiguration,
  syncOptions: Pick<ConnectionSpecFields, "overlayRoutingMode" | "staleDataExpiry">,
  read: FileReader,
  problems: FieldProblem[],
): Promise<ResolvedConnection | undefined> {
  const spec = rcc.spec;
  const file = async (field: keyof typeof spec): Promise<string | undefined> => {
    const path = spec[field];
    return typeof path === "string" && path !== "" ? read(`spec.${String(field)}`, path) : undefined;
  };
  if (spec.datastoreType === "etcdv3") {
    const [etcdKey, etcdCert, etcdCACert] = await Promise.all([
      file("etcdKeyFile"),
      file("etcdCertFile"),
      file("etcdCACertFile"),
    ]);
    return {
      datastoreType: "etcdv3",
      spec: { etcdEndpoints: splitEtcdEndpoints(spec.etcdEndpoints ?? ""), ...syncOptions },
      secrets: definedOnly({
        etcdUsername: nonEmpty(spec.etcdUsername),
        etcdPassword: nonEmpty(spec.etcdPassword),
        etcdKey,
        etcdCert,
        etcdCACert,
      }),
    };
  }
  if (spec.datastoreType === "kubernetes") {
    const [kubeconfig, k8sKey, k8sCert, k8sCACert] = await Promise.all([
      nonEmpty(spec.kubeconfig) !== undefined ? inlineKubeconfig(spec.kubeconfig!, read, problems) : undefined,
      file("k8sKeyFile"),
      file("k8sCertFile"),
      file("k8sCAFile"),
    ]);
    return {
      datastoreType: "kubernetes",
      spec: definedOnly({
        k8sAPIEndpoint: nonEmpty(spec.k8sAPIEndpoint),
        k8sInsecureSkipTLSVerify: spec.k8sInsecureSkipTLSVerify === true ? true : undefined,
        ...syncOptions,
      }) as ConnectionSpecFields,
      secrets: definedOnly({ kubeconfig, k8sAPIToken: nonEmpty(spec.k8sAPIToken), k8sKey, k8sCert, k8sCACert }),
    };
  }
  problems.push(new FieldProblem("spec.datastoreType", "is required"));
  return undefined;
}

/** kubeconfig file references and the inline field that replaces each. */
const KUBECONFIG_FILE_FIELDS = [
  { section: "cluster", path: "certificate-authority", data: "certificate-authority-data", base64: true },
  { section: "user", path: "client-certificate", data: "client-certificate-data", base64: true },
  { section: "user", path: "client-key", data: "client-key-data", base64: true },
  { section: "user", path: "tokenFile", data: "token", base64: false },
] as const;

/**
 * Reads the kubeconfig at `path` and returns a self-contained one: only its current context, with the
 * files it references (relative to the kubeconfig, as kubectl resolves them) inlined, because the
 * connector that uses it may run on another machine. Each referenced file is a dependency too.
 */
export async function inlineKubeconfig(
  path: string,
  read: FileReader,
  problems: FieldProblem[],
  field = "spec.kubeconfig",
): Promise<string | undefined> {
  const text = await read(field, path);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    problems.push(new FieldProblem(field, `${path} is not valid YAML: ${(error as Error).message.split("\n")[0]}`));
    return undefined;
  }
  const config = asRecord(doc);
  const contexts = namedEntries(config["contexts"], "context");
  const current = typeof config["current-context"] === "string" ? config["current-context"] : undefined;
  const context =
    current !== undefined ? contexts.find((c) => c.name === current) : contexts.length === 1 ? contexts[0] : undefined;
  if (context === undefined) {
    problems.push(
      new FieldProblem(
        field,
        current !== undefined
          ? `${path}: current-context "${current}" is not among its contexts`
          : `${path} has ${contexts.length} contexts and no current-context; set current-context`,
      ),
    );
    return undefined;
  }
  const clusterName = context.value["cluster"];
  const userName = context.value["user"];
  const cluster = namedEntries(config["clusters"], "cluster").find((c) => c.name === clusterName);
  if (cluster === undefined) {
    problems.push(
      new FieldProblem(
        field,
        `${path}: context "${context.name}" names cluster "${String(clusterName)}", which it does not define`,
      ),
    );
    return undefined;
  }
  const user = namedEntries(config["users"], "user").find((u) => u.name === userName);
  const sections = { cluster: { ...cluster.value }, user: { ...(user?.value ?? {}) } };
  const base = dirname(resolve(path));
  for (const spec of KUBECONFIG_FILE_FIELDS) {
    const section: Record<string, unknown> = sections[spec.section];
    const reference = section[spec.path];
    if (typeof reference !== "string" || reference === "") continue;
    const target = isAbsolute(reference) ? reference : resolve(base, reference);
    const content = await read(`${field} (${spec.section}.${spec.path} of ${path})`, target);
    delete section[spec.path];
    if (content === undefined) continue;
    section[spec.data] = spec.base64 ? Buffer.from(content, "utf8").toString("base64") : content.trim();
  }
  return stringifyYaml({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster.name, cluster: sections.cluster }],
    users: user ? [{ name: user.name, user: sections.user }] : [],
    contexts: [{ name: context.name, context: context.value }],
    "current-context": context.name,
  });
}

function namedEntries(list: unknown, key: string): { name: string; value: Record<string, unknown> }[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry) => {
    const record = asRecord(entry);
    return typeof record["name"] === "string" ? [{ name: record["name"], value: asRecord(record[key]) }] : [];
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The datastore type an invalid RCC names, if it names a valid one, so its invalidity reaches those connectors. */
function declaredType(input: unknown): { datastoreType?: DatastoreType } {
  const spec = asRecord(asRecord(input)["spec"]);
  const type = spec["datastoreType"];
  return type === "etcdv3" || type === "kubernetes" ? { datastoreType: type } : {};
}

/** Every issue as `path: message`, joined; the path names the field. Secret values are hidden. */
export function formatIssues(issues: ValidationIssue[]): string {
  return issues
    .map(hideSecretValue)
    .map((issue) => (issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`))
    .join("; ");
}

/** Fields whose values are secrets, wherever they appear in an issue path. */
const SECRET_PATH = /(^|\.)(etcdPassword|k8sAPIToken|etcdKey|etcdUsername|kubeconfig)$/;

/**
 * An issue about a secret field with the offending value taken out of its message (a validator may quote
 * it, as in `must be text, not the number 123456`), since issues reach logs, statuses and the bus.
 */
export function hideSecretValue(issue: ValidationIssue): ValidationIssue {
  if (!SECRET_PATH.test(issue.path)) return issue;
  return {
    path: issue.path,
    message: issue.message
      .replace(/the text "(?:[^"\\]|\\.)*"/g, "the given text")
      .replace(/the number \S+?(?=[\s;,)]|$)/g, "the given number"),
  };
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied; the config service must be able to read it",
    EISDIR: "it is a directory",
    ELOOP: "too many symbolic links",
  };
  return e.code ? `${e.code} (${reasons[e.code] ?? e.message})` : e.message;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

export function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
