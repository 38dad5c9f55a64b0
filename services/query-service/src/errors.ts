/** Errors of the query service. Each carries `cause` and a `name` that survives the wire. */

/** Base class: something the query service could not do. */
export class QueryServiceError extends Error {
  override name = "QueryServiceError";
}

/** A request was malformed (missing field, wrong type): the caller's fault. */
export class InvalidQueryError extends QueryServiceError {
  override name = "InvalidQueryError";
}

/** The service has not finished loading its snapshot from JetStream yet. */
export class NotReadyError extends QueryServiceError {
  override name = "NotReadyError";
}

/** The configuration read from the environment is invalid. */
export class QueryServiceConfigError extends QueryServiceError {
  override name = "QueryServiceConfigError";
}
