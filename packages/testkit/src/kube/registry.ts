import { TestServerError } from "../errors.js";
import type { ResourceRef } from "./types.js";

/** What `registerResource` needs to serve a kind, like the fields of a CustomResourceDefinition. */
export interface RegisterResourceOptions {
  /** API group; `""` for the core group served under `/api/v1`. */
  group: string;
  version: string;
  /** Lower-case plural used in paths, e.g. `hostendpoints`. */
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Default: the kind in lower case. */
  singular?: string;
  shortNames?: string[];
  /**
   * Serve a `/status` subresource. Then, over HTTP, writes to the main resource keep the stored status,
   * writes to `/status` change only the status, and only spec changes bump `metadata.generation`.
   */
  statusSubresource?: boolean;
  /** Extra fields usable in `fieldSelector` besides `metadata.name` and `metadata.namespace` (dotted paths). */
  selectableFields?: string[];
  /**
   * A built-in kind rather than a custom resource: list items then omit `kind`/`apiVersion` and DELETE
   * answers with the deleted object, as for typed resources; custom resources answer DELETE with a Status.
   */
  builtin?: boolean;
}

/** A resource the server serves. */
export interface ResourceDefinition {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly statusSubresource: boolean;
  readonly selectableFields: readonly string[];
  readonly builtin: boolean;
  /** `v1` or `group/version`, as written in objects. */
  readonly apiVersion: string;
}

const POD_FIELDS = [
  "spec.nodeName",
  "spec.restartPolicy",
  "spec.schedulerName",
  "spec.serviceAccountName",
  "spec.hostNetwork",
  "status.phase",
  "status.podIP",
  "status.nominatedNodeName",
];

/**
 * The built-in kinds the Calico KDD connector reads (calico.md §5; Kubernetes NetworkPolicies for the
 * local cluster's `knp.default.<name>` policies), served as kube-apiserver does.
 */
export const CORE_RESOURCES: readonly RegisterResourceOptions[] = [
  {
    group: "",
    version: "v1",
    plural: "namespaces",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    statusSubresource: true,
    selectableFields: ["status.phase"],
    builtin: true,
  },
  {
    group: "",
    version: "v1",
    plural: "pods",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    statusSubresource: true,
    selectableFields: POD_FIELDS,
    builtin: true,
  },
  {
    group: "",
    version: "v1",
    plural: "serviceaccounts",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
    builtin: true,
  },
  {
    group: "",
    version: "v1",
    plural: "nodes",
    kind: "Node",
    namespaced: false,
    shortNames: ["no"],
    statusSubresource: true,
    selectableFields: ["spec.unschedulable"],
    builtin: true,
  },
  {
    group: "",
    version: "v1",
    plural: "services",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    statusSubresource: true,
    builtin: true,
  },
  {
    group: "",
    version: "v1",
    plural: "endpoints",
    kind: "Endpoints",
    singular: "endpoints",
    namespaced: true,
    shortNames: ["ep"],
    builtin: true,
  },
  {
    group: "",
    version: "v1",
    plural: "secrets",
    kind: "Secret",
    namespaced: true,
    selectableFields: ["type"],
    builtin: true,
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    plural: "networkpolicies",
    kind: "NetworkPolicy",
    namespaced: true,
    shortNames: ["netpol"],
    builtin: true,
  },
];

const CALICO_GROUP = "crd.projectcalico.org";

/** Calico's `crd.projectcalico.org/v1` custom resources that fedview reads or writes. */
export const CALICO_RESOURCES: readonly RegisterResourceOptions[] = [
  { group: CALICO_GROUP, version: "v1", plural: "hostendpoints", kind: "HostEndpoint", namespaced: false },
  { group: CALICO_GROUP, version: "v1", plural: "ippools", kind: "IPPool", namespaced: false },
  { group: CALICO_GROUP, version: "v1", plural: "ipamblocks", kind: "IPAMBlock", namespaced: false },
  {
    group: CALICO_GROUP,
    version: "v1",
    plural: "remoteclusterconfigurations",
    kind: "RemoteClusterConfiguration",
    namespaced: false,
  },
  { group: CALICO_GROUP, version: "v1", plural: "networkpolicies", kind: "NetworkPolicy", namespaced: true },
  {
    group: CALICO_GROUP,
    version: "v1",
    plural: "globalnetworkpolicies",
    kind: "GlobalNetworkPolicy",
    namespaced: false,
  },
  { group: CALICO_GROUP, version: "v1", plural: "profiles", kind: "Profile", namespaced: false },
];

const PLURAL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The kinds a server serves, looked up by path or by a `ResourceRef`. */
export class ResourceRegistry {
  readonly #byPath = new Map<string, ResourceDefinition>();

  register(options: RegisterResourceOptions): ResourceDefinition {
    if (!PLURAL.test(options.plural)) throw new TestServerError(`invalid resource plural "${options.plural}"`);
    if (options.version === "") throw new TestServerError(`resource ${options.plural} needs a version`);
    const key = this.#key(options.group, options.version, options.plural);
    if (this.#byPath.has(key)) {
      throw new TestServerError(`resource ${options.plural} in ${options.group || "core"}/${options.version} exists`);
    }
    const definition: ResourceDefinition = Object.freeze({
      group: options.group,
      version: options.version,
      plural: options.plural,
      singular: options.singular ?? options.kind.toLowerCase(),
      kind: options.kind,
      namespaced: options.namespaced,
      shortNames: Object.freeze([...(options.shortNames ?? [])]),
      statusSubresource: options.statusSubresource ?? false,
      selectableFields: Object.freeze([...(options.selectableFields ?? [])]),
      builtin: options.builtin ?? false,
      apiVersion: options.group === "" ? options.version : `${options.group}/${options.version}`,
    });
    this.#byPath.set(key, definition);
    return definition;
  }

  /** The resource served at `group/version/plural`, if any. */
  find(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return this.#byPath.get(this.#key(group, version, plural));
  }

  /** Resolves a reference from test code; throws when it names nothing or several resources. */
  resolve(ref: ResourceRef | string): ResourceDefinition {
    const r: ResourceRef = typeof ref === "string" ? { plural: ref } : ref;
    const matches = this.all().filter(
      (d) =>
        d.plural === r.plural &&
        (r.group === undefined || d.group === r.group) &&
        (r.version === undefined || d.version === r.version),
    );
    const [first, second] = matches;
    if (first === undefined) throw new TestServerError(`no resource "${r.plural}" is registered`);
    if (second !== undefined) {
      throw new TestServerError(
        `resource "${r.plural}" is ambiguous: give its group (${matches.map((m) => m.group || '""').join(", ")})`,
      );
    }
    return first;
  }

  all(): ResourceDefinition[] {
    return [...this.#byPath.values()];
  }

  /** Every served group other than core, with its versions in registration order. */
  groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const d of this.#byPath.values()) {
      if (d.group === "") continue;
      const versions = groups.get(d.group) ?? [];
      if (!versions.includes(d.version)) versions.push(d.version);
      groups.set(d.group, versions);
    }
    return groups;
  }

  #key(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** `GET /api`: the core group's versions. */
export function coreVersionsDocument(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function groupDocument(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

/** `GET /apis`: every non-core group. */
export function groupListDocument(registry: ResourceRegistry): Record<string, unknown> {
  const groups = [...registry.groups()].map(([name, versions]) => groupDocument(name, versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** `GET /apis/<group>`, or undefined when the group is not served. */
export function groupDocumentFor(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const versions = registry.groups().get(group);
  if (versions === undefined) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...groupDocument(group, versions) };
}

/** `GET /api/v1` or `/apis/<group>/<version>`: the resources and subresources served there. */
export function resourceListDocument(
  registry: ResourceRegistry,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const defs = registry.all().filter((d) => d.group === group && d.version === version);
  if (defs.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const d of defs) {
    resources.push({
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: VERBS,
      ...(d.shortNames.length > 0 ? { shortNames: [...d.shortNames] } : {}),
    });
    if (d.statusSubresource) {
      resources.push({
        name: `${d.plural}/status`,
        singularName: "",
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: ["get", "patch", "update"],
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}
