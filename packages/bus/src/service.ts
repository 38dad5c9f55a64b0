/**
 * Serving and calling NATS micro services (`@nats-io/services`) with JSON bodies and typed errors.
 *
 * Errors: a handler throws; a {@link BusError} keeps its `code` (400, 404, 409, 503, …), anything else
 * becomes 500. The reply carries the micro error headers (`Nats-Service-Error-Code`,
 * `Nats-Service-Error`) and a JSON body `{error: {name, code, message, issues?, details?}}`.
 * {@link requestService} turns that back into the same error class on the caller's side.
 *
 * Large replies: NATS caps a message at the server's `max_payload` (1 MB by default). A unary reply whose
 * encoded body is larger is sent in chunks, transparently for {@link requestService}: the first reply
 * carries chunk 0 and the headers `Fedview-Reply-Chunks` (count), `Fedview-Reply-Bytes` (total size) and
 * `Fedview-Reply-Fetch` (a fresh inbox the service listens on); the caller then requests chunks 1…n-1
 * from that inbox (header `Fedview-Reply-Chunk: <i>`, a few at a time) and decodes the reassembled
 * body. Pulling rather than pushing keeps a slow caller from being flooded (and cut off by the server
 * as a slow consumer). The service forgets the chunks once all are fetched, or `chunkTtlMs` after the
 * last fetch. Small replies are one message with no extra header, as before, so callers that use a
 * plain NATS request keep working for them.
 *
 * Streaming (`watch`): the caller subscribes to a fresh inbox and sends an ordinary request whose
 * `Fedview-Stream-Inbox` header names it. The service validates the request and replies either with an
 * error (thrown by {@link openServiceStream}) or with `{stream, cancel, heartbeatMs}`. It then publishes
 * on the inbox: `Fedview-Stream: data` messages numbered by `Fedview-Stream-Seq` from 1 (a gap means
 * messages were lost, and the caller's iteration fails with {@link UnavailableError} so it can re-watch),
 * `Fedview-Stream: heartbeat` requests that the caller answers (no answer: the service stops the stream),
 * and one final `Fedview-Stream: end`, with micro error headers if the stream failed. The caller stops a
 * stream by publishing to `cancel`; it fails with {@link UnavailableError} if the service goes silent for
 * three heartbeats.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/nats-core";
import { createInbox, Empty, headers, NoRespondersError, RequestError, TimeoutError } from "@nats-io/nats-core";
import type { ServiceInfo, ServiceMsg, ServiceStats } from "@nats-io/services";
import { ServiceErrorCodeHeader, ServiceErrorHeader, Svcm } from "@nats-io/services";
import { z } from "zod";
import { toIssues } from "./codecs.js";
import {
  BusConfigError,
  BusError,
  ConflictError,
  DecodeError,
  EncodeError,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  RequestTimeoutError,
  UnavailableError,
} from "./errors.js";
import type { BusMetrics } from "./metrics.js";
import { defaultBusMetrics } from "./metrics.js";
import { SUBJECT_PREFIX } from "./subjects.js";
import type { Timers } from "./timers.js";
import { systemTimers } from "./timers.js";
import type { Issue, MessageKind, WireError } from "./types.js";
import {
  REPLY_BYTES_HEADER,
  REPLY_CHUNK_HEADER,
  REPLY_CHUNKS_HEADER,
  REPLY_FETCH_HEADER,
  STREAM_HEADER,
  STREAM_INBOX_HEADER,
  STREAM_SEQ_HEADER,
} from "./wire-headers.js";

/** What a handler learns about the request besides its body. */
export interface ServiceRequestContext {
  subject: string;
  headers: MsgHdrs | undefined;
}

/** A request/reply endpoint. */
export interface UnaryEndpoint<Req = unknown, Res = unknown> {
  subject: string;
  /** Validates the decoded JSON request; failures reply 400 with the issues. */
  schema?: z.ZodType<Req>;
  /** Returns a JSON-able result (undefined replies `null`) or throws a (typed) error. */
  handler: (request: Req, context: ServiceRequestContext) => Res | Promise<Res>;
  metadata?: Record<string, string>;
}

/** Where a streaming handler sends its events. */
export interface StreamSink<E> {
  /** Publishes one event; returns false (and sends nothing) once the stream is over. */
  send(event: E): boolean;
  /** Aborted when the caller cancels, stops answering heartbeats, or the service stops. */
  readonly signal: AbortSignal;
  /** Resolves when `signal` aborts; a watch handler can simply `await sink.closed`. */
  readonly closed: Promise<void>;
}

/** A streaming endpoint (see the module comment for the protocol). */
export interface StreamEndpoint<Req = unknown, E = unknown> {
  subject: string;
  schema?: z.ZodType<Req>;
  /** Sends events until done or until `sink.signal` aborts; a throw ends the stream with that error. */
  stream: (request: Req, sink: StreamSink<E>, context: ServiceRequestContext) => Promise<void>;
  /** Milliseconds between liveness checks of the caller; default 5000. */
  heartbeatMs?: number;
  metadata?: Record<string, string>;
}

/**
 * Any endpoint, as {@link serveService} accepts them: a {@link UnaryEndpoint} or {@link StreamEndpoint}
 * of any request type. (The request type is erased here; build endpoints with {@link unaryEndpoint} and
 * {@link streamEndpoint} to have it inferred from the schema.)
 */
export type ServiceEndpoint =
  | {
      subject: string;
      schema?: z.ZodType<unknown>;
      handler: (request: never, context: ServiceRequestContext) => unknown;
      metadata?: Record<string, string>;
    }
  | {
      subject: string;
      schema?: z.ZodType<unknown>;
      stream: (request: never, sink: StreamSink<unknown>, context: ServiceRequestContext) => Promise<void>;
      heartbeatMs?: number;
      metadata?: Record<string, string>;
    };

type ErasedUnary = Extract<ServiceEndpoint, { handler: unknown }>;
type ErasedStream = Extract<ServiceEndpoint, { stream: unknown }>;

/** Defines a request/reply endpoint with its request type inferred from the schema. */
export function unaryEndpoint<Req = unknown, Res = unknown>(
  endpoint: UnaryEndpoint<Req, Res>,
): UnaryEndpoint<Req, Res> {
  return endpoint;
}

/** Defines a streaming endpoint with its request type inferred from the schema. */
export function streamEndpoint<Req = unknown, E = unknown>(endpoint: StreamEndpoint<Req, E>): StreamEndpoint<Req, E> {
  return endpoint;
}

/** Options of {@link serveService}. */
export interface ServeServiceOptions {
  /** Service name, e.g. `fedview-query`. */
  name: string;
  /** Semantic version of the service. */
  version: string;
  description?: string;
  /** Queue group shared by replicas; default `q` (load is spread over replicas). */
  queue?: string;
  metadata?: Record<string, string>;
  /** Endpoint name → definition. */
  endpoints: Record<string, ServiceEndpoint>;
  /** Told about every handler failure that became a 500, for logging. */
  onError?: (error: unknown, endpoint: string) => void;
  /** Where undecodable requests are counted; default {@link defaultBusMetrics}. */
  metrics?: BusMetrics;
  /** Heartbeat timers of streaming endpoints and chunk expiry; default {@link systemTimers}. */
  timers?: Timers;
  /**
   * Largest reply body sent as one message; a larger one is chunked (see the module comment).
   * Default: the server's `max_payload` less 8 KiB for headers.
   */
  maxReplyBytes?: number;
  /** Milliseconds the chunks of a large reply wait for the caller's next fetch; default 30000. */
  chunkTtlMs?: number;
}

/** A running service. Dispose (or `stop()`) to stop answering; active streams end with 503. */
export interface BusService extends AsyncDisposable {
  readonly id: string;
  readonly name: string;
  info(): ServiceInfo;
  stats(): Promise<ServiceStats>;
  stop(): Promise<void>;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const DEFAULT_HEARTBEAT_MS = 5000;
/** Room left in a message for headers when a reply is cut into chunks. */
const HEADER_HEADROOM = 8 * 1024;
const DEFAULT_CHUNK_TTL_MS = 30_000;
/** Used when the server's `max_payload` is unknown: NATS's default of 1 MiB less the headroom. */
const MAX_UNCHUNKED_FALLBACK = 1024 * 1024 - HEADER_HEADROOM;
/** Chunk fetches a caller keeps in flight at once. */
const CHUNK_WINDOW = 4;
/** The largest reassembled reply a caller accepts unless told otherwise: 1 GiB. */
const DEFAULT_MAX_REASSEMBLED_BYTES = 1024 * 1024 * 1024;

function encodeBody(value: unknown): Uint8Array {
  if (value === undefined) return Empty;
  return utf8Encoder.encode(JSON.stringify(value));
}

const SUBJECT_TOKEN = /^[^\s*>.]+$/;
/** `fedview`: the first token of every fedview subject. */
const SUBJECT_ROOT = SUBJECT_PREFIX.slice(0, SUBJECT_PREFIX.indexOf("."));

/**
 * Why a caller's stream inbox must not be published to, or undefined when it may. The service writes
 * the stream wherever the header says, with its own permissions: a caller must not make it publish
 * onto fedview's own subjects (resource events land in the durable state) or a system API.
 */
function streamInboxProblem(inbox: string): string | undefined {
  if (inbox.length > 512) return "is too long to be an inbox";
  if (!inbox.split(".").every((token) => SUBJECT_TOKEN.test(token))) {
    return "must be a plain subject (no wildcards, spaces or empty tokens)";
  }
  if (inbox.startsWith("$") || inbox === SUBJECT_ROOT || inbox.startsWith(`${SUBJECT_ROOT}.`)) {
    return "must be an inbox, not a fedview or system subject";
  }
  return undefined;
}

/**
 * The inbox prefix the connection was made with (read where JetStream reads it), so that the inboxes a
 * service or caller makes stay under the prefix its permissions confine it to.
 */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
}

function decodeBody(data: Uint8Array, kind: MessageKind, subject: string): unknown {
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(utf8Decoder.decode(data));
  } catch (err) {
    throw new DecodeError(`${kind} body on ${subject} is not UTF-8 JSON`, { kind, subject, cause: err });
  }
}

function validate<T>(schema: z.ZodType<T> | undefined, value: unknown): T {
  if (schema === undefined) return value as T;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = toIssues(parsed.error);
  const summary = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");
  throw new InvalidRequestError(`invalid request: ${summary}`, issues);
}

function issuesOf(err: BusError): Issue[] | undefined {
  if (err instanceof InvalidRequestError || err instanceof DecodeError || err instanceof EncodeError) return err.issues;
  if (err instanceof BusConfigError) return err.issues;
  return undefined;
}

/** Converts a thrown value into the wire error (code, header text and JSON body). */
export function toWireError(err: unknown): WireError {
  const busError =
    err instanceof BusError ? err : new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
  const issues = issuesOf(busError);
  return {
    error: {
      name: busError.name,
      code: busError.code,
      message: busError.message,
      ...(issues === undefined || issues.length === 0 ? {} : { issues }),
      ...(busError.details === undefined ? {} : { details: busError.details }),
    },
  };
}

/**
 * Rebuilds the typed error of a wire error: 400 {@link InvalidRequestError} (with issues), 404
 * {@link NotFoundError}, 409 {@link ConflictError}, 503 {@link UnavailableError}, 504
 * {@link RequestTimeoutError}, 500 {@link InternalError}, any other code a plain {@link BusError}.
 */
export function fromWireError(wire: WireError): BusError {
  const { code, message, issues, details } = wire.error;
  const options = details === undefined ? {} : { details };
  switch (code) {
    case 400:
      return new InvalidRequestError(message, issues ?? [], options);
    case 404:
      return new NotFoundError(message, options);
    case 409:
      return new ConflictError(message, options);
    case 500:
      return new InternalError(message, options);
    case 503:
      return new UnavailableError(message, options);
    case 504:
      return new RequestTimeoutError(message, options);
    default:
      return new BusError(message, code, options);
  }
}

// A header value must stay on one line, or it would corrupt the NATS protocol frame.
function headerText(text: string): string {
  const line = text.replace(/[\r\n]+/g, " ");
  return line.length > 1024 ? `${line.slice(0, 1021)}...` : line;
}

function errorHeaders(wire: WireError, base?: MsgHdrs): MsgHdrs {
  const h = base ?? headers();
  h.set(ServiceErrorCodeHeader, String(wire.error.code));
  h.set(ServiceErrorHeader, headerText(wire.error.message));
  return h;
}

/** True if the message is a micro service error reply. */
function isErrorReply(msg: Msg): boolean {
  return msg.headers?.has(ServiceErrorCodeHeader) === true;
}

/** Decodes the typed error of a micro error reply (body if JSON, else the headers). */
function errorFromReply(msg: Msg): BusError {
  const code = Number.parseInt(msg.headers?.get(ServiceErrorCodeHeader) ?? "500", 10);
  const text = msg.headers?.get(ServiceErrorHeader) ?? "service error";
  let wire: WireError = { error: { name: "BusError", code: Number.isFinite(code) ? code : 500, message: text } };
  try {
    const body = decodeBody(msg.data, "response", msg.subject) as Partial<WireError> | undefined;
    if (body?.error !== undefined && typeof body.error.message === "string") {
      wire = { error: { ...body.error, code: wire.error.code } as WireError["error"] };
    }
  } catch {
    // The headers alone still say what went wrong.
  }
  return fromWireError(wire);
}

/** An active stream on the service side. */
interface ActiveStream {
  /** `callerGone`: the caller cancelled or vanished, so no end message is owed. */
  abort(reason: BusError, callerGone: boolean): void;
  done: Promise<void>;
}

/**
 * Starts a micro service with the given endpoints. Each handler receives the decoded (and, with a
 * schema, validated) JSON request. Requests of one endpoint run concurrently. Resolves once the
 * server has the endpoints' subscriptions, so callers can be answered from then on.
 */
export async function serveService(nc: NatsConnection, options: ServeServiceOptions): Promise<BusService> {
  const metrics = options.metrics ?? defaultBusMetrics;
  const timers = options.timers ?? systemTimers;
  const active = new Set<ActiveStream>();
  const chunkTtlMs = options.chunkTtlMs ?? DEFAULT_CHUNK_TTL_MS;
  /** Releases of the chunked replies still waiting to be fetched, so that stopping frees them. */
  const pendingChunks = new Set<() => void>();
  const service = await new Svcm(nc).add({
    name: options.name,
    version: options.version,
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  });

  const fail = (msg: ServiceMsg, err: unknown, endpoint: string): void => {
    if (!(err instanceof BusError)) {
      try {
        options.onError?.(err, endpoint);
      } catch {
        // Logging must not stop the error reply.
      }
    }
    if (err instanceof DecodeError) metrics.recordDecodeFailure(err);
    const wire = toWireError(err);
    try {
      msg.respond(encodeBody(wire), { headers: errorHeaders(wire) });
    } catch {
      // The connection is gone; the caller times out.
    }
  };

  const decodeRequest = <T>(msg: ServiceMsg, schema: z.ZodType<T> | undefined): T => {
    const body = decodeBody(msg.data, "request", msg.subject);
    return validate(schema, body);
  };

  const replyLimit = (): number => {
    if (options.maxReplyBytes !== undefined) return Math.max(1, options.maxReplyBytes);
    const max = nc.info?.max_payload;
    return max === undefined ? MAX_UNCHUNKED_FALLBACK : Math.max(1, max - HEADER_HEADROOM);
  };

  /**
   * Sends chunk 0 with the chunk headers, and serves the other chunks from a fresh inbox until all
   * are fetched or none was asked for within `chunkTtlMs`.
   */
  const respondChunked = (msg: ServiceMsg, reply: Uint8Array, chunkBytes: number): void => {
    const count = Math.ceil(reply.length / chunkBytes);
    const fetchSubject = createInbox(inboxPrefixOf(nc));
    const unfetched = new Set<number>();
    for (let i = 1; i < count; i++) unfetched.add(i);
    let timer: unknown;
    let sub: Subscription | undefined;
    const release = (): void => {
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      sub?.unsubscribe();
      pendingChunks.delete(release);
    };
    const arm = (): void => {
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = timers.setTimeout(release, chunkTtlMs);
    };
    sub = nc.subscribe(fetchSubject, {
      callback: (err, request) => {
        if (err !== null) return release();
        const index = Number(request.headers?.get(REPLY_CHUNK_HEADER));
        try {
          if (!Number.isInteger(index) || index < 1 || index >= count) {
            const wire = toWireError(new InvalidRequestError(`no chunk ${String(index)} in a ${count}-chunk reply`));
            request.respond(encodeBody(wire), { headers: errorHeaders(wire) });
            return;
          }
          request.respond(reply.subarray(index * chunkBytes, (index + 1) * chunkBytes));
        } catch {
          // The connection is gone; the caller times out.
        }
        unfetched.delete(index);
        if (unfetched.size === 0) release();
        else arm();
      },
    });
    pendingChunks.add(release);
    arm();
    const h = headers();
    h.set(REPLY_CHUNKS_HEADER, String(count));
    h.set(REPLY_BYTES_HEADER, String(reply.length));
    h.set(REPLY_FETCH_HEADER, fetchSubject);
    // The subscription goes out on this connection before the reply, so the server knows it by the
    // time the caller asks for chunk 1.
    msg.respond(reply.subarray(0, chunkBytes), { headers: h });
  };

  const unary = async (name: string, endpoint: ErasedUnary, msg: ServiceMsg): Promise<void> => {
    let reply: Uint8Array;
    try {
      // The schema's output is the handler's request type (tied together by unaryEndpoint()).
      const request = decodeRequest(msg, endpoint.schema) as never;
      const result = await endpoint.handler(request, { subject: msg.subject, headers: msg.headers });
      reply = encodeBody(result ?? null);
    } catch (err) {
      fail(msg, err, name);
      return;
    }
    try {
      const limit = replyLimit();
      if (reply.length > limit) respondChunked(msg, reply, limit);
      else msg.respond(reply);
    } catch {
      // As above.
    }
  };

  const streaming = async (name: string, endpoint: ErasedStream, msg: ServiceMsg): Promise<void> => {
    const inbox = msg.headers?.get(STREAM_INBOX_HEADER);
    let request: never;
    try {
      if (!inbox) {
        throw new InvalidRequestError(`${name} is a streaming endpoint: call it with openServiceStream`);
      }
      const refused = streamInboxProblem(inbox);
      if (refused !== undefined) {
        throw new InvalidRequestError(`the ${STREAM_INBOX_HEADER} header ${refused}`, [
          { path: STREAM_INBOX_HEADER, message: refused },
        ]);
      }
      request = decodeRequest(msg, endpoint.schema) as never;
    } catch (err) {
      fail(msg, err, name);
      return;
    }
    const heartbeatMs = endpoint.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const controller = new AbortController();
    let abortReason: BusError | undefined;
    let callerGone = false;
    let finish: () => void = () => {};
    const stream: ActiveStream = {
      abort(reason, gone) {
        if (controller.signal.aborted) return;
        abortReason = reason;
        callerGone = gone;
        controller.abort(reason);
      },
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
    };
    active.add(stream);
    const cancelSubject = createInbox(inboxPrefixOf(nc));
    const cancelSub: Subscription = nc.subscribe(cancelSubject, {
      max: 1,
      callback: () => stream.abort(new UnavailableError("the caller cancelled the stream"), true),
    });
    let timer: unknown;
    const heartbeat = (): void => {
      timer = timers.setTimeout(() => {
        const h = headers();
        h.set(STREAM_HEADER, "heartbeat");
        nc.request(inbox, Empty, { timeout: heartbeatMs, headers: h }).then(
          () => {
            if (!controller.signal.aborted) heartbeat();
          },
          (err: unknown) =>
            stream.abort(new UnavailableError("the caller stopped answering heartbeats", { cause: err }), true),
        );
      }, heartbeatMs);
    };
    let seq = 0;
    const sink: StreamSink<unknown> = {
      send(event) {
        if (controller.signal.aborted) return false;
        const h = headers();
        h.set(STREAM_HEADER, "data");
        h.set(STREAM_SEQ_HEADER, String(++seq));
        nc.publish(inbox, encodeBody(event ?? null), { headers: h });
        return true;
      },
      signal: controller.signal,
      closed: new Promise<void>((resolve) => {
        controller.signal.addEventListener("abort", () => resolve(), { once: true });
      }),
    };
    try {
      msg.respond(encodeBody({ stream: inbox, cancel: cancelSubject, heartbeatMs }));
      heartbeat();
      let failure: unknown;
      try {
        await endpoint.stream(request, sink, { subject: msg.subject, headers: msg.headers });
      } catch (err) {
        failure = err;
        if (!(err instanceof BusError)) {
          try {
            options.onError?.(err, name);
          } catch {
            // Logging must not stop the stream's end message.
          }
        }
      }
      // A caller that cancelled or vanished needs no end message; a stopping service says why.
      if (!callerGone) {
        const h = headers();
        h.set(STREAM_HEADER, "end");
        const error = failure ?? abortReason;
        if (error === undefined) {
          nc.publish(inbox, Empty, { headers: h });
        } else {
          const wire = toWireError(error);
          nc.publish(inbox, encodeBody(wire), { headers: errorHeaders(wire, h) });
        }
      }
    } catch {
      // Publishing failed because the connection closed; nothing is left to tell the caller.
    } finally {
      controller.abort();
      if (timer !== undefined) timers.clearTimeout(timer);
      cancelSub.unsubscribe();
      active.delete(stream);
      finish();
    }
  };

  for (const [name, endpoint] of Object.entries(options.endpoints)) {
    service.addEndpoint(name, {
      subject: endpoint.subject,
      ...(endpoint.metadata === undefined ? {} : { metadata: endpoint.metadata }),
      handler: (err, msg) => {
        // err is set only when the subscription itself failed; the service then stops on its own.
        if (err !== null) return;
        if ("stream" in endpoint) void streaming(name, endpoint, msg);
        else void unary(name, endpoint, msg);
      },
    });
  }

  // Subscriptions travel on this connection; a caller on another one could otherwise reach the server
  // before they do and get "no responders" right after serveService returned.
  await nc.flush();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await service.stop();
      for (const release of [...pendingChunks]) release();
      const streams = [...active];
      for (const s of streams) s.abort(new UnavailableError("the service is stopping"), false);
      await Promise.all(streams.map((s) => s.done));
    })();
    return stopping;
  };

  return {
    get id() {
      return service.info().id;
    },
    name: options.name,
    info: () => service.info(),
    stats: () => service.stats(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Options of {@link requestService}. */
export interface RequestServiceOptions<Res> {
  /** Milliseconds to wait for the reply; default 10000. */
  timeoutMs?: number;
  /** Validates the reply; a mismatch throws {@link DecodeError} (counted). */
  schema?: z.ZodType<Res>;
  headers?: MsgHdrs;
  /** Where undecodable replies are counted; default {@link defaultBusMetrics}. */
  metrics?: BusMetrics;
  /** Largest chunked reply accepted, in bytes; default 1 GiB. A larger one throws {@link DecodeError}. */
  maxReplyBytes?: number;
}

function requestFailure(err: unknown, subject: string, timeoutMs: number): BusError {
  if (err instanceof BusError) return err;
  const noResponders =
    err instanceof NoRespondersError ||
    (err instanceof RequestError && err.isNoResponders()) ||
    (err instanceof Error && err.cause instanceof NoRespondersError);
  if (noResponders) return new UnavailableError(`no service answers on ${subject}`, { cause: err });
  if (err instanceof TimeoutError) {
    return new RequestTimeoutError(`no reply on ${subject} within ${timeoutMs} ms`, { cause: err });
  }
  return new UnavailableError(`request on ${subject} failed: ${(err as Error).message}`, { cause: err });
}

/**
 * Calls a service endpoint with a JSON payload and returns the decoded JSON reply. A service error is
 * re-thrown as the same typed error class; no responders → {@link UnavailableError}; timeout →
 * {@link RequestTimeoutError}.
 */
export async function requestService<Res = unknown>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  options: RequestServiceOptions<Res> = {},
): Promise<Res> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let msg: Msg;
  try {
    msg = await nc.request(subject, encodeBody(payload), {
      timeout: timeoutMs,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
  } catch (err) {
    throw requestFailure(err, subject, timeoutMs);
  }
  if (isErrorReply(msg)) throw errorFromReply(msg);
  let data = msg.data;
  try {
    if (msg.headers?.has(REPLY_CHUNKS_HEADER) === true) data = await fetchChunks(nc, msg, subject, timeoutMs, options);
    const body = decodeBody(data, "response", subject);
    if (options.schema === undefined) return body as Res;
    const parsed = options.schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const issues = toIssues(parsed.error);
    throw new DecodeError(`reply on ${subject} does not match its schema`, {
      kind: "response",
      subject,
      issues,
      cause: parsed.error,
    });
  } catch (err) {
    if (err instanceof DecodeError) (options.metrics ?? defaultBusMetrics).recordDecodeFailure(err);
    throw err;
  }
}

/** Reassembles a chunked reply: chunk 0 is in `first`, the others are fetched a few at a time. */
async function fetchChunks(
  nc: NatsConnection,
  first: Msg,
  subject: string,
  timeoutMs: number,
  options: RequestServiceOptions<unknown>,
): Promise<Uint8Array> {
  const count = Number(first.headers?.get(REPLY_CHUNKS_HEADER));
  const total = Number(first.headers?.get(REPLY_BYTES_HEADER));
  const fetchSubject = first.headers?.get(REPLY_FETCH_HEADER) ?? "";
  const chunkBytes = first.data.length;
  const max = options.maxReplyBytes ?? DEFAULT_MAX_REASSEMBLED_BYTES;
  const bad = (message: string) =>
    new DecodeError(`chunked reply on ${subject}: ${message}`, { kind: "response", subject });
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(total) || fetchSubject === "") {
    throw bad("invalid chunk headers");
  }
  if (total > max) throw bad(`${total} bytes exceed the ${max}-byte limit`);
  if (chunkBytes === 0 || Math.ceil(total / chunkBytes) !== count) throw bad("chunk sizes do not add up");
  const out = new Uint8Array(total);
  out.set(first.data, 0);
  const fetchOne = async (index: number): Promise<void> => {
    const h = headers();
    h.set(REPLY_CHUNK_HEADER, String(index));
    let reply: Msg;
    try {
      reply = await nc.request(fetchSubject, Empty, { timeout: timeoutMs, headers: h });
    } catch (err) {
      const failure = requestFailure(err, fetchSubject, timeoutMs);
      throw failure instanceof UnavailableError
        ? new UnavailableError(`chunk ${index} of the reply on ${subject} is no longer served`, { cause: err })
        : failure;
    }
    if (isErrorReply(reply)) throw errorFromReply(reply);
    const offset = index * chunkBytes;
    const expected = Math.min(chunkBytes, total - offset);
    if (reply.data.length !== expected) throw bad(`chunk ${index} has ${reply.data.length} bytes, not ${expected}`);
    out.set(reply.data, offset);
  };
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next < count) await fetchOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_WINDOW, count - 1) }, worker));
  return out;
}

/** Options of {@link openServiceStream}. */
export interface OpenServiceStreamOptions<E> {
  /** Milliseconds to wait for the service to accept the stream; default 10000. */
  timeoutMs?: number;
  /** Validates each event; events that do not match are counted and skipped. */
  schema?: z.ZodType<E>;
  /** Inbox prefix for users whose permissions allow only their own reply subjects. */
  inboxPrefix?: string;
  /** Fail after this many milliseconds without any message; default three heartbeats. */
  idleTimeoutMs?: number;
  timers?: Timers;
  metrics?: BusMetrics;
}

const streamAckSchema = z.object({
  stream: z.string().min(1),
  cancel: z.string().min(1),
  heartbeatMs: z.number().positive(),
});

/**
 * A stream of events from a streaming endpoint. Iterate it once; it ends when the service ends the
 * stream, and throws the service's typed error if it ended with one, or {@link UnavailableError} if
 * messages were lost or the service went silent. Dispose (or `close()`) to cancel.
 *
 * Heartbeats are answered as they arrive, whatever the pace of the iteration; events wait in memory
 * until iterated.
 */
export class ServiceStream<E> implements AsyncIterable<E>, AsyncDisposable {
  readonly #nc: NatsConnection;
  readonly #sub: Subscription;
  readonly #timers: Timers;
  readonly #schema: z.ZodType<E> | undefined;
  readonly #metrics: BusMetrics;
  readonly #queue: Msg[] = [];
  #wake: (() => void) | undefined;
  #failure: BusError | undefined;
  #cancel: string | undefined;
  #idleTimeoutMs = 0;
  #idleTimer: unknown;
  #ended = false;
  #closed = false;

  private constructor(nc: NatsConnection, inbox: string, options: OpenServiceStreamOptions<E>) {
    this.#nc = nc;
    this.#timers = options.timers ?? systemTimers;
    this.#schema = options.schema;
    this.#metrics = options.metrics ?? defaultBusMetrics;
    // Subscribed before the request is sent, so no event published right after the accept is missed.
    this.#sub = nc.subscribe(inbox, { callback: (err, msg) => this.#receive(err, msg) });
  }

  /** Opens a stream; see {@link openServiceStream}. */
  static async open<E>(
    nc: NatsConnection,
    subject: string,
    payload: unknown,
    options: OpenServiceStreamOptions<E>,
  ): Promise<ServiceStream<E>> {
    const inbox = createInbox(options.inboxPrefix ?? inboxPrefixOf(nc));
    const stream = new ServiceStream<E>(nc, inbox, options);
    const h = headers();
    h.set(STREAM_INBOX_HEADER, inbox);
    try {
      const ack = await requestService(nc, subject, payload, {
        headers: h,
        schema: streamAckSchema,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      });
      stream.#cancel = ack.cancel;
      stream.#idleTimeoutMs = options.idleTimeoutMs ?? ack.heartbeatMs * 3;
      stream.#armIdleTimer();
      return stream;
    } catch (err) {
      stream.#sub.unsubscribe();
      throw err;
    }
  }

  #receive(err: Error | null, msg: Msg): void {
    if (err !== null) {
      this.#fail(new UnavailableError(`the stream subscription failed: ${err.message}`, { cause: err }));
      return;
    }
    this.#armIdleTimer();
    if (msg.headers?.get(STREAM_HEADER) === "heartbeat") {
      msg.respond(Empty);
      return;
    }
    this.#queue.push(msg);
    this.#wakeUp();
  }

  #armIdleTimer(): void {
    if (this.#idleTimeoutMs === 0 || this.#closed) return;
    if (this.#idleTimer !== undefined) this.#timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#timers.setTimeout(() => {
      this.#idleTimer = undefined;
      this.#fail(new UnavailableError(`the stream service was silent for ${this.#idleTimeoutMs} ms`));
    }, this.#idleTimeoutMs);
  }

  #fail(error: BusError): void {
    this.#failure ??= error;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<E> {
    let expected = 1;
    try {
      for (;;) {
        const msg = this.#queue.shift();
        if (msg === undefined) {
          if (this.#failure !== undefined) throw this.#failure;
          if (this.#closed) return;
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        if (msg.headers?.get(STREAM_HEADER) === "end") {
          this.#ended = true;
          if (isErrorReply(msg)) throw errorFromReply(msg);
          return;
        }
        const seq = Number(msg.headers?.get(STREAM_SEQ_HEADER));
        if (seq !== expected) {
          throw new UnavailableError(`stream lost messages: expected event ${expected}, got ${seq}`);
        }
        expected++;
        let event: E;
        try {
          event = this.#decode(msg);
        } catch (err) {
          if (err instanceof DecodeError) this.#metrics.recordDecodeFailure(err);
          continue;
        }
        yield event;
      }
    } finally {
      await this.close();
    }
  }

  #decode(msg: Msg): E {
    const body = decodeBody(msg.data, "stream", msg.subject);
    if (this.#schema === undefined) return body as E;
    const parsed = this.#schema.safeParse(body);
    if (parsed.success) return parsed.data;
    throw new DecodeError(`stream event on ${msg.subject} does not match its schema`, {
      kind: "stream",
      subject: msg.subject,
      issues: toIssues(parsed.error),
    });
  }

  /** Cancels the stream (tells the service) and unsubscribes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer !== undefined) this.#timers.clearTimeout(this.#idleTimer);
    if (!this.#ended && this.#cancel !== undefined && !this.#nc.isClosed()) {
      try {
        this.#nc.publish(this.#cancel, Empty);
      } catch {
        // The service notices through the missing heartbeat answers instead.
      }
    }
    this.#sub.unsubscribe();
    this.#wakeUp();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens a stream from a streaming endpoint (e.g. `fedview.v1.query.watch`). Rejects with the typed error
 * if the service refuses the request (validation, not found, …).
 */
export function openServiceStream<E = unknown>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  options: OpenServiceStreamOptions<E> = {},
): Promise<ServiceStream<E>> {
  return ServiceStream.open(nc, subject, payload, options);
}
