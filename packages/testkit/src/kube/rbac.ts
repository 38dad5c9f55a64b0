import { SUPERUSER_GROUP } from "./auth.js";
import type { KubeUserInfo, PolicyRule } from "./types.js";

/** What a resource request asks to do, as apiserver's RequestInfo plus the user. */
export interface ResourceAttributes {
  user: KubeUserInfo;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  /** Set for namespaced requests, and for requests on a namespace object itself (as the real server does). */
  namespace?: string;
  name?: string;
}

/** Allowed, or denied with the message kube-apiserver puts after `... is forbidden: `. */
export type AuthorizationDecision = { allowed: true } | { allowed: false; reason: string };

function matches(list: readonly string[], value: string): boolean {
  return list.includes("*") || list.includes(value);
}

function ruleAllows(rule: PolicyRule, a: ResourceAttributes): boolean {
  if (!matches(rule.verbs, a.verb) || !matches(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk =
    rule.resources.includes("*") ||
    rule.resources.includes(combined) ||
    (a.subresource !== undefined && rule.resources.includes(`*/${a.subresource}`));
  if (!resourceOk) return false;
  if (rule.resourceNames !== undefined && rule.resourceNames.length > 0) {
    if (a.name === undefined || !rule.resourceNames.includes(a.name)) return false;
  }
  if (rule.namespaces !== undefined) {
    // A Role binding grants nothing at the cluster scope, only inside its namespaces.
    if (a.namespace === undefined || !rule.namespaces.includes(a.namespace)) return false;
  }
  return true;
}

/** The text of RBAC's denial (apiserver `forbiddenMessage`). */
export function forbiddenReason(a: ResourceAttributes): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  return `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
}

/**
 * RBAC: rules granted to users and groups, unioned. Members of `system:masters` may do anything.
 * Nothing is allowed unless a rule allows it, as with the real RBAC authorizer.
 */
export class Authorizer {
  readonly #users = new Map<string, PolicyRule[]>();
  readonly #groups = new Map<string, PolicyRule[]>();

  grantUser(user: string, rules: readonly PolicyRule[]): void {
    this.#users.set(user, [...(this.#users.get(user) ?? []), ...rules.map(copyRule)]);
  }

  grantGroup(group: string, rules: readonly PolicyRule[]): void {
    this.#groups.set(group, [...(this.#groups.get(group) ?? []), ...rules.map(copyRule)]);
  }

  revokeUser(user: string): void {
    this.#users.delete(user);
  }

  revokeGroup(group: string): void {
    this.#groups.delete(group);
  }

  authorize(a: ResourceAttributes): AuthorizationDecision {
    if (a.user.groups.includes(SUPERUSER_GROUP)) return { allowed: true };
    const rules = [...(this.#users.get(a.user.name) ?? []), ...a.user.groups.flatMap((g) => this.#groups.get(g) ?? [])];
    if (rules.some((r) => ruleAllows(r, a))) return { allowed: true };
    return { allowed: false, reason: forbiddenReason(a) };
  }
}

function copyRule(rule: PolicyRule): PolicyRule {
  return {
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    verbs: [...rule.verbs],
    ...(rule.resourceNames !== undefined ? { resourceNames: [...rule.resourceNames] } : {}),
    ...(rule.namespaces !== undefined ? { namespaces: [...rule.namespaces] } : {}),
  };
}
