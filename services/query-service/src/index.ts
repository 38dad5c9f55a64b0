/**
 * `@fedview/query-service`: the federated view and calicoq query engine (`FederatedView`), and the
 * NATS micro service `fedview-query` that serves it.
 */

export { InvalidQueryError, NotReadyError, QueryServiceConfigError, QueryServiceError } from "./errors.js";
export type {
  ClusterProblem,
  ClusterStatusRow,
  EndpointKind,
  EndpointResult,
  EndpointsResult,
  EvalResult,
  PolicyIdentity,
  PolicyRef,
  PolicyResult,
  ProfileRef,
  QueryAnswer,
  QueryOptions,
  RuleDirection,
  RuleMatch,
  RuleSelectorType,
  WatchEvent,
} from "./types.js";
export { ENDPOINT_KINDS, EXTRA_ENDPOINT_FIELDS, EXTRA_POLICY_FIELDS, EXTRA_RESULT_FIELDS } from "./types.js";
export type { DropReason, FederatedViewOptions, ViewSize, ViewWatch } from "./view.js";
export { FederatedView } from "./view.js";
