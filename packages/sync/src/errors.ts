/** Errors of `@fedview/sync`. Each has a `name` and carries its `cause`. */

/** Options accepted by every sync error. */
export interface SyncErrorOptions {
  cause?: unknown;
}

/**
 * Thrown by a `ClusterSource` watch when it can no longer guarantee gap-free delivery but the
 * connection itself is fine (compaction, a dropped or cancelled watch stream). `ClusterSync`
 * relists at once on the same source instead of reporting `ConnectionFailed`.
 */
export class ResyncRequiredError extends Error {
  override readonly name: string = "ResyncRequiredError";
  /** Short machine-friendly reason for metrics: `compacted`, `disconnected`, `cancelled`, … */
  readonly reason: string;
  constructor(reason: string, message: string, options?: SyncErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** The liveness check of a source failed or did not answer in time. */
export class LivenessError extends Error {
  override readonly name = "LivenessError";
  constructor(message: string, options?: SyncErrorOptions) {
    super(message, options);
  }
}

/** A source operation took longer than allowed. */
export class SourceTimeoutError extends Error {
  override readonly name = "SourceTimeoutError";
  constructor(message: string, options?: SyncErrorOptions) {
    super(message, options);
  }
}

/** Publishing to, or reading from, the bus failed; the cluster's view is re-read before going on. */
export class PublishError extends Error {
  override readonly name = "PublishError";
  constructor(message: string, options?: SyncErrorOptions) {
    super(message, options);
  }
}

/** A connection config could not be used (undecodable, sealed secrets that do not open). */
export class ConnectionConfigError extends Error {
  override readonly name = "ConnectionConfigError";
  constructor(message: string, options?: SyncErrorOptions) {
    super(message, options);
  }
}

/** The text of any thrown value, for status and logs. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * The bus refuses to carry one resource (larger than a message may be, or not a valid envelope).
 * It is data, not an outage: `ClusterSync` skips it like malformed remote data instead of retrying.
 */
export class ResourceRejectedError extends Error {
  override readonly name = "ResourceRejectedError";
  constructor(message: string, options?: SyncErrorOptions) {
    super(message, options);
  }
}
