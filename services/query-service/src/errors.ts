/** Errors of the query service. Each carries `cause` and a `name` that survives the wire. */

/** Base class: something the query service could not do. */
export class QueryServiceError extends Error {
  override name = "QueryServiceError";
}

/** The configuration read from the environment is invalid. */
export class QueryServiceConfigError extends QueryServiceError {
  override name = "QueryServiceConfigError";
}
