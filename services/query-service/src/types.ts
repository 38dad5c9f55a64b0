/**
 * Result types of the federated view. They follow calicoq's json output field for field (snake_case,
 * empty fields omitted); the few extra fields the text output needs are listed in
 * `EXTRA_ENDPOINT_FIELDS`, `EXTRA_POLICY_FIELDS` and `EXTRA_RESULT_FIELDS`, and removed by
 * `toCalicoqJson`.
 */
import type { RemoteClusterStatus } from "@fedview/model";

/** The two endpoint kinds of the view. */
export const ENDPOINT_KINDS = {
  workload: "WorkloadEndpoint",
  host: "HostEndpoint",
} as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[keyof typeof ENDPOINT_KINDS];

/** A policy that applies to an endpoint (calicoq json `policies[]`). */
export interface PolicyRef {
  /** calicoq's policy name: `<tier>.<name>`, or `<ns>/<tier>.<name>` for a NetworkPolicy. */
  name: string;
  /** The policy's `order`; absent when the policy has none (text prints `default`). */
  order?: number;
  /** The applies-to selector as calicoq prints it (namespaced policies carry the namespace term). */
  selector?: string;
  tier_name: string;
  /** The tier's order; absent for a tier without one (it sorts last). */
  tier_order?: number;
  /** Extra (not in calicoq json): a `doNotTrack` policy, printed with ` [untracked]` and listed first. */
  untracked?: boolean;
}

/** A profile an endpoint inherits labels from (calicoq json `profiles[]`). */
export interface ProfileRef {
  name: string;
}

/** Which rule field matched. */
export type RuleDirection = "inbound" | "outbound";
export type RuleSelectorType = "source" | "destination" | "!source" | "!destination";

/** A rule selector of a local policy that matches an endpoint (calicoq json `rule_matches[]`). */
export interface RuleMatch {
  policy_name: string;
  tier_name: string;
  direction: RuleDirection;
  selector_type: RuleSelectorType;
  /** 1-based index of the rule within its direction (`inbound rule 1`). */
  order: number;
  /** The converted rule selector exactly as calicoq prints it (§7 rewriting applied). */
  selector?: string;
}

/** One endpoint in a result (calicoq json endpoint object plus the extras listed below). */
export interface EndpointResult {
  /** Host name; a remote endpoint's carries `<cluster>/`. */
  node?: string;
  /** Workload endpoints only. */
  orchestrator?: string;
  /** Workload endpoints only: `<ns>/<pod>`. */
  workload?: string;
  /** The endpoint's name: the interface name of a workload endpoint, the HostEndpoint's name. */
  name?: string;
  policies?: PolicyRef[];
  profiles?: ProfileRef[];
  rule_matches?: RuleMatch[];
  /** In `policy` results, the applies-to selector that selected this endpoint. */
  selector?: string;
  /** The RCC name of a remote endpoint; absent for local ones. */
  remote_cluster?: string;
  /** Extra: `WorkloadEndpoint` or `HostEndpoint` (text: `Workload endpoint …` / `Host endpoint …`). */
  kind: EndpointKind;
  /** Extra: `<host>/<orch>/<ns>.<pod>/<endpoint>` or `<host>/<name>` (eval and policy lines). */
  display_name: string;
  /** Extra: `<orch>/<ns>.<pod>/<endpoint>` or `<name>` (endpoint and host headings). */
  short_name: string;
  /** Extra: the cluster token (`_local` for the local cluster). */
  cluster: string;
}

/** The fields of `EndpointResult` that are not part of calicoq's json output. */
export const EXTRA_ENDPOINT_FIELDS = ["kind", "display_name", "short_name", "cluster"] as const;
/** The fields of `PolicyRef` that are not part of calicoq's json output. */
export const EXTRA_POLICY_FIELDS = ["untracked"] as const;
/** The fields of result objects that are not part of calicoq's json output. */
export const EXTRA_RESULT_FIELDS = ["selector", "substring", "hostname", "policy"] as const;

/** `eval` result. */
export interface EvalResult {
  /** `Endpoints matching selector <sel>` (text adds a colon). */
  description: string;
  endpoints: EndpointResult[];
  /** Extra: the selector as typed. */
  selector: string;
}

/** Identity of the policy a `policy` result is about (extra). */
export interface PolicyIdentity {
  kind: "NetworkPolicy" | "GlobalNetworkPolicy";
  /** calicoq's name (`<tier>.<name>` or `<ns>/<tier>.<name>`). */
  name: string;
  namespace?: string;
  tier_name: string;
}

/** `policy` result. */
export interface PolicyResult {
  /** `Policy "<name>" applies to these endpoints`. */
  description: string;
  /** Local endpoints the policy applies to, each with `selector` = the applies-to selector. */
  policy_applies_to_endpoints: EndpointResult[];
  /** Local and remote endpoints a rule selector matches, each with its `rule_matches`. */
  endpoints_match_policy: EndpointResult[];
  /** Extra. */
  policy: PolicyIdentity;
}

/** `endpoint` and `host` result. */
export interface EndpointsResult {
  /** `Policies and profiles for endpoints matching "<s>"` / `… for each endpoint on host "<h>"`. */
  description: string;
  endpoints: EndpointResult[];
  /** Extra: the substring of an `endpoint` query. */
  substring?: string;
  /** Extra: the host of a `host` query. */
  hostname?: string;
}

/** Display flags shared by `policy`, `endpoint` and `host` (calicoq `-s`, `-r`). */
export interface QueryOptions {
  /** `-s`: drop every `selector` field. */
  hideSelectors?: boolean;
  /** `-r`: drop rule matches (`endpoints_match_policy` stays empty, no `rule_matches`). */
  hideRuleMatches?: boolean;
}

/** A remote cluster that is not `InSync`: its data may be incomplete or stale. */
export interface ClusterProblem {
  /** The RCC name. */
  cluster: string;
  status: RemoteClusterStatus;
  /** The connection or configuration error, when the status carries one. */
  error?: string;
  /** ISO time the cluster entered this status. */
  since: string;
  /** Whether the data kept for the cluster is stale (disconnected). */
  stale: boolean;
  /** ISO time the data became stale. */
  staleSince?: string;
}

/** One row of the status table: a cluster as the view knows it. */
export interface ClusterStatusRow {
  cluster: string;
  /** True for `_local`. */
  local: boolean;
  /** Absent when endpoints of the cluster are held but no status was received. */
  status?: RemoteClusterStatus;
  error?: string;
  since?: string;
  generation?: number;
  /** Counts held in the view for the cluster. */
  workloadEndpoints: number;
  hostEndpoints: number;
  profiles: number;
  policies: number;
  /** Counts the source reported with its status. */
  reportedCounts?: Record<string, number>;
  stale: boolean;
  staleSince?: string;
  lastSync?: string;
  expiresAt?: string;
}

/** A `watch` event: an endpoint started or stopped matching the watched selector. */
export interface WatchEvent {
  type: "start" | "stop";
  endpoint: EndpointResult;
}

/** Every RPC answer: the result plus the clusters that were not `InSync` when it was computed. */
export interface QueryAnswer<T> {
  result: T;
  problems: ClusterProblem[];
}

/**
 * A message of the `watch` stream: the matches at the start (`start` each, sorted), then `synced`,
 * then `start`/`stop` as endpoints and profiles change, and `problems` whenever the set of remote
 * clusters that are not `InSync` changes.
 */
export type WatchMessage =
  | WatchEvent
  | { type: "synced"; problems: ClusterProblem[] }
  | { type: "problems"; problems: ClusterProblem[] };

/** `eval` request. */
export interface EvalRequest {
  selector: string;
}

/** `policy` request: `<ns>/<name>` or `<name>` as calicoq takes it. */
export interface PolicyRequest extends QueryOptions {
  name: string;
}

/** `endpoint` request. */
export interface EndpointRequest extends QueryOptions {
  substring: string;
}

/** `host` request. */
export interface HostRequest extends QueryOptions {
  hostname: string;
}

/** `watch` request. */
export interface WatchRequest {
  selector: string;
}

/** What the service itself reports (`status()`, the `status` verb, `/readyz`). */
export interface QueryServiceStatus {
  /** The snapshot is loaded and the micro service answers. */
  ready: boolean;
  /** Connected to NATS. */
  connected: boolean;
  /** Messages applied to the view since start, and dropped as stale or invalid. */
  applied: number;
  dropped: number;
  /** Messages read while loading the snapshot. */
  snapshotMessages: number;
  /** ISO time the snapshot completed. */
  readySince?: string;
  /** Failures of the state reader; it is reopened with backoff. */
  readerFailures: number;
  lastError?: { message: string; at: string };
  endpoints: number;
  watches: number;
}

/** `inventory` request: one page of what the view holds, optionally of one cluster. */
export interface InventoryRequest {
  /** Only this cluster's resources. */
  cluster?: string;
  /** The `next` of the previous page. */
  after?: string;
  /** Items per page; default 5000. */
  limit?: number;
}

/** One resource the view holds, with the version it holds it at. */
export interface InventoryItem {
  cluster: string;
  kind: string;
  id: string;
  revision: string;
  generation: number;
}

/**
 * `inventory` result: what the view holds (deleted resources excluded), sorted by cluster, kind and id;
 * `next` is set when more pages follow. Lets an operator or a test compare the view with a datastore.
 */
export interface InventoryResult {
  items: InventoryItem[];
  next?: string;
}

/** `status` result: the service and one row per cluster. */
export interface StatusResult {
  service: QueryServiceStatus;
  clusters: ClusterStatusRow[];
}
