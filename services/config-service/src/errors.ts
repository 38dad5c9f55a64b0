/**
 * Errors raised by the config service. Datastore errors are translated into these at the store edge so
 * that handlers map them to bus errors (404, 409, 400) without knowing whether etcd or Kubernetes answered.
 */

/** Options accepted by every config-service error. */
export interface ConfigServiceErrorOptions {
  /** The underlying failure, when there is one. */
  cause?: unknown;
}

/** The service's environment is invalid; the message names each variable and what is wrong with it. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  constructor(message: string, options?: ConfigServiceErrorOptions) {
    super(message, options);
  }
}

/** The RemoteClusterConfiguration does not exist in the local datastore. */
export class RccNotFoundError extends Error {
  override readonly name = "RccNotFoundError";
  readonly rccName: string;
  constructor(rccName: string, options?: ConfigServiceErrorOptions) {
    super(`RemoteClusterConfiguration "${rccName}" not found`, options);
    this.rccName = rccName;
  }
}

/**
 * A write was refused because the stored object changed since the caller read it (stale resourceVersion),
 * or because a create found the name already taken. Nothing was written.
 */
export class RccConflictError extends Error {
  override readonly name = "RccConflictError";
  readonly rccName: string;
  constructor(rccName: string, message: string, options?: ConfigServiceErrorOptions) {
    super(`RemoteClusterConfiguration "${rccName}": ${message}`, options);
    this.rccName = rccName;
  }
}

/**
 * A write to the bus was refused because this replica does not lead (any more): another replica holds the
 * leader lease, or this one could not renew it in time. Nothing was written; the leader publishes instead.
 */
export class NotLeaderError extends Error {
  override readonly name = "NotLeaderError";
  constructor(
    message = "this replica is not the leader: the replica holding the leader lease publishes",
    options?: ConfigServiceErrorOptions,
  ) {
    super(message, options);
  }
}

/** The local datastore could not be reached or refused the request (other than not-found and conflict). */
export class DatastoreError extends Error {
  override readonly name = "DatastoreError";
  constructor(message: string, options?: ConfigServiceErrorOptions) {
    super(message, options);
  }
}
