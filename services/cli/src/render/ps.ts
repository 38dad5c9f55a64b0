/**
 * calicoq's text output (`-o ps`, the default), two-space indents, line for line as calico.md §8
 * writes it. Each function returns the whole text; an empty string prints nothing.
 */
import type {
  ClusterProblem,
  EndpointResult,
  EndpointsResult,
  EvalResult,
  PolicyRef,
  PolicyResult,
  QueryOptions,
  RuleMatch,
} from "@fedview/query-service";
import { goFloat } from "./go-format.js";

function kindWord(endpoint: EndpointResult): string {
  return endpoint.kind === "HostEndpoint" ? "Host endpoint" : "Workload endpoint";
}

/** `; selector "<sel>"`, or nothing with `-s`. */
function selectorSuffix(selector: string | undefined, options: QueryOptions): string {
  return options.hideSelectors ? "" : `; selector "${selector ?? ""}"`;
}

/** `eval`: the heading, then one line per endpoint. */
export function renderEvalText(result: EvalResult): string {
  let out = `Endpoints matching selector ${result.selector}:\n`;
  for (const endpoint of result.endpoints) out += `  ${kindWord(endpoint)} ${endpoint.display_name}\n`;
  return out;
}

function ruleLine(match: RuleMatch, options: QueryOptions): string {
  return `${match.direction} rule ${match.order} ${match.selector_type} match${selectorSuffix(match.selector, options)}`;
}

/** `policy`: the endpoints it applies to, then (unless `-r`) those its rules match. Unknown: nothing. */
export function renderPolicyText(result: PolicyResult | null, options: QueryOptions): string {
  if (result === null) return "";
  let out = `${result.description}:\n`;
  for (const endpoint of result.policy_applies_to_endpoints) {
    out += `  ${kindWord(endpoint)} ${endpoint.display_name}${selectorSuffix(endpoint.selector, options)}\n`;
  }
  if (options.hideRuleMatches) return out;
  out += `\nEndpoints matching Policy "${result.policy.name}" rules:\n`;
  for (const endpoint of result.endpoints_match_policy) {
    out += `  ${kindWord(endpoint)} ${endpoint.display_name}\n`;
    for (const match of endpoint.rule_matches ?? []) out += `    ${ruleLine(match, options)}\n`;
  }
  return out;
}

function orderText(order: number | undefined): string {
  return order === undefined ? "default" : goFloat(order);
}

function policyLine(policy: PolicyRef, options: QueryOptions): string {
  const selector = options.hideSelectors ? "" : `; selector "${policy.selector ?? ""}"`;
  return `Policy "${policy.name}" (order ${orderText(policy.order)}${selector})${policy.untracked ? " [untracked]" : ""}`;
}

/** `endpoint` and `host`: per endpoint its policies, profiles and (unless `-r`) rule matches. */
export function renderEndpointsText(result: EndpointsResult, options: QueryOptions): string {
  let out = `${result.description}:\n`;
  for (const endpoint of result.endpoints) {
    out += `\n${kindWord(endpoint)} ${endpoint.short_name}\n  Policies:\n`;
    for (const policy of endpoint.policies ?? []) out += `    ${policyLine(policy, options)}\n`;
    const profiles = endpoint.profiles ?? [];
    if (profiles.length > 0) {
      out += "  Profiles:\n";
      for (const profile of profiles) out += `    Profile "${profile.name}"\n`;
    }
    const matches = options.hideRuleMatches ? [] : (endpoint.rule_matches ?? []);
    if (matches.length > 0) {
      out += "  Rule matches:\n";
      for (const match of matches) out += `    Policy "${match.policy_name}" ${ruleLine(match, options)}\n`;
    }
  }
  return out;
}

/** Statuses calicoq warns about, and its wording for each. */
const PROBLEM_TEXT: Partial<Record<ClusterProblem["status"], (p: ClusterProblem) => string>> = {
  Connecting: () => "still connecting to remote cluster",
  ConnectionFailed: (p) => `connection to remote cluster failed: ${p.error ?? "unknown error"}`,
  ResyncInProgress: () => "data synchronization did not complete",
};

/** The problems calicoq reports: clusters still connecting, failed, or not done syncing. */
export function reportableProblems(problems: readonly ClusterProblem[]): ClusterProblem[] {
  return problems.filter((p) => PROBLEM_TEXT[p.status] !== undefined);
}

/** calicoq's stderr block about remote clusters whose data may be incomplete; "" when none. */
export function renderProblems(problems: readonly ClusterProblem[]): string {
  const reportable = reportableProblems(problems);
  if (reportable.length === 0) return "";
  let out = "The following problems were encountered connecting to the remote clusters\n";
  out += "which may have resulted in incomplete data:\n";
  for (const problem of reportable) {
    out += `-  RemoteClusterConfiguration(${problem.cluster}): ${PROBLEM_TEXT[problem.status]!(problem)}\n`;
  }
  return out;
}
