/**
 * Errors thrown by `@fedview/model`. Validation of untrusted input never throws: it returns
 * `{ success: false, issues }`. These errors mark programming mistakes (building a key for a
 * malformed name) or remote data that cannot be converted at all.
 */

/** Options accepted by every model error. */
export interface ModelErrorOptions {
  /** The underlying failure, when there is one. */
  cause?: unknown;
}

/** An etcd key cannot be built from the given kind, namespace and name. */
export class EtcdKeyError extends Error {
  override readonly name = "EtcdKeyError";
  constructor(message: string, options?: ModelErrorOptions) {
    super(message, options);
  }
}

/** A WorkloadEndpoint name cannot be encoded from its parts. */
export class WorkloadEndpointNameError extends Error {
  override readonly name = "WorkloadEndpointNameError";
  constructor(message: string, options?: ModelErrorOptions) {
    super(message, options);
  }
}

/** A cluster token is neither the local cluster nor a valid RemoteClusterConfiguration name. */
export class ClusterNameError extends Error {
  override readonly name = "ClusterNameError";
  constructor(message: string, options?: ModelErrorOptions) {
    super(message, options);
  }
}

/** A Kubernetes object passed schema validation but cannot be converted (e.g. an unparsable pod IP). */
export class KddConversionError extends Error {
  override readonly name = "KddConversionError";
  constructor(message: string, options?: ModelErrorOptions) {
    super(message, options);
  }
}
