import type { Issue, MessageKind } from "./types.js";

/** Options every bus error accepts: the underlying cause and JSON-able details for the wire. */
export interface BusErrorOptions {
  cause?: unknown;
  /** Extra JSON-able data carried to the caller in the micro error body (e.g. a current revision). */
  details?: Record<string, unknown>;
}

/**
 * Base of every error raised by `@fedview/bus`. `code` is an HTTP-like status; it is what travels in the
 * `Nats-Service-Error-Code` header when the error crosses a micro service boundary.
 */
export class BusError extends Error {
  override name = "BusError";
  readonly code: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, code = 500, options: BusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** The thing asked for does not exist (404). */
export class NotFoundError extends BusError {
  override name = "NotFoundError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 404, options);
  }
}

/** The request conflicts with the current state, e.g. a stale revision (409). */
export class ConflictError extends BusError {
  override name = "ConflictError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 409, options);
  }
}

/** The request is malformed or fails validation; `issues` says where (400). */
export class InvalidRequestError extends BusError {
  override name = "InvalidRequestError";
  readonly issues: Issue[];
  constructor(message: string, issues: Issue[] = [], options: BusErrorOptions = {}) {
    super(message, 400, options);
    this.issues = issues;
  }
}

/** A dependency is not reachable right now; retrying later may succeed (503). */
export class UnavailableError extends BusError {
  override name = "UnavailableError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 503, options);
  }
}

/** No reply arrived within the request timeout (504). */
export class RequestTimeoutError extends BusError {
  override name = "RequestTimeoutError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 504, options);
  }
}

/** Anything a service handler threw that is not a `BusError` (500). */
export class InternalError extends BusError {
  override name = "InternalError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 500, options);
  }
}

/** Options of a {@link DecodeError}. */
export interface DecodeErrorOptions {
  /** Which kind of message failed to decode; it is the label of the decode-failure counter. */
  kind: MessageKind;
  /** The subject (or KV key) the bad message arrived on, when there was one. */
  subject?: string;
  issues?: Issue[];
  cause?: unknown;
}

/**
 * A message on the bus is not valid JSON, not the expected envelope, or disagrees with its subject.
 * Readers and subscriptions count it and skip the message; they never throw it into their loop.
 */
export class DecodeError extends BusError {
  override name = "DecodeError";
  readonly kind: MessageKind;
  readonly subject: string | undefined;
  readonly issues: Issue[];
  constructor(message: string, options: DecodeErrorOptions) {
    super(message, 400, { cause: options.cause });
    this.kind = options.kind;
    this.subject = options.subject;
    this.issues = options.issues ?? [];
  }
}

/** A value handed to an encoder is not a valid envelope (a programming error on the sending side). */
export class EncodeError extends BusError {
  override name = "EncodeError";
  readonly kind: MessageKind;
  readonly issues: Issue[];
  constructor(message: string, kind: MessageKind, issues: Issue[] = [], options: BusErrorOptions = {}) {
    super(message, 400, options);
    this.kind = kind;
    this.issues = issues;
  }
}

/** A string cannot be turned into a subject token, or a token is not one this package produced. */
export class SubjectError extends BusError {
  override name = "SubjectError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 400, options);
  }
}

/** `connectBus` could not establish a connection (unreachable, TLS or authentication failure). */
export class BusConnectionError extends BusError {
  override name = "BusConnectionError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 503, options);
  }
}

/** JetStream did not acknowledge one or more publishes; `failed` counts them, `cause` is the first failure. */
export class PublishError extends BusError {
  override name = "PublishError";
  readonly failed: number;
  constructor(message: string, failed: number, options: BusErrorOptions = {}) {
    super(message, 503, options);
    this.failed = failed;
  }
}

/** Sealed secrets could not be sealed or opened (wrong key, wrong sender, tampered data). */
export class SealingError extends BusError {
  override name = "SealingError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 400, options);
  }
}

/** Setting up streams or buckets failed, or they exist with a configuration that cannot be updated. */
export class TopologyError extends BusError {
  override name = "TopologyError";
  constructor(message: string, options: BusErrorOptions = {}) {
    super(message, 503, options);
  }
}

/** Bus configuration (connection options, stream or bucket settings) is invalid; `issues` says where. */
export class BusConfigError extends BusError {
  override name = "BusConfigError";
  readonly issues: Issue[];
  constructor(message: string, issues: Issue[] = [], options: BusErrorOptions = {}) {
    super(message, 400, options);
    this.issues = issues;
  }
}
