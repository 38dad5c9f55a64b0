/**
 * `Status` objects with the exact shapes and wording of kube-apiserver (k8s.io/apimachinery
 * `pkg/api/errors`), because clients and our connectors branch on `reason`, `code` and sometimes text.
 */

/** One cause inside `details.causes`. */
export interface KubeStatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** `details` of a Status; empty fields are left out as the real server does (`omitempty`). */
export interface KubeStatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: KubeStatusCause[];
  retryAfterSeconds?: number;
}

/** A `meta.k8s.io/v1` Status, the body of every error response and of watch `ERROR` events. */
export interface KubeStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: { continue?: string; resourceVersion?: string };
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: KubeStatusDetails;
  code: number;
}

/** A request the API server refused; carries the Status it answers with. Thrown by the direct object API too. */
export class KubeStatusError extends Error {
  override name = "KubeStatusError";
  readonly status: KubeStatus;

  constructor(status: KubeStatus, options?: ErrorOptions) {
    super(status.message ?? status.reason ?? `status ${status.code}`, options);
    this.status = status;
  }

  /** The HTTP status code, e.g. 404. */
  get code(): number {
    return this.status.code;
  }

  /** The machine-readable reason, e.g. `NotFound`. */
  get reason(): string | undefined {
    return this.status.reason;
  }
}

/** A group and a resource (plural), printed `pods` or `hostendpoints.crd.projectcalico.org` like GroupResource. */
export interface GroupResource {
  group: string;
  resource: string;
}

function qualified(gr: GroupResource): string {
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}

function failure(code: number, reason: string, message: string, details?: KubeStatusDetails): KubeStatus {
  // Key order follows the real encoder: kind, apiVersion, metadata, status, message, reason, details, code.
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details !== undefined ? { details } : {}),
    code,
  };
}

function resourceDetails(gr: GroupResource, name?: string): KubeStatusDetails {
  const details: KubeStatusDetails = {};
  if (name !== undefined && name !== "") details.name = name;
  if (gr.group !== "") details.group = gr.group;
  details.kind = gr.resource;
  return details;
}

/** 401: no or bad credentials. The real server gives no details. */
export function unauthorized(): KubeStatus {
  return failure(401, "Unauthorized", "Unauthorized");
}

/** 403 with RBAC's wording, e.g. `pods is forbidden: User "u" cannot list resource "pods" in API group "" at the cluster scope`. */
export function forbidden(gr: GroupResource, name: string | undefined, reason: string): KubeStatus {
  const subject = name ? `${qualified(gr)} "${name}"` : qualified(gr);
  return failure(403, "Forbidden", `${subject} is forbidden: ${reason}`, resourceDetails(gr, name));
}

/** 403 for a non-resource URL such as `/metrics`. */
export function forbiddenPath(user: string, verb: string, path: string): KubeStatus {
  return failure(403, "Forbidden", `forbidden: User "${user}" cannot ${verb} path "${path}"`, {});
}

/** 404 for a named object. */
export function notFound(gr: GroupResource, name: string): KubeStatus {
  return failure(404, "NotFound", `${qualified(gr)} "${name}" not found`, resourceDetails(gr, name));
}

/** 404 for a path the server does not serve (unknown resource or group). */
export function pageNotFound(): KubeStatus {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

/** 409 on create of an existing name. */
export function alreadyExists(gr: GroupResource, name: string): KubeStatus {
  return failure(409, "AlreadyExists", `${qualified(gr)} "${name}" already exists`, resourceDetails(gr, name));
}

/** The optimistic-concurrency message kube-apiserver gives for a stale `metadata.resourceVersion`. */
export const OBJECT_MODIFIED_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

/** 409 on update or delete with a failed precondition. */
export function conflict(gr: GroupResource, name: string, why: string = OBJECT_MODIFIED_MESSAGE): KubeStatus {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`,
    resourceDetails(gr, name),
  );
}

/** 422: field validation failed. `kind` here is the Kind (e.g. `Pod`), as in the real message. */
export function invalid(group: string, kind: string, name: string, causes: Required<KubeStatusCause>[]): KubeStatus {
  const qualifiedKind = group === "" ? kind : `${kind}.${group}`;
  const parts = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const details: KubeStatusDetails = { name };
  if (group !== "") details.group = group;
  details.kind = kind;
  details.causes = causes;
  return failure(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${summary}`, details);
}

/** 422 for a patch that cannot be applied; the reason travels in the one cause, as from the real server. */
export function unprocessablePatch(detail: string): KubeStatus {
  return failure(422, "Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ message: detail }],
  });
}

/** 413 for a body over the server's limit (3 MiB, as kube-apiserver). */
export function requestEntityTooLarge(limit: number): KubeStatus {
  return failure(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
}

/** 400 with a free-text message. */
export function badRequest(message: string): KubeStatus {
  return failure(400, "BadRequest", message);
}

/** 405 for a verb the resource or path does not support. */
export function methodNotSupported(gr: GroupResource): KubeStatus {
  return failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {
    ...(gr.group !== "" ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** 410 Expired; `continueToken` is set for an expired list continuation, as the real server does. */
export function expired(message: string, continueToken?: string): KubeStatus {
  const status = failure(410, "Expired", message);
  if (continueToken !== undefined) status.metadata = { continue: continueToken };
  return status;
}

/** 410 for an exact-version list whose version was compacted. */
export function listTooOld(): KubeStatus {
  return expired("The resourceVersion for the provided list is too old.");
}

/** The watch-cache message for a watch from a compacted version. */
export function tooOldResourceVersion(requested: number, oldest: number): KubeStatus {
  return expired(`too old resource version: ${requested} (${oldest})`);
}

/** The etcd3 store's message for a list continuation whose snapshot was compacted. */
export const CONTINUE_EXPIRED_MESSAGE =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list " +
  "without the continue parameter, or use the continue token in this response to retrieve the remainder of the " +
  "results. Continuing with the provided token results in an inconsistent list - objects that were created, " +
  "modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** 504 when a requested resourceVersion is newer than the store after waiting for it. */
export function tooLargeResourceVersion(requested: number, current: number): KubeStatus {
  return failure(504, "Timeout", `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

/** 415 for a body media type the endpoint does not accept. */
export function unsupportedMediaType(accepted: string[]): KubeStatus {
  return failure(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

/** 500 for a failure inside the server. */
export function internalError(detail: string): KubeStatus {
  return failure(500, "InternalError", `Internal error occurred: ${detail}`, { causes: [{ message: detail }] });
}

/** A Status for an injected fault with the given HTTP code, shaped like the server's own errors of that code. */
export function injectedFault(code: number): KubeStatus {
  switch (code) {
    case 429:
      return failure(429, "TooManyRequests", "Too many requests, please try again later.", { retryAfterSeconds: 1 });
    case 500:
      return internalError("injected fault");
    case 503:
      return failure(503, "ServiceUnavailable", "the server is currently unable to handle the request");
    case 504:
      return failure(504, "Timeout", "Timeout: request did not complete within the allowed duration", {});
    default:
      return failure(code, "Unknown", `injected fault ${code}`);
  }
}

/** The Status a successful delete of a custom resource answers with. */
export function deleteSuccess(gr: GroupResource, name: string, uid: string | undefined): KubeStatus {
  const details = resourceDetails(gr, name);
  if (uid !== undefined) details.uid = uid;
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 };
}
