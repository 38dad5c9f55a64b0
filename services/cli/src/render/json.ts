/** calicoq's `-o json`: `json.MarshalIndent` of the one-element output list, then a newline. */
import type { EndpointsResult, EvalResult, PolicyResult } from "@fedview/query-service";
import { endpointsDocument, policyDocument } from "./calicoq-shape.js";
import { goMarshalIndent } from "./go-format.js";

/** `eval`, `endpoint` or `host` as calicoq's json. */
export function renderEndpointsJson(result: EvalResult | EndpointsResult): string {
  return `${goMarshalIndent(endpointsDocument(result))}\n`;
}

/** `policy` as calicoq's json; an unknown policy (null) prints nothing, as calicoq does. */
export function renderPolicyJson(result: PolicyResult | null): string {
  return result === null ? "" : `${goMarshalIndent(policyDocument(result))}\n`;
}
