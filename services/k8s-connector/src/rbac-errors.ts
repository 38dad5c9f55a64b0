/**
 * 403s as an operator can act on them: which verb on which resource of which API group the
 * credentials lack, and which ClusterRole rule grants it (calico.md §5 lists the rules a remote
 * cluster must grant).
 */
import { isLocalCluster } from "@fedview/model";
import { KubeRbacError } from "./errors.js";
import type { KubeResourceType } from "./types.js";

/**
 * The status text of a 403 on `verb` of `type`, e.g. `RBAC: the remote cluster's credentials cannot
 * list pods (API group "") at the cluster scope — add get/list/watch on "pods" to the ClusterRole
 * bound to fedview's ServiceAccount`.
 */
export function rbacMessage(cluster: string, verb: string, type: Pick<KubeResourceType, "plural" | "group">): string {
  const whose = isLocalCluster(cluster) ? "the local cluster's" : "the remote cluster's";
  const rule =
    type.group === ""
      ? `get/list/watch on "${type.plural}"`
      : `get/list/watch on "${type.plural}" in API group "${type.group}"`;
  return (
    `RBAC: ${whose} credentials cannot ${verb} ${type.plural} (API group "${type.group}") at the cluster scope` +
    ` — add ${rule} to the ClusterRole bound to fedview's ServiceAccount`
  );
}

/** A `KubeRbacError` for a 403 on `verb` of `type`. */
export function rbacError(cluster: string, verb: string, type: KubeResourceType, cause?: unknown): KubeRbacError {
  return new KubeRbacError(
    rbacMessage(cluster, verb, type),
    { verb, resource: type.plural, group: type.group },
    cause !== undefined ? { cause } : undefined,
  );
}
