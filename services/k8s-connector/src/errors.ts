/** Errors of the Kubernetes connector. Each has a `name` and carries its `cause`. */

export interface KubeConnectorErrorOptions {
  cause?: unknown;
}

/** A request to a cluster's Kubernetes API failed; the message says what and where, without secrets. */
export class KubeSourceError extends Error {
  override readonly name: string = "KubeSourceError";
  /** The HTTP status, when the API server answered. */
  readonly statusCode: number | undefined;
  constructor(message: string, options?: KubeConnectorErrorOptions & { statusCode?: number }) {
    super(message, options);
    this.statusCode = options?.statusCode;
  }
}

/**
 * The API server refused a request with 403: the credentials lack an RBAC permission. The message
 * names the verb, resource and API group, and which ClusterRole rule to add.
 */
export class KubeRbacError extends KubeSourceError {
  override readonly name = "KubeRbacError";
  readonly verb: string;
  readonly resource: string;
  readonly group: string;
  constructor(
    message: string,
    permission: { verb: string; resource: string; group: string },
    options?: KubeConnectorErrorOptions,
  ) {
    super(message, { ...options, statusCode: 403 });
    this.verb = permission.verb;
    this.resource = permission.resource;
    this.group = permission.group;
  }
}

/** Connection material that cannot work for Kubernetes (no server, half of a key pair, bad PEM or kubeconfig). */
export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
  constructor(message: string, options?: KubeConnectorErrorOptions) {
    super(message, options);
  }
}

/** The service's environment is invalid. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(message: string, options?: KubeConnectorErrorOptions) {
    super(message, options);
  }
}
