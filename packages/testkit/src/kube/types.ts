/**
 * Shapes shared by the Kubernetes API test server's parts. Objects are kept as plain JSON, exactly what
 * travels on the wire, so that nothing the server stores can differ from what a client would read.
 */

/** Object metadata as the API server writes it (a subset; unknown fields are kept as given). */
export interface KubeObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObjectMeta;
  [field: string]: unknown;
}

/** A user as the authenticator sees it: name plus groups (always including `system:authenticated`). */
export interface KubeUserInfo {
  name: string;
  groups: string[];
}

/**
 * One RBAC policy rule, as in a ClusterRole (no `namespaces`) or a Role bound in each of `namespaces`.
 * `"*"` matches anything in `apiGroups`, `resources` and `verbs`; a subresource is written `pods/status`.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Names the rule is limited to (requests for a named object only), as `resourceNames` in RBAC. */
  resourceNames?: string[];
  /** When set, the rule applies only inside these namespaces, as a RoleBinding would. */
  namespaces?: string[];
}

/** The watch event types the server sends. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** Picks a resource from the registry; `group`/`version` may be left out when the plural is unique. */
export interface ResourceRef {
  group?: string;
  version?: string;
  plural: string;
}
