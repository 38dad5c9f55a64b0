/** The Kubernetes manifests under deploy/k8s, loaded and cross-referenced. */
import type { PolicyRule } from "@fedview/testkit";
import { filesUnder, isRecord, readYamlDocuments } from "./repo.js";

/** A manifest with the fields every object has. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** A manifest and where it came from. */
export interface LoadedManifest {
  file: string;
  index: number;
  manifest: Manifest;
}

/** The folders applied together: the local cluster (`kubectl apply -k deploy/k8s`) and each remote. */
export const MANIFEST_SETS = {
  local: ["deploy/k8s/crd", "deploy/k8s/local", "deploy/k8s/nats"],
  remote: ["deploy/k8s/remote"],
} as const;

/** Every manifest file (kustomization files aside) under a folder. */
export function manifestFiles(dir: string): string[] {
  return filesUnder(dir, /\.ya?ml$/).filter((file) => !/(^|\/)kustomization\.ya?ml$/.test(file));
}

export function loadManifests(dirs: readonly string[]): LoadedManifest[] {
  return dirs.flatMap((dir) =>
    manifestFiles(dir).flatMap((file) =>
      readYamlDocuments(file).map((manifest, index) => ({ file, index, manifest: manifest as Manifest })),
    ),
  );
}

export function ofKind(manifests: LoadedManifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.manifest.kind === kind).map((m) => m.manifest);
}

export function find(
  manifests: LoadedManifest[],
  kind: string,
  name: string,
  namespace?: string,
): Manifest | undefined {
  return manifests.find(
    (m) => m.manifest.kind === kind && m.manifest.metadata.name === name && m.manifest.metadata.namespace === namespace,
  )?.manifest;
}

/** The parts of a pod template the checks look at. */
export interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: Record<string, unknown>;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Volume[];
}

export interface Workload {
  manifest: Manifest;
  selector: Record<string, string>;
  templateLabels: Record<string, string>;
  pod: PodSpec;
}

/** Deployments and StatefulSets with their pod templates. */
export function workloads(manifests: LoadedManifest[]): Workload[] {
  return manifests
    .map((m) => m.manifest)
    .filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet")
    .map((manifest) => {
      const spec = manifest["spec"] as {
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
      };
      return {
        manifest,
        selector: spec.selector.matchLabels,
        templateLabels: spec.template.metadata.labels,
        pod: spec.template.spec,
      };
    });
}

interface RoleRef {
  kind: string;
  name: string;
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * The rules a ServiceAccount gets from the manifests, as RBAC computes them: ClusterRoleBindings give
 * their ClusterRole's rules everywhere, RoleBindings give their Role's rules in their namespace only.
 */
export function rulesOf(manifests: LoadedManifest[], namespace: string, serviceAccount: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const { manifest } of manifests) {
    if (manifest.kind !== "ClusterRoleBinding" && manifest.kind !== "RoleBinding") continue;
    const subjects = (manifest["subjects"] ?? []) as Subject[];
    const bound = subjects.some(
      (s) => s.kind === "ServiceAccount" && s.name === serviceAccount && s.namespace === namespace,
    );
    if (!bound) continue;
    const roleRef = manifest["roleRef"] as RoleRef;
    const role =
      roleRef.kind === "ClusterRole"
        ? find(manifests, "ClusterRole", roleRef.name)
        : find(manifests, "Role", roleRef.name, manifest.metadata.namespace);
    if (role === undefined)
      throw new Error(`${manifest.kind} ${manifest.metadata.name}: no ${roleRef.kind} ${roleRef.name}`);
    for (const rule of (role["rules"] ?? []) as PolicyRule[]) {
      rules.push({
        apiGroups: rule.apiGroups,
        resources: rule.resources,
        verbs: rule.verbs,
        ...(rule.resourceNames !== undefined ? { resourceNames: rule.resourceNames } : {}),
        ...(manifest.kind === "RoleBinding" ? { namespaces: [manifest.metadata.namespace!] } : {}),
      });
    }
  }
  return rules;
}

/** `{group, resource, verb}` triples of a role's rules, sorted, for exact comparisons. */
export function ruleTriples(rules: readonly PolicyRule[]): string[] {
  return rules
    .flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group || "core"}/${resource}:${verb}`)),
      ),
    )
    .sort();
}

export function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return isRecord(labels) && Object.entries(selector).every(([key, value]) => labels[key] === value);
}
