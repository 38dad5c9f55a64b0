/** Errors of the etcd connector. Each has a `name` and carries its `cause`. */

export interface EtcdConnectorErrorOptions {
  cause?: unknown;
}

/** An etcd request failed; the message says for a person what and where, without secrets. */
export class EtcdSourceError extends Error {
  override readonly name = "EtcdSourceError";
  constructor(message: string, options?: EtcdConnectorErrorOptions) {
    super(message, options);
  }
}

/** A connection config that cannot be used for etcd (no endpoints, half of a key pair, bad URL). */
export class EtcdConfigError extends Error {
  override readonly name = "EtcdConfigError";
  constructor(message: string, options?: EtcdConnectorErrorOptions) {
    super(message, options);
  }
}

/** The service's environment is invalid. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(message: string, options?: EtcdConnectorErrorOptions) {
    super(message, options);
  }
}
