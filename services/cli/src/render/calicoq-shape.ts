/**
 * The view's results reshaped into calicoq's json/yaml document: a one-element list of calicoq's
 * `OutputList`, fields in calicoq's struct order, empty fields omitted (Go's `omitempty`), and the
 * fedview-only fields of the result types (`kind`, `display_name`, …) left out.
 */
import type {
  EndpointResult,
  EndpointsResult,
  EvalResult,
  PolicyRef,
  PolicyResult,
  RuleMatch,
} from "@fedview/query-service";
import type { GoJsonValue } from "./go-format.js";

type GoObject = { [key: string]: GoJsonValue };

/** Sets `key` unless the value is empty as Go's `omitempty` sees it ("", empty list, undefined). */
function put(target: GoObject, key: string, value: GoJsonValue | undefined): void {
  if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) return;
  target[key] = value;
}

function policyObject(policy: PolicyRef): GoObject {
  const out: GoObject = {};
  put(out, "name", policy.name);
  put(out, "order", policy.order);
  put(out, "selector", policy.selector);
  put(out, "tier_name", policy.tier_name);
  put(out, "tier_order", policy.tier_order);
  return out;
}

function ruleMatchObject(match: RuleMatch): GoObject {
  const out: GoObject = {};
  put(out, "policy_name", match.policy_name);
  put(out, "tier_name", match.tier_name);
  put(out, "direction", match.direction);
  put(out, "selector_type", match.selector_type);
  put(out, "order", match.order);
  put(out, "selector", match.selector);
  return out;
}

/** One endpoint as calicoq's json describes it. */
export function endpointObject(endpoint: EndpointResult): GoObject {
  const out: GoObject = {};
  put(out, "node", endpoint.node);
  put(out, "orchestrator", endpoint.orchestrator);
  put(out, "workload", endpoint.workload);
  put(out, "name", endpoint.name);
  put(out, "policies", endpoint.policies?.map(policyObject));
  put(
    out,
    "profiles",
    endpoint.profiles?.map((p) => ({ name: p.name })),
  );
  put(out, "rule_matches", endpoint.rule_matches?.map(ruleMatchObject));
  put(out, "selector", endpoint.selector);
  put(out, "remote_cluster", endpoint.remote_cluster);
  return out;
}

/** `eval`, `endpoint` and `host` documents. */
export function endpointsDocument(result: EvalResult | EndpointsResult): GoJsonValue {
  const out: GoObject = {};
  put(out, "description", result.description);
  put(out, "endpoints", result.endpoints.map(endpointObject));
  return [out];
}

/** `policy` document. */
export function policyDocument(result: PolicyResult): GoJsonValue {
  const out: GoObject = {};
  put(out, "description", result.description);
  put(out, "policy_applies_to_endpoints", result.policy_applies_to_endpoints.map(endpointObject));
  put(out, "endpoints_match_policy", result.endpoints_match_policy.map(endpointObject));
  return [out];
}
