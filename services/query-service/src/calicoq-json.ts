/**
 * calicoq's json/yaml document for a result: a one-element list, every object in calicoq's field
 * order, fedview's extra fields removed and empty fields (absent, `""`, `[]`) omitted.
 */
import type { EndpointResult, EndpointsResult, EvalResult, PolicyRef, PolicyResult, RuleMatch } from "./types.js";

/** A JSON object in calicoq's field order. */
export type CalicoqObject = { [key: string]: string | number | CalicoqObject[] };

function pick(source: object, keys: readonly string[]): CalicoqObject {
  const out: CalicoqObject = {};
  for (const key of keys) {
    const value = (source as Record<string, unknown>)[key];
    if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value as CalicoqObject[string];
  }
  return out;
}

const POLICY_KEYS = ["name", "order", "selector", "tier_name", "tier_order"] as const;
const RULE_MATCH_KEYS = ["policy_name", "tier_name", "direction", "selector_type", "order", "selector"] as const;

function endpointJson(endpoint: EndpointResult): CalicoqObject {
  const shaped = {
    ...endpoint,
    policies: endpoint.policies?.map((p: PolicyRef) => pick(p, POLICY_KEYS)),
    profiles: endpoint.profiles?.map((p) => pick(p, ["name"])),
    rule_matches: endpoint.rule_matches?.map((m: RuleMatch) => pick(m, RULE_MATCH_KEYS)),
  };
  return pick(shaped, [
    "node",
    "orchestrator",
    "workload",
    "name",
    "policies",
    "profiles",
    "rule_matches",
    "selector",
    "remote_cluster",
  ]);
}

/** calicoq's `-o json` / `-o yaml` document for an `eval`, `policy`, `endpoint` or `host` result. */
export function toCalicoqJson(result: EvalResult | EndpointsResult | PolicyResult): CalicoqObject[] {
  if ("policy_applies_to_endpoints" in result) {
    return [
      pick(
        {
          description: result.description,
          policy_applies_to_endpoints: result.policy_applies_to_endpoints.map(endpointJson),
          endpoints_match_policy: result.endpoints_match_policy.map(endpointJson),
        },
        ["description", "policy_applies_to_endpoints", "endpoints_match_policy"],
      ),
    ];
  }
  return [
    pick({ description: result.description, endpoints: result.endpoints.map(endpointJson) }, [
      "description",
      "endpoints",
    ]),
  ];
}
