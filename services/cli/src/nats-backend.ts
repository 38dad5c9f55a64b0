/**
 * NATS mode: the query service `fedview-query` answers. Requests go to `fedview.v1.query.*` (subjects
 * from `@fedview/bus`); each answer is `{result, problems}`. A watch is a bus service stream.
 */
import {
  type BusConnection,
  type BusConnectOptions,
  BusError,
  connectBus,
  InvalidRequestError,
  openServiceStream,
  type QueryEndpoint,
  querySubject,
  requestService,
  UnavailableError,
} from "@fedview/bus";
import type {
  ClusterProblem,
  EndpointRequest,
  EvalRequest,
  HostRequest,
  PolicyRequest,
  StatusResult,
  WatchRequest,
} from "@fedview/query-service";
import { SelectorParseError } from "@fedview/selector";
import { BackendError } from "./errors.js";
import type { Answer, CliIo, QueryBackend, WatchMessage, WatchStream } from "./types.js";

/** Bus connection options from `--nats` and the `FEDVIEW_NATS_*` variables. */
export function natsConnectOptions(url: string, env: CliIo["env"]): BusConnectOptions {
  const options: BusConnectOptions = {
    servers: url.split(",").map((s) => s.trim()),
    name: "fedview-cli",
    // A CLI fails fast instead of waiting for a server to come back.
    reconnect: { enabled: false },
    connectTimeoutMs: 5_000,
  };
  // The same variables the fedview services read.
  if (env["FEDVIEW_NATS_CREDS_FILE"]) options.credentialsFile = env["FEDVIEW_NATS_CREDS_FILE"];
  if (env["FEDVIEW_NATS_NKEY_SEED_FILE"]) options.nkeySeedFile = env["FEDVIEW_NATS_NKEY_SEED_FILE"];
  if (env["FEDVIEW_NATS_TOKEN"]) options.token = env["FEDVIEW_NATS_TOKEN"];
  if (env["FEDVIEW_NATS_USER"]) {
    options.user = env["FEDVIEW_NATS_USER"];
    if (env["FEDVIEW_NATS_PASSWORD"] !== undefined) options.password = env["FEDVIEW_NATS_PASSWORD"];
  }
  const tls = {
    ...(env["FEDVIEW_NATS_TLS_CA_FILE"] ? { caFile: env["FEDVIEW_NATS_TLS_CA_FILE"] } : {}),
    ...(env["FEDVIEW_NATS_TLS_CERT_FILE"] ? { certFile: env["FEDVIEW_NATS_TLS_CERT_FILE"] } : {}),
    ...(env["FEDVIEW_NATS_TLS_KEY_FILE"] ? { keyFile: env["FEDVIEW_NATS_TLS_KEY_FILE"] } : {}),
  };
  if (Object.keys(tls).length > 0) options.tls = tls;
  return options;
}

/** Request bodies of the query RPC, one per endpoint (the query service's own types). */
export interface QueryRequests {
  eval: EvalRequest;
  policy: PolicyRequest;
  endpoint: EndpointRequest;
  host: HostRequest;
  status: Record<string, never>;
  watch: WatchRequest;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A service error about the selector comes back as a 400 whose details carry the parse position; it
 * is rebuilt into a `SelectorParseError` so both modes print the same message and excerpt.
 */
function selectorErrorFrom(err: unknown, selector: string): unknown {
  if (!(err instanceof InvalidRequestError)) return err;
  const details = err.details ?? {};
  const position = typeof details["position"] === "number" ? details["position"] : undefined;
  const message = typeof details["reason"] === "string" ? details["reason"] : undefined;
  if (position === undefined || message === undefined) return err;
  return new SelectorParseError(message, selector, position, { cause: err });
}

function describeBusFailure(err: unknown, url: string): BackendError {
  if (err instanceof BackendError) return err;
  if (err instanceof UnavailableError && /no service answers/.test(err.message)) {
    return new BackendError(
      `no fedview query service answers on ${url} (${err.message}); start it, or run without --nats/FEDVIEW_NATS_URL to query the datastores directly`,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BackendError(`query service: ${message}`, { cause: err });
}

/** Connects to the bus; the backend owns (and drains) the connection. */
export async function openNatsBackend(url: string, env: CliIo["env"]): Promise<QueryBackend> {
  let nc: BusConnection;
  try {
    nc = await connectBus(natsConnectOptions(url, env));
  } catch (err) {
    throw new BackendError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  const ask = async <K extends keyof QueryRequests & Exclude<QueryEndpoint, "watch">, T>(
    endpoint: K,
    request: QueryRequests[K],
    selector?: string,
  ): Promise<Answer<T>> => {
    try {
      const answer = await requestService<{ result: T; problems?: ClusterProblem[] }>(
        nc,
        querySubject(endpoint),
        request,
        { timeoutMs: REQUEST_TIMEOUT_MS },
      );
      return { result: answer.result, problems: answer.problems ?? [] };
    } catch (err) {
      const rebuilt = selector === undefined ? err : selectorErrorFrom(err, selector);
      if (rebuilt instanceof SelectorParseError) throw rebuilt;
      throw describeBusFailure(err, url);
    }
  };
  return {
    mode: "nats",
    eval: (selector) => ask("eval", { selector }, selector),
    policy: (name, options) => ask("policy", { name, ...options }),
    endpoint: (substring, options) => ask("endpoint", { substring, ...options }),
    host: (hostname, options) => ask("host", { hostname, ...options }),
    async status() {
      // The service answers `{service, clusters}`; the rows are what the CLI shows.
      const answer = await ask<"status", StatusResult>("status", {});
      return { result: answer.result.clusters, problems: answer.problems };
    },
    async watch(selector, signal): Promise<WatchStream> {
      let stream: Awaited<ReturnType<typeof openServiceStream<WatchMessage>>>;
      try {
        stream = await openServiceStream<WatchMessage>(nc, querySubject("watch"), { selector });
      } catch (err) {
        const rebuilt = selectorErrorFrom(err, selector);
        if (rebuilt instanceof SelectorParseError) throw rebuilt;
        throw describeBusFailure(err, url);
      }
      signal.addEventListener("abort", () => void stream.close(), { once: true });
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const event of stream) yield event;
          } catch (err) {
            if (signal.aborted) return;
            throw err instanceof BusError ? describeBusFailure(err, url) : err;
          }
        },
      };
    },
    async [Symbol.asyncDispose]() {
      await nc[Symbol.asyncDispose]();
    },
  };
}
