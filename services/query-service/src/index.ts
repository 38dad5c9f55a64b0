/**
 * `@fedview/query-service`: the federated view and calicoq query engine (`FederatedView`), and the
 * NATS micro service `fedview-query` that serves it (`createQueryService`).
 */

export type { CalicoqObject } from "./calicoq-json.js";
export { toCalicoqJson } from "./calicoq-json.js";
export type { QueryServiceConfig } from "./config.js";
export { readQueryServiceConfig } from "./config.js";
export { QueryServiceConfigError, QueryServiceError } from "./errors.js";
export type { StatusRequest } from "./handlers/status.js";
export type { QueryMetrics, QueryOutcome, QueryVerb } from "./metrics.js";
export type { CompiledPolicy, CompiledRuleSelector, CompiledSelector } from "./policy-eval.js";
export { DEFAULT_TIER_ORDER } from "./policy-eval.js";
export type { QueryService, QueryServiceDeps } from "./service.js";
export { createQueryService, QUERY_SERVICE_VERSION } from "./service.js";
export type {
  ClusterProblem,
  ClusterStatusRow,
  EndpointKind,
  EndpointRequest,
  EndpointResult,
  EndpointsResult,
  EvalRequest,
  EvalResult,
  HostRequest,
  InventoryItem,
  InventoryRequest,
  InventoryResult,
  PolicyIdentity,
  PolicyRef,
  PolicyRequest,
  PolicyResult,
  ProfileRef,
  QueryAnswer,
  QueryOptions,
  QueryServiceStatus,
  RuleDirection,
  RuleMatch,
  RuleSelectorType,
  StatusResult,
  WatchEvent,
  WatchMessage,
  WatchRequest,
} from "./types.js";
export { ENDPOINT_KINDS, EXTRA_ENDPOINT_FIELDS, EXTRA_POLICY_FIELDS, EXTRA_RESULT_FIELDS } from "./types.js";
export type { DropReason, FederatedViewOptions, ViewSize, ViewWatch } from "./view.js";
export { DEFAULT_TOMBSTONE_RETENTION_MS, FederatedView } from "./view.js";
