/**
 * Failures of Kubernetes API requests as a person reads them in a cluster's status: what was asked,
 * and what went wrong (refused connection, unknown certificate authority, 401, 403 with the missing
 * permission, a resource the server does not serve), never credentials.
 */
import { ApiException } from "@kubernetes/client-node";
import { KubeSourceError } from "./errors.js";
import { qualifiedResource } from "./kinds.js";
import { rbacError } from "./rbac-errors.js";
import type { KubeResourceType } from "./types.js";

/** The HTTP status of a failed request, when the server answered. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown } | null | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The `message` of the Status object a failed request carried, if any. */
export function statusMessage(err: unknown): string | undefined {
  if (!(err instanceof ApiException)) return undefined;
  let body: unknown = err.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (body as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

const TLS_UNKNOWN_AUTHORITY = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
]);

/** A system or TLS error code anywhere in the cause chain. */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a transport failure means, in a few words. */
export function describeTransportError(err: unknown): string {
  const code = errorCode(err);
  if (code !== undefined) {
    if (TLS_UNKNOWN_AUTHORITY.has(code)) return `certificate signed by unknown authority (${code})`;
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "the API server's certificate is not valid for this host name";
    if (code === "CERT_HAS_EXPIRED") return "the API server's certificate has expired";
    if (code === "ECONNREFUSED") return "connection refused";
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "the API server's host name does not resolve";
    if (code === "ECONNRESET") return "connection reset";
    if (code === "ETIMEDOUT") return "connection timed out";
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "the API server is unreachable";
  }
  const message = err instanceof Error ? err.message : String(err);
  // node-fetch quotes the URL; keep only the reason.
  const reason = /reason: (.*)$/.exec(message)?.[1];
  return (reason ?? message).split("\n")[0]!;
}

/** What was being done when a request failed. */
export interface RequestContext {
  cluster: string;
  /** `kubernetes https://…`, prefixed to every message but RBAC's. */
  description: string;
  verb: "list" | "watch";
  type: KubeResourceType;
}

/**
 * The error to report for a failed request: `KubeRbacError` for 403, otherwise a `KubeSourceError`
 * whose message starts with the source description and says what failed.
 */
export function describeKubeError(err: unknown, ctx: RequestContext): KubeSourceError {
  const status = httpStatus(err);
  const resource = qualifiedResource(ctx.type);
  const where = `${ctx.description}: ${ctx.verb} ${resource}`;
  if (status === 403) return rbacError(ctx.cluster, ctx.verb, ctx.type, err);
  if (status === 401) {
    return new KubeSourceError(
      `${ctx.description}: authentication failed: the API server rejected the credentials (401 Unauthorized)`,
      { cause: err, statusCode: status },
    );
  }
  if (status === 404) {
    return new KubeSourceError(
      `${where}: the API server does not serve ${resource}/${ctx.type.version} (404)${ctx.type.group === "" ? "" : " — is Calico installed with its CRDs?"}`,
      { cause: err, statusCode: status },
    );
  }
  if (status !== undefined) {
    const message = statusMessage(err);
    return new KubeSourceError(`${where}: HTTP ${status}${message !== undefined ? `: ${message}` : ""}`, {
      cause: err,
      statusCode: status,
    });
  }
  return new KubeSourceError(`${where}: ${describeTransportError(err)}`, { cause: err });
}
